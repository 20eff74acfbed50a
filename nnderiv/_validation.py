"""Input validators and message builders shared by every module.

Messages have the shape ``Expected X but got name=value (type=T)`` and name the entry.

Example::

    >>> import numpy as np
    >>> check_finite(np.array([1.0, np.inf]), "grad")
    Traceback (most recent call last):
    ...
    nnderiv.errors.InvalidArgument: Expected finite values in grad but got grad[1]=inf
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import InvalidArgument

__all__ = [
    "as_real_array",
    "check_choice",
    "check_finite",
    "check_seed",
    "check_tolerance",
    "first_bad",
    "where",
]


def where(index: tuple[int, ...]) -> str:
    """``[i, j]`` for an index tuple."""
    return "[" + ", ".join(str(int(k)) for k in index) + "]"


def first_bad(mask: npt.NDArray[np.bool_]) -> tuple[int, ...] | None:
    """The index of the first True entry of ``mask``, or None."""
    if not mask.any():
        return None
    return tuple(int(k) for k in np.argwhere(mask)[0])


def check_finite(arr: npt.NDArray[Any], name: str) -> None:
    """Raise :class:`InvalidArgument` naming the first NaN/inf entry of ``arr`` and its value."""
    idx = first_bad(~np.isfinite(arr))
    if idx is not None:
        raise InvalidArgument(
            f"Expected finite values in {name} but got {name}{where(idx)}={float(arr[idx])!r}"
        )


def as_real_array(value: Any, name: str, what: str) -> npt.NDArray[np.floating[Any]]:
    """``value`` as a non-empty real floating array (ints and bools promoted to float64)."""
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise InvalidArgument(f"Expected {what} but could not convert it: {exc}") from exc
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float64)
    if np.iscomplexobj(arr) or not np.issubdtype(arr.dtype, np.floating):
        raise InvalidArgument(f"Expected {what} of real floats but got {name}.dtype={arr.dtype}")
    if arr.size == 0:
        raise InvalidArgument(
            f"Expected {name} to have at least one entry but got shape {arr.shape}"
        )
    return arr


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """``value`` must be one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InvalidArgument(f"Expected {name} to be one of {listed} but got {name}={value!r}")


def check_tolerance(name: str, value: Any) -> None:
    """``value`` must be None or a finite number >= 0."""
    if value is None:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (ok and value >= 0 and math.isfinite(value)):
        raise InvalidArgument(
            f"Expected {name} to be a finite number >= 0 but got {name}={value!r}"
        )


def check_seed(seed: Any) -> None:
    """``seed`` must be an integer >= 0 (not a bool)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgument(f"Expected seed to be an integer >= 0 but got seed={seed!r}")
