"""What the blind set of issue 13 found (a helper's 145 cases, labels checked against torch
autograd, written without reading these tests), kept as regression tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nnderiv import ops
from nnderiv.formulas import define_loss
from nnderiv.symbolic import derive, prove, verify_steps

torch = pytest.importorskip("torch", reason="the regression values are checked against torch")


def test_a_float_literal_in_a_rule_is_exact() -> None:
    """0.5 in a rule was a sympy Float: a claim off by 1e-30 was proved, a factor 2 unknown."""
    halfsq = define_loss("halfsq", lambda a, y: 0.5 * (a - y) ** 2, "identity", labels="real")
    assert prove(halfsq, "A", "(a[j,i]-y[j,i])/m").proved
    assert prove(halfsq, "A", "(a[j,i]-y[j,i])/m*(1+10**-30)").status == "disproved"
    assert prove(halfsq, "A", "2*(a[j,i]-y[j,i])/m").status == "disproved"
    r = verify_steps(halfsq, {"u0": "(a[j,i]-y[j,i])/m*(1+10**-30)"})
    assert r.lines[-1].status == "wrong"
    assert "0.5" not in derive(halfsq, "A").to_text()
    smooth = define_loss(
        "smooth_l1",
        lambda a, y, beta: ops.where(
            ops.abs(a - y) < beta, 0.5 * (a - y) ** 2 / beta, ops.abs(a - y) - 0.5 * beta
        ),
        "identity",
        params={"beta": 1.0},
        labels="real",
    )
    wrong = lambda a, y, m, s, beta: ops.where(ops.abs(a - y) < beta, a - y, ops.sign(a - y)) / m  # noqa: E731
    assert prove(smooth, "A", wrong).status == "disproved"
    right = "min(max((a[j,i]-y[j,i])/beta, -1), 1)/m"
    assert verify_steps(smooth, {"u0": right}).lines[-1].status == "correct"


def test_a_users_softmax_loss_with_one_hot_labels_gets_the_simplex_condition() -> None:
    myce = define_loss("myce", lambda a, y: -y * ops.log(a), "softmax")
    proof = prove(myce, "Z", "(a[j,i]-y[j,i])/m")
    assert proof.proved and "Σ_p y_pi = 1" in proof.condition
    line = verify_steps(myce, {"z": "(a[j,i]-y[j,i])/m"}).lines[-1]
    assert line.status == "correct" and "sums to 1" in line.message
    real = define_loss("myce_real", lambda a, y: -y * ops.log(a), "softmax", labels="real")
    assert prove(real, "Z", "(a[j,i]-y[j,i])/m").status == "disproved"  # no such promise


def _torch_grad_Z(fn: Any, Z: np.ndarray, Y: np.ndarray, act: str) -> np.ndarray:
    Zt = torch.tensor(Z, requires_grad=True, dtype=torch.float64)
    A = {"softmax": lambda z: torch.softmax(z, 0), "identity": lambda z: z}[act](Zt)
    J = fn(A, torch.tensor(Y, dtype=torch.float64)).sum() / Z.shape[1]
    (g,) = torch.autograd.grad(J, Zt)
    return g.numpy()


def test_a_softmax_loss_whose_gradient_needs_sums_of_outputs_is_vectorised() -> None:
    """to_numpy raised 'Cannot vectorise' for Σ_p f(a_pi) column sums (generalised CE)."""
    gce = define_loss("gce", lambda a, y, q: y * (1 - a**q) / q, "softmax", params={"q": 0.7})
    rng = np.random.default_rng(0)
    Z, Y = rng.normal(size=(3, 4)), np.eye(3)[:, [0, 2, 1, 1]]
    expected = _torch_grad_Z(lambda A, Yt: Yt * (1 - A**0.7) / 0.7, Z, Y, "softmax")
    d = derive(gce, "Z")
    np.testing.assert_allclose(d.to_numpy()(gce.activation(Z), Y), expected, rtol=1e-10)
    np.testing.assert_allclose(d.to_numpy(logits=True)(Z, Y), expected, rtol=1e-10)


def test_split_exponentials_and_hyperbolic_ratios_are_stable_from_logits() -> None:
    exploss = define_loss("exploss", lambda a, y: ops.exp(-(2 * y - 1) * a), "identity")
    logcosh = define_loss("logcosh", lambda a, y: ops.log(ops.cosh(a - y)), "identity")
    spp = define_loss("spp", lambda a, y: a - y * ops.log(a), "softplus", labels="count")
    Z = np.array([[800.0, -800.0, 3.0]])
    Y = np.array([[1.0, 0.0, 1.0]])
    for loss in (exploss, logcosh):
        with np.errstate(over="raise", invalid="raise"):
            got = derive(loss, "Z").to_numpy(logits=True)(Z, Y)
        assert np.all(np.isfinite(got)), (loss.name, got)
    np.testing.assert_allclose(
        derive(logcosh, "Z").to_numpy(logits=True)(Z, Y), np.tanh(Z - Y) / 3, rtol=1e-12
    )
    big = np.array([[800.0, 30.0]])
    assert np.all(np.isfinite(derive(spp, "Z").to_numpy(logits=True)(big, np.array([[2.0, 1.0]]))))


def test_hyperbolic_and_power_identities_are_proved() -> None:
    logcosh = define_loss("logcosh", lambda a, y: ops.log(ops.cosh(a - y)), "identity")
    r = verify_steps(
        logcosh,
        {"u2": "cosh(a[j,i]-y[j,i])/m", "u1": "cosh(a[j,i]-y[j,i])**2*tanh(a[j,i]-y[j,i])/m"},
    )
    assert [ln.status for ln in r.lines if ln.claimed is not None] == ["wrong", "carried"]
    gce_sig = define_loss(
        "gce_sig",
        lambda a, y, q: (1 - (y * a + (1 - y) * (1 - a)) ** q) / q,
        "sigmoid",
        params={"q": 0.7},
    )
    claim = "-(y[j,i]*a[j,i] + (1-y[j,i])*(1-a[j,i]))**(q-1)*(2*y[j,i]-1)*a[j,i]*(1-a[j,i])/m"
    assert prove(gce_sig, "Z", claim).proved


def test_the_printouts_group_a_slope_and_a_product_denominator() -> None:
    tanh_mse = define_loss("tanh_mse", lambda a, y: (a - y) ** 2 / 2, "tanh")
    text = derive(tanh_mse, "Z").to_text()
    assert "∂J/∂a_ji · (1 − a_ji²)" in text
    assert "\\left(1 - a_{ji}^{2}\\right)" in derive(tanh_mse, "Z").to_latex()
    mse_n = define_loss("mse_n", lambda a, y, n: (a - y) ** 2 / (2 * n), "identity")
    assert "/2·m)" not in derive(mse_n, "A").to_text()
    pinball = define_loss(
        "pinball",
        lambda a, y, tau: ops.maximum(tau * (y - a), (tau - 1) * (y - a)),
        "identity",
        params={"tau": 0.9},
    )
    assert "[−a_ji + y_ji > 0]" in derive(pinball, "A").to_text()
