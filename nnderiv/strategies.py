"""Hypothesis strategies that draw valid inputs for each task of :data:`nnderiv.formulas.LOSSES`.

All options are keyword-only with the widest valid defaults; bad arguments raise
:class:`nnderiv.InvalidArgument` when the strategy is first drawn from, as hypothesis' own
strategies do.

Example::

    >>> from hypothesis import given
    >>> from nnderiv import strategies as nst
    >>> @given(nst.loss_inputs("multiclass", wrt="Z"))
    ... def test_my_softmax_loss(xy):
    ...     Z, Y = xy
    ...     assert Z.shape == Y.shape
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .errors import InvalidArgument
from .formulas import Loss, get_loss

__all__ = ["labels", "logits", "loss_inputs", "outputs", "probabilities", "shapes"]

Array = npt.NDArray[np.floating[Any]]
Shape = tuple[int, int]
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# ---------------------------------------------------------------------------------------------
# argument validation, in hypothesis' message style
# ---------------------------------------------------------------------------------------------


def _check_int(value: object, name: str, *, min_value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(
            f"Expected an integer but got {name}={value!r} (type={type(value).__name__})"
        )
    if value < min_value:
        raise InvalidArgument(f"Expected {name} >= {min_value} but got {name}={value!r}")
    return int(value)


def _check_dtype(dtype: object) -> np.dtype[Any]:
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        dt = None
    if dt not in _DTYPES:
        raise InvalidArgument(f"Expected dtype float32 or float64 but got dtype={dtype!r}")
    out: np.dtype[Any] = np.dtype(dt)
    return out


def _check_shape(shape: object, task: Loss | None = None) -> Shape:
    if (
        not isinstance(shape, tuple)
        or len(shape) != 2
        or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in shape)
    ):
        raise InvalidArgument(
            f"Expected shape to be a tuple (n, m) of two integers but got shape={shape!r}"
        )
    n, m = int(shape[0]), int(shape[1])
    if n < 1 or m < 1:
        raise InvalidArgument(f"Expected n >= 1 and m >= 1 but got shape={shape!r}")
    if task is not None and task.single_row and n != 1:
        raise InvalidArgument(
            f"Expected shape (1, m) for the {task.name} task but got shape={shape!r}"
        )
    if task is not None and n < task.activation.min_rows:
        raise InvalidArgument(
            f"Expected at least {task.activation.min_rows} rows (classes) for the {task.name} "
            f"task but got shape={shape!r}"
        )
    return n, m


def _check_float(value: object, name: str, low: float, high: float, *, open_low: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InvalidArgument(
            f"Expected a number but got {name}={value!r} (type={type(value).__name__})"
        )
    v = float(value)
    ok = (v > low if open_low else v >= low) and v <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise InvalidArgument(
            f"Expected {name} in {bracket}{low}, {high}] but got {name}={value!r}"
        )
    return v


# ---------------------------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------------------------


def shapes(
    task: str | Loss, *, min_n: int | None = None, max_n: int = 8, min_m: int = 1, max_m: int = 16
) -> st.SearchStrategy[Shape]:
    """Shapes ``(n, m)`` valid for ``task``: binary has ``n = 1``, multiclass ``n >= 2``.

    Args:
        task: a key of ``LOSSES``.
        min_n: fewest rows (default 1, or 2 for multiclass); ignored for binary.
        max_n: most rows; ignored for binary.
        min_m: fewest examples (columns).
        max_m: most examples (columns).
    """

    def build() -> st.SearchStrategy[Shape]:
        loss = get_loss(task)
        lo_m = _check_int(min_m, "min_m", min_value=1)
        hi_m = _check_int(max_m, "max_m", min_value=1)
        if lo_m > hi_m:
            raise InvalidArgument(f"min_m={min_m!r} is larger than max_m={max_m!r}")
        if loss.single_row:
            return st.tuples(st.just(1), st.integers(lo_m, hi_m))
        floor = loss.activation.min_rows
        lo_n = floor if min_n is None else _check_int(min_n, "min_n", min_value=floor)
        hi_n = _check_int(max_n, "max_n", min_value=floor)
        if lo_n > hi_n:
            raise InvalidArgument(f"min_n={lo_n!r} is larger than max_n={max_n!r}")
        return st.tuples(st.integers(lo_n, hi_n), st.integers(lo_m, hi_m))

    return st.deferred(build)


def probabilities(
    shape: Shape, *, margin: float = 1e-6, dtype: Any = np.float64
) -> st.SearchStrategy[Array]:
    """Arrays of ``shape`` with entries in ``[margin, 1 − margin]`` (inside (0, 1)).

    Args:
        shape: ``(n, m)``.
        margin: distance kept from 0 and 1; at least the dtype's epsilon, below 0.5.
        dtype: float64 (default) or float32.
    """

    def build() -> st.SearchStrategy[Array]:
        dt = _check_dtype(dtype)
        n, m = _check_shape(shape)
        eps = float(np.finfo(dt).eps)
        mg = _check_float(margin, "margin", 0.0, 0.5, open_low=True)
        if mg < eps or mg >= 0.5:
            raise InvalidArgument(
                f"Expected {eps:.3g} <= margin < 0.5 for dtype={dt.name} but got margin={margin!r}"
            )
        elements = st.floats(mg, 1 - mg, width=64).map(lambda v: min(max(v, mg), 1 - mg))
        return hnp.arrays(np.float64, (n, m), elements=elements).map(
            lambda a: np.clip(a.astype(dt), dt.type(mg), dt.type(1 - mg))
        )

    return st.deferred(build)


def outputs(
    task: str | Loss, shape: Shape, *, margin: float = 1e-6, dtype: Any = np.float64
) -> st.SearchStrategy[Array]:
    """Values of ``task``'s activation outputs ``A``, from the domain of its record:
    probabilities in ``[margin, 1 − margin]`` (sigmoid, softmax — a loss's ``∂J/∂A`` does not
    need softmax columns), ``[−1 + margin, 1 − margin]`` (tanh), ``[margin, 20]`` (exp,
    softplus), ``[−3, 3]`` (identity)."""

    def build() -> st.SearchStrategy[Array]:
        loss = get_loss(task)
        dt = _check_dtype(dtype)
        _check_shape(shape, loss)
        domain = loss.activation.domain
        if domain in ("unit", "simplex"):
            return probabilities(shape, margin=margin, dtype=dtype)
        low, high = {"symmetric": (-1.0, 1.0), "positive": (0.0, 20.0), "real": (-3.0, 3.0)}[domain]
        mg = _check_float(margin, "margin", 0.0, 0.5, open_low=True)
        lo = low + mg if domain != "real" else low
        hi = high - mg if domain == "symmetric" else high
        return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi)).map(
            lambda a: np.clip(a.astype(dt), dt.type(lo), dt.type(hi))
        )

    return st.deferred(build)


def logits(
    shape: Shape, *, scale: float = 30.0, dtype: Any = np.float64
) -> st.SearchStrategy[Array]:
    """Arrays of ``shape`` with entries in ``[−scale, scale]``.

    Args:
        shape: ``(n, m)``.
        scale: largest magnitude, in (0, 1000].
        dtype: float64 (default) or float32.
    """

    def build() -> st.SearchStrategy[Array]:
        dt = _check_dtype(dtype)
        n, m = _check_shape(shape)
        sc = _check_float(scale, "scale", 0.0, 1000.0, open_low=True)
        return hnp.arrays(
            dt, (n, m), elements=st.floats(-sc, sc, width=32 if dt == _DTYPES[0] else 64)
        )

    return st.deferred(build)


def labels(
    task: str | Loss,
    shape: Shape,
    *,
    soft: bool = False,
    simplex: bool = True,
    dtype: Any = np.float64,
) -> st.SearchStrategy[Array]:
    """Labels for ``task``, by its label kind: ``binary`` 0/1 (soft: any y in [0, 1]);
    ``onehot`` one-hot columns (soft: columns on the simplex, or with ``simplex=False`` any
    non-negative columns — the case where equation (6) fails); ``simplex`` one-hot or soft
    columns on the simplex; ``real`` values in [−3, 3]; ``count`` integers 0…8 (soft: reals).

    Args:
        task: a key of ``LOSSES``.
        shape: ``(n, m)``.
        soft: draw soft labels instead of hard ones.
        simplex: multiclass soft labels sum to 1 per column (default) or not.
        dtype: float64 (default) or float32.
    """

    def build() -> st.SearchStrategy[Array]:
        loss = get_loss(task)
        dt = _check_dtype(dtype)
        n, m = _check_shape(shape, loss)
        if not isinstance(soft, bool) or not isinstance(simplex, bool):
            raise InvalidArgument(
                f"Expected soft and simplex to be bool but got soft={soft!r}, simplex={simplex!r}"
            )
        kind = loss.labels
        if not simplex and not (soft and kind == "onehot"):
            raise InvalidArgument(
                f"simplex=False only applies to soft labels of a one-hot task (multiclass) but "
                f"got task={loss.name!r}, soft={soft!r}"
            )
        unit = st.floats(0.0, 1.0)
        if kind in ("onehot", "simplex"):
            if not soft:
                return st.lists(st.integers(0, n - 1), min_size=m, max_size=m).map(
                    lambda idx: np.eye(n, dtype=dt)[:, idx]
                )
            weights = hnp.arrays(np.float64, (n, m), elements=unit)
            if not simplex:
                return weights.map(lambda w: (3.0 * w).astype(dt))
            return weights.map(lambda w: _normalise_columns(w).astype(dt))
        if kind == "real":
            return hnp.arrays(np.float64, (n, m), elements=st.floats(-3.0, 3.0)).map(
                lambda y: y.astype(dt)
            )
        if kind == "count":
            if soft:
                return hnp.arrays(np.float64, (n, m), elements=st.floats(0.0, 8.0)).map(
                    lambda y: y.astype(dt)
                )
            return hnp.arrays(np.int8, (n, m), elements=st.integers(0, 8)).map(
                lambda y: y.astype(dt)
            )
        if soft:
            return hnp.arrays(np.float64, (n, m), elements=unit).map(lambda y: y.astype(dt))
        return hnp.arrays(np.int8, (n, m), elements=st.integers(0, 1)).map(lambda y: y.astype(dt))

    return st.deferred(build)


def _normalise_columns(w: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    w = w.copy()
    empty = w.sum(axis=0) <= 0
    w[0, empty] = 1.0
    out: npt.NDArray[np.float64] = w / w.sum(axis=0, keepdims=True)
    return out


def loss_inputs(
    task: str | Loss,
    *,
    wrt: str = "A",
    soft: bool | None = None,
    margin: float = 1e-6,
    scale: float = 30.0,
    min_n: int | None = None,
    max_n: int = 8,
    min_m: int = 1,
    max_m: int = 16,
    dtype: Any = np.float64,
) -> st.SearchStrategy[tuple[Array, Array]]:
    """Pairs ``(x, Y)``: ``x`` probabilities (``wrt="A"``) or logits (``wrt="Z"``), ``Y`` labels.

    Args:
        task: a key of ``LOSSES``.
        wrt: ``"A"`` or ``"Z"``.
        soft: hard labels (False), soft labels (True) or either (None, the default).
        margin: as in :func:`probabilities`.
        scale: as in :func:`logits`.
        min_n, max_n, min_m, max_m: as in :func:`shapes`.
        dtype: float64 (default) or float32.
    """

    def build() -> st.SearchStrategy[tuple[Array, Array]]:
        get_loss(task)
        if wrt not in ("A", "Z"):
            raise InvalidArgument(f"Expected wrt='A' or wrt='Z' but got wrt={wrt!r}")
        if soft is not None and not isinstance(soft, bool):
            raise InvalidArgument(f"Expected soft to be None or a bool but got soft={soft!r}")
        softs = st.booleans() if soft is None else st.just(soft)

        @st.composite
        def pairs(draw: st.DrawFn) -> tuple[Array, Array]:
            shape = draw(shapes(task, min_n=min_n, max_n=max_n, min_m=min_m, max_m=max_m))
            x = draw(
                outputs(task, shape, margin=margin, dtype=dtype)
                if wrt == "A"
                else logits(shape, scale=scale, dtype=dtype)
            )
            y = draw(labels(task, shape, soft=draw(softs), dtype=dtype))
            return x, y

        return pairs()

    strategy = st.deferred(build)
    # the smallest valid shape, for verify_gradient's deletion of rows and columns (a softmax
    # keeps 2 rows): never an error here — a bad argument is reported when first drawn
    try:
        loss = get_loss(task)
        floor = loss.activation.min_rows
        rows = max(floor, int(min_n)) if isinstance(min_n, int) else floor
        cols = max(1, int(min_m)) if isinstance(min_m, int) else 1
        strategy.nnderiv_min_shape = (rows, cols)  # type: ignore[attr-defined]
    except Exception:
        pass
    return strategy
