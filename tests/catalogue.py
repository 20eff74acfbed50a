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


# --- issue 8: regularisers at exact zeros, naive cancellation, float32, mutation -----------


def lasso(w: Array, A: Array, b: Array, lam: float) -> Any:
    """L1-regularised least squares: complex step through np.abs drops the L1 term."""
    return 0.5 * np.sum((A @ w - b) ** 2) + lam * np.sum(np.abs(w))


def _lasso_grad(w: Array, A: Array, b: Array, lam: float) -> Array:
    return A.T @ (A @ w - b) + lam * np.sign(w)


def _lasso_grad_no_l1(w: Array, A: Array, b: Array, lam: float) -> Array:
    return A.T @ (A @ w - b)


def sparse_lasso(w: Array, c: Array, lam: float) -> Any:
    """A separable lasso, cheap enough for 10,000 entries."""
    return 0.5 * np.sum((w - c) ** 2) + lam * np.sum(np.abs(w))


def _sparse_lasso_grad(w: Array, c: Array, lam: float) -> Array:
    return w - c + lam * np.sign(w)


def total_variation(x: Array, y: Array, lam: float) -> Any:
    return 0.5 * np.sum((x - y) ** 2) + lam * np.sum(np.abs(np.diff(x)))


def _tv_grad(x: Array, y: Array, lam: float) -> Array:
    s = np.sign(np.diff(x))
    g = x - y
    g[:-1] -= lam * s
    g[1:] += lam * s
    return g


def group_lasso(W: Array, T: Array, lam: float) -> Any:
    return 0.5 * np.sum((W - T) ** 2) + lam * np.sum(np.linalg.norm(W, axis=1))


def _group_lasso_grad(W: Array, T: Array, lam: float) -> Array:
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    safe = np.where(norms > 0, norms, 1.0)
    return W - T + lam * np.where(norms > 0, W / safe, 0.0)


def sparse_logistic(w: Array, X: Array, y: Array, lam: float) -> Any:
    """Logistic regression with an L1 penalty, labels ±1."""
    return np.sum(np.log1p(np.exp(-y * (X @ w)))) / len(y) + lam * np.sum(np.abs(w))


def _sparse_logistic_grad(w: Array, X: Array, y: Array, lam: float) -> Array:
    s = 1 / (1 + np.exp(y * (X @ w)))
    return -(X.T @ (y * s)) / len(y) + lam * np.sign(w)


def relu_net(W: Array, X: Array, t: Array) -> Any:
    """A one-layer ReLU network with a squared loss; some pre-activations exactly 0."""
    return 0.5 * np.sum((np.maximum(W @ X, 0.0) - t) ** 2)


def _relu_net_grad(W: Array, X: Array, t: Array) -> Array:
    H = W @ X
    return ((np.maximum(H, 0.0) - t) * (H > 0)) @ X.T


def naive_bce(z: Array, y: Array) -> Any:
    """BCE written the common way, log(1 − σ(z)): the loss keeps few digits at large z."""
    s = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))


def _naive_bce_grad(z: Array, y: Array) -> Array:
    return (1 / (1 + np.exp(-z)) - y) / z.size


def naive_focal(z: Array, y: Array, gamma: float = 2.0) -> Any:
    """The most common focal loss: p = σ(z), then 1 − p."""
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y == 1, p, 1 - p)
    return -np.sum((1 - pt) ** gamma * np.log(pt))


def _naive_focal_grad(z: Array, y: Array, gamma: float = 2.0) -> Array:
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y == 1, p, 1 - p)
    dpt = gamma * (1 - pt) ** (gamma - 1) * np.log(pt) - (1 - pt) ** gamma / pt
    return dpt * np.where(y == 1, 1.0, -1.0) * p * (1 - p)


def f32_bce_logits(Z: Array, Y: Array) -> Any:
    """BCE from logits computed in float32 (returns np.float32)."""
    z, y = Z.astype(np.float32), Y.astype(np.float32)
    zero = np.float32(0)
    terms = y * np.logaddexp(zero, -z) + (1 - y) * np.logaddexp(zero, z)
    return np.sum(terms) / np.float32(Z.shape[1])


def f32_ce_logits(Z: Array, Y: Array) -> Any:
    z, y = Z.astype(np.float32), Y.astype(np.float32)
    mx = z.max(axis=0, keepdims=True)
    lse = mx + np.log(np.sum(np.exp(z - mx), axis=0, keepdims=True))
    return np.sum(y * (lse - z)) / np.float32(Z.shape[1])


def f32_mse(A: Array, Y: Array) -> Any:
    a, y = A.astype(np.float32), Y.astype(np.float32)
    return np.sum((a - y) ** 2) / np.float32(2 * A.shape[1])


