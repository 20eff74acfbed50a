"""Complex step: ``Im f(x + i h d) / h``, exact to rounding for analytic code, and the
measurement of its own rounding through the loss's (complex step repeated 1e-8 away).

It differentiates the *computed* function: code that is not analytic (``abs``, ``norm``, a
cast to real) breaks it, which is why nothing passes on complex step alone
(:func:`nnderiv.check.confirm.confirm_complex`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument, ProbeError
from . import tuning
from .estimate import Engine, Estimate
from .evaluate import Evaluator, Precision

__all__ = ["complex_jitter", "complex_step"]

FloatArray = npt.NDArray[np.float64]


def complex_step(ev: Evaluator, x: FloatArray, d: FloatArray, prec: Precision) -> Estimate:
    """``Im f(x + i h d) / h``: exact to rounding for analytic code, no subtractive cancellation.

    Raises whatever ``f`` raises on complex input (the caller falls back), and
    ``numpy.exceptions.ComplexWarning`` as an error when ``f`` drops the imaginary part.
    """
    h = _step(ev, d)
    z = _complex_value(ev, x, d, h)
    slope = z.imag / h
    if not math.isfinite(slope) or not math.isfinite(z.real):
        raise ProbeError(f"complex step gave a non-finite value {z!r}")
    # rounding of the imaginary part only, at the loss's precision or complex64's when a
    # float32 user's x is handed over as complex64
    eps = max(prec.eps, float(np.finfo(ev.complex_dtype).eps))
    err = 4.0 * eps * abs(slope) + 1e-300
    return Estimate(slope, err, h, Engine.COMPLEX, 1)


def _step(ev: Evaluator, d: FloatArray) -> float:
    """``h``: 1e-20, or for a narrow user dtype (complex64) scaled so that ``h·max|d|`` is 1e-20:
    the imaginary parts must not underflow in float32's range."""
    if ev.complex_dtype.itemsize >= 16:
        return tuning.COMPLEX_STEP
    biggest = float(np.max(np.abs(d))) if d.size else 0.0
    return tuning.COMPLEX_STEP / biggest if biggest > 0 else tuning.COMPLEX_STEP


def _complex_value(
    ev: Evaluator, x: FloatArray, d: FloatArray, h: float = tuning.COMPLEX_STEP
) -> complex:
    xc = np.empty(x.shape, dtype=np.complex128)
    xc.real = x
    xc.imag = d
    xc.imag *= h
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


def _jitter_spread(
    ev: Evaluator, x: FloatArray, d: FloatArray, h: float, est: Estimate, widen: float
) -> tuple[float | None, int]:
    """The largest deviation of the symmetric means of complex step at ``x ± s d`` from the
    estimate, over the shifts ``s`` of JITTER_SHIFTS (times ``widen``); Richardson-cancelled
    when the means grow as ``s²``."""
    values: dict[float, float] = {}
    for s in tuning.JITTER_SHIFTS:
        try:
            z = _complex_value(ev, x + widen * s * d, d, h)
        except Exception:  # no measurement
            return None, len(values)
        values[s] = z.imag / h
    if not all(math.isfinite(v) for v in values.values()):
        return None, len(values)
    pairs = sorted({abs(s) for s in tuning.JITTER_SHIFTS})
    means = [(values[-s] + values[s]) / 2 - est.value for s in pairs]
    spread = max(abs(mu) for mu in means)
    if len(means) == 2 and means[0] != 0 and 3.0 <= means[1] / means[0] <= 5.0:
        # the means grow as the shift squared: the derivative's curvature, not rounding
        spread = abs(4.0 * means[0] - means[1]) / 3.0
    return spread, len(values)


def complex_jitter(
    ev: Evaluator, x: FloatArray, d: FloatArray, prec: Precision, est: Estimate
) -> Estimate:
    """The rounding error of a complex-step estimate, measured: complex step repeated at
    ``x + s d`` for relative shifts ``s`` of ~1e-8 (``tuning.JITTER_SHIFTS``).

    Complex step differentiates the *computed* function; where the loss loses digits to
    cancellation (``1 − σ(z)`` for large z) its value carries that rounding, which changes
    pseudo-randomly as ``x`` moves by far more than an ulp. The spread of the symmetric means
    about ``x`` (the linear change cancels) measures it; it is added to the error estimate."""
    h = _step(ev, d)
    # a float32 user's points move only by whole float32 ulps: shifts 100× wider
    widen = 1.0 if ev.dtype.itemsize >= 8 else tuning.NARROW_JITTER_WIDEN
    spread, used = _jitter_spread(ev, x, d, h, est, widen)
    if spread is None:
        return est
    if spread > tuning.JITTER_CURVATURE_ULPS * 4.0 * prec.eps * abs(est.value):
        # large: rounding, or the derivative's own curvature at a 1e-8 shift (an
        # ill-conditioned loss curves there). Again at 1e-10: rounding stays, curvature
        # falls 10⁴-fold; a clear fall means curvature, and the smaller spread is the rounding
        finer, more = _jitter_spread(ev, x, d, h, est, widen * tuning.JITTER_FINER)
        used += more
        if finer is not None and finer < spread / tuning.JITTER_CURVATURE_FALL:
            spread = finer
    values = range(used)
    return dataclasses.replace(
        est, error=est.error + 2.0 * spread, evaluations=est.evaluations + len(values)
    )
