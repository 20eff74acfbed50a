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
from typing import Any

import sympy as sp

from ..errors import InvalidArgument
from ..formulas import Loss
from ..formulas.losses import call_rule
from .derive import Proof, decide_zero, ranges_for
from .graphs import Graph, exact, graph_for, i, j, m, n, parameters

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
        expr = expr.xreplace(
            {
                **{k: sp.Integer(v) for k, v in at.items()},
                m: sp.Integer(ncols),
                n: sp.Integer(nrows),
            }
        )
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


def _closed_matrix(
    loss: Any,
    wrt: str,
    A: sp.Matrix,
    Y: sp.Matrix,
    rows: int,
    cols: int,
    params: dict[str, sp.Symbol],
) -> sp.Matrix:
    """The closed form at every entry; for a loss without one, formulas' own route (sympy's
    ``∂ℓ/∂a``, pushed through the activation's backward)."""

    def at(rule: Any, r: int, c: int) -> sp.Expr:
        col_sum = sp.Add(*(Y[k, c] for k in range(rows)))
        return exact(call_rule(rule, A[r, c], Y[r, c], cols, col_sum, n=rows, params=params))

    rule = loss.grad_A_rule if wrt == "A" else loss.grad_Z_rule
    if rule is not None:
        return sp.Matrix(rows, cols, lambda r, c: at(rule, r, c))
    a, y = sp.Symbol("a", real=True), sp.Symbol("y", real=True)
    slope = sp.diff(entry_rule_scalar(loss, a, y, rows, params), a)
    if loss.grad_A_rule is not None:
        dA = sp.Matrix(rows, cols, lambda r, c: at(loss.grad_A_rule, r, c))
    else:
        dA = sp.Matrix(rows, cols, lambda r, c: slope.xreplace({a: A[r, c], y: Y[r, c]}) / cols)
    if wrt == "A":
        return dA
    act = loss.activation
    if act.slope is not None:
        return sp.Matrix(rows, cols, lambda r, c: dA[r, c] * exact(act.slope(A[r, c])))
    # a column-coupled activation (softmax): a_r (dA_r − Σ_p dA_p a_p)
    return sp.Matrix(
        rows,
        cols,
        lambda r, c: A[r, c] * (dA[r, c] - sp.Add(*(dA[k, c] * A[k, c] for k in range(rows)))),
    )


def entry_rule_scalar(
    loss: Any, a: sp.Symbol, y: sp.Symbol, rows: int, params: dict[str, sp.Symbol]
) -> sp.Expr:
    return exact(call_rule(loss.rule, a, y, n=rows, params=params))


def _concrete_ranges(loss: Any, rows: int, cols: int) -> dict[str, Any]:
    """The zero test's ranges for the concrete symbols ``a_rc``, ``y_rc``, ``e_rc``."""
    base = ranges_for(loss)
    out = {k: v for k, v in base.items() if k.startswith("symbol ")}
    for r, c in itertools.product(range(rows), range(cols)):
        out[f"symbol a_{r}{c}"] = base["a"]
        out[f"symbol y_{r}{c}"] = base["y"]
    return out


def prove_concrete(
    task: str | Loss, wrt: str = "A", shape: tuple[int, int] = (3, 2), *, simplex: bool = True
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
    loss = graph.loss
    Y = _matrix("y", (rows, cols), real=True)
    params = parameters(loss)
    signs = {"positive": True} if loss.activation.domain in ("unit", "simplex", "positive") else {}
    if wrt == "A":
        A = _matrix("a", (rows, cols), real=True, **signs)
        J = evaluate_graph(graph, A, Y)
    else:
        # z enters only through e = exp(z): ∂J/∂z = ∂J/∂e · e
        E = _matrix("e", (rows, cols), positive=True)
        A = _activation(graph, E)
        J = evaluate_graph(graph, A, Y)
    on_simplex: dict[sp.Symbol, sp.Expr] = {}
    if wrt == "Z" and loss.requires_simplex and simplex:
        for c in range(cols):
            on_simplex[Y[rows - 1, c]] = 1 - sp.Add(*(Y[r, c] for r in range(rows - 1)))
    closed = _closed_matrix(loss, wrt, A, Y, rows, cols, params)
    ranges = _concrete_ranges(loss, rows, cols)
    entries: dict[tuple[int, int], Proof] = {}
    for r, c in itertools.product(range(rows), range(cols)):
        derived = sp.diff(J, A[r, c]) if wrt == "A" else sp.diff(J, E[r, c]) * E[r, c]
        residual = (derived - closed[r, c]).xreplace(on_simplex)
        entries[(r, c)] = decide_zero(residual, ranges=ranges)
    return ConcreteProof(graph.loss.name, wrt, (rows, cols), entries, time.perf_counter() - start)
