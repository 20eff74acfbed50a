"""Finite-difference engines: complex step, central and one-sided differences with Richardson
extrapolation. Each returns a typed :class:`Estimate`: value, error estimate and flags.

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

import dataclasses
import enum
import itertools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument, ProbeError
from . import tuning
from .evaluate import Evaluator, Precision

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


# --------------------------------------------------------------------------------------------
# complex step
# --------------------------------------------------------------------------------------------


def complex_step(ev: Evaluator, x: FloatArray, d: FloatArray, prec: Precision) -> Estimate:
    """``Im f(x + i h d) / h``: exact to rounding for analytic code, no subtractive cancellation.

    Raises whatever ``f`` raises on complex input (the caller falls back), and
    ``numpy.exceptions.ComplexWarning`` as an error when ``f`` drops the imaginary part.
    """
    z = _complex_value(ev, x, d)
    slope = z.imag / tuning.COMPLEX_STEP
    if not math.isfinite(slope) or not math.isfinite(z.real):
        raise ProbeError(f"complex step gave a non-finite value {z!r}")
    err = 4.0 * prec.eps * abs(slope) + 1e-300  # rounding of the imaginary part only
    return Estimate(slope, err, tuning.COMPLEX_STEP, Engine.COMPLEX, 1)


def _complex_value(ev: Evaluator, x: FloatArray, d: FloatArray) -> complex:
    xc = np.empty(x.shape, dtype=np.complex128)
    xc.real = x
    xc.imag = d
    xc.imag *= tuning.COMPLEX_STEP
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # after the line above: ComplexWarning is a RuntimeWarning, and the newest filter wins
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        value = ev.raw(xc, fresh=True)
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgument(
            f"Expected fun(x, *args) to return a scalar but got an array of shape {arr.shape}"
        )
    return complex(arr.reshape(()))


def complex_jitter(
    ev: Evaluator, x: FloatArray, d: FloatArray, prec: Precision, est: Estimate
) -> Estimate:
    """The rounding error of a complex-step estimate, measured: complex step repeated at
    ``x + s d`` for relative shifts ``s`` of ~1e-8 (``tuning.JITTER_SHIFTS``).

    Complex step differentiates the *computed* function; where the loss loses digits to
    cancellation (``1 − σ(z)`` for large z) its value carries that rounding, which changes
    pseudo-randomly as ``x`` moves by far more than an ulp. The spread of the symmetric means
    about ``x`` (the linear change cancels) measures it; it is added to the error estimate."""
    values = {}
    for s in tuning.JITTER_SHIFTS:
        try:
            z = _complex_value(ev, x + s * d, d)
        except Exception:  # no measurement: the estimate stays as it is
            return est
        values[s] = z.imag / tuning.COMPLEX_STEP
    if not all(math.isfinite(v) for v in values.values()):
        return est
    pairs = sorted({abs(s) for s in tuning.JITTER_SHIFTS})
    spread = max(abs((values[-s] + values[s]) / 2 - est.value) for s in pairs)
    return dataclasses.replace(
        est, error=est.error + 2.0 * spread, evaluations=est.evaluations + len(values)
    )


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
            return _Step(step / tuning.BACK_OFF, sides, True, {})
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

    def run(t: float) -> Estimate:
        known = step.samples if t == step.size else {}
        est = _central_richardson(ev, x, d, f0, t, prec, sup, coarse=coarse, known=known)
        return _with_noise(est, floor)

    first = run(step.size)
    if first.has(Flag.NOISY) and not coarse:
        # The stencils say f is noisy. Measure the noise again at tiny steps, where f is
        # linear and only noise remains: a stencil can underestimate it by chance, and
        # near a singularity (log a at a ≈ step) the stencils see truncation, not noise.
        probed = _noise_probe(ev, x, d, f0, first.step / 256.0)
        if 0.0 < 8.0 * probed < first.noise:
            floor = 2.0 * probed
            first = _truncation_not_noise(first, max(floor, prec.eps * abs(f0)))
        else:
            floor = probed
            first = _with_noise(first, floor)
    best = first if coarse else _refine(run, first, can_grow=not step.shrunk, target=good_enough)
    flags = best.flags | ({Flag.SHRUNK} if step.shrunk else set())
    return dataclasses.replace(best, evaluations=ev.evaluations - start, flags=frozenset(flags))


def _refine(
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
    smaller. Any other disagreement means one estimate missed something: the error is widened
    to cover both, never narrowed."""
    best = first
    direction = 0  # −1 shrinking, +1 growing: never both within one estimate
    unconfirmed = False  # best disagreed with the larger step before it
    for _ in range(tuning.REFINE_ROUNDS):
        rounding = best.error - best.truncation
        if not unconfirmed and (best.error <= target * abs(best.value) or best.error < 1e-300):
            break
        if (best.truncation >= rounding or unconfirmed) and direction <= 0:
            trial_step, direction = best.step / tuning.REFINE_FACTOR, -1
        elif can_grow and direction >= 0 and best.step * tuning.GROW_FACTOR <= tuning.MAX_REL_STEP:
            trial_step, direction = best.step * tuning.GROW_FACTOR, 1
        else:
            break
        try:
            trial = _with_noise(run(trial_step), best.noise)
        except ProbeError:
            break  # f non-finite at the new step: keep what we have
        if trial.has(Flag.FLAT) and not best.has(Flag.FLAT):
            break  # f changed at the larger step but not at this one: a coarse (quantised) loss
        gap = abs(trial.value - best.value)
        if gap > trial.error + best.error:
            if direction < 0:
                best, unconfirmed = dataclasses.replace(trial, error=trial.error), True
                continue
            return dataclasses.replace(best, error=max(best.error, trial.error) + gap)
        if unconfirmed:
            best, unconfirmed = min((trial, best), key=lambda e: e.error), False
            continue
        if trial.error < best.error:
            best = trial
        else:
            break
    if unconfirmed:  # the smallest step never met a neighbour it agreed with
        return dataclasses.replace(best, error=best.error + best.truncation + abs(best.value))
    return best


