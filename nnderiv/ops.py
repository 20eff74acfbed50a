"""Functions that run on numpy arrays and on sympy expressions alike.

A loss written once with these — ``ops.log(a)``, ``ops.where(r <= d, …, …)`` — is evaluated
on arrays by :mod:`nnderiv.formulas`, differentiated and printed by :mod:`nnderiv.symbolic`,
and checked by finite differences, from the one definition. Each function looks at its
arguments: any sympy expression among them gives a sympy expression, otherwise numpy.

On arrays the functions are the numerically stable forms (``softplus`` as ``logaddexp``,
``sigmoid`` without overflow), and stay analytic on complex input (complex step): there they
use the plain formulas, which are exact in the analytic extension.

Example::

    >>> import numpy as np, sympy as sp
    >>> from nnderiv import ops
    >>> float(ops.softplus(np.float64(800.0)))
    800.0
    >>> ops.softplus(sp.Symbol("z"))
    log(exp(z) + 1)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "abs",
    "cosh",
    "exp",
    "is_symbolic",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "sigmoid",
    "sign",
    "softplus",
    "sqrt",
    "tanh",
    "where",
    "xlogy",
]


def is_symbolic(*values: Any) -> bool:
    """True when any value is a sympy expression (or a sympy boolean, for ``where``)."""
    try:
        import sympy as sp
    except ImportError:  # pragma: no cover - sympy is a run-time dependency
        return False
    return any(isinstance(v, sp.Basic) for v in values)


def _sp() -> Any:
    import sympy as sp

    return sp


def _complex(x: Any) -> bool:
    return bool(np.iscomplexobj(x))


def _printable(fn: F) -> F:
    """The op, except that an argument whose type defines ``__nnderiv_op__(name, *args)`` (the
    printers' matrix placeholders) answers for it, under the op's name."""
    name = fn.__name__

    @functools.wraps(fn)
    def op(*args: Any) -> Any:
        for v in args:
            hook = getattr(type(v), "__nnderiv_op__", None)
            if hook is not None:
                return hook(name, *args)
        return fn(*args)

    return op  # type: ignore[return-value]


@_printable
def log(x: Any) -> Any:
    """Natural logarithm."""
    return _sp().log(x) if is_symbolic(x) else np.log(x)


@_printable
def log1p(x: Any) -> Any:
    """``log(1 + x)``, accurate for small ``x`` on arrays."""
    return _sp().log(1 + x) if is_symbolic(x) else np.log1p(x)


@_printable
def exp(x: Any) -> Any:
    return _sp().exp(x) if is_symbolic(x) else np.exp(x)


@_printable
def sqrt(x: Any) -> Any:
    return _sp().sqrt(x) if is_symbolic(x) else np.sqrt(x)


@_printable
def tanh(x: Any) -> Any:
    return _sp().tanh(x) if is_symbolic(x) else np.tanh(x)


@_printable
def cosh(x: Any) -> Any:
    return _sp().cosh(x) if is_symbolic(x) else np.cosh(x)


@_printable
def sigmoid(x: Any) -> Any:
    """``1 / (1 + exp(−x))``; on real arrays without overflow for any finite ``x``."""
    if is_symbolic(x):
        return 1 / (1 + _sp().exp(-x))
    if _complex(x):
        return 1 / (1 + np.exp(-x))
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@_printable
def softplus(x: Any) -> Any:
    """``log(1 + exp(x))``; on real arrays ``logaddexp(0, x)`` (no overflow)."""
    if is_symbolic(x):
        sp = _sp()
        return sp.log(1 + sp.exp(x))
    if _complex(x):
        # analytic and stable for either sign of the real part: max(x, 0) + log1p(exp(−|x|))
        x = np.asarray(x)
        pos = x.real > 0
        return np.where(pos, x, 0) + np.log1p(np.exp(np.where(pos, -x, x)))
    return np.logaddexp(0, x)


@_printable
def abs(x: Any) -> Any:
    """``|x|``: a kink at 0 (numeric checks take a subgradient there)."""
    return _sp().Abs(x) if is_symbolic(x) else np.abs(x)


@_printable
def maximum(x: Any, y: Any) -> Any:
    """Element-wise maximum (a kink where ``x = y``)."""
    if is_symbolic(x, y):
        return _sp().Max(x, y)
    return np.maximum(x, y)


@_printable
def minimum(x: Any, y: Any) -> Any:
    """Element-wise minimum (a kink where ``x = y``)."""
    if is_symbolic(x, y):
        return _sp().Min(x, y)
    return np.minimum(x, y)


@_printable
def where(condition: Any, x: Any, y: Any) -> Any:
    """``x`` where ``condition`` holds, else ``y`` (a piecewise rule; its pieces are named in
    derivations)."""
    if is_symbolic(condition, x, y):
        sp = _sp()
        return sp.Piecewise((x, condition), (y, True))
    return np.where(condition, x, y)


@_printable
def sign(x: Any) -> Any:
    """−1, 0 or 1 (the subgradient 0 at 0, as ``numpy.sign``)."""
    return _sp().sign(x) if is_symbolic(x) else np.sign(x)


@_printable
def xlogy(x: Any, y: Any) -> Any:
    """``x log y`` with ``0 log 0 = 0`` on arrays (entropy terms of soft targets, ``a log a``
    at a saturated output); on sympy the product ``x log y`` (derivations work where
    ``y > 0``)."""
    if is_symbolic(x, y):  # where it is differentiated, y > 0: the plain product
        return x * _sp().log(y)
    x, y = np.asarray(x), np.asarray(y)
    safe = np.where(x == 0, 1, y)
    return np.where(x == 0, 0, x * np.log(safe))
