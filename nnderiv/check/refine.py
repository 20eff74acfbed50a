"""Refining a finite-difference estimate: the step moves (shrinks under truncation, grows
under rounding) until neighbouring Richardson estimates agree, and the noise of ``f`` measured
elsewhere is counted. Used by the central and one-sided engines of
:mod:`nnderiv.check.engines`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..errors import ProbeError
from . import tuning
from .estimate import Estimate, Flag

__all__ = ["feature_like", "refine", "truncation_not_noise", "with_noise"]


def feature_like(est: Estimate, f0: float) -> bool:
    """A noisy-looking stencil that looks like a feature of ``f`` rather than its rounding:
    differences that do not shrink with the step (a jump), one-sided slopes far apart (a
    ``log |·|`` valley straddled by the step), or a "noise" of a thousandth of ``|f|`` and more
    (an oscillation far below the step: rounding, even with cancellation, stays far smaller)."""
    if est.has(Flag.SUBSTEP) or est.noise >= tuning.FEATURE_NOISE * abs(f0):
        return True
    if est.sides is None:
        return False
    (left, el), (right, er) = est.sides
    return abs(right - left) > 0.5 * (el + er)


def refine(
    run: Callable[[float], Estimate],
    first: Estimate,
    *,
    can_grow: bool,
    target: float = tuning.REFINE_TARGET,
) -> Estimate:
    """Run a Richardson estimate and refine its step while that lowers the error estimate.

    Truncation dominating: the step shrinks (sharp curvature, a nearby domain edge). Rounding
    dominating: it grows (noisy or float32 losses), up to ``MAX_REL_STEP``. Two estimates at
    neighbouring steps must agree within their error estimates. When a smaller step disagrees
    with a larger one, the larger was outside the Taylor region: shrinking goes on from the
    smaller, until two neighbours agree — down to the function's own scale (``tanh(1e12 x)``
    near 0, an eigenvalue gap of 1e-6), for up to ``SHRINK_ROUNDS`` rounds. Any other
    disagreement means one estimate missed something: the error is widened to cover both,
    never narrowed."""
    best = current = first  # current: where the step is (past a hump it differs from best)
    direction = 0  # −1 shrinking, +1 growing: never both within one estimate
    unconfirmed = False  # best disagreed with the larger step before it
    humps = 0
    for rounds in range(tuning.SHRINK_ROUNDS):
        rounding = best.error - best.truncation
        if not unconfirmed and (best.error <= target * abs(best.value) or best.error < 1e-300):
            break
        if rounds >= tuning.REFINE_ROUNDS and not unconfirmed:
            break  # past the usual rounds, only an estimate that has not converged shrinks on
        if (best.truncation >= rounding or unconfirmed) and direction <= 0:
            trial_step, direction = current.step / tuning.REFINE_FACTOR, -1
        elif can_grow and direction >= 0 and best.step * tuning.GROW_FACTOR <= tuning.MAX_REL_STEP:
            trial_step, direction = best.step * tuning.GROW_FACTOR, 1
        else:
            break
        try:
            trial = with_noise(run(trial_step), best.noise)
        except ProbeError:
            break  # f non-finite at the new step: keep what we have
        if trial.has(Flag.FLAT) and not best.has(Flag.FLAT):
            break  # f changed at the larger step but not at this one: a coarse (quantised) loss
        gap = abs(trial.value - best.value)
        if gap > trial.error + best.error:
            if direction < 0:
                best = current = dataclasses.replace(trial, error=trial.error)
                unconfirmed = True
                continue
            return dataclasses.replace(best, error=max(best.error, trial.error) + gap)
        if unconfirmed:
            best, unconfirmed = min((trial, best), key=lambda e: e.error), False
            current = trial
            continue
        if trial.error < best.error:
            best = current = trial
        elif (
            direction < 0
            and trial.truncation >= trial.error / 2
            and humps < tuning.HUMPS
            and tuning.K_ERROR * best.error > tuning.RELIABLE * abs(best.value)
        ):
            # still truncation at the smaller step, and worse, from an estimate too rough to
            # decide anything: a feature between the two scales (a log |det| valley the larger
            # step straddled); look past it
            current, humps = trial, humps + 1
        else:
            break
    if unconfirmed:  # the smallest step never met a neighbour it agreed with
        return dataclasses.replace(best, error=best.error + best.truncation + abs(best.value))
    return best


def with_noise(est: Estimate, noise: float) -> Estimate:
    """``est`` with the noise of ``f`` measured at another step counted too: the noise is a
    property of ``f`` near ``x``, and samples at one step can miss it by chance (a quadratic
    on a coarse grid)."""
    if noise <= est.noise:
        return est
    extra = tuning.ROUNDING_GAIN * (noise - est.noise) / est.step
    return dataclasses.replace(est, error=est.error + extra, noise=noise)


def truncation_not_noise(est: Estimate, noise: float) -> Estimate:
    """``est`` with its stencil noise found to be truncation: the total error is kept (never
    narrowed), but counted as truncation, so that refinement shrinks the step."""
    rounding = tuning.ROUNDING_GAIN * noise / est.step
    truncation = max(est.truncation, est.error - rounding)
    return dataclasses.replace(
        est, noise=noise, truncation=truncation, flags=est.flags - {Flag.NOISY}
    )
