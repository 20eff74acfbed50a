"""High-precision (mpmath) versions of the losses, for validating torch's gradients at hard points.

Each reference loss takes ``X``, a numpy object array of ``mpf`` shaped like the case's ``x``,
and returns an ``mpf``. Constants are the same float64 numbers the torch expression uses
(``mpf(float)`` is exact). ``reference_gradient`` differentiates by a central difference at a
tiny step in 120-digit arithmetic, checked against a second step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath as mpm
import numpy as np

DPS = 120


def ew(fn: Callable[[Any], Any]) -> Callable[[np.ndarray], np.ndarray]:
    f = np.frompyfunc(fn, 1, 1)
    return lambda a: f(a)


exp = ew(mpm.exp)
log = ew(mpm.log)
log1p = ew(mpm.log1p)
expm1 = ew(mpm.expm1)
sqrt = ew(mpm.sqrt)
tanh = ew(mpm.tanh)
erf = ew(mpm.erf)
atan = ew(mpm.atan)
sin = ew(mpm.sin)
cos = ew(mpm.cos)
absv = ew(lambda v: abs(v))
sigmoid = ew(lambda v: 1 / (1 + mpm.exp(-v)))
softplus = ew(lambda v: mpm.log1p(mpm.exp(v)))
logsigmoid = ew(lambda v: -mpm.log1p(mpm.exp(-v)))
relu = ew(lambda v: v if v > 0 else mpm.mpf(0))


def powv(p: float) -> Callable[[np.ndarray], np.ndarray]:
    pm = mpm.mpf(p)
    return ew(lambda v: v**pm)


def fsum(a: Any) -> Any:
    return mpm.fsum(np.asarray(a, dtype=object).ravel())


def c(a: Any) -> np.ndarray:
    """float64 constants as an object array of exact mpf."""
    arr = np.asarray(a, dtype=np.float64)
    out = np.empty(arr.shape, dtype=object)
    for i, v in np.ndenumerate(arr):
        out[i] = mpm.mpf(float(v))
    return out


def logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    a = np.asarray(a, dtype=object)
    a = np.moveaxis(a, axis, -1)
    out = np.empty(a.shape[:-1], dtype=object)
    for i in np.ndindex(a.shape[:-1]):
        row = a[i]
        m = max(row)
        out[i] = m + mpm.log(mpm.fsum(mpm.exp(v - m) for v in row))
    return out


def log_softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    lse = np.expand_dims(logsumexp(a, axis), axis)
    return a - lse


def mat(X: np.ndarray) -> Any:
    return mpm.matrix(np.asarray(X, dtype=object).tolist())


def sym(X: np.ndarray) -> Any:
    A = mat(X)
    return (A + A.T) / 2


def eigvalsh(A: Any) -> list[Any]:
    return sorted(mpm.eigsy(A, eigvals_only=True))


def svdvals(A: Any) -> list[Any]:
    return sorted(mpm.svd_r(A, compute_uv=False), reverse=True)


def msum(A: Any, W: np.ndarray) -> Any:
    """sum(W * A) for an mp.matrix A and float64 W."""
    Wm = c(W)
    return mpm.fsum(A[i, j] * Wm[i, j] for i in range(A.rows) for j in range(A.cols))


def reference_gradient(fun: Callable[[np.ndarray], Any], x: np.ndarray) -> tuple[np.ndarray, float]:
    """Central differences of ``fun`` at exact ``x`` in DPS-digit arithmetic.

    Returns the gradient (float64) and the largest relative disagreement between steps h and
    h/8 (an estimate of the reference's own error)."""
    with mpm.workdps(DPS):
        X = c(x)
        g = np.zeros(x.shape)
        worst = 0.0
        for k in np.ndindex(x.shape):
            scale = max(abs(float(x[k])), 1e-3)
            ests = []
            for h in (mpm.mpf(10) ** -45 * scale, mpm.mpf(10) ** -45 * scale / 8):
                Xp, Xm = X.copy(), X.copy()
                Xp[k] = X[k] + h
                Xm[k] = X[k] - h
                ests.append((fun(Xp) - fun(Xm)) / (2 * h))
            g[k] = float(ests[1])
            d = abs(ests[0] - ests[1])
            den = abs(ests[1])
            if d > 0:
                worst = max(worst, float(d / den) if den > 0 else float("inf"))
        return g, worst
