"""The built-in losses: the three of SPEC.md and ten more, each written once as element-wise
rules with :mod:`nnderiv.ops` (sum over units, mean over the ``m`` examples).

Each has its per-entry term ``ℓ``, closed forms of ``∂J/∂A`` and ``∂J/∂Z`` as element-wise
rules ``(a, y, m, ysum, **params)``, and a stable form from logits where one exists. The
symbolic witness derives every gradient from ``ℓ`` alone and proves it equal to these rules.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .. import ops
from ._arrays import Array
from .activations import ACTIVATIONS
from .losses import LOSSES, Loss, define_loss

__all__ = [
    "bce_grad_A_rule",
    "bce_rule",
    "binary",
    "ce_grad_A_rule",
    "ce_rule",
    "multiclass",
    "multilabel",
    "sigmoid_grad_Z_rule",
    "softmax_grad_Z_general_rule",
    "softmax_grad_Z_rule",
]


# -- SPEC.md's three -------------------------------------------------------------------------


def bce_rule(a: Any, y: Any) -> Any:
    """Per-entry term of (1) and (7): ``−[y log a + (1 − y) log(1 − a)]``."""
    return -(y * ops.log(a) + (1 - y) * ops.log1p(-a))


def ce_rule(a: Any, y: Any) -> Any:
    """Per-entry term of (4): ``−y log a``."""
    return -(y * ops.log(a))


def bce_grad_A_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Equations (2) and (8): ``(1/m) [(1 − y)/(1 − a) − y/a]``."""
    return ((1 - y) / (1 - a) - y / a) / m


def sigmoid_grad_Z_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Equations (3) and (9): ``(1/m)(a − y)``."""
    return (a - y) / m


def ce_grad_A_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Equation (5): ``−(1/m) y/a``."""
    return -(y / a) / m


def softmax_grad_Z_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Equation (6): ``(1/m)(a − y)``, valid only when every label column sums to 1."""
    return (a - y) / m


def softmax_grad_Z_general_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Softmax backward of (5) for any labels: ``(1/m)(a Σ_p y_p − y)``."""
    return (a * ysum - y) / m


def _bce_stable(z: Array, y: Array) -> Array:
    """``y softplus(−z) + (1 − y) softplus(z)``."""
    out: Array = y * ops.softplus(-z) + (1 - y) * ops.softplus(z)
    return out


def log_softmax_complement(Z: Array) -> Array:
    """``logsumexp(z) − z`` per column, i.e. ``−log softmax(z)``, accurate even when one entry
    dominates (then the column's log-sum is ``log1p`` of the small remaining terms)."""
    mx = Z.max(axis=0, keepdims=True)
    shifted = Z - mx
    e = np.exp(shifted)
    top = np.argmax(Z, axis=0)
    e[top, np.arange(Z.shape[1])] = 0  # the max entry contributes exactly exp(0) = 1
    out: Array = np.log1p(e.sum(axis=0, keepdims=True)) - shifted
    return out


def _ce_stable(z: Array, y: Array) -> Array:
    out: Array = y * log_softmax_complement(z)
    return out


def _builtin(loss: Loss) -> Loss:
    made = dataclasses.replace(loss, builtin=True)
    LOSSES[made.name] = made
    return made


binary = _builtin(
    define_loss(
        "binary",
        bce_rule,
        "sigmoid",
        labels="binary",
        title="binary cross-entropy (sigmoid output)",
        grad_A=bce_grad_A_rule,
        grad_Z=sigmoid_grad_Z_rule,
        stable=_bce_stable,
        single_row=True,
        equations=(1, 2, 3),
        shortcut="(A − Y)/m",
    )
)
multiclass = _builtin(
    define_loss(
        "multiclass",
        ce_rule,
        "softmax",
        labels="onehot",
        title="categorical cross-entropy (softmax output)",
        grad_A=ce_grad_A_rule,
        grad_Z=softmax_grad_Z_rule,
        grad_Z_general=softmax_grad_Z_general_rule,
        stable=_ce_stable,
        requires_simplex=True,
        equations=(4, 5, 6),
        shortcut="(A − Y)/m",
        general="(A ⊙ 1 1ᵀY − Y)/m",
    )
)
multilabel = _builtin(
    define_loss(
        "multilabel",
        bce_rule,
        "sigmoid",
        labels="binary",
        title="multi-label binary cross-entropy (sigmoid outputs)",
        grad_A=bce_grad_A_rule,
        grad_Z=sigmoid_grad_Z_rule,
        stable=_bce_stable,
        equations=(7, 8, 9),
        shortcut="(A − Y)/m",
    )
)


# -- ten more ---------------------------------------------------------------------------------


