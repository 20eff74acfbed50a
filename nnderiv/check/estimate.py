"""The typed result of every engine: what was estimated, how well, and what was seen.

Example::

    >>> est = Estimate(1.0, 1e-9, 1e-3, Engine.CENTRAL, 6, flags=frozenset({Flag.KINK}))
    >>> est.has(Flag.KINK), est.engine == "central"
    (True, True)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Engine", "Estimate", "Flag", "Sides", "entry_scale"]

FloatArray = npt.NDArray[np.float64]
Sides = tuple[tuple[float, float], tuple[float, float]]


class Engine(enum.StrEnum):
    """How a derivative was estimated."""

    COMPLEX = "complex-step"
    CENTRAL = "central"
    FORWARD = "forward"
    BACKWARD = "backward"


class Flag(enum.Enum):
    """What an engine saw while estimating; verdicts and detectors read these, never text."""

    FLAT = "f did not change at any step"
    COARSE = "measured with the smallest gap between samples as the noise"
    GRID = "f's values lie on a binary grid far above its precision (a coarse loss)"
    SHRUNK = "f was non-finite at a larger step: the step shrank away from a domain edge"
    ONE_SIDED = "f was non-finite on one side at every step: one-sided differences"
    KINK = "the one-sided slopes disagree: a kink"
    NOISY = "the loss's rounding noise is far above ε·|f| (cancellation)"
    SUBSTEP = "f changes by the same amount at every step: a feature below the step's scale"


@dataclass(frozen=True)
class Estimate:
    """A directional derivative with its error estimate.

    Attributes:
        value: the estimate of ``∇f(x) · d``.
        error: an estimate of ``|value − true value|`` (truncation plus rounding).
        step: the (largest) step used, in units of ``d``.
        engine: which engine produced it.
        evaluations: calls of ``f`` spent on it.
        noise: the measured absolute noise (rounding) of ``f`` near ``x``.
        flags: what was seen (kink, domain edge, flat, coarse, noisy loss).
        sides: the (left, right) one-sided slopes with their errors, from the same samples.
        truncation: the part of ``error`` from truncation (the rest is rounding).
    """

    value: float
    error: float
    step: float
    engine: Engine
    evaluations: int
    noise: float = 0.0
    flags: frozenset[Flag] = frozenset()
    sides: Sides | None = None
    truncation: float = 0.0

    def has(self, flag: Flag) -> bool:
        return flag in self.flags


def entry_scale(x: FloatArray) -> FloatArray:
    """Per-entry step scale: ``|x_k|``, but at least ``max(0.05 · rms(x), 1e-3)``.

    Steps proportional to ``|x_k|`` resolve functions like ``log x`` near 0; the floor lets
    entries at or near 0 move (a step that leaves the domain shrinks anyway)."""
    ax = np.abs(x)
    rms = float(np.sqrt(np.mean(ax**2))) if ax.size else 1.0
    out: FloatArray = np.maximum(ax, max(0.05 * rms, 1e-3))
    return out
