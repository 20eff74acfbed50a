"""JAX adapter (``pip install nnderiv[jax]``): ``jax.jvp`` and ``jax.vjp`` — ``custom_jvp`` and
``custom_vjp`` rules included — checked by nnderiv's finite differences.

* :func:`check_grads` — ``check_grads(f, args, order=1, modes=("fwd", "rev"))`` in jax's
  calling convention (``jax.test_util.check_grads``): returns ``None`` or raises
  :class:`JaxGradcheckError` (an ``AssertionError``, as jax's own failure is). ``atol``,
  ``rtol`` and ``eps`` are accepted and ignored (the error estimates decide). ``args`` may be
  pytrees of arrays.
* :func:`check` — one mode at one order, returning the :class:`GradientReport`.

Numerics run in float64 inside ``jax.enable_x64(True)``, a context manager: the user's global
``jax_enable_x64`` setting is left as it was. A ``custom_vjp`` function has no forward mode:
``"fwd"`` is then skipped with a :class:`UserWarning` saying so, and ``"rev"`` is checked.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .check.products import check_jvp, check_vjp
from .check.report import GradientReport
from .check.structure import LeafIndex
from .errors import GradientMismatch, InvalidArgument

__all__ = ["JaxGradcheckError", "check", "check_grads"]


class JaxGradcheckError(GradientMismatch):
    """A jax derivative disagrees with finite differences (or could not be decided)."""


def _jax() -> tuple[Any, Any]:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise InvalidArgument("nnderiv.jax needs JAX: pip install 'nnderiv[jax]'") from exc
    return jax, jnp


class _Pytrees:
    """Arguments as float64 numpy leaves named by their key paths (``args[0]['W']``), and
    back."""

    def __init__(self, args: Sequence[Any]) -> None:
        jax, _ = _jax()
        pairs, self.treedef = jax.tree_util.tree_flatten_with_path(tuple(args))
        self.names = ["args" + jax.tree_util.keystr(path) for path, _ in pairs]
        # integer and boolean leaves (labels, indices) are held fixed, as jax holds them
        self.fixed = {
            name: leaf
            for name, (_, leaf) in zip(self.names, pairs, strict=True)
            if np.asarray(leaf).dtype.kind != "f"
        }
        self.x = {
            name: np.asarray(leaf, dtype=np.float64)
            for name, (_, leaf) in zip(self.names, pairs, strict=True)
            if name not in self.fixed
        }
        if not self.x:
            raise InvalidArgument(
                f"Expected args to hold at least one floating-point array but got {len(pairs)} "
                "leaves, none floating-point"
            )

    def args(self, leaves: dict[str, Any]) -> tuple[Any, ...]:
        jax, jnp = _jax()
        values = [
            self.fixed[name] if name in self.fixed else jnp.asarray(leaves[name])
            for name in self.names
        ]
        return tuple(jax.tree_util.tree_unflatten(self.treedef, values))

    def named(self, tree: Any) -> dict[str, Any]:
        """The float leaves of a tree shaped like the args (a cotangent of them), by name."""
        jax, _ = _jax()
        leaves = jax.tree_util.tree_leaves(tree)
        out = {}
        for name, leaf in zip(self.names, leaves, strict=True):
            if name in self.x:
                out[name] = np.asarray(leaf, dtype=np.float64)
        return out

    def tangent(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """A tangent of the args: ``values`` on the float leaves, float0 zeros on the others."""
        jax, jnp = _jax()
        leaves = []
        for name in self.names:
            if name in self.fixed:
                leaves.append(np.zeros(np.shape(self.fixed[name]), dtype=jax.dtypes.float0))
            else:
                leaves.append(jnp.asarray(values[name]))
        return tuple(jax.tree_util.tree_unflatten(self.treedef, leaves))


def _x64() -> Any:
    """A context in which jax computes in float64, leaving the global setting as it was:
    ``jax.enable_x64`` (jax ≥ 0.4.36) or ``jax.experimental.enable_x64`` (older)."""
    jax, _ = _jax()
    scoped: Any = getattr(jax, "enable_x64", None)
    if scoped is None:
        import importlib

        scoped = getattr(importlib.import_module("jax.experimental"), "enable_x64", None)
    if scoped is None:  # pragma: no cover - depends on the jax version
        raise InvalidArgument(
            f"nnderiv.jax needs a scoped float64 switch (jax.enable_x64 or "
            f"jax.experimental.enable_x64) but jax {jax.__version__} has neither; the "
            "global jax_enable_x64 setting is not changed behind your back: upgrade jax"
        )
    return scoped(True)


def _floating(leaf: Any) -> bool:
    return bool(np.asarray(leaf).dtype.kind == "f")


def _flat_output(out: Any) -> tuple[Any, list[tuple[str, tuple[int, ...]]]]:
    """The floating-point leaves of ``f``'s output as one vector, with their names and shapes
    (integer and float0 leaves have no derivative to check)."""
    jax, _ = _jax()
    pairs = jax.tree_util.tree_flatten_with_path(out)[0]
    named = [("out" + jax.tree_util.keystr(p), leaf) for p, leaf in pairs if _floating(leaf)]
    if not named:
        raise InvalidArgument(
            f"Expected f to return at least one floating-point array but got {type(out).__name__}"
        )
    shapes = [(name, tuple(np.shape(leaf))) for name, leaf in named]
    flat = np.concatenate([np.asarray(leaf, dtype=np.float64).reshape(-1) for _, leaf in named])
    return flat, shapes


def _cotangent_tree(out: Any, v: Any) -> Any:
    """``v`` (flat, over the floating leaves) as a cotangent of the output tree ``out``."""
    jax, jnp = _jax()
    leaves, treedef = jax.tree_util.tree_flatten(out)
    v = np.ravel(np.asarray(v))
    cot, start = [], 0
    for leaf in leaves:
        shape = tuple(np.shape(leaf))
        if not _floating(leaf):
            cot.append(np.zeros(shape, dtype=jax.dtypes.float0))
            continue
        size = int(np.prod(shape))
        cot.append(
            jnp.asarray(v[start : start + size].reshape(shape), dtype=jnp.asarray(leaf).dtype)
        )
        start += size
    return jax.tree_util.tree_unflatten(treedef, cot)


def _output_entry(flat: int, shapes: list[tuple[str, tuple[int, ...]]]) -> tuple[Any, ...]:
    """A flat output index as the entry of its leaf (``(2, 1)``, or ``out[1][2, 1]``)."""
    start = 0
    for name, shape in shapes:
        size = int(np.prod(shape))
        if flat < start + size:
            idx = tuple(int(i) for i in np.unravel_index(flat - start, shape)) if shape else ()
            return idx if len(shapes) == 1 else LeafIndex(name, idx)
        start += size
    raise IndexError(flat)


def _is_custom_vjp(f: Any) -> bool:
    jax, _ = _jax()
    return isinstance(f, jax.custom_vjp)


def check(
    f: Callable[..., Any], args: Sequence[Any], mode: str = "rev", *, seed: int = 0, **options: Any
) -> GradientReport:
    """One check of ``f``'s first derivative in ``mode`` (``"rev"``: ``jax.vjp``, ``"fwd"``:
    ``jax.jvp``) at ``args``; ``options`` are those of :func:`nnderiv.check_gradient`."""
    jax, _ = _jax()
    if mode not in ("fwd", "rev"):
        raise InvalidArgument(f"Expected mode 'fwd' or 'rev' but got {mode!r}")
    if not callable(f):
        raise InvalidArgument(f"Expected f to be callable but got {f!r}")
    trees = _Pytrees(args)
    with _x64():
        out0 = f(*trees.args(trees.x))
        _, shapes = _flat_output(out0)

        def fn(xs: dict[str, Any]) -> Any:
            flat, _ = _flat_output(f(*trees.args(xs)))
            return flat

        def vjp(v: Any, xs: dict[str, Any]) -> Any:
            out, pullback = jax.vjp(f, *trees.args(xs))
            return trees.named(pullback(_cotangent_tree(out, v)))

        def jvp(t: dict[str, Any], xs: dict[str, Any]) -> Any:
            _, tangent_out = jax.jvp(f, trees.args(xs), trees.tangent(t))
            flat, _ = _flat_output(tangent_out)
            return flat

        name = getattr(f, "__name__", type(f).__name__)
        fn.__name__ = name
        vjp.__name__ = "jax.vjp"
        jvp.__name__ = "jax.jvp"
        if mode == "rev":
            report = check_vjp(fn, vjp, trees.x, seed=seed, **options)
        else:
            report = check_jvp(fn, jvp, trees.x, seed=seed, **options)
    report.name = f"jax.{'vjp' if mode == 'rev' else 'jvp'} of {name}"
    if report.output_index is not None:
        report.output_index = _output_entry(report.output_index[0], shapes)
    return report


def _derived(f: Callable[..., Any], mode: str, args: Sequence[Any], seed: int) -> Any:
    """The first-order map of ``f`` at a fixed random direction, as a function of the args:
    its own derivative is ``f``'s second."""
    jax, _ = _jax()
    trees = _Pytrees(args)
    rng = np.random.default_rng([seed, 23])
    with _x64():
        out0 = f(*trees.args(trees.x))
    if mode == "rev":
        flat, _ = _flat_output(out0)
        cot = _cotangent_tree(out0, rng.uniform(0.5, 1.5, size=flat.size))

        def pulled(*a: Any) -> Any:
            _, pullback = jax.vjp(f, *a)
            return pullback(cot)

        return pulled
    tangent = trees.tangent(
        {k: rng.uniform(0.5, 1.5, size=leaf.shape) for k, leaf in trees.x.items()}
    )

    def pushed(*a: Any) -> Any:
        return jax.jvp(f, a, tangent)[1]

    return pushed


