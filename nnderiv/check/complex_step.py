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
    h = _step(ev, d)
    # a float32 user's points move only by whole float32 ulps: shifts 100× wider
    widen = 1.0 if ev.dtype.itemsize >= 8 else tuning.NARROW_JITTER_WIDEN
    for s in tuning.JITTER_SHIFTS:
        try:
            z = _complex_value(ev, x + widen * s * d, d, h)
        except Exception:  # no measurement: the estimate stays as it is
            return est
        values[s] = z.imag / h
    if not all(math.isfinite(v) for v in values.values()):
        return est
    pairs = sorted({abs(s) for s in tuning.JITTER_SHIFTS})
    spread = max(abs((values[-s] + values[s]) / 2 - est.value) for s in pairs)
    return dataclasses.replace(
        est, error=est.error + 2.0 * spread, evaluations=est.evaluations + len(values)
    )
