"""Finite-difference engines: central and one-sided differences with Richardson
extrapolation, and (re-exported from :mod:`~nnderiv.check.complex_step`) complex step. Each
returns a typed :class:`~nnderiv.check.estimate.Estimate`: value, error estimate and flags.

All engines differentiate ``f`` along a direction ``d`` shaped like ``x``: the value estimated
is ``∇f(x) · d``. A one-hot ``d`` gives one entry, a mask a block, random signs a probe. ``d``
is already scaled per entry (see :func:`entry_scale`), so steps are relative to the entries.

Example::

    >>> import numpy as np
    >>> from nnderiv.check.evaluate import Evaluator, Precision
    >>> x = np.array([1e-9, 0.5])
    >>> ev = Evaluator(lambda v: float(np.sum(np.log(v))), ())
    >>> est = central(ev, x, np.array([1e-9, 0.0]), f0=ev(x), prec=Precision(2**-52, 0.0, "f8"))
    >>> bool(abs(est.value - 1.0) < 1e-8)
    True
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import ProbeError
from . import tuning
from .complex_step import complex_jitter, complex_step
from .estimate import Engine, Estimate, Flag, Sides, entry_scale
from .evaluate import Evaluator, Precision
from .noise import (
    binary_grid,
    fourth_difference_noise,
    noise_and_span,
    one_sided_noise,
    quantum,
    smallest_gap,
)
from .refine import feature_like, refine, truncation_not_noise, with_noise

__all__ = [
    "Engine",
    "Estimate",
    "Flag",
    "central",
    "complex_jitter",
    "complex_step",
    "entry_scale",
    "one_sided",
]

FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# real differences
# --------------------------------------------------------------------------------------------


def _shifted(x: FloatArray, d: FloatArray, t: float) -> FloatArray:
    """``x + t d`` in one fresh array (one allocation)."""
    out: FloatArray = np.multiply(d, t)
    out += x
    return out


def _input_rounding(prec: Precision, x: FloatArray, d: FloatArray, t: float) -> float:
    """Relative uncertainty of a step ``t d`` when fun rounds x to ``prec.x_eps``."""
    if prec.x_eps == 0.0:
        return 0.0
    nz = d != 0
    return float(np.max(prec.x_eps * np.abs(x[nz]) / np.abs(t * d[nz])))


@dataclass(frozen=True)
class _Support:
    """The entries a direction moves, and ``ratio = max |x_k| / |d_k|`` over them: a step
    ``t d`` is then rounded by at most a relative ``ε (ratio / t + 1)`` in every entry."""

    nz: npt.NDArray[np.intp]
    ratio: float


def _support(x: FloatArray, d: FloatArray) -> _Support:
    nz = np.flatnonzero(d)
    if nz.size == 0:
        return _Support(nz, math.inf)
    if nz.size == d.size:
        ratio = float(np.max(np.abs(x) / np.abs(d)))
    else:
        ratio = float(np.max(np.abs(x.ravel()[nz]) / np.abs(d.ravel()[nz])))
    return _Support(nz, ratio)


def _step_taken(
    x: FloatArray, xs: FloatArray, d: FloatArray, t: float, sup: _Support
) -> tuple[float, float]:
    """The step really taken from ``x`` to ``xs`` (rounding of ``x + t d``) on the support
    ``nz`` of ``d``, and its relative error when several entries moved."""
    nz = sup.nz
    if nz.size > 1:
        # the rounding of x + t d moves an entry by at most ε|x + t d|: when that bound is
        # negligible for every entry, it stands in for the exact (O(N)) measurement
        bound = tuning.EPS64 * (sup.ratio / t + 1.0)
        if bound < 1e-10:
            return t, bound
    disp = (xs.ravel()[nz] - x.ravel()[nz]) if nz.size < x.size else (xs - x).ravel()
    want = t * d.ravel()[nz]
    if nz.size == 1:
        return float(disp[0] / d.ravel()[nz[0]]), 0.0
    return t, float(np.max(np.abs(disp - want) / np.abs(want))) if nz.size else 0.0


@dataclass(frozen=True)
class _Step:
    size: float
    sides: tuple[int, ...]
    shrunk: bool
    samples: dict[int, float]  # f at x + s·size·d when already evaluated there (s = ±1)
    free: tuple[int, ...] = ()  # sides on which f was finite at the first (unshrunk) step


def _find_step(
    ev: Evaluator, x: FloatArray, d: FloatArray, h: float, sides: tuple[int, ...], what: str
) -> _Step:
    """Shrink ``h`` until ``f`` is finite at ``x ± h d`` for the wanted sides; a side that never
    becomes finite is dropped (one-sided differences away from the edge)."""
    first_finite: dict[int, float] = {}
    step = h
    for k in range(tuning.MAX_SHRINKS + 1):
        if all(np.array_equal(_shifted(x, d, s * step), x) for s in sides):
            break  # the step no longer moves x: shrinking further cannot help
        seen = {s: ev(_shifted(x, d, s * step), fresh=True) for s in sides}
        ok = [s for s in sides if math.isfinite(seen[s])]
        for s in ok:
            first_finite.setdefault(s, step)
        if len(ok) == len(sides):
            if k == 0:
                return _Step(step, sides, False, seen)
            free = tuple(s for s, t in first_finite.items() if t == h)
            return _Step(step / tuning.BACK_OFF, sides, True, {}, free)
        step /= tuning.SHRINK
    if first_finite:
        side, largest = next(iter(first_finite.items()))
        use = largest if largest == h else largest / tuning.BACK_OFF
        return _Step(use, (side,), True, {})
    exc = ev.last_exception
    detail = f": {type(exc).__name__}: {exc}" if exc is not None else " (non-finite value)"
    raise ProbeError(
        f"fun failed at every step from {h:.3g} down to {step:.3g} along {what}{detail}"
    ) from exc


def central(
    ev: Evaluator,
    x: FloatArray,
    d: FloatArray,
    *,
    f0: float,
    prec: Precision,
    h: float | None = None,
    coarse: bool = False,
    what: str = "the probe",
    good_enough: float = tuning.REFINE_TARGET,
) -> Estimate:
    """Central differences at ``h, h/2, h/4`` with two Richardson levels and an error estimate.

    The step adapts: it shrinks where the truncation error dominates (sharp curvature) and
    grows where rounding dominates (float32 losses), up to ``tuning.MAX_REL_STEP`` and never
    past a step at which ``f`` was non-finite. When one side is non-finite at every step the
    estimate turns one-sided. ``coarse=True`` (``f`` rounds its values to a grid): the smallest
    non-zero difference between the samples is the noise and the step is not refined.
    """
    start = ev.evaluations
    h0 = prec.step_eps**tuning.CENTRAL_POWER if h is None else h
    step = _find_step(ev, x, d, h0, (1, -1), what)
    if len(step.sides) == 1:
        est = one_sided(ev, x, d, side=step.sides[0], f0=f0, prec=prec, h=step.size, what=what)
        return dataclasses.replace(
            est,
            evaluations=ev.evaluations - start,
            flags=est.flags | {Flag.ONE_SIDED, Flag.SHRUNK},
        )
    sup = _support(x, d)

    floor = 0.0
    cap: list[
        float
    ] = []  # the noise measured at tiny spacings, once stencil "noise" proved truncation

    def run(t: float) -> Estimate:
        known = step.samples if t == step.size else {}
        est = _central_richardson(
            ev, x, d, f0, t, prec, sup, coarse=coarse, known=known, cap=cap[0] if cap else None
        )
        return with_noise(est, floor)

    first = run(step.size)
    if first.has(Flag.NOISY) and not coarse:
        # The stencils say f is noisy. Measure the noise again at tiny steps, where f is
        # linear and only noise remains: a stencil can underestimate it by chance, and
        # near a singularity (log a at a ≈ step) the stencils see truncation, not noise.
        # A feature far below the step (tanh(1e12 x) at x ≈ 1e-12) looks like noise at every
        # spacing above its own scale: the spacing shrinks by 256 up to three times, and once
        # the "noise" collapses there it was truncation all along.
        found: tuple[float, float] | None = None  # (noise, spacing) where the "noise" collapsed
        first_probe = 0.0
        # deeper levels only where the stencil looks like a feature, not like rounding: equal
        # differences at every step (a jump), or one-sided slopes far apart (a log |·| valley
        # straddled by the step) — rounding noise rarely mimics either
        levels = tuning.NOISE_PROBE_LEVELS if feature_like(first, f0) else 1
        for level in range(1, levels + 1):
            spacing = first.step / 256.0**level
            probed, span = noise_and_span(ev, x, d, f0, spacing)
            first_probe = probed if level == 1 else first_probe
            # below the first level, only where f visibly moves smoothly: the rounding of a
            # cancelling loss also quietens at tiny spacings, where it is piecewise flat. Each
            # deeper level must quieten again 8-fold: the last that did is f's own noise
            before = found[0] if found is not None else first.noise
            if 0.0 < 8.0 * probed < before and (
                level == 1 or span >= tuning.SMOOTH_SIGNAL * probed
            ):
                found = (probed, spacing)
            elif found is not None:
                break
        if found is not None:
            probed, spacing = found
            floor = 2.0 * probed
            cap.append(max(floor, prec.eps * abs(f0)))
            first = truncation_not_noise(first, cap[0])
            if spacing < first.step / 256.0:
                # f was smooth at that spacing and not at 256 times it: start there
                with contextlib.suppress(ProbeError):  # f non-finite there: keep the first
                    first = truncation_not_noise(run(4.0 * spacing), cap[0])
        else:
            floor = first_probe
            first = with_noise(first, floor)
    best = first if coarse else refine(run, first, can_grow=not step.shrunk, target=good_enough)
    if step.free and not coarse and best.error > good_enough * abs(best.value):
        best = _away_from_edge(ev, x, d, f0, prec, h0, step.free, best, what)
    flags = best.flags | ({Flag.SHRUNK} if step.shrunk else set())
    return dataclasses.replace(best, evaluations=ev.evaluations - start, flags=frozenset(flags))


def _away_from_edge(
    ev: Evaluator,
    x: FloatArray,
    d: FloatArray,
    f0: float,
    prec: Precision,
    h: float,
    free: tuple[int, ...],
    best: Estimate,
    what: str,
) -> Estimate:
    """A central step that shrank away from a domain edge on one side (``0 · log a`` at
    ``a = 2e-9``) pays in rounding; on the side that stayed finite at the full step, one-sided
    differences keep the full step. The more precise of the two, when they agree."""
    flat = best.has(Flag.FLAT)
    if tuning.K_ERROR * best.error > tuning.RELIABLE * abs(best.value) and not flat:
        return best  # too rough to tell whether the one-sided estimate sees the same piece
    for side in free:
        try:
            other = one_sided(ev, x, d, side=side, f0=f0, prec=prec, h=h, what=what)
        except ProbeError:
            continue
        if flat:
            # f did not move at the shrunk steps: the wide one-sided samples must not move
            # either (bit for bit: f constant on that side up to the full step), else they
            # may have reached another piece
            agree = other.value == 0.0 and other.truncation == 0.0
        else:
            agree = abs(other.value - best.value) <= other.error + best.error
        if agree and other.error < best.error:
            evaluations = best.evaluations + other.evaluations
            best = dataclasses.replace(other, evaluations=evaluations, noise=best.noise)
    return best


def _central_richardson(
    ev: Evaluator,
    x: FloatArray,
    d: FloatArray,
    f0: float,
    step: float,
    prec: Precision,
    sup: _Support,
    coarse: bool = False,
    known: dict[int, float] | None = None,
    cap: float | None = None,
) -> Estimate:
    D = []
    known = known or {}
    fmax = abs(f0)
    rel_step = 0.0
    values: dict[int, float] = {0: f0}  # f at x + (k/4) step d
    for k in range(3):
        t = step / 2**k
        # one shifted point alive at a time (memory); each step measured before fun may
        # overwrite its fresh input
        xp = _shifted(x, d, t)
        tp, rp = _step_taken(x, xp, d, t, sup)
        fp = known[1] if k == 0 and 1 in known else ev(xp, fresh=True)
        del xp
        xm = _shifted(x, d, -t)
        tm, rm = _step_taken(xm, x, d, t, sup)
        fm = known[-1] if k == 0 and -1 in known else ev(xm, fresh=True)
        del xm
        if not (math.isfinite(fp) and math.isfinite(fm)):
            raise ProbeError(
                f"fun became non-finite at step {t:.3g} after being finite at {step:.3g}"
            )
        values[4 >> k], values[-(4 >> k)] = fp, fm
        fmax = max(fmax, abs(fp), abs(fm))
        rel_step = max(rel_step, rp, rm, _input_rounding(prec, x, d, t))
        if tp + tm <= 0:
            raise ProbeError(f"the step {t:.3g} is below the resolution of x")
        D.append((fp - fm) / (tp + tm))
    R1 = (4 * D[1] - D[0]) / 3
    R2 = (4 * D[2] - D[1]) / 3
    # the rounding of f itself, ε|f| (a few final roundings); accumulated rounding, as in long
    # float32 sums, shows in the stencils instead. Half of it would resolve float32 entries
    # finer, but lets the true error reach 2.5 estimates on random analytic functions
    base = prec.eps * fmax
    grid = binary_grid(values, base)
    noise = max(base, fourth_difference_noise(values), quantum(values), grid)
    if coarse:
        noise = max(noise, smallest_gap(values))
    excess = 0.0
    if cap is not None and noise > cap:
        # the noise of f is known (measured at tiny spacings): the stencil's larger 4th
        # differences are a feature below this step — truncation, which shrinking cures
        excess, noise = tuning.ROUNDING_GAIN * (noise - cap) / step, cap
    rounding = tuning.ROUNDING_GAIN * noise / step + (4.0 * prec.eps + 4.0 * rel_step) * abs(R2)
    truncation = abs(R2 - R1) + excess
    # in the Taylor region the raw differences converge like h²: (D0 − D1)/(D1 − D2) ≈ 4.
    # Far from 4, with differences above the rounding, the step is outside that region and
    # Richardson's own estimate means nothing: the last raw change bounds the error instead.
    d01, d12 = D[0] - D[1], D[1] - D[2]
    if abs(d01) > 4.0 * rounding and not 2.0 * abs(d12) <= abs(d01) <= 8.0 * abs(d12):
        truncation = max(truncation, abs(d12))
    flags = set()
    if len(set(values.values())) == 1:  # exact: f did not change at all at this step
        flags.add(Flag.FLAT)
    if coarse:
        flags.add(Flag.COARSE)
    if grid > 0:
        flags.add(Flag.GRID)
    if noise > tuning.NOISY_ULPS * base:
        flags.add(Flag.NOISY)
        # differences f(x + t d) − f(x − t d) that do not shrink with t, all of one sign and far
        # above the rounding: not noise but a jump-like feature inside the smallest step
        deltas = [values[4 >> k] - values[-(4 >> k)] for k in range(3)]
        if (all(v > 0 for v in deltas) or all(v < 0 for v in deltas)) and min(
            map(abs, deltas)
        ) >= 0.5 * max(map(abs, deltas)):
            flags.add(Flag.SUBSTEP)
    # the same samples give both one-sided slopes for free: a kink shows as their disagreement.
    # Their rounding uses each side's own noise estimate, which a kink at x does not inflate.
    sides: Sides = tuple(  # type: ignore[assignment]
        _one_sided_from(
            [side * (values[side * (4 >> k)] - f0) / (step / 2**k) for k in range(3)],
            24.0 * max(base, one_sided_noise(values, side)) / step
            + (4.0 * prec.eps + 4.0 * rel_step) * abs(R2),
        )
        for side in (-1, 1)
    )
    (left, el), (right, er) = sides
    if abs(right - left) > tuning.K_ERROR * (el + er):
        flags.add(Flag.KINK)
    return Estimate(
        R2,
        truncation + rounding,
        step,
        Engine.CENTRAL,
        6,
        noise,
        frozenset(flags),
        sides,
        truncation,
    )


def _one_sided_from(D: list[float], rounding: float) -> tuple[float, float]:
    """Richardson on one-sided slopes at steps h, h/2, h/4: (value, error estimate)."""
    R1 = 2 * D[1] - D[0]
    R2 = 2 * D[2] - D[1]
    value = (4 * R2 - R1) / 3
    return value, abs(value - R2) + rounding


def one_sided(
    ev: Evaluator,
    x: FloatArray,
    d: FloatArray,
    *,
    side: int,
    f0: float,
    prec: Precision,
    h: float | None = None,
    noise: float = 0.0,
    what: str = "the probe",
) -> Estimate:
    """Forward (``side=+1``) or backward (``side=-1``) differences with Richardson extrapolation.

    ``noise``: a known noise level of ``f`` (e.g. from a central estimate) for the rounding term.
    """
    start = ev.evaluations
    h0 = prec.step_eps**tuning.ONE_SIDED_POWER if h is None else h
    step = _find_step(ev, x, d, h0, (side,), what)
    sup = _support(x, d)

    def run(t: float) -> Estimate:
        return _one_sided_richardson(ev, x, d, f0, t, side, noise, prec, sup)

    best = refine(run, run(step.size), can_grow=False)
    flags = best.flags | ({Flag.SHRUNK} if step.shrunk else set())
    return dataclasses.replace(best, evaluations=ev.evaluations - start, flags=frozenset(flags))


def _one_sided_richardson(
    ev: Evaluator,
    x: FloatArray,
    d: FloatArray,
    f0: float,
    step: float,
    side: int,
    noise: float,
    prec: Precision,
    sup: _Support,
) -> Estimate:
    D = []
    fmax = abs(f0)
    rel_step = 0.0
    for k in range(3):
        t = step / 2**k
        xs = _shifted(x, d, side * t)
        taken, rel = _step_taken(x, xs, d, t, sup) if side > 0 else _step_taken(xs, x, d, t, sup)
        fs = ev(xs, fresh=True)
        if not math.isfinite(fs):
            raise ProbeError(
                f"fun became non-finite at step {t:.3g} after being finite at {step:.3g}"
            )
        fmax = max(fmax, abs(fs))
        rel_step = max(rel_step, rel, _input_rounding(prec, x, d, t))
        if taken == 0:
            raise ProbeError(f"the step {t:.3g} is below the resolution of x")
        D.append((fs - f0) / (side * abs(taken)))
    noise = max(noise, prec.eps * fmax)
    value, err = _one_sided_from(D, 24.0 * noise / step)
    truncation = err - 24.0 * noise / step
    err += (4.0 * prec.eps + 4.0 * rel_step) * abs(value)
    engine = Engine.FORWARD if side > 0 else Engine.BACKWARD
    return Estimate(value, err, step, engine, 3, noise, frozenset(), None, truncation)
