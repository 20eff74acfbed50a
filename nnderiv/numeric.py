"""Finite-difference engines: complex step, central and one-sided differences with Richardson
extrapolation, each returning an :class:`Estimate` (value *and* error estimate).

All engines differentiate ``f`` along a direction ``d`` (an array shaped like ``x``): the value
estimated is ``∇f(x) · d``.  A one-hot ``d`` gives a single entry, a ±1 mask a block of entries,
a random signed vector a random probe — one engine serves all three.

Steps: ``h = ε_f^(1/5)`` (central) or ``ε_f^(1/3)`` (one-sided) times the direction, where the
direction is already scaled per entry by ``max(|x_k|, tiny)`` (see :func:`entry_scale`), and
``ε_f`` is the machine epsilon of the precision the loss is computed in.  A step at which ``f``
is non-finite or raises shrinks by 8; once a finite step is found after a failure the step backs
off a further factor 64 from the boundary so that truncation stays negligible; a side that never
becomes finite turns the estimate one-sided.

Example::

    >>> import numpy as np
    >>> ev = Evaluator(lambda x: float(np.sum(np.log(x))), (), np.array([1e-9, 0.5]))
    >>> est = central(ev, np.array([1e-9, 0.5]), np.array([1e-9, 0.0]))
    >>> bool(abs(est.value - 1.0) < 1e-8)
    True
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import InvalidArgument, ProbeError

__all__ = [
    "Estimate",
    "Evaluator",
    "ProbeError",
    "central",
    "complex_step",
    "entry_scale",
    "one_sided",
]

FloatArray = npt.NDArray[np.float64]

_SHRINK = 8.0
_BACK_OFF = 64.0
_MAX_SHRINKS = 26
COMPLEX_STEP = 1e-20
FLAT = "f did not change at any step"


@dataclass(frozen=True)
class Estimate:
    """A directional derivative with its error estimate.

    Attributes:
        value: the estimate of ``∇f(x) · d``.
        error: an estimate of ``|value − true value|`` (truncation plus rounding).
        step: the (largest) step used, in units of ``d``.
        method: ``"complex-step"``, ``"central"``, ``"forward"`` or ``"backward"``.
        evaluations: calls of ``f`` spent on this estimate.
        note: why the step shrank or turned one-sided, if it did.
        noise: the estimated absolute noise (rounding) in the values of ``f``.
    """

    value: float
    error: float
    step: float
    method: str
    evaluations: int
    note: str = ""
    noise: float = 0.0
    sides: tuple[tuple[float, float], tuple[float, float]] | None = None  # (left, right) ± error


class Evaluator:
    """Calls ``fun(x, *args)``, counts the calls and learns the precision of the loss.

    ``eps`` is the machine epsilon of the loss: float32 when every real value returned so far is
    exactly representable in float32 (a loss computed in float32 and returned as a Python
    float), else the epsilon of the returned dtype (float64 for Python floats).
    """

    def __init__(self, fun: Callable[..., Any], args: Sequence[Any], x0: FloatArray) -> None:
        self.fun = fun
        self.args = tuple(args)
        self.evaluations = 0
        self._x0_dtype = x0.dtype
        self._returned_dtype: np.dtype[Any] = np.dtype(np.float64)
        self._all_float32 = True
        self.probe = ""  # a description of the current probe, for error messages
        self.last_exception: BaseException | None = None
        # relative resolution at which fun reads x: 0 (full float64), or float32's ε when the
        # loss rounds its input (x.astype(np.float32)); a step's displacement is then uncertain
        self.x_eps = 0.0

    @property
    def eps(self) -> float:
        eps = float(np.finfo(self._returned_dtype).eps)
        if self._all_float32:
            eps = max(eps, float(np.finfo(np.float32).eps))
        return eps

    def raw(self, x: npt.NDArray[Any]) -> Any:
        """Call ``fun`` once (counted) and return what it returned, unchecked."""
        self.evaluations += 1
        return self.fun(x, *self.args)

    def __call__(self, x: npt.NDArray[Any]) -> float:
        """``fun(x, *args)`` as a float; NaN when it raises or is non-finite (re-raise later)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                value = self.raw(x)
        except Exception as exc:  # the caller decides whether to shrink or re-raise
            self.last_exception = exc
            return math.nan
        out = to_scalar(value, "fun")
        if math.isfinite(out):
            self.note_value(value, out)
        return out

    def note_value(self, value: Any, out: float) -> None:
        dt = getattr(value, "dtype", None)
        if (
            dt is not None
            and np.issubdtype(dt, np.floating)
            and np.finfo(dt).eps > np.finfo(self._returned_dtype).eps
        ):
            self._returned_dtype = np.dtype(dt)
        # an exact representability test (not a comparison of two computed results): a value
        # computed in float64 is a float32 number with probability about 2**-29
        if self._all_float32 and float(np.float32(out)) != out:
            self._all_float32 = False


