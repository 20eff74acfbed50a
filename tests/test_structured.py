"""Structured inputs (tuple, list, dict, nested), keyword arguments and wrt= (issue 12)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from nnderiv import InvalidArgument, check_gradient

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5))
T = RNG.normal(size=(2, 5))
PARAMS = {
    "W1": RNG.normal(size=(4, 3)),
    "b1": RNG.normal(size=(4, 1)),
    "W2": RNG.normal(size=(2, 4)),
    "b2": RNG.normal(size=(2, 1)),
}


def mlp(p: Any, X: Any, T: Any, lam: float = 0.0) -> Any:
    H = np.tanh(p["W1"] @ X + p["b1"])
    out = p["W2"] @ H + p["b2"]
    return 0.5 * np.sum((out - T) ** 2) / X.shape[1] + lam * np.sum(p["W1"] ** 2)


def mlp_grad(p: Any, X: Any, T: Any, lam: float = 0.0) -> dict[str, Any]:
    H = np.tanh(p["W1"] @ X + p["b1"])
    dO = (p["W2"] @ H + p["b2"] - T) / X.shape[1]
    dZ1 = (p["W2"].T @ dO) * (1 - H**2)
    return {
        "W1": dZ1 @ X.T + 2 * lam * p["W1"],
        "b1": dZ1.sum(axis=1, keepdims=True),
        "W2": dO @ H.T,
        "b2": dO.sum(axis=1, keepdims=True),
    }


def _planted(leaf: str, index: tuple[int, ...], factor: float = 1.1) -> Any:
    def grad(p: Any, X: Any, T: Any, lam: float = 0.0) -> Any:
        g = mlp_grad(p, X, T, lam)
        g[leaf] = g[leaf].copy()
        g[leaf][index] *= factor
        return g

    return grad


def test_a_dict_of_parameters_passes() -> None:
    report = check_gradient(mlp, mlp_grad, PARAMS, X, T)
    assert report.status == "pass", str(report)
    assert "W1: (4, 3)" in str(report)


@pytest.mark.parametrize(("leaf", "index"), [("b2", (1, 0)), ("W1", (3, 2)), ("b1", (0, 0))])
def test_a_planted_bug_is_named_by_leaf_and_index(leaf: str, index: tuple[int, ...]) -> None:
    report = check_gradient(mlp, _planted(leaf, index), PARAMS, X, T)
    assert report.status == "fail"
    assert report.worst_index == (leaf, index)
    assert f"{leaf}[{', '.join(map(str, index))}]" in str(report)


def test_keyword_arguments_reach_fun_and_grad() -> None:
    assert check_gradient(mlp, mlp_grad, PARAMS, X, T, kwargs={"lam": 0.3}).status == "pass"

    def forgets_lam(p: Any, X: Any, T: Any, lam: float = 0.0) -> Any:
        return mlp_grad(p, X, T)

    report = check_gradient(mlp, forgets_lam, PARAMS, X, T, kwargs={"lam": 0.3})
    assert report.status == "fail"
    assert report.worst_index is not None and report.worst_index[0] == "W1"


def test_wrt_checks_only_the_named_leaves() -> None:
    bad_b2 = _planted("b2", (1, 0))
    assert check_gradient(mlp, bad_b2, PARAMS, X, T, wrt=["W1", "b1"]).status == "pass"
    assert check_gradient(mlp, bad_b2, PARAMS, X, T, wrt=["b2"]).status == "fail"


def test_tuples_lists_and_nesting() -> None:
    W, b = RNG.normal(size=(2, 3)), RNG.normal(size=2)

    def f(p: Any) -> Any:
        (W, (b,)) = p
        return np.sum(np.tanh(W @ np.ones(3) + b))

    def g(p: Any) -> Any:
        (W, (b,)) = p
        t = 1 - np.tanh(W @ np.ones(3) + b) ** 2
        return (np.outer(t, np.ones(3)), [t])

    assert check_gradient(f, g, (W, [b])).status == "pass"

    def g_bad(p: Any) -> Any:
        gw, (gb,) = g(p)
        return (gw, [gb * 2])

    report = check_gradient(f, g_bad, (W, [b]))
    assert report.status == "fail"
    assert report.worst_index is not None and report.worst_index[0] == (1, 0)


def test_each_leaf_keeps_its_dtype() -> None:
    seen: list[Any] = []
    p32 = {"W": np.ones((2, 2), dtype=np.float32), "b": np.ones(2)}

    def f(p: Any) -> Any:
        seen.append((p["W"].dtype, p["b"].dtype))
        return np.sum(np.sin(p["W"])) + np.sum(p["b"] ** 2)

    def g(p: Any) -> Any:
        return {"W": np.cos(p["W"]), "b": 2 * p["b"]}

    report = check_gradient(f, g, p32)
    assert report.status in ("pass", "inconclusive")
    assert {w for w, _ in seen} <= {np.dtype(np.float32), np.dtype(np.complex64)}
    assert {b for _, b in seen} <= {np.dtype(np.float64), np.dtype(np.complex128)}


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ({"W1": 0}, "missing"),
        ({**PARAMS, "extra": np.zeros(1)}, "extra"),
        ({**PARAMS, "b2": np.zeros((1, 2))}, "['b2'] to have the shape (2, 1)"),
        ([np.zeros(1)], "to be a dict"),
    ],
)
def test_a_mismatched_structure_names_the_path(returned: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        check_gradient(mlp, lambda p, X, T: returned, PARAMS, X, T)


def test_bad_structured_arguments_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="wrt only with a structured x"):
        check_gradient(mlp, mlp_grad, X, wrt=[0])
    with pytest.raises(InvalidArgument, match="keys or positions"):
        check_gradient(mlp, mlp_grad, PARAMS, X, T, wrt=["W9"])
    with pytest.raises(InvalidArgument, match="x\\['W1'\\]"):
        check_gradient(mlp, mlp_grad, {**PARAMS, "W1": "text"}, X, T)
    with pytest.raises(InvalidArgument, match="kwargs"):
        check_gradient(mlp, mlp_grad, PARAMS, X, T, kwargs=[("lam", 1.0)])


# both layouts: batch-first code (examples in rows, PyTorch's convention) and the column layout


def _ce_rows(Z: Any, labels: Any) -> Any:  # batch-first: Z is (batch, classes)
    shifted = Z - Z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.mean(logp[np.arange(Z.shape[0]), labels])


def _ce_rows_grad_no_mean(Z: Any, labels: Any) -> Any:
    p = np.exp(Z - Z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(Z.shape[0]), labels] -= 1
    return p  # the 1/batch of the mean is missing


def test_a_batch_first_gradient_missing_its_mean_is_named_so() -> None:
    Z = RNG.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    report = check_gradient(_ce_rows, _ce_rows_grad_no_mean, Z, labels)
    assert report.status == "fail"
    assert "a missing 1/batch" in report.diagnosis and "n = 4 rows" in report.diagnosis
    assert "batch-first" in report.diagnosis


def test_a_column_layout_gradient_missing_its_mean_is_named_so() -> None:
    Z = RNG.normal(size=(3, 5))
    report = check_gradient(
        lambda z: np.sum(np.logaddexp(0, z)) / z.shape[1],
        lambda z: 1 / (1 + np.exp(-z)),
        Z,
    )
    assert report.status == "fail"
    assert "a missing 1/m" in report.diagnosis and "m = 5 columns" in report.diagnosis