def _with_noise(est: Estimate, noise: float) -> Estimate:
    """``est`` with the noise of ``f`` measured at another step counted too: the noise is a
    property of ``f`` near ``x``, and samples at one step can miss it by chance (a quadratic
    on a coarse grid)."""
    if noise <= est.noise:
        return est
    extra = tuning.ROUNDING_GAIN * (noise - est.noise) / est.step
    return dataclasses.replace(est, error=est.error + extra, noise=noise)


def _truncation_not_noise(est: Estimate, noise: float) -> Estimate:
    """``est`` with its stencil noise found to be truncation: the total error is kept (never
    narrowed), but counted as truncation, so that refinement shrinks the step."""
    rounding = tuning.ROUNDING_GAIN * noise / est.step
    truncation = max(est.truncation, est.error - rounding)
    return dataclasses.replace(
        est, noise=noise, truncation=truncation, flags=est.flags - {Flag.NOISY}
    )


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
) -> Estimate:
    D = []
    known = known or {}
    fmax = abs(f0)
    rel_step = 0.0
    values: dict[int, float] = {0: f0}  # f at x + (k/4) step d
    for k in range(3):
        t = step / 2**k
        xp, xm = _shifted(x, d, t), _shifted(x, d, -t)
        tp, rp = _step_taken(x, xp, d, t, sup)  # before fun may overwrite its fresh input
        tm, rm = _step_taken(xm, x, d, t, sup)
        fp = known[1] if k == 0 and 1 in known else ev(xp, fresh=True)
        fm = known[-1] if k == 0 and -1 in known else ev(xm, fresh=True)
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
    grid = _binary_grid(values, base)
    noise = max(base, _fourth_difference_noise(values), _quantum(values), grid)
    if coarse:
        noise = max(noise, _smallest_gap(values))
    rounding = tuning.ROUNDING_GAIN * noise / step + (4.0 * prec.eps + 4.0 * rel_step) * abs(R2)
    truncation = abs(R2 - R1)
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
    # the same samples give both one-sided slopes for free: a kink shows as their disagreement.
    # Their rounding uses each side's own noise estimate, which a kink at x does not inflate.
    sides: Sides = tuple(  # type: ignore[assignment]
        _one_sided_from(
            [side * (values[side * (4 >> k)] - f0) / (step / 2**k) for k in range(3)],
            24.0 * max(base, _one_sided_noise(values, side)) / step
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


def _binary_grid(v: dict[int, float], resolution: float) -> float:
    """The spacing of a coarse binary grid the samples all lie on, or 0.

    ``(1e15 + s) − 1e15`` returns multiples of 0.125: every sample is an integer multiple of one
    power of two above the loss's own resolution ε|f|. The largest such power not above the
    smallest gap between samples is the grid, and the noise is taken to be that large. (A
    smooth loss's samples are multiples of no power of two above about their own ulp.)"""
    q = _smallest_gap(v)
    if q <= 2.0 * resolution:
        return 0.0
    p = 2.0 ** math.floor(math.log2(q))
    values = set(v.values())
    while p > 2.0 * resolution:
        if all(float(val / p).is_integer() for val in values):
            return p
        p /= 2.0
    return 0.0


def _smallest_gap(v: dict[int, float]) -> float:
    """The smallest non-zero difference between the sampled values (0 when all are equal)."""
    distinct = sorted(set(v.values()))
    return min((b - a for a, b in itertools.pairwise(distinct)), default=0.0)


def _quantum(v: dict[int, float]) -> float:
    """The resolution of a loss that is quantised at this scale, or 0.

    Along one side, f at 0, h/4, h/2, h takes four different values unless the loss is flat
    there or rounds its changes to a coarse grid. Repeated values are compared exactly on
    purpose: then every change seen on that side may be rounding, so the largest step between
    neighbouring samples is taken as the noise level (0 when flat)."""
    q = 0.0
    for side in (-1, 1):
        seq = [v[0], v[side], v[2 * side], v[4 * side]]
        if len(set(seq)) < len(seq):
            q = max(q, *(abs(b - a) for a, b in itertools.pairwise(seq)))
    return q


def _one_sided_noise(v: dict[int, float], side: int) -> float:
    """Noise from the one-sided samples at 0, h/4, h/2, h: ``f(h) − 6f(h/2) + 8f(h/4) − 3f(0)``
    vanishes for a cubic; for independent rounding errors σ it has deviation √110 σ."""
    s = side
    return abs(v[4 * s] - 6 * v[2 * s] + 8 * v[s] - 3 * v[0]) / math.sqrt(110.0)


def _fourth_difference_noise(v: dict[int, float]) -> float:
    """Noise in ``f`` from the 7 central samples at 0, ±h/4, ±h/2, ±h.

    Two combinations cancel a polynomial to high order and keep the rounding: of the even
    parts, ``a − b/16`` (``a``, ``b`` the 4th differences at spacings h/4 and h/2; exact for
    degree 5, deviation ≈ √70 σ for rounding errors of size σ); of the odd parts,
    ``16 o₁ − 10 o₂ + o₄`` (exact for degree 4, deviation ≈ 13.4 σ). Their root mean square
    estimates σ; a sharply curved function near a domain edge is not mistaken for noise.
    """
    a = v[-2] - 4 * v[-1] + 6 * v[0] - 4 * v[1] + v[2]
    b = v[-4] - 4 * v[-2] + 6 * v[0] - 4 * v[2] + v[4]
    o1, o2, o4 = ((v[k] - v[-k]) / 2 for k in (1, 2, 4))
    s_even = abs(a - b / 16) / math.sqrt(70.0)
    s_odd = abs(16 * o1 - 10 * o2 + o4) / math.sqrt(178.5)
    return math.sqrt((s_even**2 + s_odd**2) / 2)


def _noise_probe(ev: Evaluator, x: FloatArray, d: FloatArray, f0: float, delta: float) -> float:
    """Noise of ``f`` from its 4th differences at a tiny spacing ``delta``: samples at
    ``x + j δ d`` for j = −3…3. Polynomials up to degree 3 cancel (so even the steep
    curvature next to a singularity does not count as noise); independent rounding errors of
    size σ give each 4th difference a deviation of √70 σ."""
    f = {0: f0}
    for j in (-3, -2, -1, 1, 2, 3):
        f[j] = ev(_shifted(x, d, j * delta), fresh=True)
    if not all(math.isfinite(val) for val in f.values()):
        return 0.0
    fourths = [f[c - 2] - 4 * f[c - 1] + 6 * f[c] - 4 * f[c + 1] + f[c + 2] for c in (-1, 0, 1)]
    return math.sqrt(sum(q * q for q in fourths) / 3) / math.sqrt(70.0)


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

    best = _refine(run, run(step.size), can_grow=False)
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