def mse_rule(a: Any, y: Any) -> Any:
    return (a - y) ** 2 / 2


def mse_grad_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    return (a - y) / m


def mae_rule(a: Any, y: Any) -> Any:
    return ops.abs(a - y)


def mae_grad_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    return ops.sign(a - y) / m


def huber_rule(a: Any, y: Any, delta: Any) -> Any:
    r = a - y
    return ops.where(ops.abs(r) <= delta, r**2 / 2, delta * (ops.abs(r) - delta / 2))


def huber_grad_rule(a: Any, y: Any, m: Any, ysum: Any, delta: Any) -> Any:
    return ops.minimum(ops.maximum(a - y, -delta), delta) / m


def weighted_rule(a: Any, y: Any, pos_weight: Any) -> Any:
    return -(pos_weight * y * ops.log(a) + (1 - y) * ops.log1p(-a))


def weighted_grad_A_rule(a: Any, y: Any, m: Any, ysum: Any, pos_weight: Any) -> Any:
    return ((1 - y) / (1 - a) - pos_weight * y / a) / m


def weighted_grad_Z_rule(a: Any, y: Any, m: Any, ysum: Any, pos_weight: Any) -> Any:
    return ((1 + (pos_weight - 1) * y) * a - pos_weight * y) / m


def _weighted_stable(z: Array, y: Array, pos_weight: float) -> Array:
    out: Array = pos_weight * y * ops.softplus(-z) + (1 - y) * ops.softplus(z)
    return out


def focal_rule(a: Any, y: Any, gamma: Any) -> Any:
    return -(y * (1 - a) ** gamma * ops.log(a) + (1 - y) * a**gamma * ops.log1p(-a))


def focal_grad_A_rule(a: Any, y: Any, m: Any, ysum: Any, gamma: Any) -> Any:
    pos = (1 - a) ** gamma / a - gamma * (1 - a) ** (gamma - 1) * ops.log(a)
    neg = gamma * a ** (gamma - 1) * ops.log1p(-a) - a**gamma / (1 - a)
    return -(y * pos + (1 - y) * neg) / m


def focal_grad_Z_rule(a: Any, y: Any, m: Any, ysum: Any, gamma: Any) -> Any:
    # a log a and (1 − a) log(1 − a) as xlogy: 0 at a saturated output, not 0 · (−inf)
    pos = (1 - a) ** gamma * ((1 - a) - gamma * ops.xlogy(a, a))
    neg = a**gamma * (gamma * ops.xlogy(1 - a, 1 - a) - a)
    return -(y * pos + (1 - y) * neg) / m


def _focal_stable(z: Array, y: Array, gamma: float) -> Array:
    a = ops.sigmoid(z)
    out: Array = y * (1 - a) ** gamma * ops.softplus(-z) + (1 - y) * a**gamma * ops.softplus(z)
    return out


def smoothed(y: Any, eps: Any, n: Any) -> Any:
    """The smoothed target ``ỹ = (1 − ε) y + ε/n``."""
    return (1 - eps) * y + eps / n


def smoothing_rule(a: Any, y: Any, eps: Any, n: Any) -> Any:
    return -(smoothed(y, eps, n) * ops.log(a))


def smoothing_grad_A_rule(a: Any, y: Any, m: Any, ysum: Any, eps: Any, n: Any) -> Any:
    return -(smoothed(y, eps, n) / a) / m


def smoothing_grad_Z_rule(a: Any, y: Any, m: Any, ysum: Any, eps: Any, n: Any) -> Any:
    return (a - smoothed(y, eps, n)) / m


def smoothing_grad_Z_general_rule(a: Any, y: Any, m: Any, ysum: Any, eps: Any, n: Any) -> Any:
    return (a * ((1 - eps) * ysum + eps) - smoothed(y, eps, n)) / m


def _smoothing_stable(z: Array, y: Array, eps: float, n: int) -> Array:
    out: Array = smoothed(y, eps, n) * log_softmax_complement(z)
    return out


def _sign_target(y: Any) -> Any:
    """``t = 2y − 1``: labels 0/1 as targets −1/+1."""
    return 2 * y - 1


def hinge_rule(a: Any, y: Any) -> Any:
    return ops.maximum(0, 1 - _sign_target(y) * a)


def hinge_grad_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    t = _sign_target(y)
    return ops.where(t * a < 1, -t, 0) / m


def squared_hinge_rule(a: Any, y: Any) -> Any:
    return ops.maximum(0, 1 - _sign_target(y) * a) ** 2


def squared_hinge_grad_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    t = _sign_target(y)
    return -2 * t * ops.maximum(0, 1 - t * a) / m


