"""check_vjp, check_jvp, check_hvp: vector outputs and second order (issue 12)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nnderiv import InvalidArgument, check_hvp, check_jvp, check_vjp
from nnderiv.formulas import sigmoid, sigmoid_backward, softmax, softmax_backward

Z = np.array([[0.5, -1.0, 2.0, 0.0], [2.0, 0.1, -0.3, 1.5], [0.2, 0.3, 0.4, -2.0]])


def _sigmoid_jvp(t: Any, z: Any) -> Any:
    a = sigmoid(z)
    return t * a * (1 - a)


def _softmax_jvp(t: Any, z: Any) -> Any:
    a = softmax(z)
    return a * (t - np.sum(a * t, axis=0, keepdims=True))


def test_the_activation_backwards_of_formulas_are_right() -> None:
    assert check_vjp(sigmoid, lambda v, z: sigmoid_backward(v, sigmoid(z)), Z).status == "pass"
    assert check_vjp(softmax, lambda v, z: softmax_backward(v, softmax(z)), Z).status == "pass"
    assert check_jvp(sigmoid, _sigmoid_jvp, Z).status == "pass"
    assert check_jvp(softmax, _softmax_jvp, Z).status == "pass"


def test_a_softmax_backward_without_the_column_sum_fails() -> None:
    def wrong(v: Any, z: Any) -> Any:
        a = softmax(z)
        return a * (v - np.sum(v * a))  # summed over the whole matrix, not per column

    report = check_vjp(softmax, wrong, Z)
    assert report.status == "fail"


def test_a_wrong_jacobian_element_is_localised_on_both_sides() -> None:
    def wrong(t: Any, z: Any) -> Any:
        out = _sigmoid_jvp(t, z)
        out[2, 0] *= 1.2  # ∂f[2,0]/∂z[2,0] is 20 % off
        return out

    report = check_jvp(sigmoid, wrong, Z)
    assert report.status == "fail"
    assert report.worst_index == (2, 0)
    assert report.output_index == (2, 0)


def test_a_vjp_with_one_wrong_entry_names_it() -> None:
    def wrong(v: Any, z: Any) -> Any:
        g = sigmoid_backward(v, sigmoid(z)).copy()
        g[1, 3] *= 1.1
        return g

    report = check_vjp(sigmoid, wrong, Z)
    assert report.status == "fail" and report.worst_index == (1, 3)
    assert report.output_index == (1, 3)  # sigmoid is element-wise: only that output sees it


def test_a_vjp_over_structured_inputs() -> None:
    rng = np.random.default_rng(1)
    p = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 1))}
    X = rng.normal(size=(3, 4))

    def layer(q: Any, X: Any) -> Any:
        return np.tanh(q["W"] @ X + q["b"])

    def layer_vjp(v: Any, q: Any, X: Any) -> Any:
        d = v * (1 - layer(q, X) ** 2)
        return {"W": d @ X.T, "b": d.sum(axis=1, keepdims=True)}

    assert check_vjp(layer, layer_vjp, p, X).status == "pass"

    def forgot_bias(v: Any, q: Any, X: Any) -> Any:
        g = layer_vjp(v, q, X)
        return {"W": g["W"], "b": np.zeros_like(g["b"])}

    report = check_vjp(layer, forgot_bias, p, X)
    assert report.status == "fail" and report.worst_index[0] == "b"


def _f(x: Any) -> Any:
    return np.sum(x**3) + x[0] * x[1] + np.sin(x[2]) * x[1]


def _grad(x: Any) -> Any:
    return 3 * x**2 + np.array([x[1], x[0] + np.sin(x[2]), np.cos(x[2]) * x[1]])


def _hvp(v: Any, x: Any) -> Any:
    H = np.diag(6 * x)
    H[0, 1] += 1
    H[1, 0] += 1
    H[1, 2] += np.cos(x[2])
    H[2, 1] += np.cos(x[2])
    H[2, 2] += -np.sin(x[2]) * x[1]
    return H @ v


X3 = np.array([0.3, -1.2, 2.0])


def test_a_hessian_vector_product_is_checked_against_the_gradient() -> None:
    assert check_hvp(_grad, _hvp, X3).status == "pass"


def test_a_hessian_missing_a_cross_term_fails_at_that_pair() -> None:
    def wrong(v: Any, x: Any) -> Any:
        return _hvp(v, x) - np.array([0.0, np.cos(x[2]) * v[2], 0.0])  # H[1,2] missing

    report = check_hvp(_grad, wrong, X3)
    assert report.status == "fail"
    assert report.worst_index == (2,) and report.output_index == (1,)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_vjp(sigmoid, "nope", Z), "callables"),
        (lambda: check_vjp(lambda z: "text", lambda v, z: v, Z), "real array"),
        (lambda: check_jvp(sigmoid, lambda t, z: t.astype(complex), Z), "real array"),
        (lambda: check_jvp(sigmoid, _sigmoid_jvp, Z, wrt=["W"]), "wrt only with a structured"),
        (lambda: check_jvp(sigmoid, lambda t, z: np.zeros(2), Z), "shape of f"),
    ],
)
def test_bad_calls_are_clear_errors(call: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()


# -- check_jvp above JVP_MAX_ENTRIES: random tangents, localised by bisection ---------------

BIG = np.random.default_rng(5).normal(size=(70, 70))  # 4,900 entries: above 4,096


def _tanh_jvp(t: Any, x: Any) -> Any:
    return t * (1 - np.tanh(x) ** 2)


def _xxt(x: Any) -> Any:
    return np.tanh(x) @ np.tanh(x).T


def _xxt_jvp(t: Any, x: Any) -> Any:
    d = _tanh_jvp(t, x)
    return d @ np.tanh(x).T + np.tanh(x) @ d.T


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_large_jvp_is_checked_along_random_tangents(seed: int, dtype: Any) -> None:
    x = BIG.astype(dtype)
    for f, jvp in ((np.tanh, _tanh_jvp), (_xxt, _xxt_jvp)):
        report = check_jvp(f, jvp, x, seed=seed)
        assert report.status == "pass", report
        assert "8 random tangents" in report.checked
    half = lambda t, x: 0.5 * _xxt_jvp(t, x)  # noqa: E731
    assert check_jvp(_xxt, half, x, seed=seed).status == "fail"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_wrong_entry_of_a_large_jvp_is_found_on_both_sides(seed: int) -> None:
    def one_off(t: Any, x: Any) -> Any:
        out = _tanh_jvp(t, x)
        out[13, 57] *= 1 + 1e-4
        return out

    report = check_jvp(np.tanh, one_off, BIG, seed=seed)
    assert report.status == "fail"
    assert report.worst_index == (13, 57) and report.output_index == (13, 57)
    assert "bisecting" in report.checked


def test_a_large_structured_jvp_names_the_leaf_and_leaves_wrt_out_of_the_tangent() -> None:
    rng = np.random.default_rng(3)
    params = {"W": rng.normal(size=(70, 70)), "b": rng.normal(size=(70, 1))}
    X = rng.normal(size=(70, 4))

    def layer(p: Any, X: Any, bug: bool = False) -> Any:  # kwargs reach f and jvp alike
        return np.tanh(p["W"] @ X + p["b"])

    def layer_jvp(t: Any, p: Any, X: Any, bug: bool = False) -> Any:
        assert not np.any(t["b"]), "a leaf left out by wrt= must get a zero tangent"
        dW = t["W"].copy()
        if bug:
            dW[4, 9] *= 1.001
        return (1 - layer(p, X) ** 2) * (dW @ X)

    assert check_jvp(layer, layer_jvp, params, X, wrt=["W"]).status == "pass"
    report = check_jvp(layer, layer_jvp, params, X, wrt=["W"], kwargs={"bug": True})
    assert report.status == "fail"
    assert report.worst_index == ("W", (4, 9))
    assert "W[4, 9]" in str(report)


def test_a_small_structured_jvp_gives_zero_tangents_outside_wrt() -> None:
    params = {"w": np.array([0.3, -0.7]), "c": np.array([1.5])}

    def f(p: Any) -> Any:
        return np.sin(p["w"] * p["c"])

    def jvp(t: Any, p: Any) -> Any:
        assert not np.any(t["c"])
        return np.cos(p["w"] * p["c"]) * t["w"] * p["c"]

    assert check_jvp(f, jvp, params, wrt=["w"]).status == "pass"


def test_hyper_parameters_reach_f_and_the_products_as_keywords() -> None:
    def f(z: Any, *, scale: float) -> Any:
        return np.tanh(scale * z)

    def vjp(v: Any, z: Any, *, scale: float) -> Any:
        return v * scale * (1 - np.tanh(scale * z) ** 2)

    def jvp(t: Any, z: Any, *, scale: float) -> Any:
        return vjp(t, z, scale=scale)

    assert check_vjp(f, vjp, Z, kwargs={"scale": 3.0}).status == "pass"
    assert check_jvp(f, jvp, Z, kwargs={"scale": 3.0}).status == "pass"
    wrong = lambda v, z, *, scale: vjp(v, z, scale=1.0)  # noqa: E731
    assert check_vjp(f, wrong, Z, kwargs={"scale": 3.0}).status == "fail"


def test_float32_jvp_contractions_are_held_to_float32() -> None:
    """A float32 jvp summed against a random cotangent cancels; its rounding is float32's."""
    x = BIG[:40, :40].astype(np.float32)
    for seed in range(4):
        assert check_jvp(_xxt, _xxt_jvp, x, seed=seed).status == "pass"


def test_a_structured_hessian_vector_product() -> None:
    """Found by the blind set of issue 12: check_hvp refused a dict x whose grad returns a dict."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(4, 3))
    t = rng.normal(size=4)
    params = {"W": rng.normal(size=3) / 2, "b": np.array([0.3])}

    def grad(p: Any, bug: bool = False) -> Any:  # of f = Σ softplus(XW + b) − t·(XW + b)
        s = 1 / (1 + np.exp(-(X @ p["W"] + p["b"])))
        r = s - t
        return {"W": X.T @ r, "b": np.array([r.sum()])}

    def hvp(v: Any, p: Any, bug: bool = False) -> Any:
        s = 1 / (1 + np.exp(-(X @ p["W"] + p["b"])))
        d = s * (1 - s) * (X @ v["W"] + v["b"])
        hb = d.sum() * (1.02 if bug else 1.0)
        return {"W": X.T @ d, "b": np.array([hb])}

    assert check_hvp(grad, hvp, params).status == "pass"
    report = check_hvp(grad, hvp, params, kwargs={"bug": True})
    assert report.status == "fail"
    assert report.output_index == ("b", (0,))
