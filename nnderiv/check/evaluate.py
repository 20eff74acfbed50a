"""Calling the user's loss: a fresh copy of ``x`` every call, every call counted, the precision
the loss is computed in measured once.

Example::

    >>> import numpy as np
    >>> ev = Evaluator(lambda x: float(np.sum(x**2)), ())
    >>> ev(np.array([1.0, 2.0])), ev.evaluations
    (5.0, 1)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument
from . import tuning

__all__ = ["Evaluator", "Precision", "measure_precision", "to_scalar"]

FloatArray = npt.NDArray[np.float64]


class Evaluator:
    """Calls ``fun(x, *args)`` on a private copy of ``x`` and counts every call.

    A loss that shifts or scales its input in place then cannot change the point being
    probed. Exceptions and non-finite values become NaN (the engines shrink the step); the
    last exception is kept for the error message.

    ``x`` reaches ``fun`` in the user's own dtype: the checker's points (float64, or complex128
    for complex step) are rounded to ``dtype`` (float32 → float32 and complex64), so a float32
    loss runs its float32 code path; the rounding of the points is counted like that of a loss
    that reads ``x`` in float32 (see :func:`measure_precision`).
    """

    def __init__(
        self, fun: Callable[..., Any], args: Sequence[Any], dtype: Any = np.float64
    ) -> None:
        self.fun = fun
        self.args = tuple(args)
        self.evaluations = 0
        self.last_exception: BaseException | None = None
        self.dtype = np.dtype(dtype)
        self.complex_dtype = np.result_type(self.dtype, np.complex64)

    def as_user(self, x: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
        """``x`` in the user's dtype (a new array), or None when it already is."""
        target = self.complex_dtype if x.dtype.kind == "c" else self.dtype
        if x.dtype == target:
            return None
        with np.errstate(over="ignore", under="ignore"):
            return x.astype(target)

    def raw(self, x: npt.NDArray[Any], *, fresh: bool = False) -> Any:
        """Call ``fun`` once (counted) and return what it returned: on a copy of ``x`` (in the
        user's dtype), or on ``x`` itself when it is ``fresh`` (a temporary no one else holds)."""
        self.evaluations += 1
        cast = self.as_user(x)
        if cast is not None:
            return self.fun(cast, *self.args)
        return self.fun(x if fresh else x.copy(), *self.args)

    def __call__(self, x: npt.NDArray[Any], *, fresh: bool = False) -> float:
        """``fun(x, *args)`` as a float; NaN when it raises or is non-finite."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                value = self.raw(x, fresh=fresh)
        except Exception as exc:  # the engines shrink the step; ProbeError re-raises later
            self.last_exception = exc
            return math.nan
        return to_scalar(value, "fun")


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
    return float(arr.reshape(()))


@dataclass(frozen=True)
class Precision:
    """The precision the loss is computed in, measured at ``x``.

    Attributes:
        eps: machine epsilon of the loss's arithmetic (float32's when it returns float32 or
            every value it returned is a float32 number).
        x_eps: relative resolution at which the loss reads ``x``: 0 (it uses x as given), or
            float32's ε when it rounds ``x`` to float32 first.
        dtype: the name of the precision, for the report.
    """

    eps: float
    x_eps: float
    dtype: str

    @property
    def step_eps(self) -> float:
        """The resolution steps must be sized for: of the loss's values or of its input."""
        return max(self.eps, self.x_eps)


def _is_float32_number(v: float) -> bool:
    # an exact representability test, not a comparison of two computed results: a value
    # computed in float64 is a float32 number with probability about 2**-29
    if not abs(v) < float(np.finfo(np.float32).max):
        return False
    return float(np.float32(v)) == v


def _same_bits(
    ev: Evaluator,
    x: FloatArray,
    f0: float,
    g: FloatArray,
    eps: float,
    dtype: type[np.floating[Any]],
    step: float,
    rng: np.random.Generator,
) -> float | None:
    """``f`` at a point that rounds to the same ``dtype`` values as ``x`` but differs from it
    in float64 (``round(x)``, or ``x ⊙ (1 ± step)`` when ``x`` is already such an array);
    None when the change would not show in a float64 loss anyway (by the claimed gradient
    ``g``: a flat loss, denormal entries), so that equality would tell nothing."""
    rounded = x.astype(dtype).astype(np.float64)
    if not np.array_equal(rounded, x):
        other = rounded
    else:
        other = x * (1.0 + rng.choice([-1.0, 1.0], size=x.shape) * step)
    visible = abs(float(np.sum(g * (other - x)))) > tuning.NOISY_ULPS * eps * abs(f0)
    if not visible:
        return None
    value = ev(other)
    return value if math.isfinite(value) else None


def measure_precision(
    ev: Evaluator,
    x: FloatArray,
    f0_raw: Any,
    f0: float,
    g: FloatArray,
    rng: np.random.Generator,
) -> Precision:
    """Learn the precision of the loss from its value at ``x`` and one more evaluation.

    Does the loss read ``x`` in float32? Compare ``f`` at two points that round to the same
    float32 values but differ as float64: ``x`` and ``round32(x)`` when ``x`` is not a float32
    array, else ``x`` and ``x ⊙ (1 ± 2⁻³⁰)``. A float64 loss moves by about 1e-8 of its
    slope — far above its rounding; a float32 reader returns the same bits (an exact identity
    test, on purpose). Zero entries are left alone (float32 reads them exactly). No point here
    is farther than 6e-8 relative from ``x``, so no domain edge is crossed unless ``x`` is
    already that close to it; a non-finite value there gives no information, and none is
    drawn.
    """
    dt = getattr(f0_raw, "dtype", None)
    eps = tuning.EPS64
    name = "float64"
    if dt is not None and np.issubdtype(dt, np.floating) and float(np.finfo(dt).eps) > eps:
        eps, name = float(np.finfo(dt).eps), np.dtype(dt).name
    if eps > tuning.EPS32:
        raise InvalidArgument(
            f"Expected fun(x, *args) to be computed in float32 or float64 but it returns "
            f"{name} (ε = {eps:.2g}): a {name} loss cannot resolve its gradient finely enough "
            "to check it; compute the loss in float32 or float64 for the check"
        )
    f1 = _same_bits(ev, x, f0, g, eps, np.float32, tuning.INPUT_PRECISION_STEP, rng)
    x_eps = tuning.EPS32 if f1 is not None and f1 == f0 else 0.0
    if x_eps and _same_bits(ev, x, f0, g, eps, np.float16, 2.0**-13, rng) == f0:
        # rounds x to float16 — or its values are coarse (a grid): either way the steps are
        # sized for float16's resolution and their uncertainty is counted
        x_eps = float(np.finfo(np.float16).eps)
    if eps < tuning.EPS32 and f1 is not None and _is_float32_number(f0) and _is_float32_number(f1):
        # both values float32 numbers (a float64 result is one with probability 2**-29; one
        # value alone, like 0.0 or 0.5, says nothing)
        eps, name = tuning.EPS32, "float32"
    if x_eps and eps < tuning.EPS32:
        eps, name = tuning.EPS32, "float32"
    if x_eps > tuning.EPS32:
        name += ", x read in float16"
    return Precision(eps, x_eps, name)