def f32_tanh_mlp(W: Array, X: Array, T: Array) -> Any:
    h = np.tanh(W.astype(np.float32) @ X.astype(np.float32))
    return np.sum((h - T.astype(np.float32)) ** 2) / np.float32(2 * X.shape[1])


def _f32_tanh_mlp_grad(W: Array, X: Array, T: Array) -> Array:
    h = np.tanh(W @ X)
    return ((h - T) * (1 - h**2)) @ X.T / X.shape[1]


def centring_loss(x: Array) -> Any:
    """Shifts and scales its input in place before using it."""
    x -= 1.0
    x *= 2.0
    return np.sum(x**3) / 3


def _centring_grad(x: Array) -> Array:
    return 2.0 * (2.0 * (x - 1.0)) ** 2


def maxpool(x: Array, wout: Array) -> Any:
    """2×2 max pooling of a 4×8 map, weighted, plus a small L2 term; the map has ties."""
    return np.sum(wout * x.reshape(2, 2, 4, 2).max(axis=(1, 3))) + 0.05 * np.sum(x**2)


def _maxpool_grad(x: Array, wout: Array, *, every_tie: bool = False) -> Array:
    windows = x.reshape(2, 2, 4, 2)
    top = windows.max(axis=(1, 3), keepdims=True)
    mask = (windows == top).astype(float)
    if not every_tie:  # a valid subgradient: the weight split among the tied maxima
        mask /= mask.sum(axis=(1, 3), keepdims=True)
    return 0.1 * x + (mask * wout[:, None, :, None]).reshape(4, 8)


def _maxpool_point(rng: np.random.Generator) -> tuple[Array, Array]:
    x = np.round(rng.normal(size=(4, 8)), 2)
    x[0, 0] = x[1, 1] = x[0, 1] + 1.0  # a tie for the maximum of the first window
    x[2, 6] = x[3, 7] = x[3, 6] + 1.0  # and of the last
    return x, rng.uniform(0.5, 2.0, size=(2, 4))


def _trust_inputs(rng: np.random.Generator) -> dict[str, Any]:
    """The points of the issue-8 cases: exact zeros, ties, large logits, float32 sizes."""
    A = rng.normal(size=(20, 30))
    w = rng.normal(size=30)
    w[rng.uniform(size=30) < 0.5] = 0.0
    xs = np.round(rng.normal(size=40), 1)
    xs[5:9] = xs[5]
    W = rng.normal(size=(10, 4))
    W[[1, 4, 7]] = 0.0
    ws = rng.normal(size=8)
    ws[[0, 3, 6]] = 0.0
    Xr = rng.normal(size=(3, 6))
    Wr = rng.normal(size=(4, 3))
    Wr[0] = 0.0  # the first unit's pre-activations are exactly 0: a kink for every example
    big = rng.normal(size=10_000)
    big[rng.uniform(size=10_000) < 0.8] = 0.0
    return {
        "lasso": (w, (A, rng.normal(size=20), 0.3)),
        "tv": (xs, (rng.normal(size=40), 0.2)),
        "group": (W, (rng.normal(size=(10, 4)), 0.5)),
        "logistic": (ws, (rng.normal(size=(25, 8)), np.sign(rng.normal(size=25)), 0.05)),
        "relu": (Wr, (Xr, rng.normal(size=(4, 6)))),
        "big": (big, (rng.normal(size=10_000), 0.1)),
    }


def _mp(rng: np.random.Generator) -> tuple[Array, tuple[Array]]:
    x, w = _maxpool_point(rng)
    return x, (w,)


