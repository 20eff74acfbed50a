"""Structured inputs: ``x`` as a tuple, list or dict of arrays (nested), checked as one vector.

The checker works on one flat float64 vector; the user's ``fun`` and ``grad`` see the
structure they wrote, each leaf rebuilt in its own dtype (and complex dtype for complex step),
and ``grad`` must return the same structure. An entry is named by its leaf and its index:
``worst_index == ("W2", (3, 1))``, shown as ``W2[3, 1]``.

Example::

    >>> import numpy as np
    >>> s = Structure.of({"W": np.zeros((2, 2)), "b": np.zeros(2)}, "x")
    >>> s.size, s.index(5)
    (6, b[1])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import as_real_array, check_finite
from ..errors import InvalidArgument

__all__ = ["LeafIndex", "Structure"]

Path = tuple[Any, ...]


class LeafIndex(tuple):  # type: ignore[type-arg]
    """``(path, index)`` of one entry of a structured ``x``: equal to the plain tuple
    ``("W2", (3, 1))``, printed ``W2[3, 1]``."""

    def __new__(cls, path: Any, index: tuple[int, ...]) -> LeafIndex:
        return super().__new__(cls, (path, index))

    def __repr__(self) -> str:
        path, index = self
        return f"{_path_text(path)}[{', '.join(map(str, index))}]"

    __str__ = __repr__


def _path_text(path: Any) -> str:
    """``W2``, ``x[0]``, ``layer1['W']``: a key names itself, a position is shown on x."""
    parts = path if isinstance(path, tuple) else (path,)
    head, rest = parts[0], parts[1:]
    text = head if isinstance(head, str) else f"x[{head!r}]"
    return text + "".join(f"[{p!r}]" for p in rest)


@dataclass(frozen=True)
class _Leaf:
    path: Path  # keys and positions from the root
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    offset: int
    size: int

    @property
    def name(self) -> Any:
        """The leaf's name in ``worst_index``: its key (one level) or its path (nested)."""
        return self.path[0] if len(self.path) == 1 else self.path


class Structure:
    """The layout of a structured ``x``: its leaves in order, and how to rebuild it."""

    def __init__(self, template: Any, leaves: list[_Leaf], fixed: dict[Path, Any]) -> None:
        self.template = template
        self.leaves = leaves
        self.fixed = fixed  # leaves left out by wrt=: passed through unchanged
        self.size = sum(leaf.size for leaf in leaves)

    # -- building ---------------------------------------------------------------------------
    @staticmethod
    def is_structured(x: Any) -> bool:
        """A dict, or a tuple or list holding arrays (or dicts, tuples): ``(W, b)``. A list of
        plain numbers (``[[1, 2], [3, 4]]``) is an array, as numpy reads it."""
        if isinstance(x, Mapping):
            return True
        if isinstance(x, (tuple, list)):
            return any(not _plain(item) for item in x)
        return False

    @classmethod
    def of(cls, x: Any, name: str, wrt: Sequence[Any] | None = None) -> Structure:
        leaves: list[_Leaf] = []
        fixed: dict[Path, Any] = {}
        offset = 0
        selected = None if wrt is None else list(wrt)
        found: set[Any] = set()
        for path, value in _walk(x, ()):
            label = _path_text((name, *path)) if path else name
            arr = as_real_array(value, label, f"{label} to be an array")
            check_finite(arr, label)
            top = path[0] if path else None
            if selected is not None and top not in selected:
                fixed[path] = arr
                continue
            found.add(top)
            leaves.append(_Leaf(path, arr.shape, arr.dtype, offset, arr.size))
            offset += arr.size
        if selected is not None:
            missing = [w for w in selected if w not in found]
            if missing:
                keys = [p[0] for p, _ in _walk(x, ()) if p]
                raise InvalidArgument(
                    f"Expected wrt to name keys or positions of {name} ({_listed(keys)}) "
                    f"but got {missing!r}"
                )
        if not leaves:
            raise InvalidArgument(f"Expected {name} to hold at least one array to check")
        return cls(x, leaves, fixed)

    # -- moving between the structure and the flat vector ------------------------------------
    def flatten(self, tree: Any, name: str) -> npt.NDArray[np.float64]:
        """``tree`` (the user's structure, e.g. what ``grad`` returned) as one float64 vector;
        a missing key, an extra key or a wrong shape is an InvalidArgument naming the path."""
        given = dict(_walk_matching(tree, self.template, (), name))
        out = np.empty(self.size)
        for leaf in self.leaves:
            label = _path_text((name, *leaf.path))
            if leaf.path not in given:
                raise InvalidArgument(f"Expected {label} in {name} but it is missing")
            arr = as_real_array(given[leaf.path], label, f"{label} to be an array")
            if arr.shape != leaf.shape:
                raise InvalidArgument(
                    f"Expected {label} to have the shape {leaf.shape} of the input but got "
                    f"{arr.shape}"
                )
            out[leaf.offset : leaf.offset + leaf.size] = arr.ravel()
        return out

    def dtype_of_flat(self) -> np.dtype[Any]:
        """The narrowest leaf dtype (the resolution the steps must be sized for)."""
        return min((leaf.dtype for leaf in self.leaves), key=lambda d: d.itemsize)

    def unflatten(self, v: npt.NDArray[Any], *, tangent: bool = False) -> Any:
        """The structure with each leaf taken from ``v`` in its own dtype (complex: its complex
        counterpart). The leaves left out by ``wrt=`` keep their values, or are zeros for a
        ``tangent``."""
        values: dict[Path, Any] = (
            {p: np.zeros_like(a) for p, a in self.fixed.items()} if tangent else dict(self.fixed)
        )
        for leaf in self.leaves:
            part = v[leaf.offset : leaf.offset + leaf.size].reshape(leaf.shape)
            target = np.result_type(leaf.dtype, np.complex64) if v.dtype.kind == "c" else leaf.dtype
            values[leaf.path] = part.astype(target, copy=True)
        return _rebuild(self.template, (), values)

    def describe(self) -> str:
        """``{W1: (4, 3), b1: (4, 1), W2: (2, 4) float32}``: the checked leaves."""
        parts = []
        for leaf in self.leaves:
            dtype = "" if leaf.dtype == np.float64 else f" {leaf.dtype.name}"
            parts.append(f"{_path_text(leaf.name)}: {leaf.shape}{dtype}")
        fixed = f"; not checked: {len(self.fixed)}" if self.fixed else ""
        return "{" + ", ".join(parts) + "}" + fixed

    def index(self, k: int) -> LeafIndex:
        for leaf in self.leaves:
            if leaf.offset <= k < leaf.offset + leaf.size:
                idx = np.unravel_index(k - leaf.offset, leaf.shape) if leaf.shape else ()
                return LeafIndex(leaf.name, tuple(int(i) for i in idx))
        raise IndexError(k)

    def wrap(
        self, fun: Callable[..., Any], grad: Callable[..., Any], grad_name: str
    ) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """``fun`` and ``grad`` on the flat vector."""

        def flat_fun(v: npt.NDArray[Any], *args: Any) -> Any:
            return fun(self.unflatten(v), *args)

        def flat_grad(v: npt.NDArray[Any], *args: Any) -> Any:
            return self.flatten(grad(self.unflatten(v), *args), f"{grad_name}(x)")

        flat_fun.__name__ = getattr(fun, "__name__", "fun")
        flat_grad.__name__ = grad_name
        return flat_fun, flat_grad


