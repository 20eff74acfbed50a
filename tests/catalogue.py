"""One shared catalogue of correct and buggy gradients: used by the tests and by the benchmark
that runs the same cases through nnderiv and its peers.

Every case is plain numpy: ``fun(x, *args) -> float`` and ``grad(x, *args) -> array``.
Correct cases sit at hard points (probabilities within 1e-9 of 0 and 1, logits of ±30, float32
losses, ``abs`` / ``np.where`` / non-analytic code, kinks, large inputs); buggy cases are the
mistakes people make, each with the diagnosis and (where one entry is wrong) the index the
checker must report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnderiv.formulas import LOSSES, sigmoid, softmax

Array = np.ndarray


@dataclass(frozen=True)
class Case:
    name: str
    fun: Callable[..., Any]
    grad: Callable[..., Any]
    x: Array
    args: tuple[Any, ...] = ()
    correct: bool = True
    index: tuple[int, ...] | None = None  # the wrong entry a checker must name
    diagnosis: str = ""  # a phrase the diagnosis must contain
    note: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


RNG = np.random.default_rng(2024)


def _onehot(n: int, m: int, rng: np.random.Generator = RNG) -> Array:
    return np.eye(n)[:, rng.integers(0, n, m)]


# --- losses written the way users write them (analytic numpy: complex step works) ------------


def bce_logits(Z: Array, Y: Array) -> float:
    """Binary / multi-label cross-entropy from logits, with log1p(exp(·)) (complex-friendly)."""
    return np.sum(Y * np.log1p(np.exp(-Z)) + (1 - Y) * np.log1p(np.exp(Z))) / Z.shape[1]


def _bce_logits_grad(Z: Array, Y: Array) -> Array:
    return (sigmoid(Z) - Y) / Z.shape[1]


def ce_logits(Z: Array, Y: Array) -> Any:
    """Softmax cross-entropy from logits (max-shifted, analytic)."""
    mx = np.max(Z.real, axis=0, keepdims=True)
    lse = mx + np.log(np.sum(np.exp(Z - mx), axis=0, keepdims=True))
    return np.sum(Y * (lse - Z)) / Z.shape[1]


def _ce_general(Z: Array, Y: Array) -> Array:
    return (softmax(Z) * Y.sum(axis=0, keepdims=True) - Y) / Z.shape[1]


def bce_probs(A: Array, Y: Array) -> Any:
    return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / A.shape[1]


def _bce_probs_grad(A: Array, Y: Array) -> Array:
    return ((1 - Y) / (1 - A) - Y / A) / A.shape[1]


def mse_sigmoid(Z: Array, Y: Array) -> Any:
    A = 1 / (1 + np.exp(-Z))
    return np.sum((A - Y) ** 2) / (2 * Z.shape[1])


def _mse_sigmoid_grad(Z: Array, Y: Array) -> Array:
    A = sigmoid(Z)
    return (A - Y) * A * (1 - A) / Z.shape[1]


def focal(Z: Array, Y: Array, gamma: float = 2.0) -> Any:
    """Binary focal loss  −(1/m) Σ (1 − p_t)^γ log p_t,  p_t = y σ(z) + (1 − y) σ(−z).

    Written without cancellation: σ(−z) = 1/(1 + e^z) rather than 1 − σ(z), and
    1 − p_t = y σ(−z) + (1 − y) σ(z). (With 1 − σ(z) the loss itself loses all its digits
    for z ≳ 15, and no gradient can match the loss as computed.)"""
    s_pos, s_neg = 1 / (1 + np.exp(-Z)), 1 / (1 + np.exp(Z))
    pt = Y * s_pos + (1 - Y) * s_neg
    one_minus_pt = Y * s_neg + (1 - Y) * s_pos
    return -np.sum(one_minus_pt**gamma * np.log(pt)) / Z.shape[1]


def _focal_grad(Z: Array, Y: Array, gamma: float = 2.0, bug: bool = False) -> Array:
    s_pos, s_neg = sigmoid(Z), sigmoid(-Z)
    pt = Y * s_pos + (1 - Y) * s_neg
    one_minus_pt = Y * s_neg + (1 - Y) * s_pos
    dpt_dz = (2 * Y - 1) * s_pos * s_neg
    sign = 1.0 if bug else -1.0  # the bug: the derivative of (1 − p_t)^γ with the wrong sign
    dJ_dpt = -(sign * gamma * one_minus_pt ** (gamma - 1) * np.log(pt) + one_minus_pt**gamma / pt)
    return dJ_dpt * dpt_dz / Z.shape[1]


def huber(x: Array, y: Array, delta: float = 1.0) -> Any:
    r = x - y
    quad = 0.5 * r**2
    lin = delta * (np.sqrt(r**2) - 0.5 * delta)  # |r| via sqrt: keeps complex step analytic
    return np.sum(np.where(np.abs(r.real) <= delta, quad, lin)) / x.size


def _huber_grad(x: Array, y: Array, delta: float = 1.0, bug: bool = False) -> Array:
    r = x - y
    slope = np.clip(r, -delta, delta)
    if bug:  # forgot to clip: the quadratic slope used everywhere
        slope = r
    return slope / x.size


def l2_logistic(w: Array, X: Array, y: Array, lam: float) -> Any:
    z = X @ w
    return np.sum(np.log1p(np.exp(-y * z))) / len(y) + 0.5 * lam * np.sum(w * w)


def _l2_logistic_grad(w: Array, X: Array, y: Array, lam: float, bug: bool = False) -> Array:
    z = X @ w
    g = X.T @ (-y * (1 - sigmoid((y * z)[None, :])[0])) / len(y)
    return g if bug else g + lam * w


def l1_abs(x: Array, t: Array) -> Any:
    """A loss with ``abs`` in it: complex step silently breaks (|x + ih| is real)."""
    return np.sum((x - t) ** 2) / 2 + 0.3 * np.sum(np.abs(x))


def _l1_abs_grad(x: Array, t: Array) -> Array:
    return (x - t) + 0.3 * np.sign(x)


def relu_sq(x: Array, t: Array) -> Any:
    return np.sum(np.where(x > 0, x, 0.0) * t)


def _relu_sq_grad(x: Array, t: Array) -> Array:
    return np.where(x > 0, t, 0.0)  # the subgradient 0 at x = 0


def hinge(w: Array, y: Array) -> float:
    return float(np.sum(np.maximum(0.0, 1.0 - y * w)))


def _hinge_grad(w: Array, y: Array) -> Array:
    return np.where(1.0 - y * w > 0, -y, 0.0)


def float32_loss(Z: Array, Y: Array) -> float:
    """A loss computed in float32 (as on a GPU), returned as a Python float."""
    Zs, Ys = np.asarray(Z, np.float32), np.asarray(Y, np.float32)
    return float(
        np.sum(Ys * np.logaddexp(np.float32(0), -Zs) + (1 - Ys) * np.logaddexp(np.float32(0), Zs))
        / Zs.shape[1]
    )


def _float32_grad(Z: Array, Y: Array) -> Array:
    return ((sigmoid(Z.astype(np.float32)) - Y.astype(np.float32)) / Z.shape[1]).astype(np.float32)


def stable_bce(Z: Array, Y: Array) -> Any:
    """Through nnderiv's own formulas (logaddexp: raises TypeError-like errors on complex)."""
    return LOSSES["multilabel"].cost_from_logits(Z, Y)


