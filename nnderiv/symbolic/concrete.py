"""The second, independent proof path: every entry at a concrete small shape.

The graph is evaluated at concrete indices into one explicit sympy expression ``J`` over a
``Matrix`` of symbols (``a_ji``, ``y_ji``, or ``z_ji`` with ``A = g(Z)`` written with ``exp``),
differentiated entry by entry with ``sympy.diff`` (no reverse accumulation, no ``Indexed``), and
each entry compared with the closed-form rule of ``formulas``: ``together`` and an expanded
numerator, with ``exp(z)`` replaced by a positive symbol.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import sympy as sp

from ..errors import InvalidArgument
from .derive import Proof, decide_zero
from .graphs import Graph, graph_for, i, j, m

__all__ = ["ConcreteProof", "prove_concrete"]


@dataclass(frozen=True)
class ConcreteProof:
    """Per-entry outcome at one concrete shape."""

    task: str
    wrt: str
    shape: tuple[int, int]
    entries: dict[tuple[int, int], Proof]
    seconds: float

    @property
    def proved(self) -> bool:
        return all(pr.proved for pr in self.entries.values())

    @property
    def status(self) -> str:
        statuses = {pr.status for pr in self.entries.values()}
        for s in ("disproved", "unknown"):
            if s in statuses:
                return s
        return "proved"


def _matrix(name: str, shape: tuple[int, int], **assumptions: bool) -> sp.Matrix:
    rows, cols = shape
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r}{c}", **assumptions))


def evaluate_graph(graph: Graph, A: sp.Matrix, Y: sp.Matrix) -> sp.Expr:
    """``J`` of the graph at a concrete shape, with every sum written out."""
    nrows, ncols = A.shape
    ranges = {j: range(nrows), i: range(ncols)}
    values: dict[tuple[str, tuple[int, ...]], sp.Expr] = {}

    def concrete(expr: sp.Expr, at: dict[sp.Symbol, int]) -> sp.Expr:
        expr = expr.xreplace({**{k: sp.Integer(v) for k, v in at.items()}, m: sp.Integer(ncols)})
        repl: dict[sp.Expr, sp.Expr] = {}
        for ind in expr.atoms(sp.Indexed):
            label, idx = str(ind.base.label), tuple(int(k) for k in ind.indices)
            r, c = (0, idx[0]) if len(idx) == 1 else idx
            if label == "a":
                repl[ind] = A[r, c]
            elif label == "y":
                repl[ind] = Y[r, c]
            else:
                repl[ind] = values[(label, idx)]
        for sym in expr.free_symbols:
            if (str(sym), ()) in values:
                repl[sym] = values[(str(sym), ())]
        return expr.xreplace(repl)

    for node in graph.nodes:
        for combo in itertools.product(*(ranges[s] for s in node.indices)):
            at = dict(zip(node.indices, combo, strict=True))
            if node.sum_over is None:
                val = concrete(node.body, at)
            else:
                idx = node.sum_over[0]
                val = sp.Add(*(concrete(node.body, {**at, idx: v}) for v in ranges[idx]))
            values[(node.name, tuple(combo))] = val
    return values[(graph.nodes[-1].name, ())]


def _activation(graph: Graph, E: sp.Matrix) -> sp.Matrix:
    """``A = g(Z)`` written in ``E = exp(Z)`` (positive symbols), so that ``dE/dz = E``."""
    out: sp.Matrix = graph.loss.activation.of_exp(E)
    return out


def prove_concrete(
    task: str, wrt: str = "A", shape: tuple[int, int] = (3, 2), *, simplex: bool = True
) -> ConcreteProof:
    """Prove every entry of ``∂J/∂A`` or ``∂J/∂Z`` at ``shape`` (binary uses ``n = 1``).

    For the multiclass ``∂J/∂Z`` the simplex constraint is substituted,
    ``y_{n−1,i} = 1 − Σ_{p<n−1} y_{p,i}`` (``simplex=False`` leaves it out: then the entries
    are disproved, which the tests show).
    """
    graph = graph_for(task)
    if wrt not in ("A", "Z"):
        raise InvalidArgument(f"Expected wrt='A' or wrt='Z' but got wrt={wrt!r}")
    rows, cols = shape
    if graph.loss.single_row:
        rows = 1
    if rows < 1 or cols < 1 or rows * cols > 64:
        raise InvalidArgument(f"Expected a shape with 1 <= n·m <= 64 but got shape={shape!r}")
    start = time.perf_counter()
    Y = _matrix("y", (rows, cols))
    loss = graph.loss
    if wrt == "A":
        A = _matrix("a", (rows, cols), positive=True)
        J = evaluate_graph(graph, A, Y)
        rule = loss.grad_A_rule
    else:
        # z enters only through e = exp(z): ∂J/∂z = ∂J/∂e · e
        E = _matrix("e", (rows, cols), positive=True)
        A = _activation(graph, E)
        J = evaluate_graph(graph, A, Y)
        rule = loss.grad_Z_rule
    on_simplex: dict[sp.Symbol, sp.Expr] = {}
    if wrt == "Z" and loss.requires_simplex and simplex:
        for c in range(cols):
            on_simplex[Y[rows - 1, c]] = 1 - sp.Add(*(Y[r, c] for r in range(rows - 1)))
    entries: dict[tuple[int, int], Proof] = {}
    for r, c in itertools.product(range(rows), range(cols)):
        derived = sp.diff(J, A[r, c]) if wrt == "A" else sp.diff(J, E[r, c]) * E[r, c]
        col_sum = sp.Add(*(Y[k, c] for k in range(rows)))
        assert rule is not None  # the graph's losses have closed forms
        closed = rule(A[r, c], Y[r, c], cols, col_sum)
        residual = (derived - closed).xreplace(on_simplex)
        entries[(r, c)] = decide_zero(residual)
    return ConcreteProof(task, wrt, (rows, cols), entries, time.perf_counter() - start)
