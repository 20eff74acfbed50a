"""verify_gradient and the strategies: shrinking to the smallest failing input."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from catalogue import _focal_grad, bce_logits, focal
from hypothesis import given, settings
from hypothesis import strategies as st

from nnderiv import GradientMismatch, InconclusiveWarning, InvalidArgument, verify_gradient
from nnderiv import strategies as nst
from nnderiv.formulas import LOSSES, sigmoid, simplex_tolerance

TASKS = sorted(LOSSES)


def bce_grad(Z: Any, Y: Any) -> Any:
    return (sigmoid(Z) - Y) / Z.shape[1]


def wrong_from_third_row(Z: Any, Y: Any) -> Any:
    g = bce_grad(Z, Y).copy()
    if Z.shape[0] >= 3:
        g[2] *= 1.5
    return g


def wrong_for_odd_m(Z: Any, Y: Any) -> Any:
    return bce_grad(Z, Y) * (2.0 if Z.shape[1] % 2 else 1.0)


def _shrunk_shape(message: str) -> tuple[int, int]:
    found = re.search(r"\(shape \((\d+), (\d+)\)\)", message)
    assert found, message
    return int(found.group(1)), int(found.group(2))


def test_a_bug_that_needs_three_rows_shrinks_to_a_three_row_input() -> None:
    with pytest.raises(GradientMismatch) as info:
        verify_gradient(
            bce_logits,
            wrong_from_third_row,
            nst.loss_inputs("multilabel", wrt="Z"),
            max_examples=60,
            seed=3,
        )
    text = str(info.value)
    assert _shrunk_shape(text)[0] == 3
    assert "seed=3" in text and "failing input" in text
    assert info.value.report.worst_index[0] == 2


def test_a_bug_for_odd_m_shrinks_to_one_column() -> None:
    with pytest.raises(GradientMismatch) as info:
        verify_gradient(
            bce_logits,
            wrong_for_odd_m,
            nst.loss_inputs("multilabel", wrt="Z"),
            max_examples=60,
            seed=4,
        )
    assert _shrunk_shape(str(info.value))[1] == 1


def test_a_correct_custom_loss_passes_and_counts_examples() -> None:
    result = verify_gradient(
        focal, _focal_grad, nst.loss_inputs("binary", wrt="Z", scale=8.0), max_examples=30, seed=0
    )
    assert result.examples == 30
    assert result.inconclusive == []  # a float64 loss: every example is decided
    assert result.passed == 30
    assert "30 examples" in str(result)


def test_inconclusive_examples_are_reported_not_failed() -> None:
    def coarse(x: Any, y: Any) -> float:  # (1e15 + s) − 1e15 rounds s to 0.125: too coarse
        return float((1e15 + np.sum(x**2)) - 1e15)

    with pytest.warns(InconclusiveWarning, match="examples were inconclusive"):
        result = verify_gradient(
            coarse, lambda x, y: 2 * x, nst.loss_inputs("binary", wrt="Z"), max_examples=10, seed=0
        )
    assert result.inconclusive
    assert "too large to decide" in result.inconclusive[0]
    assert result.mostly_undecided and result.decided == 10 - len(result.inconclusive)


def test_as_a_decorator() -> None:
    @verify_gradient(inputs=nst.loss_inputs("multilabel", wrt="Z"), max_examples=10, seed=0)
    def test_bce() -> tuple[Any, Any]:
        return bce_logits, bce_grad

    test_bce()

    @verify_gradient(inputs=nst.loss_inputs("multilabel", wrt="Z"), max_examples=20, seed=0)
    def test_buggy() -> tuple[Any, Any]:
        return bce_logits, wrong_for_odd_m

    with pytest.raises(GradientMismatch):
        test_buggy()


@settings(max_examples=15)
@given(nst.loss_inputs("multiclass", wrt="Z"))
def test_inside_a_users_own_given_test(xy: tuple[Any, Any]) -> None:
    loss = LOSSES["multiclass"]
    result = verify_gradient(
        loss.cost_from_logits, lambda z, y: loss.grad_Z_general(loss.activation(z), y), xy
    )
    assert result.examples == 1


def test_inside_given_a_wrong_gradient_raises_with_the_input() -> None:
    Z = np.array([[0.5, -1.0], [2.0, 0.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(GradientMismatch, match=r"failing input:\nx = array"):
        verify_gradient(bce_logits, lambda z, y: -bce_grad(z, y), (Z, Y))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fun": 3, "grad": bce_grad}, "Expected fun and grad to be callables"),
        ({"max_examples": 0}, "max_examples >= 1"),
        ({"inputs": None}, "Expected inputs"),
        ({"inputs": "not a strategy"}, "Expected inputs to be a hypothesis strategy"),
    ],
)
def test_bad_verify_arguments(kwargs: dict[str, Any], message: str) -> None:
    call: dict[str, Any] = {
        "fun": bce_logits,
        "grad": bce_grad,
        "inputs": nst.loss_inputs("binary"),
    } | kwargs
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        verify_gradient(call.pop("fun"), call.pop("grad"), call.pop("inputs"), **call)


# --- strategies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
@given(data=st.data())
def test_drawn_inputs_are_valid_for_the_task(task: str, data: st.DataObject) -> None:
    loss = LOSSES[task]
    wrt = data.draw(st.sampled_from(["A", "Z"]))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    x, Y = data.draw(nst.loss_inputs(task, wrt=wrt, dtype=dtype, margin=1e-3))
    assert x.dtype == dtype and Y.dtype == dtype and x.shape == Y.shape
    n, m = x.shape
    assert 1 <= m <= 16 and (n == 1 if loss.single_row else 1 <= n <= 8)
    if wrt == "A":  # inside the open domain of the activation's outputs
        low, high = {
            "unit": (0, 1),
            "simplex": (0, 1),
            "symmetric": (-1, 1),
            "positive": (0, np.inf),
            "real": (-np.inf, np.inf),
        }[loss.activation.domain]
        assert np.all((x > low) & (x < high))
        loss.cost(x, Y)  # accepted by the formulas
    else:
        assert np.all(np.abs(x) <= 30)
        loss.cost_from_logits(x, Y)
    if loss.labels in ("onehot", "simplex"):
        assert np.all(np.abs(Y.sum(axis=0) - 1) <= simplex_tolerance(n, np.dtype(dtype)))
    elif loss.labels == "binary":
        assert np.all((Y >= 0) & (Y <= 1))
    elif loss.labels == "count":
        assert np.all(Y >= 0)
    else:
        assert np.all(np.isfinite(Y))


@given(nst.labels("multiclass", (4, 6), soft=True, simplex=False))
def test_labels_off_the_simplex_are_nonnegative(Y: Any) -> None:
    assert np.all(Y >= 0)


BAD_STRATEGIES = [
    (lambda: nst.shapes("regression"), "task='regression'"),
    (lambda: nst.shapes("multilabel", max_n=0), "Expected max_n >= 1 but got max_n=0"),
    (lambda: nst.shapes("multiclass", min_n=1), "Expected min_n >= 2 but got min_n=1"),
    (lambda: nst.shapes("binary", min_m=5, max_m=2), "min_m=5 is larger than max_m=2"),
    (lambda: nst.shapes("binary", max_m=2.5), "Expected an integer but got max_m=2.5 (type=float)"),
    (lambda: nst.probabilities((2, 3), margin=0.5), "margin < 0.5"),
    (lambda: nst.probabilities((2, 3), margin=1e-9, dtype=np.float32), "margin=1e-09"),
    (lambda: nst.probabilities((2, 3), dtype=np.int32), "Expected dtype float32 or float64"),
    (lambda: nst.probabilities([2, 3]), "Expected shape to be a tuple (n, m)"),
    (lambda: nst.probabilities((0, 3)), "Expected n >= 1 and m >= 1"),
    (lambda: nst.logits((2, 3), scale=0), "Expected scale in (0.0, 1000.0]"),
    (lambda: nst.logits((2, 3), scale="big"), "Expected a number but got scale='big' (type=str)"),
    (lambda: nst.labels("binary", (2, 3)), "Expected shape (1, m) for the binary task"),
    (lambda: nst.labels("multiclass", (1, 3)), "at least 2 rows"),
    (lambda: nst.labels("multilabel", (2, 3), simplex=False), "simplex=False only applies"),
    (lambda: nst.loss_inputs("binary", wrt="B"), "wrt='B'"),
    (lambda: nst.loss_inputs("binary", soft="yes"), "soft='yes'"),
]


@pytest.mark.parametrize(("make", "message"), BAD_STRATEGIES, ids=[m for _, m in BAD_STRATEGIES])
def test_bad_strategy_arguments_raise_at_draw_time(make: Any, message: str) -> None:
    strategy = make()  # building the strategy does not raise: validation is deferred

    @settings(max_examples=1, database=None)
    @given(strategy)
    def draw(_: Any) -> None:
        pass

    with pytest.raises(InvalidArgument, match=re.escape(message)):
        draw()