def expit_loss(Z: Array, Y: Array) -> Any:
    from scipy.special import expit  # complex input: TypeError

    return np.sum((expit(Z) - Y) ** 2) / 2


def _expit_grad(Z: Array, Y: Array) -> Array:
    A = sigmoid(Z)
    return (A - Y) * A * (1 - A)


# --- the catalogue -----------------------------------------------------------------------------


def correct_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    cases = []
    A_edge = np.array([[1e-9, 1 - 1e-9, 0.5, 2e-9, 1 - 3e-9, 0.3]])
    Y_edge = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]])
    cases.append(
        Case(
            "binary dJ/dA, probabilities within 1e-9 of 0 and 1",
            bce_probs,
            _bce_probs_grad,
            A_edge,
            (Y_edge,),
            tags=("edge",),
        )
    )
    cases.append(
        Case(
            "binary cost of nnderiv.formulas, probabilities within 1e-9 of 0 and 1",
            LOSSES["binary"].cost,
            LOSSES["binary"].grad_A,
            A_edge,
            (Y_edge,),
            tags=("edge",),
        )
    )
    Z30 = np.array(
        [[30.0, -30.0, 29.5, -29.0], [-30.0, 30.0, 0.1, 28.0], [15.0, -15.0, -30.0, 30.0]]
    )
    Y30 = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    cases.append(
        Case(
            "multi-label, logits ±30, stable loss (logaddexp)",
            stable_bce,
            lambda z, y: LOSSES["multilabel"].grad_Z_general(sigmoid(z), y),
            Z30,
            (Y30,),
            tags=("edge",),
        )
    )
    cases.append(
        Case(
            "multi-label, logits ±30, log1p(exp) loss",
            bce_logits,
            _bce_logits_grad,
            Z30,
            (Y30,),
            tags=("edge",),
        )
    )
    Zs = np.array([[30.0, -2.0, 0.0], [-30.0, 28.0, 1.0], [0.0, -30.0, 2.0], [-25.0, 0.0, 3.0]])
    cases.append(
        Case(
            "softmax with probabilities near 0 (logits ±30)",
            ce_logits,
            _ce_general,
            Zs,
            (_onehot(4, 3, rng),),
            tags=("edge",),
        )
    )
    Zf = rng.normal(scale=2, size=(3, 5))
    Yf = (rng.uniform(size=(3, 5)) > 0.5) * 1.0
    cases.append(
        Case("loss computed in float32", float32_loss, _float32_grad, Zf, (Yf,), tags=("float32",))
    )
    x = rng.normal(size=(4, 4))
    cases.append(
        Case(
            "abs inside the loss (L1 term)",
            l1_abs,
            _l1_abs_grad,
            x,
            (rng.normal(size=(4, 4)),),
            tags=("non-analytic",),
        )
    )
    xr = np.array([0.0, 1.5, -0.5, 0.0, 2.0])
    cases.append(
        Case(
            "np.where ReLU exactly at its kink",
            relu_sq,
            _relu_sq_grad,
            xr,
            (np.array([1.0, 2.0, 3.0, -1.0, 0.5]),),
            tags=("kink",),
        )
    )
    wh = np.array([1.0, 0.5, -1.0, 2.0])
    cases.append(
        Case(
            "hinge exactly at its kink",
            hinge,
            _hinge_grad,
            wh,
            (np.array([1.0, 1.0, -1.0, 1.0]),),
            tags=("kink",),
        )
    )
    Zb = rng.normal(scale=3, size=(10, 1000))
    Yb = (rng.uniform(size=(10, 1000)) > 0.5) * 1.0
    cases.append(
        Case("multi-label 10x1000", bce_logits, _bce_logits_grad, Zb, (Yb,), tags=("large",))
    )
    Zc = rng.normal(scale=3, size=(10, 1000))
    cases.append(
        Case(
            "softmax cross-entropy 10x1000",
            ce_logits,
            _ce_general,
            Zc,
            (_onehot(10, 1000, rng),),
            tags=("large",),
        )
    )
    Zm = rng.normal(size=(3, 6))
    cases.append(
        Case(
            "MSE on a sigmoid output",
            mse_sigmoid,
            _mse_sigmoid_grad,
            Zm,
            ((rng.uniform(size=(3, 6)) > 0.5) * 1.0,),
        )
    )
    Zfo = rng.normal(scale=2, size=(1, 8))
    cases.append(
        Case("focal loss", focal, _focal_grad, Zfo, ((rng.uniform(size=(1, 8)) > 0.5) * 1.0,))
    )
    xh = rng.normal(scale=2, size=12)
    cases.append(Case("Huber loss", huber, _huber_grad, xh, (np.zeros(12),)))
    X = rng.normal(size=(20, 5))
    yl = np.sign(rng.normal(size=20))
    cases.append(
        Case(
            "L2-regularised logistic regression",
            l2_logistic,
            _l2_logistic_grad,
            rng.normal(size=5),
            (X, yl, 0.1),
        )
    )
    Zsoft = rng.normal(size=(4, 5))
    Ysoft = rng.uniform(size=(4, 5))
    cases.append(
        Case(
            "softmax CE, soft labels off the simplex, general form",
            ce_logits,
            _ce_general,
            Zsoft,
            (Ysoft,),
        )
    )
    return cases


