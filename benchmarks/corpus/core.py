"""Infrastructure of the blind corpus: the Case record, numpy-callable losses built from torch
expressions, claimed gradients from torch autograd, and the planted-bug mutators.

A case's loss ``fun(x)`` converts ``x`` to a torch tensor (float64, or float32 for a float32
case; complex ``x`` becomes complex128 / complex64) and evaluates a torch expression. Constants
are handed to the expression in the dtype of the tensor they meet (``K``), so a complex step
goes through whatever torch does with complex numbers, and raises where torch cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

F64, F32 = torch.float64, torch.float32
_COMPLEX = {F64: torch.complex128, F32: torch.complex64}
EPS64 = float(np.finfo(np.float64).eps)


def tensor_of(x: Any, real: torch.dtype) -> torch.Tensor:
    """A private torch copy of ``x`` in ``real`` (or its complex counterpart)."""
    a = np.array(x)  # always a fresh, writable copy
    if np.iscomplexobj(a):
        return torch.from_numpy(a.astype(np.complex128, copy=False)).to(_COMPLEX[real])
    return torch.from_numpy(a.astype(np.float64, copy=False)).to(real)


class K:
    """A constant array, handed out in the dtype of the tensor it is combined with."""

    def __init__(self, a: Any) -> None:
        self.a = np.asarray(a, dtype=np.float64)
        self._cache: dict[torch.dtype, torch.Tensor] = {}

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        c = self._cache.get(t.dtype)
        if c is None:
            c = self._cache[t.dtype] = torch.from_numpy(self.a).to(t.dtype)
        return c


def idx(a: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.long)


Expr = Callable[[torch.Tensor], torch.Tensor]


def make_fun(expr: Expr, real: torch.dtype) -> Callable[[Any], Any]:
    def fun(x: Any) -> Any:
        with torch.no_grad():
            out = expr(tensor_of(x, real))
        return out.detach().numpy()[()]

    return fun


def autograd(expr: Expr, x: np.ndarray) -> np.ndarray:
    real = F32 if x.dtype == np.float32 else F64
    t = tensor_of(x, real).requires_grad_(True)
    out = expr(t)
    (g,) = torch.autograd.grad(out, t, allow_unused=True, materialize_grads=True)
    return g.detach().numpy().astype(x.dtype).copy()


def _returns(g: np.ndarray) -> Callable[[Any], np.ndarray]:
    g = np.array(g, copy=True)
    g.setflags(write=False)

    def grad(x: Any) -> np.ndarray:
        return g.copy()

    return grad


@dataclass
class Case:
    name: str
    category: str
    x: np.ndarray
    fun: Callable[[Any], Any]
    grad: Callable[[Any], np.ndarray]
    truth: str  # "correct" | "buggy"
    bug: str = ""
    float32: bool = False
    note: str = ""
    claim: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    torch_grad: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    mp: Callable[[np.ndarray], Any] | None = field(default=None, repr=False)
    base: str = ""  # name of the point (shared by a correct case and its planted bugs)
    validate: str = "none"  # "mp": checked against mpmath; "kink": subgradient derived by hand
    expr: Expr | None = field(default=None, repr=False)
    value0: Any = field(default=None, repr=False)  # fun(x) when the case was built

    @property
    def size(self) -> int:
        return int(self.x.size)


# ---------------------------------------------------------------------------- bug mutators


def _where(g: np.ndarray, k: int) -> str:
    t = tuple(int(i) for i in np.unravel_index(k, g.shape))
    return str(t[0]) if len(t) == 1 else str(t)


def _pick(g: np.ndarray, how: Any, rng: np.random.Generator) -> int:
    a = np.abs(g.ravel())
    top = float(a.max())
    nz = np.flatnonzero(a > 0)
    if isinstance(how, int | np.integer):
        return int(how)
    if how == "largest":
        return int(np.argmax(a))
    if how == "smallest":
        return int(nz[np.argmin(a[nz])])
    if how == "random":
        return int(rng.choice(nz))
    if how == "typical":
        return int(rng.choice(np.flatnonzero(a >= 0.1 * top)))
    if isinstance(how, tuple) and how[0] == "ratio":
        r = np.log10(a[nz] / top)
        return int(nz[np.argmin(np.abs(r - np.log10(how[1])))])
    raise ValueError(how)


def mutate(
    g: np.ndarray, spec: tuple[Any, ...], rng: np.random.Generator
) -> tuple[np.ndarray, str]:
    """Apply one planted bug to the correct gradient ``g``; returns (claim, description)."""
    kind = spec[0]
    b = np.array(g, copy=True)
    flat = b.reshape(-1)
    top = float(np.max(np.abs(g)))

    def rel(k: int) -> str:
        return f"|g|={abs(float(g.reshape(-1)[k])) / top:.1e} of max"

    if kind == "scale":
        k = _pick(g, spec[1], rng)
        flat[k] *= spec[2]
        return b, f"entry {_where(g, k)} x{spec[2]:g} ({rel(k)})"
    if kind == "sign":
        k = _pick(g, spec[1], rng)
        flat[k] = -flat[k]
        return b, f"sign of entry {_where(g, k)} flipped ({rel(k)})"
    if kind == "zero":
        k = _pick(g, spec[1], rng)
        flat[k] = 0.0
        return b, f"entry {_where(g, k)} zeroed ({rel(k)})"
    if kind == "swap":
        a = np.abs(g.ravel())
        cand = np.flatnonzero(a >= 0.05 * top) if spec[1:] == () else np.flatnonzero(a > 0)
        for _ in range(1000):
            i, j = rng.choice(cand, 2, replace=False)
            gi, gj = float(g.reshape(-1)[i]), float(g.reshape(-1)[j])
            if abs(gi - gj) >= 0.05 * max(abs(gi), abs(gj)):
                break
        else:
            raise RuntimeError("no pair to swap")
        flat[i], flat[j] = flat[j], flat[i]
        return b, f"entries {_where(g, int(i))} and {_where(g, int(j))} swapped"
    if kind == "all":
        b = b * np.asarray(spec[1], dtype=g.dtype)
        return b, spec[2]
    if kind == "transpose":
        assert g.ndim == 2 and g.shape[0] == g.shape[1]
        assert np.max(np.abs(g - g.T)) > 1e-3 * top, "gradient is symmetric: transpose is no bug"
        return np.ascontiguousarray(g.T), "transposed (square matrix)"
    if kind == "noise":
        b = b * (1 + spec[1] * rng.standard_normal(g.shape)).astype(g.dtype)
        return b, f"relative noise {spec[1]:g} on every entry"
    if kind == "offset_last":
        d = spec[1] * top
        flat[-1] += d
        return b, f"additive offset {d:.2e} (= {spec[1]:g} x max|g|) on the last entry"
    raise ValueError(kind)


def bug_size(g: np.ndarray, b: np.ndarray) -> float:
    """Largest relative change of an entry (relative to that entry, or to max|g| if it is 0)."""
    top = float(np.max(np.abs(g))) or 1.0
    den = np.where(g != 0, np.abs(g), top)
    return float(np.max(np.abs(b - g) / den))


# ---------------------------------------------------------------------------- the corpus


class Corpus:
    def __init__(self) -> None:
        self.cases: list[Case] = []
        self._names: set[str] = set()

    def _add(self, case: Case) -> Case:
        assert case.name not in self._names, case.name
        self._names.add(case.name)
        self.cases.append(case)
        return case

    def point(
        self,
        category: str,
        name: str,
        x: np.ndarray,
        expr: Expr,
        bugs: tuple[Any, ...] | list[Any] = (),
        *,
        seed: int = 0,
        correct: bool = True,
        mp: Callable[[np.ndarray], Any] | None = None,
        note: str = "",
    ) -> np.ndarray:
        """One point: the correct case (torch autograd) and one buggy case per bug spec.

        A bug spec is a mutator tuple (see ``mutate``), ``("wrong", expr2, description)`` (the
        claimed gradient is torch autograd of a different expression) or
        ``("claim", array, description)``."""
        x = np.ascontiguousarray(x)
        f32 = x.dtype == np.float32
        real = F32 if f32 else F64
        fun = make_fun(expr, real)
        g = autograd(expr, x)
        assert np.all(np.isfinite(g)), name
        v = fun(x)
        assert np.isfinite(v), (name, v)
        common = dict(
            category=category,
            x=x,
            fun=fun,
            float32=f32,
            torch_grad=g,
            base=name,
            mp=mp,
            validate="mp" if mp is not None else "none",
            expr=expr,
            value0=v,
        )
        if correct:
            self._add(
                Case(name=name, grad=_returns(g), truth="correct", note=note, claim=g, **common)
            )  # type: ignore[arg-type]
        rng = np.random.default_rng(seed)
        for k, spec in enumerate(bugs):
            if spec[0] == "wrong":
                b = autograd(spec[1], x)
                desc = spec[2]
            elif spec[0] == "claim":
                b = np.asarray(spec[1], dtype=x.dtype).reshape(x.shape)
                desc = spec[2]
            else:
                b, desc = mutate(g, spec, rng)
            assert np.all(np.isfinite(b)), (name, desc)
            size = bug_size(g, b)
            assert size >= 1e-4 or spec[0] == "claim", (name, desc, size)
            label = spec[3] if spec[0] in ("wrong", "claim") and len(spec) > 3 else None
            cname = f"{name} / bug{k}:{label or spec[0]}"
            self._add(
                Case(
                    name=cname,
                    grad=_returns(b),
                    truth="buggy",
                    bug=desc,
                    note=note,
                    claim=b,
                    **common,
                )
            )  # type: ignore[arg-type]
        return g

    def claim(
        self,
        category: str,
        name: str,
        x: np.ndarray,
        expr: Expr,
        claim: np.ndarray,
        truth: str,
        desc: str,
        *,
        note: str = "",
    ) -> None:
        """A hand-derived claim at a kink: a valid subgradient (correct) or not one (buggy)."""
        x = np.ascontiguousarray(x)
        f32 = x.dtype == np.float32
        fun = make_fun(expr, F32 if f32 else F64)
        b = np.asarray(claim, dtype=x.dtype).reshape(x.shape)
        self._add(
            Case(
                name=name,
                category=category,
                x=x,
                fun=fun,
                grad=_returns(b),
                truth=truth,
                bug=desc if truth == "buggy" else "",
                float32=f32,
                note=(desc if truth == "correct" else note),
                claim=b,
                torch_grad=autograd(expr, x),
                base=name,
                validate="kink",
                expr=expr,
                value0=fun(x),
            )
        )

    def check_closures(self) -> None:
        """Every loss must still compute what it computed when built: guards against a closure
        that reads a variable rebound later (late binding), and against state in the loss."""
        bad = []
        for c in self.cases:
            try:
                v = c.fun(c.x)
                same = v == c.value0 and np.array_equal(autograd(c.expr, c.x), c.torch_grad)
            except Exception as exc:
                same = False
                v = exc
            if not same:
                bad.append(f"{c.name}: {v!r} vs {c.value0!r}")
        assert not bad, "losses changed after they were built:\n" + "\n".join(bad)
