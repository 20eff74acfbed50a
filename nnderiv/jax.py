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
    """Arguments and outputs as flat tuples of float64 numpy leaves, and back."""

    def __init__(self, args: Sequence[Any]) -> None:
        jax, _ = _jax()
        leaves, self.treedef = jax.tree_util.tree_flatten(tuple(args))
        if not leaves:
            raise InvalidArgument("Expected args to hold at least one array")
        self.x = tuple(np.asarray(leaf, dtype=np.float64) for leaf in leaves)

    def args(self, leaves: Sequence[Any]) -> tuple[Any, ...]:
        jax, jnp = _jax()
        return tuple(jax.tree_util.tree_unflatten(self.treedef, [jnp.asarray(v) for v in leaves]))

    def leaves_of(self, tree: Any) -> tuple[Any, ...]:
        jax, _ = _jax()
        return tuple(jax.tree_util.tree_leaves(tree))


def _flat_output(out: Any) -> tuple[Any, list[tuple[int, ...]]]:
    jax, _ = _jax()
    leaves = jax.tree_util.tree_leaves(out)
    shapes = [tuple(np.shape(leaf)) for leaf in leaves]
    flat = np.concatenate([np.asarray(leaf).reshape(-1) for leaf in leaves]) if leaves else None
    return flat, shapes


def _split(v: Any, shapes: list[tuple[int, ...]]) -> list[Any]:
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape)) if shape else 1
        out.append(v[start : start + size].reshape(shape))
        start += size
    return out


def _is_custom_vjp(f: Any) -> bool:
    jax, _ = _jax()
    return isinstance(f, jax.custom_vjp)


def check(
    f: Callable[..., Any], args: Sequence[Any], mode: str = "rev", *, seed: int = 0, **options: Any
) -> GradientReport:
    """One check of ``f``'s first derivative in ``mode`` (``"rev"``: ``jax.vjp``, ``"fwd"``:
    ``jax.jvp``) at ``args``; ``options`` are those of :func:`nnderiv.check_gradient`."""
    jax, jnp = _jax()
    if mode not in ("fwd", "rev"):
        raise InvalidArgument(f"Expected mode 'fwd' or 'rev' but got {mode!r}")
    if not callable(f):
        raise InvalidArgument(f"Expected f to be callable but got {f!r}")
    trees = _Pytrees(args)
    with jax.enable_x64(True):
        out0 = f(*trees.args(trees.x))
        _, shapes = _flat_output(out0)

        def fn(xs: Sequence[Any]) -> Any:
            flat, _ = _flat_output(f(*trees.args(xs)))
            return flat

        def vjp(v: Any, xs: Sequence[Any]) -> Any:
            out, pullback = jax.vjp(f, *trees.args(xs))
            cot = jax.tree_util.tree_unflatten(
                jax.tree_util.tree_structure(out),
                [
                    jnp.asarray(c, dtype=jnp.asarray(o).dtype)
                    for c, o in zip(
                        _split(np.asarray(v), shapes), jax.tree_util.tree_leaves(out), strict=True
                    )
                ],
            )
            grads = pullback(cot)
            return tuple(np.asarray(g, dtype=np.float64) for g in trees.leaves_of(grads))

        def jvp(t: Sequence[Any], xs: Sequence[Any]) -> Any:
            _, tangent_out = jax.jvp(f, trees.args(xs), trees.args(t))
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
    return report


def _derived(f: Callable[..., Any], mode: str, args: Sequence[Any], seed: int) -> Any:
    """The first-order map of ``f`` at a fixed random direction, as a function of the args:
    its own derivative is ``f``'s second."""
    jax, jnp = _jax()
    trees = _Pytrees(args)
    rng = np.random.default_rng([seed, 23])
    with jax.enable_x64(True):
        out0 = f(*trees.args(trees.x))
    if mode == "rev":
        cot = jax.tree_util.tree_map(
            lambda o: jnp.asarray(rng.uniform(0.5, 1.5, size=np.shape(o))), out0
        )

        def pulled(*a: Any) -> Any:
            _, pullback = jax.vjp(f, *a)
            return pullback(cot)

        return pulled
    tangent = trees.args([rng.uniform(0.5, 1.5, size=leaf.shape) for leaf in trees.x])

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
    jax, _ = _jax()
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
            with jax.enable_x64(True):
                derived = _derived(f, mode, args, seed)
            _check_orders(derived, args, order - 1, modes, seed)
