"""Vector outputs and second order: ``check_vjp``, ``check_jvp``, ``check_hvp``.

Each is reduced to the scalar check of :func:`check_gradient`, so the same error estimates
decide:

* ``check_vjp(f, vjp, x)``: with a random cotangent ``v`` (seeded), ``⟨v, f(x)⟩`` is a scalar
  loss whose gradient is claimed to be ``vjp(v, x)``.
* ``check_jvp(f, jvp, x)``: the gradient of ``⟨v, f(x)⟩`` has entries ``⟨v, jvp(e_k, x)⟩``, one
  ``jvp`` per entry of ``x`` (a tangent along each basis vector).
* ``check_hvp(grad, hvp, x)``: ``hvp(v, x) = ∇²f(x)·v`` is the ``jvp`` of ``grad``.

A failure is localised to the input entry as usual (``worst_index``); the output entry is
found by bisecting the cotangent's support (``output_index``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import check_seed
from ..errors import InvalidArgument
from .api import check_gradient
from .report import GradientReport
from .structure import Structure

__all__ = ["check_hvp", "check_jvp", "check_vjp"]

#: most input entries for check_jvp (one jvp call per entry for each claimed gradient)
JVP_MAX_ENTRIES = 4096
#: most bisection steps to localise a wrong output entry
MAX_OUTPUT_BISECTIONS = 64


def _outputs(f: Callable[..., Any], x: Any, args: tuple[Any, ...], name: str) -> Any:
    try:
        out = f(x, *args)
    except InvalidArgument:
        raise
    except Exception as exc:
        raise InvalidArgument(
            f"{name}(x, *args) raised at x itself: {type(exc).__name__}: {exc}"
        ) from exc
    arr = np.asarray(out)
    if arr.dtype.kind not in "fiu" or arr.size == 0:
        raise InvalidArgument(
            f"Expected {name}(x, *args) to return a non-empty real array but got "
            f"{type(out).__name__} of dtype {arr.dtype}"
        )
    return arr


def _cotangent(shape: tuple[int, ...], seed: int) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng([seed, 7])
    v: npt.NDArray[np.float64] = rng.uniform(0.5, 1.5, size=shape)
    v *= rng.choice([-1.0, 1.0], size=shape)
    return v


def _scalarised(f: Callable[..., Any], v: npt.NDArray[Any]) -> Callable[..., Any]:
    def fun(x: Any, *args: Any) -> Any:
        out = np.asarray(f(x, *args))
        if out.shape != v.shape:
            raise InvalidArgument(
                f"Expected f(x, *args) to keep the shape {v.shape} of its output at x but got "
                f"{out.shape}"
            )
        return np.sum(v * out)

    fun.__name__ = f"<v, {getattr(f, '__name__', 'f')}>"
    return fun


def _localise_output(
    check: Callable[[npt.NDArray[Any]], GradientReport], v: npt.NDArray[Any]
) -> tuple[int, ...] | None:
    """The output entry whose cotangent alone still fails, by bisection over the support."""
    support = np.arange(v.size)
    for _ in range(MAX_OUTPUT_BISECTIONS):
        if support.size == 1:
            return tuple(int(i) for i in np.unravel_index(int(support[0]), v.shape))
        half = support[: support.size // 2]
        masked = np.zeros(v.size)
        masked[half] = v.ravel()[half]
        if check(masked.reshape(v.shape)).status == "fail":
            support = half
            continue
        rest = support[support.size // 2 :]
        masked = np.zeros(v.size)
        masked[rest] = v.ravel()[rest]
        if check(masked.reshape(v.shape)).status != "fail":
            return None  # only the whole cotangent shows it (errors that cancel in halves)
        support = rest
    return None


def _cotangent_check(
    f: Callable[..., Any],
    claimed_for: Callable[[npt.NDArray[Any]], Callable[..., Any]],
    x: Any,
    args: tuple[Any, ...],
    out: npt.NDArray[Any],
    seed: int,
    options: dict[str, Any],
    kind: str,
) -> GradientReport:
    """The scalar check of ``⟨v, f⟩`` against ``claimed_for(v)`` for a random cotangent ``v``;
    on a failure, the output entry found by bisecting ``v`` (shared by vjp and jvp)."""
    v = _cotangent(out.shape, seed)

    def run(cot: npt.NDArray[Any]) -> GradientReport:
        return check_gradient(_scalarised(f, cot), claimed_for(cot), x, *args, seed=seed, **options)

    report = run(v)
    report.name = f"{kind} of {getattr(f, '__name__', 'f')}"
    if report.status == "fail" and out.size > 1:
        report.output_index = _localise_output(run, v)
    return report


def check_vjp(
    f: Callable[..., Any],
    vjp: Callable[..., Any],
    x: Any,
    *args: Any,
    seed: int = 0,
    **options: Any,
) -> GradientReport:
    """Check a vector-Jacobian product: ``vjp(v, x, *args)`` must be ``∂⟨v, f(x, *args)⟩/∂x``.

    ``f`` returns an array of any shape; ``vjp`` returns an array shaped like ``x`` (or the
    same structure, for a structured ``x``). A random cotangent ``v`` (from ``seed``) turns it
    into a scalar check; on a failure, ``report.worst_index`` is the input entry and
    ``report.output_index`` the output entry. ``options`` are those of :func:`check_gradient`.

    Example::

        >>> import numpy as np
        >>> from nnderiv.formulas import sigmoid
        >>> z = np.array([[0.5, -1.0], [2.0, 0.1]])
        >>> f = lambda z: sigmoid(z)
        >>> vjp = lambda v, z: v * sigmoid(z) * (1 - sigmoid(z))
        >>> check_vjp(f, vjp, z).status
        'pass'
    """
    check_seed(seed)
    if not callable(f) or not callable(vjp):
        raise InvalidArgument(f"Expected f and vjp to be callables but got {f!r}, {vjp!r}")
    out = _outputs(f, x, args, getattr(f, "__name__", "f"))

    def claimed_for(cot: npt.NDArray[Any]) -> Callable[..., Any]:
        def claimed(xx: Any, *a: Any) -> Any:
            return vjp(cot.copy(), xx, *a)

        claimed.__name__ = getattr(vjp, "__name__", "vjp")
        return claimed

    return _cotangent_check(f, claimed_for, x, args, out, seed, options, "vjp")


def check_jvp(
    f: Callable[..., Any],
    jvp: Callable[..., Any],
    x: Any,
    *args: Any,
    seed: int = 0,
    **options: Any,
) -> GradientReport:
    """Check a Jacobian-vector product: ``jvp(t, x, *args)`` must be ``∂f(x, *args)·t``.

    ``t`` is shaped like ``x`` (the same structure, for a structured ``x``). With a random
    cotangent ``v``, the gradient of ``⟨v, f⟩`` is claimed entry by entry as
    ``⟨v, jvp(e_k, x)⟩`` — one ``jvp`` call per entry of ``x`` (at most 4,096 entries) for each
    point the checker asks — and checked like any gradient. ``worst_index`` is the input
    entry (the tangent's direction), ``output_index`` the output entry.
    """
    check_seed(seed)
    if not callable(f) or not callable(jvp):
        raise InvalidArgument(f"Expected f and jvp to be callables but got {f!r}, {jvp!r}")
    structure = Structure.of(x, "x") if Structure.is_structured(x) else None
    size = structure.size if structure is not None else np.asarray(x).size
    if size > JVP_MAX_ENTRIES:
        raise InvalidArgument(
            f"Expected at most {JVP_MAX_ENTRIES} entries in x for check_jvp (one jvp call per "
            f"entry) but got {size}; check the vjp instead (check_vjp)"
        )
    out = _outputs(f, x, args, getattr(f, "__name__", "f"))
    name = getattr(jvp, "__name__", "jvp")

    def column(t: Any, xx: Any, cot: npt.NDArray[Any], a: tuple[Any, ...]) -> float:
        col = np.asarray(jvp(t, xx, *a))
        if col.shape != cot.shape:
            raise InvalidArgument(
                f"Expected {name}(t, x, *args) to have the shape of f(x) {cot.shape} "
                f"but got {col.shape}"
            )
        return float(np.sum(cot * col))

    def claimed_for(cot: npt.NDArray[Any]) -> Callable[..., Any]:
        def claimed(xx: Any, *a: Any) -> Any:
            if structure is None:
                g = np.empty(np.shape(xx), dtype=np.float64)
                for k in range(g.size):
                    t = np.zeros(np.shape(xx), dtype=np.asarray(xx).dtype)
                    t.flat[k] = 1
                    g.flat[k] = column(t, xx, cot, a)
                return g
            here = Structure.of(xx, "x")
            flat = np.empty(here.size)
            for k in range(here.size):
                basis = np.zeros(here.size)
                basis[k] = 1
                flat[k] = column(here.unflatten(basis), xx, cot, a)
            return here.unflatten(flat)

        claimed.__name__ = name
        return claimed

    return _cotangent_check(f, claimed_for, x, args, out, seed, options, "jvp")


def check_hvp(
    grad: Callable[..., Any],
    hvp: Callable[..., Any],
    x: Any,
    *args: Any,
    seed: int = 0,
    **options: Any,
) -> GradientReport:
    """Check a Hessian-vector product: ``hvp(v, x, *args)`` must be ``∇²f(x)·v``, checked
    against finite differences of ``grad`` (the gradient of ``f``): ``hvp`` is the ``jvp`` of
    ``grad``. ``worst_index`` is the entry of ``v``'s direction, ``output_index`` the entry of
    ``∇²f·v``."""
    report = check_jvp(grad, hvp, x, *args, seed=seed, **options)
    report.name = f"hvp (jvp of {getattr(grad, '__name__', 'grad')})"
    return report