def check_grads(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 1,
    modes: Sequence[str] = ("fwd", "rev"),
    atol: Any = None,
    rtol: Any = None,
    eps: Any = None,
    *,
    seed: int = 0,
) -> None:
    """``jax.test_util.check_grads`` with nnderiv's decision: ``None``, or
    :class:`JaxGradcheckError` with the report of the first check that did not pass."""
    del atol, rtol, eps  # accepted for jax's signature; the error estimates decide
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise InvalidArgument(f"Expected order >= 1 but got order={order!r}")
    if isinstance(modes, str) or not all(m in ("fwd", "rev") for m in modes):
        raise InvalidArgument(f"Expected modes among ('fwd', 'rev') but got modes={modes!r}")
    if not isinstance(args, (tuple, list)):
        raise InvalidArgument(f"Expected args to be a tuple of arguments but got {args!r}")
    _check_orders(f, tuple(args), order, tuple(modes), seed)


def _check_orders(
    f: Callable[..., Any], args: tuple[Any, ...], order: int, modes: tuple[str, ...], seed: int
) -> None:
    _jax()
    for mode in modes:
        if mode == "fwd" and _is_custom_vjp(f):
            warnings.warn(
                f"{getattr(f, '__name__', 'f')} is a jax.custom_vjp function: it has no forward "
                "mode (jax.jvp cannot apply to it); 'fwd' was not checked, 'rev' is",
                UserWarning,
                stacklevel=3,
            )
            continue
        report = check(f, args, mode, seed=seed)
        if report.status != "pass":
            prefix = "" if report.status == "fail" else "nnderiv could not decide (not a pass):\n"
            raise JaxGradcheckError(f"{prefix}{report}", report)
        if order > 1:
            with _x64():
                derived = _derived(f, mode, args, seed)
            _check_orders(derived, args, order - 1, modes, seed)