def to_scalar(value: Any, name: str) -> float:
    """A real scalar from ``value`` (Python, numpy or 0-d/1-element array), else InvalidArgument."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgument(
            f"Expected {name}(x, *args) to return a scalar but got an array of shape {arr.shape}"
        )
    if np.iscomplexobj(arr):
        raise InvalidArgument(
            f"Expected {name}(x, *args) to return a real scalar but got {arr.reshape(()).item()!r}"
        )
    if arr.dtype.kind not in "iuf":
        raise InvalidArgument(
            f"Expected {name}(x, *args) to return a real number but got {value!r} "
            f"(type={type(value).__name__})"
        )
    try:
        return float(arr.reshape(()))
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"Expected {name}(x, *args) to return a real scalar but got {value!r}"
        ) from exc


def entry_scale(x: FloatArray) -> FloatArray:
    """Per-entry step scale: ``|x_k|``, but at least ``max(0.05 · rms(x), 1e-3)``.

    Steps proportional to ``|x_k|`` resolve functions like ``log x`` near 0; the floor lets
    entries at or near 0 move (a step that leaves the domain shrinks anyway, see
    :func:`central`)."""
    ax = np.abs(x)
    rms = float(np.sqrt(np.mean(ax**2))) if ax.size else 1.0
    floor = max(0.05 * rms, 1e-3)
    out: FloatArray = np.maximum(ax, floor)
    return out


def _shifted(x: FloatArray, d: FloatArray, t: float) -> FloatArray:
    out: FloatArray = x + t * d
    return out


def complex_step(
    ev: Evaluator, x: FloatArray, d: FloatArray, *, h: float = COMPLEX_STEP
) -> Estimate:
    """``Im f(x + i h d) / h``: exact to rounding for analytic code, no subtractive cancellation.

    Raises whatever ``f`` raises on complex input (the caller falls back), and
    ``numpy.exceptions.ComplexWarning`` as an error when ``f`` drops the imaginary part.
    """
    xc = x.astype(np.complex128) + 1j * h * d
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # after the line above: ComplexWarning is a RuntimeWarning, and the newest filter wins
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        value = ev.raw(xc)
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgument(
            f"Expected fun(x, *args) to return a scalar but got an array of shape {arr.shape}"
        )
    z = complex(arr.reshape(()))
    slope = z.imag / h
    if not math.isfinite(slope) or not math.isfinite(z.real):
        raise ProbeError(f"complex step gave a non-finite value {z!r}")
    # rounding only: relative precision of the loss's arithmetic on the imaginary part
    err = 4.0 * ev.eps * abs(slope) + 1e-300
    return Estimate(slope, err, h, "complex-step", 1)


def _input_rounding(ev: Evaluator, x: FloatArray, d: FloatArray, t: float) -> float:
    """Relative uncertainty of a step ``t d`` when fun rounds x to ``ev.x_eps``."""
    if ev.x_eps == 0.0:
        return 0.0
    nz = d != 0
    return float(np.max(ev.x_eps * np.abs(x[nz]) / np.abs(t * d[nz])))


def _step_taken(x: FloatArray, xs: FloatArray, d: FloatArray, t: float) -> tuple[float, float]:
    """The step really taken from ``x`` to ``xs`` (rounding of ``x + t d``), and its relative
    error when it cannot be corrected exactly (several entries moved)."""
    nz = np.flatnonzero(d)
    disp = (xs - x).ravel()[nz]
    want = t * d.ravel()[nz]
    if nz.size == 1:
        return float(disp[0] / d.ravel()[nz[0]]), 0.0
    return t, float(np.max(np.abs(disp - want) / np.abs(want))) if nz.size else 0.0


def _find_step(
    ev: Evaluator, x: FloatArray, d: FloatArray, h: float, sides: tuple[int, ...]
) -> tuple[float, str, tuple[int, ...]]:
    """Shrink ``h`` until ``f`` is finite at ``x + s h d`` for the wanted sides.

    Returns the step, a note, and the sides that are usable (both, or the one that is finite).
    """
    first_finite: dict[int, float] = {}
    step = h
    for k in range(_MAX_SHRINKS + 1):
        if all(np.array_equal(_shifted(x, d, s * step), x) for s in sides):
            break  # the step no longer moves x: shrinking further cannot help
        ok = [s for s in sides if math.isfinite(ev(_shifted(x, d, s * step)))]
        for s in ok:
            first_finite.setdefault(s, step)
        if len(ok) == len(sides):
            if k == 0:
                return step, "", sides
            backed = step / _BACK_OFF
            return backed, f"step shrank from {h:.2g} to {backed:.2g} (f non-finite nearby)", sides
        step /= _SHRINK
    if first_finite:
        side, largest = next(iter(first_finite.items()))
        name = "forward" if side > 0 else "backward"
        use = largest if largest == h else largest / _BACK_OFF
        return use, f"turned {name}: f is non-finite on the other side at every step", (side,)
    exc = getattr(ev, "last_exception", None)
    where = f" during {ev.probe}" if ev.probe else ""
    detail = f": {type(exc).__name__}: {exc}" if exc is not None else " (non-finite value)"
    raise ProbeError(
        f"fun failed at every step from {h:.3g} down to {step:.3g} along the probe{where}{detail}"
    ) from exc


def central(
    ev: Evaluator,
    x: FloatArray,
    d: FloatArray,
    *,
    f0: float | None = None,
    h: float | None = None,
    coarse: bool = False,
) -> Estimate:
    """Central differences at ``h, h/2, h/4`` with two Richardson levels and an error estimate.

    Falls back to :func:`one_sided` when one side is non-finite at every step. ``coarse=True``
    (``f`` is known to round its values to a grid, e.g. it did not change at smaller steps):
    the smallest non-zero difference between the samples is taken as the noise, and the step
    is not refined downwards.
    """
    start = ev.evaluations
    if f0 is None:
        f0 = ev(x)
    h0 = max(ev.eps, ev.x_eps) ** 0.2 if h is None else h
    step, note, sides = _find_step(ev, x, d, h0, (1, -1))
    if len(sides) == 1:
        est = one_sided(ev, x, d, side=sides[0], f0=f0, h=step)
        return Estimate(
            est.value, est.error, est.step, est.method, ev.evaluations - start, note, est.noise
        )
    if coarse:
        best = _central_richardson(ev, x, d, f0, step, coarse=True)
    else:
        best = _refine(lambda t: _central_richardson(ev, x, d, f0, t), step)
    return Estimate(
        best.value,
        best.error,
        best.step,
        "central",
        ev.evaluations - start,
        note or best.note,
        best.noise,
        best.sides,
    )


def _refine(run: Callable[[float], Estimate], step: float) -> Estimate:
    """Run a Richardson estimate; while it is poor, retry with steps 64× smaller.

    A smaller step replaces the larger one only when it has the smaller error estimate and
    agrees with it within both estimates. When the two disagree beyond their estimates, one of
    the estimates is wrong (the larger step outside the Taylor region, or noise the smaller
    step's estimate missed): the error is widened to cover both, never narrowed.
    """
    best = run(step)
    for _ in range(3):
        if best.error <= 1e-6 * abs(best.value) or best.error < 1e-300:
            break
        step /= _BACK_OFF
        try:
            trial = run(step)
        except ProbeError:
            break
        if trial.note == FLAT and best.note != FLAT:
            break  # f changed at the larger step but not at this one: a coarse (quantised) loss
        gap = abs(trial.value - best.value)
        if gap > trial.error + best.error:
            best = dataclasses.replace(best, error=max(best.error, trial.error) + gap)
            break
        if trial.error < best.error:
            best = trial
    return best


def _central_richardson(
    ev: Evaluator, x: FloatArray, d: FloatArray, f0: float, step: float, coarse: bool = False
) -> Estimate:
    D = []
    fmax = abs(f0)
    rel_step = 0.0
    values: dict[int, float] = {0: f0}  # f at x + (k/4) step d
    for k in range(3):
        t = step / 2**k
        xp, xm = _shifted(x, d, t), _shifted(x, d, -t)
        fp, fm = ev(xp), ev(xm)
        if not (math.isfinite(fp) and math.isfinite(fm)):
            raise ProbeError(
                f"fun became non-finite at step {t:.3g} after being finite at {step:.3g}"
            )
        values[4 >> k], values[-(4 >> k)] = fp, fm
        fmax = max(fmax, abs(fp), abs(fm))
        tp, rp = _step_taken(x, xp, d, t)
        tm, rm = _step_taken(xm, x, d, t)
        rel_step = max(rel_step, rp, rm, _input_rounding(ev, x, d, t))
        if tp + tm <= 0:
            raise ProbeError(f"the step {t:.3g} is below the resolution of x")
        D.append((fp - fm) / (tp + tm))
    R1 = (4 * D[1] - D[0]) / 3
    R2 = (4 * D[2] - D[1]) / 3
    noise = max(
        ev.eps * fmax,
        _noise_from_fourth_differences(values),
        _quantum(values),
        _binary_grid(values, ev.eps * fmax),
    )
    if coarse:
        noise = max(noise, _smallest_gap(values))
    rounding = 8.0 * noise / step
    err = abs(R2 - R1) + rounding + (4.0 * ev.eps + 4.0 * rel_step) * abs(R2)
    flat = len(set(values.values())) == 1  # f did not change at all at this step
    # the same samples give both one-sided slopes for free: a kink shows as their disagreement.
    # Their rounding uses each side's own noise estimate, which a kink at x does not inflate.
    sides = tuple(
        _one_sided_from(
            [side * (values[side * (4 >> k)] - f0) / (step / 2**k) for k in range(3)],
            24.0 * max(ev.eps * fmax, _one_sided_noise(values, side)) / step
            + (4.0 * ev.eps + 4.0 * rel_step) * abs(R2),
        )
        for side in (-1, 1)
    )
    return Estimate(R2, err, step, "central", 6, FLAT if flat else "", noise, sides)  # type: ignore[arg-type]


def _one_sided_from(D: list[float], rounding: float) -> tuple[float, float]:
    """Richardson on one-sided slopes at steps h, h/2, h/4: (value, error estimate)."""
    R1 = 2 * D[1] - D[0]
    R2 = 2 * D[2] - D[1]
    value = (4 * R2 - R1) / 3
    return value, abs(value - R2) + rounding


def _binary_grid(v: dict[int, float], resolution: float) -> float:
    """The spacing of a coarse binary grid the samples all lie on, or 0.

    ``(1e15 + s) − 1e15`` returns multiples of 0.125: every sample is an integer multiple of one
    power of two far above the loss's own resolution ε|f|. (A smooth loss's samples are not,
    except by a coincidence of measure zero; a linear loss's differences are multiples of
    ``g·h/4`` — not a power of two — so it is not mistaken for one.)"""
    q = _smallest_gap(v)
    if q <= 1e3 * resolution or math.frexp(q)[0] != 0.5:
        return 0.0
    if all(float(val / q).is_integer() for val in set(v.values())):
        return q
    return 0.0


def _smallest_gap(v: dict[int, float]) -> float:
    """The smallest non-zero difference between the sampled values (0 when all are equal)."""
    distinct = sorted(set(v.values()))
    return min((b - a for a, b in itertools.pairwise(distinct)), default=0.0)


def _quantum(v: dict[int, float]) -> float:
    """The resolution of a loss that is quantised at this scale, or 0.

    Along one side, f at 0, h/4, h/2, h takes four different values unless the loss is flat
    there or rounds its changes to a coarse grid (``(1e8 + s) − 1e8``).  Repeated values are
    compared exactly on purpose: then every change seen on that side may be rounding, so the
    largest step between neighbouring samples is taken as the noise level (0 when flat)."""
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


def _noise_from_fourth_differences(v: dict[int, float]) -> float:
    """Noise in ``f`` from the two equispaced 5-point stencils among the central samples.

    A 4th difference of a smooth function at small steps is ~0; of independent rounding errors
    of size σ it has standard deviation √70 σ.  Truncation only makes this larger (safe side).
    """
    a = v[-2] - 4 * v[-1] + 6 * v[0] - 4 * v[1] + v[2]
    b = v[-4] - 4 * v[-2] + 6 * v[0] - 4 * v[2] + v[4]
    return max(abs(a), abs(b)) / math.sqrt(70.0)


def one_sided(
    ev: Evaluator,
    x: FloatArray,
    d: FloatArray,
    *,
    side: int,
    f0: float | None = None,
    h: float | None = None,
    noise: float = 0.0,
) -> Estimate:
    """Forward (``side=+1``) or backward (``side=-1``) differences with Richardson extrapolation.

    ``noise``: a known noise level of ``f`` (e.g. from a central estimate) for the rounding term.
    """
    start = ev.evaluations
    if f0 is None:
        f0 = ev(x)
    h0 = ev.eps ** (1 / 3) if h is None else h
    step, note, _ = _find_step(ev, x, d, h0, (side,))
    best = _refine(lambda t: _one_sided_richardson(ev, x, d, f0, t, side, noise), step)
    return Estimate(
        best.value, best.error, best.step, best.method, ev.evaluations - start, note, best.noise
    )


def _one_sided_richardson(
    ev: Evaluator, x: FloatArray, d: FloatArray, f0: float, step: float, side: int, noise: float
) -> Estimate:
    D = []
    fmax = abs(f0)
    rel_step = 0.0
    for k in range(3):
        t = step / 2**k
        xs = _shifted(x, d, side * t)
        fs = ev(xs)
        if not math.isfinite(fs):
            raise ProbeError(
                f"fun became non-finite at step {t:.3g} after being finite at {step:.3g}"
            )
        fmax = max(fmax, abs(fs))
        taken, rel = _step_taken(x, xs, d, t) if side > 0 else _step_taken(xs, x, d, t)
        rel_step = max(rel_step, rel, _input_rounding(ev, x, d, t))
        if taken == 0:
            raise ProbeError(f"the step {t:.3g} is below the resolution of x")
        D.append((fs - f0) / (side * abs(taken)))
    noise = max(noise, ev.eps * fmax)
    # two Richardson levels: the leading error of R is O(h²), so (4 R2 − R1)/3 removes it
    value, err = _one_sided_from(D, 24.0 * noise / step)
    err += (4.0 * ev.eps + 4.0 * rel_step) * abs(value)
    method = "forward" if side > 0 else "backward"
    return Estimate(value, err, step, method, 3, noise=noise)
