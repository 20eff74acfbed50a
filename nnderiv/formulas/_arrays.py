"""Input validation of the closed forms: 2-D float arrays in the column layout."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import check_finite
from ..errors import InvalidArgument

Array = npt.NDArray[np.floating[Any]]


def as_float_matrix(x: object, name: str, *, dtype: np.dtype[Any] | None = None) -> Array:
    """Return ``x`` as a finite 2-D floating array, or raise :class:`InvalidArgument`.

    Integer and boolean arrays are promoted to float64, float16 to float32; float32 stays
    float32.  With ``dtype`` given the result is cast to it (used to make labels follow the
    dtype of the activations).
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # e.g. ragged lists
        raise InvalidArgument(
            f"Expected {name} to be a 2-D array of floats but could not convert it: {exc}"
        ) from exc
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float64)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    elif not np.issubdtype(arr.dtype, np.floating):
        raise InvalidArgument(
            f"Expected {name} to be a real floating array (float32 or float64) "
            f"but got {name}.dtype={arr.dtype}"
        )
    if arr.ndim != 2:
        raise InvalidArgument(
            f"Expected {name} to be a 2-D array (n × m, one column per example) "
            f"but got {name}.ndim={arr.ndim} with shape {arr.shape}"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise InvalidArgument(
            f"Expected {name} to have at least one row and one column but got shape {arr.shape}"
        )
    check_finite(arr, name)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def check_same_shape(x: Array, y: Array, xname: str, yname: str) -> None:
    if x.shape != y.shape:
        raise InvalidArgument(
            f"Expected {xname} and {yname} to have the same shape (n × m) "
            f"but got {xname}.shape={x.shape} and {yname}.shape={y.shape}"
        )


def simplex_tolerance(n: int, dtype: np.dtype[Any]) -> float:
    """Tolerance on a column sum of ``n`` entries of ``dtype`` being 1: ``8 · max(n, 2) · ε``."""
    return 8.0 * max(n, 2) * float(np.finfo(dtype).eps)
