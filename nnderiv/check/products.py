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

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import as_real_array, check_finite, check_seed
from ..errors import InvalidArgument
from .api import check_gradient, checked_kwargs
from .estimate import entry_scale
from .report import GradientReport
from .structure import LeafIndex, Structure

__all__ = ["check_hvp", "check_jvp", "check_vjp"]

#: most input entries for check_jvp (one jvp call per entry for each claimed gradient)
JVP_MAX_ENTRIES = 4096
#: random tangents for check_jvp above JVP_MAX_ENTRIES
JVP_TANGENTS = 8
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
    f, vjp = _bound(f, vjp, options)
    out = _outputs(f, x, args, getattr(f, "__name__", "f"))

    def claimed_for(cot: npt.NDArray[Any]) -> Callable[..., Any]:
        def claimed(xx: Any, *a: Any) -> Any:
            return vjp(cot.copy(), xx, *a)

        claimed.__name__ = getattr(vjp, "__name__", "vjp")
        return claimed

    return _cotangent_check(f, claimed_for, x, args, out, seed, options, "vjp")


class _Flat:
    """``x`` (an array or a structure) as one float64 vector over its checked entries; points
    and tangents rebuilt from such vectors in the leaves' own dtypes."""

    def __init__(self, x: Any, wrt: Sequence[Any] | None) -> None:
        self.structure: Structure | None = None
        if Structure.is_structured(x):
            self.structure = Structure.of(x, "x", wrt)
            self.x0 = self.structure.flatten(x, "x")
            self.dtype: np.dtype[Any] = self.structure.dtype_of_flat()
            self.shape: tuple[int, ...] = (self.structure.size,)
        else:
            if wrt is not None:
                raise InvalidArgument(
                    f"Expected wrt only with a structured x (a tuple, list or dict of arrays) "
                    f"but x is {type(x).__name__} and wrt={wrt!r}"
                )
            arr = as_real_array(x, "x", "x to be an array")
            check_finite(arr, "x")
            self.x0 = arr.astype(np.float64).ravel()
            self.dtype = arr.dtype
            self.shape = arr.shape
        self.size = self.x0.size

    def point(self, flat: npt.NDArray[Any]) -> Any:
        if self.structure is not None:
            return self.structure.unflatten(flat)
        target = np.result_type(self.dtype, np.complex64) if flat.dtype.kind == "c" else self.dtype
        return flat.reshape(self.shape).astype(target)

    def tangent(self, flat: npt.NDArray[Any]) -> Any:
        if self.structure is not None:
            return self.structure.unflatten(flat, tangent=True)
        return flat.reshape(self.shape).astype(self.dtype)

    def index(self, k: int) -> tuple[Any, ...]:
        if self.structure is not None:
            return self.structure.index(k)
        return tuple(int(i) for i in np.unravel_index(k, self.shape))


