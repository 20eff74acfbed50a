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
        (lambda: check_jvp(sigmoid, _sigmoid_jvp, np.zeros(5000)), "use check_vjp|check the vjp"),
        (lambda: check_jvp(sigmoid, lambda t, z: np.zeros(2), Z), "shape of f"),
    ],
)
def test_bad_calls_are_clear_errors(call: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()