def _one_wrong(
    grad: Callable[..., Any], index: tuple[int, ...], factor: float
) -> Callable[..., Any]:
    def wrong(x: Array, *args: Any) -> Array:
        g = np.array(grad(x, *args), dtype=np.float64)
        g[index] *= factor
        return g

    return wrong


def buggy_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    cases = []
    Z = rng.normal(size=(4, 6))
    Y = _onehot(4, 6, rng)
    m = Z.shape[1]
    cases.append(
        Case(
            "missing 1/m",
            ce_logits,
            lambda z, y: softmax(z) - y,
            Z,
            (Y,),
            False,
            diagnosis="missing 1/m",
        )
    )
    cases.append(
        Case(
            "extra 1/m",
            ce_logits,
            lambda z, y: (softmax(z) - y) / m**2,
            Z,
            (Y,),
            False,
            diagnosis="extra 1/m",
        )
    )
    Zl = rng.normal(size=(3, 5))
    Yl = (rng.uniform(size=(3, 5)) > 0.5) * 1.0
    cases.append(
        Case(
            "1/(n·m) instead of 1/m",
            bce_logits,
            lambda z, y: (sigmoid(z) - y) / z.size,
            Zl,
            (Yl,),
            False,
            diagnosis="1/(n·m)",
        )
    )
    A = rng.uniform(0.05, 0.95, size=(1, 7))
    Yb = (rng.uniform(size=(1, 7)) > 0.5) * 1.0
    cases.append(
        Case(
            "sign flip",
            bce_probs,
            lambda a, y: -_bce_probs_grad(a, y),
            A,
            (Yb,),
            False,
            diagnosis="sign flip",
        )
    )
    Zsq = rng.normal(size=(4, 4))
    Ysq = (rng.uniform(size=(4, 4)) > 0.5) * 1.0
    cases.append(
        Case(
            "transposed layout",
            bce_logits,
            lambda z, y: _bce_logits_grad(z, y).T,
            Zsq,
            (Ysq,),
            False,
            diagnosis="transposed",
        )
    )
    cases.append(
        Case(
            "dJ/dA returned for dJ/dZ (sigmoid)",
            bce_logits,
            lambda z, y: ((1 - y) / (1 - sigmoid(z)) - y / sigmoid(z)) / z.shape[1],
            Zl,
            (Yl,),
            False,
            diagnosis="σ'(z)",
        )
    )
    cases.append(
        Case(
            "dJ/dA returned for dJ/dZ (softmax)",
            ce_logits,
            lambda z, y: -y / softmax(z) / z.shape[1],
            Z,
            (Y,),
            False,
            diagnosis="softmax backward",
        )
    )
    Ys = rng.uniform(size=(4, 6))
    cases.append(
        Case(
            "simplex shortcut with labels off the simplex",
            ce_logits,
            lambda z, y: (softmax(z) - y) / z.shape[1],
            Z,
            (Ys,),
            False,
            diagnosis="simplex shortcut",
        )
    )
    Zw = rng.normal(size=(4, 5))
    Yw = _onehot(4, 5, rng)

    def softmax_rows(z: Array, y: Array) -> Array:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True) - y) / z.shape[1]

    cases.append(
        Case(
            "softmax over the wrong axis",
            ce_logits,
            softmax_rows,
            Zw,
            (Yw,),
            False,
            diagnosis="wrong axis",
        )
    )
    Zm = rng.normal(size=(3, 6))
    Ym = (rng.uniform(size=(3, 6)) > 0.5) * 1.0
    cases.append(
        Case(
            "forgotten activation derivative (MSE on a sigmoid)",
            mse_sigmoid,
            lambda z, y: (sigmoid(z) - y) / z.shape[1],
            Zm,
            (Ym,),
            False,
            diagnosis="σ'(z)",
        )
    )
    Zb = rng.normal(scale=3, size=(10, 1000))
    Yb2 = (rng.uniform(size=(10, 1000)) > 0.5) * 1.0
    cases.append(
        Case(
            "one wrong entry (1 %) among 10x1000",
            bce_logits,
            _one_wrong(_bce_logits_grad, (3, 517), 1.01),
            Zb,
            (Yb2,),
            False,
            index=(3, 517),
            diagnosis="1 localised wrong entry",
        )
    )
    cases.append(
        Case(
            "one wrong entry (1e-6 relative) among 10x1000",
            bce_logits,
            _one_wrong(_bce_logits_grad, (7, 42), 1 + 1e-6),
            Zb,
            (Yb2,),
            False,
            index=(7, 42),
            diagnosis="1 localised wrong entry",
        )
    )
    cases.append(
        Case(
            "one wrong entry in a small array",
            ce_logits,
            _one_wrong(_ce_general, (2, 1), 1.05),
            Z,
            (Y,),
            False,
            index=(2, 1),
            diagnosis="1 of 24 checked entries disagree",
        )
    )
    Zfo = rng.normal(scale=2, size=(1, 8))
    Yfo = (rng.uniform(size=(1, 8)) > 0.5) * 1.0
    cases.append(
        Case(
            "focal loss, wrong sign in the modulating term",
            focal,
            lambda z, y: _focal_grad(z, y, bug=True),
            Zfo,
            (Yfo,),
            False,
            diagnosis="disagree",
        )
    )
    xh = np.array([0.3, -2.5, 1.7, 0.1, 3.0, -0.4])
    cases.append(
        Case(
            "Huber loss, slope not clipped",
            huber,
            lambda x, y: _huber_grad(x, y, bug=True),
            xh,
            (np.zeros(6),),
            False,
            diagnosis="3 of 6 checked entries",
        )
    )
    X = rng.normal(size=(20, 5))
    yl = np.sign(rng.normal(size=20))
    cases.append(
        Case(
            "L2 logistic regression, regulariser forgotten",
            l2_logistic,
            lambda w, X_, y_, lam: _l2_logistic_grad(w, X_, y_, lam, bug=True),
            rng.normal(size=5),
            (X, yl, 0.5),
            False,
            diagnosis="disagree",
        )
    )
    cases.append(
        Case(
            "MSE with the factor 2 dropped",
            lambda x, t: np.sum((x - t) ** 2),
            lambda x, t: x - t,
            rng.normal(size=(3, 3)),
            (rng.normal(size=(3, 3)),),
            False,
            diagnosis="constant factor: claimed = 0.5",
        )
    )
    A3 = rng.uniform(0.05, 0.95, size=(2, 5))
    Y3 = (rng.uniform(size=(2, 5)) > 0.5) * 1.0
    cases.append(
        Case(
            "binary dJ/dA with y/a added instead of subtracted",
            bce_probs,
            lambda a, y: ((1 - y) / (1 - a) + y / a) / a.shape[1],
            A3,
            (Y3,),
            False,
            diagnosis="disagree",
        )
    )
    return cases