def _bound(
    f: Callable[..., Any], g: Callable[..., Any], options: dict[str, Any]
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``f`` and the claimed product with ``kwargs=`` bound (taken out of ``options``)."""
    kwargs = options.pop("kwargs", None)
    if kwargs is None:
        return f, g
    bound = checked_kwargs(kwargs)

    def f_kw(x: Any, *args: Any) -> Any:
        return f(x, *args, **bound)

    def g_kw(v: Any, x: Any, *args: Any) -> Any:
        return g(v, x, *args, **bound)

    f_kw.__name__ = getattr(f, "__name__", "f")
    g_kw.__name__ = getattr(g, "__name__", "g")
    return f_kw, g_kw


def check_jvp(
    f: Callable[..., Any],
    jvp: Callable[..., Any],
    x: Any,
    *args: Any,
    seed: int = 0,
    **options: Any,
) -> GradientReport:
    """Check a Jacobian-vector product: ``jvp(t, x, *args)`` must be ``∂f(x, *args)·t``.

    ``t`` is shaped like ``x`` (the same structure, for a structured ``x``; zeros on leaves
    left out by ``wrt=``). With a random cotangent ``v``, the gradient of ``⟨v, f⟩`` is
    claimed entry by entry as ``⟨v, jvp(e_k, x)⟩`` — one ``jvp`` call per entry of ``x`` for
    each point the checker asks — and checked like any gradient. Above 4,096 entries, it is
    checked along 8 random tangents instead (``⟨v, jvp(t, x)⟩`` against the derivative of
    ``⟨v, f(x + s·t)⟩``), and a failure is localised by bisecting the tangent's support.
    ``worst_index`` is the input entry (the tangent's direction), ``output_index`` the output
    entry.
    """
    check_seed(seed)
    if not callable(f) or not callable(jvp):
        raise InvalidArgument(f"Expected f and jvp to be callables but got {f!r}, {jvp!r}")
    f, jvp = _bound(f, jvp, options)
    flat = _Flat(x, options.get("wrt"))
    out = _outputs(f, x, args, getattr(f, "__name__", "f"))
    name = getattr(jvp, "__name__", "jvp")

    def column(t: Any, xx: Any, cot: npt.NDArray[Any], a: tuple[Any, ...]) -> np.floating[Any]:
        """``⟨cot, jvp(t, x)⟩``, in the jvp's own precision (a float32 jvp's contraction is
        held to float32's rounding, as its entries are)."""
        col = np.asarray(jvp(t, xx, *a))
        if col.shape != cot.shape:
            raise InvalidArgument(
                f"Expected {name}(t, x, *args) to have the shape of f(x) {cot.shape} "
                f"but got {col.shape}"
            )
        if col.dtype.kind not in "fiu":
            raise InvalidArgument(
                f"Expected {name}(t, x, *args) to return a real array but got dtype {col.dtype}"
            )
        kind = col.dtype if col.dtype.kind == "f" else np.dtype(np.float64)
        return kind.type(np.sum(cot * col))

    if flat.size > JVP_MAX_ENTRIES:
        return _projected_jvp(f, column, flat, x, args, out, seed, options)

    def claimed_for(cot: npt.NDArray[Any]) -> Callable[..., Any]:
        def claimed(xx: Any, *a: Any) -> Any:
            values = []
            for k in range(flat.size):
                basis = np.zeros(flat.size)
                basis[k] = 1
                values.append(column(flat.tangent(basis), xx, cot, a))
            g = np.array(values)
            if flat.structure is None:
                return g.reshape(flat.shape)
            return flat.structure.unflatten(g)

        claimed.__name__ = name
        return claimed

    return _cotangent_check(f, claimed_for, x, args, out, seed, options, "jvp")


def _projected_jvp(
    f: Callable[..., Any],
    column: Callable[[Any, Any, npt.NDArray[Any], tuple[Any, ...]], np.floating[Any]],
    flat: _Flat,
    x: Any,
    args: tuple[Any, ...],
    out: npt.NDArray[Any],
    seed: int,
    options: dict[str, Any],
) -> GradientReport:
    """check_jvp for a large ``x``: the derivative of ``s ↦ ⟨v, f(x + Σ (s_k − 1) t_k)⟩`` at
    ``s = 1`` has entries ``⟨v, jvp(t_k, x)⟩``; checked along ``JVP_TANGENTS`` random
    tangents ``t_k`` scaled like the checker's own steps, then localised by bisection."""
    options = {k: w for k, w in options.items() if k != "wrt"}
    v = _cotangent(out.shape, seed)
    rng = np.random.default_rng([seed, 13])
    scale = entry_scale(flat.x0)
    tangents = rng.uniform(0.5, 1.5, size=(JVP_TANGENTS, flat.size)) * scale
    tangents *= rng.choice([-1.0, 1.0], size=tangents.shape)
    evaluations = 0

    def run(T: npt.NDArray[np.float64], cot: npt.NDArray[Any]) -> GradientReport:
        nonlocal evaluations

        def along(s: npt.NDArray[Any], *a: Any) -> Any:
            moved = flat.x0 + (s - 1) @ T
            vals = np.asarray(f(flat.point(moved), *a))
            if vals.shape != cot.shape:
                raise InvalidArgument(
                    f"Expected f(x, *args) to keep the shape {cot.shape} of its output at x "
                    f"but got {vals.shape}"
                )
            return np.sum(cot * vals)

        def claimed(s: npt.NDArray[Any], *a: Any) -> Any:
            here = flat.point(flat.x0 + (np.asarray(s, dtype=np.float64) - 1) @ T)
            return np.array([column(flat.tangent(t), here, cot, a) for t in T])

        along.__name__ = f"<v, {getattr(f, '__name__', 'f')}>"
        claimed.__name__ = "jvp"
        report = check_gradient(
            along, claimed, np.ones(len(T), dtype=flat.dtype), *args, seed=seed, **options
        )
        evaluations += report.evaluations
        return report

    report = run(tangents, v)
    where = (
        f"{JVP_TANGENTS} random tangents (x has {flat.size} entries, above {JVP_MAX_ENTRIES} "
        "for one jvp per entry)"
    )
    if report.status != "fail":
        report.entries = [replace(e, index=LeafIndex("tangent", e.index)) for e in report.entries]
        report.worst_index = None
        return _as_jvp_report(report, f, flat, where, evaluations)
    k = report.worst_index[0] if report.worst_index else 0
    support = np.flatnonzero(tangents[k])
    failing = report

    def single(indices: npt.NDArray[np.int64]) -> GradientReport:
        t = np.zeros((1, flat.size))
        t[0, indices] = tangents[k, indices]
        return run(t, v)

    for _ in range(MAX_OUTPUT_BISECTIONS):
        if support.size == 1:
            break
        half, rest = support[: support.size // 2], support[support.size // 2 :]
        trial = single(half)
        if trial.status == "fail":
            support, failing = half, trial
            continue
        trial = single(rest)
        if trial.status != "fail":
            break  # only the whole tangent shows it (errors that cancel in halves)
        support, failing = rest, trial
    if support.size == 1:
        j = int(support[0])
        failing.worst_index = flat.index(j)
        failing.entries = [replace(e, index=flat.index(j)) for e in failing.entries]
        t1 = np.zeros((1, flat.size))
        t1[0, j] = tangents[k, j]
        if out.size > 1:
            failing.output_index = _localise_output(lambda cot: run(t1, cot), v)
        where += f"; the wrong entry found by bisecting tangent {k}'s support"
    else:
        failing.worst_index = None
        failing.entries = [replace(e, index=LeafIndex("tangent", e.index)) for e in failing.entries]
        where += f"; tangent {k} fails but no single entry of it alone"
    return _as_jvp_report(failing, f, flat, where, evaluations)


def _as_jvp_report(
    report: GradientReport, f: Callable[..., Any], flat: _Flat, where: str, evaluations: int
) -> GradientReport:
    report.name = f"jvp of {getattr(f, '__name__', 'f')}"
    report.checked = where
    report.evaluations = evaluations
    report.shape = flat.shape
    if flat.structure is not None:
        report.layout = flat.structure.describe()
    return report


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
    ``∇²f·v``. For a structured ``x`` (``{"W": …, "b": …}``), ``grad`` and ``hvp`` return that
    structure, ``v`` has it, and ``output_index`` names the leaf (``("b", (1,))``)."""
    if not Structure.is_structured(x):
        report = check_jvp(grad, hvp, x, *args, seed=seed, **options)
        report.name = f"hvp (jvp of {getattr(grad, '__name__', 'grad')})"
        return report
    structure = Structure.of(x, "x")  # the outputs: every leaf of x, as grad returns them
    g_name = getattr(grad, "__name__", "grad")
    h_name = getattr(hvp, "__name__", "hvp")
    grad, hvp = _bound(grad, hvp, options)

    shaped: list[bool] = []  # grad returned x's structure (else one array of its own)

    def as_flat(out: Any, label: str) -> Any:
        if Structure.is_structured(out):
            shaped[:] = [True]
            return structure.flatten(out, label)
        return np.asarray(out)

    def flat_grad(xx: Any, *a: Any) -> Any:
        return as_flat(grad(xx, *a), f"{g_name}(x)")

    def flat_hvp(v: Any, xx: Any, *a: Any) -> Any:
        return as_flat(hvp(v, xx, *a), f"{h_name}(v, x)")

    flat_grad.__name__, flat_hvp.__name__ = g_name, h_name
    report = check_jvp(flat_grad, flat_hvp, x, *args, seed=seed, **options)
    report.name = f"hvp (jvp of {g_name})"
    if report.output_index is not None and shaped:
        report.output_index = structure.index(int(report.output_index[0]))
    return report