def _plain(item: Any) -> bool:
    """A Python number, or a list of them (nested): part of one array, not a leaf."""
    if isinstance(item, (bool, int, float)):
        return True
    if isinstance(item, (tuple, list)):
        return all(_plain(i) for i in item)
    return False


def _listed(keys: list[Any]) -> str:
    return ", ".join(repr(k) for k in dict.fromkeys(keys)) or "none"


def _walk(x: Any, path: Path) -> list[tuple[Path, Any]]:
    if isinstance(x, Mapping):
        out = []
        for key, value in x.items():
            out += _walk(value, (*path, key))
        return out
    if isinstance(x, (tuple, list)):
        out = []
        for pos, value in enumerate(x):
            out += _walk(value, (*path, pos))
        return out
    return [(path, x)]


def _walk_matching(tree: Any, template: Any, path: Path, name: str) -> list[tuple[Path, Any]]:
    """Like :func:`_walk`, checking that ``tree`` has the structure of ``template``."""
    label = _path_text((name, *path)) if path else name
    if isinstance(template, Mapping):
        if not isinstance(tree, Mapping):
            raise InvalidArgument(
                f"Expected {label} to be a dict with keys {_listed(list(template))} like the "
                f"input but got {type(tree).__name__}"
            )
        extra = [k for k in tree if k not in template]
        missing = [k for k in template if k not in tree]
        if extra or missing:
            raise InvalidArgument(
                f"Expected {label} to have the keys of the input ({_listed(list(template))}) "
                f"but got {_listed(list(tree))}"
                + (f" (missing {missing!r})" if missing else "")
                + (f" (extra {extra!r})" if extra else "")
            )
        out = []
        for key in template:
            out += _walk_matching(tree[key], template[key], (*path, key), name)
        return out
    if isinstance(template, (tuple, list)):
        if not isinstance(tree, (tuple, list)) or len(tree) != len(template):
            got = (
                f"{type(tree).__name__} of length {len(tree)}"
                if isinstance(tree, (tuple, list))
                else type(tree).__name__
            )
            raise InvalidArgument(
                f"Expected {label} to be a sequence of {len(template)} like the input but got {got}"
            )
        out = []
        for pos, (value, tmpl) in enumerate(zip(tree, template, strict=True)):
            out += _walk_matching(value, tmpl, (*path, pos), name)
        return out
    return [(path, tree)]


def _rebuild(template: Any, path: Path, values: dict[Path, Any]) -> Any:
    if isinstance(template, Mapping):
        return {key: _rebuild(value, (*path, key), values) for key, value in template.items()}
    if isinstance(template, (tuple, list)):
        items = [_rebuild(value, (*path, pos), values) for pos, value in enumerate(template)]
        return type(template)(items) if type(template) in (tuple, list) else items
    return values[path]
