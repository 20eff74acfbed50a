"""The fixed quantities of one check (:class:`Context`), the random probe weights, and the
typed reasons for leaving complex step (:class:`Fallback`).

Example::

    >>> str(Fallback(FallbackReason.CAST, ""))
    'fun drops the imaginary part (ComplexWarning: a cast to real)'
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from . import tuning
from .estimate import entry_scale
from .evaluate import Evaluator, Precision

__all__ = [
    "ClaimedRounding",
    "ComplexStepBroken",
    "Context",
    "Fallback",
    "FallbackReason",
    "make_context",
    "random_v",
    "spot_entries",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class FallbackReason(enum.StrEnum):
    """Why the check did not (or not only) use complex step."""

    RAISED = "fun raised on complex input"
    CAST = "fun drops the imaginary part (ComplexWarning: a cast to real)"
    DISAGREED = "complex step disagreed with central differences"
    UNCONFIRMED = "no real-arithmetic probe could confirm complex step"


@dataclass(frozen=True)
class Fallback:
    """A switch from complex step to central differences: the reason and its details."""

    reason: FallbackReason
    detail: str

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value


class ComplexStepBroken(Exception):
    """Complex step cannot be trusted for this loss; ``.fallback`` says why."""

    def __init__(self, fallback: Fallback) -> None:
        super().__init__(str(fallback))
        self.fallback = fallback


class ClaimedRounding:
    """The rounding noise of the claimed gradient, measured (once, when first needed).

    A claimed gradient computed with cancellation (``3a − 3`` for a probability ``a`` near 1)
    carries rounding far above ε of its own size. It is measured like the loss's: ``grad`` is
    evaluated at ``x ± δ s`` and ``x ± 2δ s`` (``δ`` relative 1e-8: most intermediates move by
    many ulps, the gradient itself by far less than its rounding); the symmetric means about
    ``x`` cancel the linear change, and their spread around ``grad(x)`` is the noise, per entry.
    An intermediate quantised coarser than that (a probability within 1e-9 of 1 does not move)
    is caught at ``δ`` = 1e-5, where the second-order change is cancelled by Richardson.
    """

    def __init__(
        self,
        grad: Callable[..., Any] | None,
        args: Sequence[Any],
        x: FloatArray,
        g: FloatArray,
        dtype: Any = np.float64,
    ) -> None:
        self._grad, self._args, self._x, self._g = grad, tuple(args), x, g
        self._dtype = np.dtype(dtype)  # grad sees x in the user's own dtype
        self._noise: FloatArray | None = None

    def noise(self, scale: FloatArray) -> FloatArray:
        if self._noise is None:
            self._noise = self._measure(scale)
        return self._noise

    def _measure(self, scale: FloatArray) -> FloatArray:
        out = np.zeros(self._g.size)
        if self._grad is None:
            return out
        for jitter, richardson in ((tuning.GRAD_JITTER, False), (tuning.GRAD_JITTER_WIDE, True)):
            means = []
            step = jitter * scale.reshape(self._x.shape)
            for k in (1.0, 2.0):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        up = np.asarray(self._at(self._x + k * step), dtype=float)
                        down = np.asarray(self._at(self._x - k * step), dtype=float)
                except Exception:  # no measurement: the floor stays as it was
                    return out
                if up.shape != self._x.shape or down.shape != self._x.shape:
                    return out
                means.append((up + down).ravel() / 2 - self._g)
            if richardson:  # the second-order change of the gradient cancels; rounding stays
                spreads = [np.abs(4.0 * means[0] - means[1]) / 3.0]
            else:
                spreads = [np.abs(mean) for mean in means]
            for spread in spreads:
                out = np.maximum(out, np.where(np.isfinite(spread), spread, 0.0))
        return out

    def _at(self, point: FloatArray) -> Any:
        assert self._grad is not None
        return self._grad(point.astype(self._dtype, copy=False), *self._args)


@dataclass(frozen=True)
class Context:
    """Everything a probe needs, fixed for the whole check.

    Attributes:
        ev: the counting evaluator of the loss.
        x: the point (float64).
        g: the claimed gradient, flattened (float64).
        scale: the per-entry step scale, flattened.
        prec: the precision of the loss.
        f0: the loss at ``x``.
        eps_g: machine epsilon of the claimed gradient's dtype.
        tau: a typical entry of the claimed gradient, for its absolute rounding floor.
        gscale: the root-mean-square of the claimed gradient (the scale of an entry).
        rtol, atol: the user's extra tolerances.
        damp: the size of ``|g_k s_k|`` above which random probe weights are damped.
        claimed_rounding: measures the claimed gradient's own rounding when a small
            discrepancy might be nothing else.
        negligible: an entry the loss cannot resolve on its own scale does not block a pass
            when its possible error is below this fraction of the largest entry (default 0).
    """

    ev: Evaluator
    x: FloatArray
    g: FloatArray
    scale: FloatArray
    prec: Precision
    f0: float
    eps_g: float
    tau: float
    gscale: float
    rtol: float
    atol: float
    damp: float = 0.0
    claimed_rounding: ClaimedRounding | None = None
    negligible: float = 0.0
    indexer: Callable[[int], Any] | None = None  # a structured x: entry k → (leaf, index)

    @property
    def size(self) -> int:
        return int(self.x.size)

    def direction(self, support: IntArray, v: FloatArray) -> FloatArray:
        """``d = s ⊙ v`` on ``support``. Takes ownership of ``v`` (a fresh array): over every
        entry it is scaled in place (memory: one array the size of x, not two)."""
        if support.size == self.size:  # every entry, in order: no scatter, no zeros
            v *= self.scale
            return v.reshape(self.x.shape)
        d = np.zeros(self.size)
        d[support] = self.scale[support] * v
        return d.reshape(self.x.shape)

    def on(self, d: FloatArray, support: IntArray) -> FloatArray:
        """``d`` on ``support`` (a view when the support is every entry)."""
        flat = d.ravel()
        return flat if support.size == self.size else flat[support]

    def index(self, k: int) -> Any:
        if self.indexer is not None:
            return self.indexer(k)
        return tuple(int(i) for i in np.unravel_index(k, self.x.shape))


def make_context(
    ev: Evaluator,
    x: FloatArray,
    g: FloatArray,
    prec: Precision,
    f0: float,
    eps_g: float,
    rtol: float,
    atol: float,
    grad: Callable[..., Any] | None = None,
    negligible: float = 0.0,
    indexer: Callable[[int], Any] | None = None,
) -> Context:
    """The fixed quantities of a check, derived once from ``x`` and the claimed gradient."""
    flat = g.ravel()
    # absolute rounding floor per entry of the claimed gradient: it is computed from rounded
    # inputs (a − y with a ≈ 1 loses ε absolutely), so an ε of a typical entry, or of an
    # O(1) quantity spread over the entries — not of the largest entry, which may be 10¹²
    # times the others (a probability near 0) and would hide everything else
    # (typical sizes: quantiles of at most QUANTILE_SAMPLE evenly spaced entries suffice)
    sample = _sample(flat)
    nonzero = np.abs(sample[sample != 0])
    tau = (float(np.median(nonzero)) if nonzero.size else 0.0) + 1.0 / flat.size
    gscale = float(np.sqrt(np.dot(flat, flat) / flat.size)) or tau
    scale = entry_scale(x).ravel()
    # random probe weights are damped only for outliers — a thousand times the 90th
    # percentile of |g_k s_k| — so every other entry keeps its full weight
    contrib = np.abs(sample * _sample(scale))
    nonzero = contrib[contrib > 0]
    damp = tuning.DAMP_ABOVE * float(np.quantile(nonzero, 0.9)) if nonzero.size else 0.0
    rounding = ClaimedRounding(grad, ev.args, x, flat, ev.dtype)
    return Context(
        ev,
        x,
        flat,
        scale,
        prec,
        f0,
        eps_g,
        tau,
        gscale,
        rtol,
        atol,
        damp,
        rounding,
        negligible,
        indexer,
    )


def _sample(a: FloatArray) -> FloatArray:
    """At most ``tuning.QUANTILE_SAMPLE`` evenly spaced entries of ``a`` (all of a small a)."""
    stride = max(1, a.size // tuning.QUANTILE_SAMPLE)
    out: FloatArray = a[::stride]
    return out


def random_v(ctx: Context, rng: np.random.Generator, support: IntArray) -> FloatArray:
    """Random signed weights for a probe over ``support``, each in ±[0.5, 1.5], divided by
    ``1 + |g_k s_k| / (1000 q₉₀ |g s|)``: an entry whose gradient is 10¹² times the others' (a
    probability near 0) cannot hide a wrong entry elsewhere behind its rounding, while every
    ordinary entry keeps its full weight."""
    size = support.size
    v: FloatArray = rng.uniform(-1.0, 1.0, size)
    v += np.copysign(0.5, v)  # ±[0.5, 1.5], the sign at random
    if ctx.damp > 0:
        damping = np.multiply(ctx.on(ctx.g, support), ctx.on(ctx.scale, support))
        np.abs(damping, out=damping)
        damping /= ctx.damp
        damping += 1.0
        v /= damping
    return v


def spot_entries(
    ctx: Context, rng: np.random.Generator, count: int, extra: Sequence[int], skip: set[int]
) -> list[int]:
    """Single entries to show: ``extra`` first, then ``count`` random ones, none of ``skip``."""
    drawn = rng.choice(ctx.size, size=min(count + len(skip), ctx.size), replace=False)
    picks = [k for k in dict.fromkeys([*extra, *map(int, drawn)]) if k not in skip]
    return picks[: len(extra) + count]