def kl_rule(a: Any, y: Any) -> Any:
    return ops.xlogy(y, y) - y * ops.log(a)


def _kl_stable(z: Array, y: Array) -> Array:
    out: Array = ops.xlogy(y, y) + y * log_softmax_complement(z)
    return out


def poisson_rule(a: Any, y: Any) -> Any:
    return a - y * ops.log(a)


def poisson_grad_A_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    return (1 - y / a) / m


def _poisson_stable(z: Array, y: Array) -> Array:
    out: Array = np.exp(z) - y * z
    return out


_MORE = [
    define_loss(
        "mse",
        mse_rule,
        "identity",
        labels="real",
        title="mean squared error ½(a − y)²",
        grad_A=mse_grad_rule,
        grad_Z=mse_grad_rule,
    ),
    define_loss(
        "mae",
        mae_rule,
        "identity",
        labels="real",
        title="mean absolute error |a − y|",
        grad_A=mae_grad_rule,
        grad_Z=mae_grad_rule,
        kinks="a = y (the subgradient 0 is taken there)",
    ),
    define_loss(
        "huber",
        huber_rule,
        "identity",
        params={"delta": 1.0},
        labels="real",
        title="Huber loss: ½r² for |r| ≤ δ, else δ(|r| − ½δ), r = a − y",
        grad_A=huber_grad_rule,
        grad_Z=huber_grad_rule,
        kinks="none in ∂ℓ/∂a (pieces meet at |r| = δ with equal slopes)",
    ),
    define_loss(
        "weighted_binary",
        weighted_rule,
        "sigmoid",
        params={"pos_weight": 1.0},
        labels="binary",
        title="binary cross-entropy with positive weight w (sigmoid outputs)",
        grad_A=weighted_grad_A_rule,
        grad_Z=weighted_grad_Z_rule,
        stable=_weighted_stable,
        shortcut="((1 + (w − 1) Y) ⊙ A − w Y)/m, (A − Y)/m when w = 1",
    ),
    define_loss(
        "focal",
        focal_rule,
        "sigmoid",
        params={"gamma": 2.0},
        labels="binary",
        title="focal loss (sigmoid outputs)",
        grad_A=focal_grad_A_rule,
        grad_Z=focal_grad_Z_rule,
        stable=_focal_stable,
    ),
    define_loss(
        "label_smoothing",
        smoothing_rule,
        "softmax",
        params={"eps": 0.1},
        labels="onehot",
        title="cross-entropy with label smoothing ỹ = (1 − ε) y + ε/n (softmax output)",
        grad_A=smoothing_grad_A_rule,
        grad_Z=smoothing_grad_Z_rule,
        grad_Z_general=smoothing_grad_Z_general_rule,
        stable=_smoothing_stable,
        requires_simplex=True,
        shortcut="(A − Ỹ)/m",
        general="(A ⊙ ((1 − ε) 1 1ᵀY + ε) − Ỹ)/m",
    ),
    define_loss(
        "hinge",
        hinge_rule,
        "identity",
        labels="binary",
        title="hinge loss max(0, 1 − t z), t = 2y − 1",
        grad_A=hinge_grad_rule,
        grad_Z=hinge_grad_rule,
        kinks="t z = 1 (the subgradient 0 is taken there)",
    ),
    define_loss(
        "squared_hinge",
        squared_hinge_rule,
        "identity",
        labels="binary",
        title="squared hinge loss max(0, 1 − t z)², t = 2y − 1",
        grad_A=squared_hinge_grad_rule,
        grad_Z=squared_hinge_grad_rule,
    ),
    define_loss(
        "kl_div",
        kl_rule,
        "softmax",
        labels="simplex",
        title="Kullback–Leibler divergence KL(y ‖ a), 0 log 0 = 0 (softmax output)",
        grad_A=ce_grad_A_rule,
        grad_Z=softmax_grad_Z_rule,
        grad_Z_general=softmax_grad_Z_general_rule,
        stable=_kl_stable,
        requires_simplex=True,
        shortcut="(A − Y)/m",
        general="(A ⊙ 1 1ᵀY − Y)/m",
    ),
    define_loss(
        "poisson_nll",
        poisson_rule,
        "exp",
        labels="count",
        title="Poisson negative log-likelihood a − y log a, a = exp(z)",
        grad_A=poisson_grad_A_rule,
        grad_Z=mse_grad_rule,
        stable=_poisson_stable,
        shortcut="(A − Y)/m",
    ),
]
for _loss in _MORE:
    _builtin(_loss)

assert all(name in ACTIVATIONS for name in {loss.activation.name for loss in LOSSES.values()})
