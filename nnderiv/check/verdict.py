"""The decision: a pure function from a claimed value, a numeric estimate and floors to a
verdict. No evaluation of the loss happens here, and nothing is decided from text.

Example::

    >>> j = judge(claimed=1.0, value=1.1, error=1e-6, floor=0.0, ref=1.0)
    >>> j.verdict
    <Verdict.DISAGREE: 'disagree'>
    >>> judge(claimed=1.0, value=1.0 + 1e-9, error=1e-8, floor=0.0, ref=1.0).verdict
    <Verdict.AGREE: 'agree'>
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass

from . import tuning

__all__ = ["Judgement", "Verdict", "judge", "judge_kink"]


class Verdict(enum.StrEnum):
    """The verdict on one probe (one entry, a block, or a random direction)."""

    AGREE = "agree"
    DISAGREE = "disagree"
    INCONCLUSIVE = "inconclusive"
    SUBGRADIENT = "subgradient"  # at a kink, the claimed value lies between the one-sided slopes
    # one entry within the band, but the band is wider than PRECISE of the entry itself: the
    # loss cannot resolve it (an entry 1e-13 of the largest, through central differences)
    UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class Judgement:
    """A verdict with the numbers behind it.

    Attributes:
        claimed: the claimed directional derivative ``g · d``.
        value: the numeric estimate of ``∇f · d``.
        error: the numeric estimate's error estimate.
        floor: the rounding floor of the claimed value (plus ``rtol``/``atol``).
        ref: the scale the error estimate must be small against to decide.
        verdict: the decision.
        slopes: at a kink, the (lower, upper) one-sided slopes; else None.
    """

    claimed: float
    value: float
    error: float
    floor: float
    ref: float
    verdict: Verdict
    slopes: tuple[float, float] | None = None
    own: bool = False  # judged on its own scale (one entry), not the gradient's

    @property
    def precision(self) -> float:
        """The relative precision reached: the allowed band against the larger of the claimed
        and the numeric value (inf when both are 0 and the band is not)."""
        size = max(abs(self.claimed), abs(self.value))
        if size > 0:
            return self.allowed / size
        return 0.0 if self.allowed == 0 else math.inf

    @property
    def gap(self) -> float:
        return abs(self.claimed - self.value)

    @property
    def allowed(self) -> float:
        return tuning.K_ERROR * self.error + self.floor

    @property
    def excess(self) -> float:
        return self.gap / self.allowed if self.allowed > 0 else math.inf

    @property
    def relative_error(self) -> float:
        """The error estimate against the scale: how rough the measurement was."""
        return self.error / self.ref if self.ref > 0 else math.inf


def judge(
    claimed: float,
    value: float,
    error: float,
    floor: float,
    ref: float,
    *,
    zero: float = 0.0,
    own: bool = False,
) -> Judgement:
    """Decide one probe of a smooth function.

    * ``disagree``: ``|claimed − value| > K·error + floor`` and the error is below
      ``RELIABLE`` of the scale — a discrepancy the estimate excludes;
    * ``agree``: within that band, and ``K·error ≤ PRECISE · ref`` (or below the rounding
      floor of the claimed value) — so an error of 0.3 % is never passed; or, for a derivative
      that is zero at the loss's resolution, ``K·error`` below ``zero`` (a tenth of the
      change of √ε·|f| over a full-scale step);
    * ``unresolved`` (one entry): within the band, precise on the gradient's scale but not
      on the entry's own;
    * otherwise ``inconclusive``: the estimate is too rough to tell.

    ``own=True`` (one entry): agreement needs the precision on the entry's *own* scale,
    ``max(|claimed|, |value|)``, not the gradient's: an entry 1e-13 of the largest is either
    resolved to ``PRECISE`` of itself (or to the claimed value's rounding floor) or not agreed
    with (a claimed 0 agrees with a numeric value that is zero at the loss's resolution,
    ``zero``); ``ref`` still bounds how rough an estimate may be to exclude a claim.
    """
    gap = abs(claimed - value)
    verdict: Verdict
    if gap <= tuning.K_ERROR * error + floor:
        # agreement needs a precise estimate: relative to the scale, or — for an entry that is
        # ~0 on the scale of the claimed gradient's own rounding — as small as that floor. A
        # rough estimate that happens to equal the claim (0 = 0 on a coarse loss) is no proof.
        if own:
            # one entry: resolved relative to itself; or, for a claimed 0 (up to its rounding),
            # a numeric value that is zero at the loss's resolution
            scale = max(abs(claimed), abs(value))
            zero = zero if abs(claimed) <= floor else 0.0
        else:
            scale = ref
        precise = tuning.K_ERROR * error <= max(tuning.PRECISE * scale, floor, zero)
        coarse = tuning.K_ERROR * error <= tuning.PRECISE * ref  # precise on the gradient's scale
        if precise or (
            own and coarse and tuning.K_ERROR * error + floor <= tuning.ENTRY_RESOLUTION * scale
        ):
            # (or, on its own scale, resolved to ENTRY_RESOLUTION: an error of 1 % would show)
            verdict = Verdict.AGREE
        elif own and coarse:
            verdict = Verdict.UNRESOLVED  # precise on the gradient's scale, not on its own
        else:
            verdict = Verdict.INCONCLUSIVE
    elif error <= tuning.RELIABLE * ref:
        verdict = Verdict.DISAGREE
    else:
        verdict = Verdict.INCONCLUSIVE
    return Judgement(claimed, value, error, floor, ref, verdict, own=own)


def judge_kink(j: Judgement, sides: tuple[tuple[float, float], tuple[float, float]]) -> Judgement:
    """Re-decide a probe whose one-sided slopes ``(left, right)`` (value, error) disagree.

    A claimed value between the slopes (within their errors) is a valid subgradient along this
    direction; outside them it is wrong. Slopes too rough to tell leave the verdict as it is.
    """
    (left, left_err), (right, right_err) = sides
    if abs(right - left) <= tuning.K_ERROR * (right_err + left_err) + j.floor:
        return j  # smooth here: the central verdict stands
    if max(left_err, right_err) > tuning.RELIABLE * j.ref:
        return j  # the one-sided slopes are too rough to call it a kink
    lo, hi = sorted((left, right))
    slack = tuning.K_ERROR * max(right_err, left_err) + j.floor
    inside = lo - slack <= j.claimed <= hi + slack
    verdict = Verdict.SUBGRADIENT if inside else Verdict.DISAGREE
    return dataclasses.replace(j, verdict=verdict, slopes=(lo, hi))