def _trust_correct(rng: np.random.Generator) -> list[Case]:
    pts = _trust_inputs(rng)
    out = [
        Case("lasso at exact zeros", lasso, _lasso_grad, pts["lasso"][0], pts["lasso"][1]),
        Case("total variation with ties", total_variation, _tv_grad, *pts["tv"]),
        Case("group lasso with zero groups", group_lasso, _group_lasso_grad, *pts["group"]),
        Case(
            "sparse logistic at exact zeros",
            sparse_logistic,
            _sparse_logistic_grad,
            *pts["logistic"],
        ),
        Case("ReLU network with dead units", relu_net, _relu_net_grad, *pts["relu"]),
        Case("mutating loss", centring_loss, _centring_grad, np.array([0.5, 2.0, -1.0, 3.0])),
        Case("max pooling with tied maxima", maxpool, _maxpool_grad, *_mp(rng)),
    ]
    for z in (15.0, 25.0):
        zs = np.array([z, 1.0, -2.0, -z])
        out.append(
            Case(
                f"naive BCE at z = {z:g}",
                naive_bce,
                _naive_bce_grad,
                zs,
                (np.array([0.0, 1.0, 0.0, 1.0]),),
                tags=("cancellation",),
            )
        )
    out.append(
        Case(
            "naive focal loss at z = 11",
            naive_focal,
            _naive_focal_grad,
            np.array([11.0, -3.0, 0.5]),
            (np.array([0.0, 1.0, 1.0]),),
            tags=("cancellation",),
        )
    )
    Z = rng.normal(scale=3, size=(4, 8))
    Yb = (rng.uniform(size=(4, 8)) > 0.5) * 1.0
    out += [
        Case(
            "float32 BCE from logits 4x8",
            f32_bce_logits,
            _bce_logits_grad,
            Z,
            (Yb,),
            tags=("float32",),
        ),
        Case(
            "float32 softmax CE 4x8",
            f32_ce_logits,
            _ce_general,
            Z,
            (_onehot(4, 8, rng),),
            tags=("float32",),
        ),
        Case(
            "float32 MSE 4x8",
            f32_mse,
            lambda a, y: (a - y) / a.shape[1],
            rng.uniform(0.05, 0.95, size=(4, 8)),
            (Yb,),
            tags=("float32",),
        ),
        Case(
            "float32 tanh MLP",
            f32_tanh_mlp,
            _f32_tanh_mlp_grad,
            rng.normal(size=(4, 5)),
            (rng.normal(size=(5, 8)), rng.uniform(-1, 1, size=(4, 8))),
            tags=("float32",),
        ),
    ]
    return out


def _trust_buggy(rng: np.random.Generator) -> list[Case]:
    pts = _trust_inputs(rng)
    w, (A, b, lam) = pts["lasso"]
    big, (c, lam_big) = pts["big"]
    nz = np.flatnonzero(big)
    Z = rng.normal(scale=3, size=(4, 8))
    Yb = (rng.uniform(size=(4, 8)) > 0.5) * 1.0
    return [
        Case(
            "lasso gradient without the L1 term",
            lasso,
            _lasso_grad_no_l1,
            w,
            (A, b, lam),
            False,
            diagnosis="",
        ),
        Case(
            "total variation term forgotten",
            total_variation,
            lambda x, y, lam: x - y,
            *pts["tv"],
            False,
            diagnosis="",
        ),
        Case(
            "group lasso norm term forgotten",
            group_lasso,
            lambda W, T, lam: W - T,
            *pts["group"],
            False,
            diagnosis="",
        ),
        Case(
            "sparse logistic without the L1 term",
            sparse_logistic,
            lambda w, X, y, lam: _sparse_logistic_grad(w, X, y, 0.0),
            *pts["logistic"],
            False,
            diagnosis="",
        ),
        Case(
            "ReLU network without the ReLU mask",
            relu_net,
            lambda W, X, t: (np.maximum(W @ X, 0.0) - t) @ X.T,
            *pts["relu"],
            False,
            diagnosis="",
        ),
        Case(
            "10,000-entry lasso, 80 % zeros, one entry 10 % wrong",
            sparse_lasso,
            _one_wrong(_sparse_lasso_grad, (int(nz[7]),), 1.1),
            big,
            (c, lam_big),
            False,
            index=(int(nz[7]),),
            diagnosis="1 localised wrong entry",
            tags=("large",),
        ),
        Case(
            "10,000-entry lasso without the L1 term",
            sparse_lasso,
            lambda w, c, lam: w - c,
            big,
            (c, lam_big),
            False,
            diagnosis="",
            tags=("large",),
        ),
        Case(
            "naive BCE at z = 25, 0.1 % off",
            naive_bce,
            lambda z, y: _naive_bce_grad(z, y) * 1.001,
            np.array([25.0, 1.0, -2.0]),
            (np.array([0.0, 1.0, 0.0]),),
            False,
            diagnosis="1.001",
        ),
        Case(
            "float32 BCE 4x8, 0.3 % off everywhere",
            f32_bce_logits,
            lambda z, y: _bce_logits_grad(z, y) * 1.003,
            Z,
            (Yb,),
            False,
            diagnosis="constant factor",
            tags=("float32",),
        ),
        Case(
            "float32 BCE 4x8, one entry 1 % off",
            f32_bce_logits,
            _one_wrong(_bce_logits_grad, (2, 5), 1.01),
            Z,
            (Yb,),
            False,
            index=(2, 5),
            diagnosis="(2, 5)",
            tags=("float32",),
        ),
        Case(
            "mutating loss, gradient of the unshifted input",
            centring_loss,
            lambda x: 2.0 * x**2,
            np.array([0.5, 2.0, -1.0, 3.0]),
            (),
            False,
            diagnosis="",
        ),
    ]


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
    return cases + _trust_correct(np.random.default_rng(808))


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
            diagnosis="",
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
            diagnosis="",
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
            diagnosis="",
        )
    )
    return cases + _trust_buggy(np.random.default_rng(808))
