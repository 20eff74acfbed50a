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
