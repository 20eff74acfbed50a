"""The computation graphs of SPEC.md as data, one per entry of ``formulas.LOSSES``.

A node has a name (``u0`` …), its free indices, and a *body*: a sympy expression in earlier
nodes (``U("u1")[j, i]``), the inputs ``a``, ``y`` and the symbol ``m``.  A node with
``sum_over`` sums its body over that index: ``u5 = Σ_i body``.  Element-wise nodes share the
index symbols of their parents, so the chain rule is a derivative of the body with respect to a
parent entry at the *same* (free) indices — never with respect to a bound summation index.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from ..errors import InvalidArgument
from ..formulas import LOSSES, Loss, get_loss
from ..formulas.losses import call_rule

__all__ = ["GRAPHS", "Graph", "Node", "graph_for", "symbols"]

# index symbols: j rows (output units), i columns (examples), p a bound row index
i, j, p = sp.symbols("i j p", integer=True, nonnegative=True)
n, m = sp.symbols("n m", integer=True, positive=True)
a = sp.IndexedBase("a", real=True)
y = sp.IndexedBase("y", real=True)
z = sp.IndexedBase("z", real=True)

symbols = {"i": i, "j": j, "p": p, "n": n, "m": m, "a": a, "y": y, "z": z}


def U(name: str) -> sp.IndexedBase:
    """The IndexedBase standing for node ``name`` (``U("u2")[j, i]``)."""
    return sp.IndexedBase(name, real=True)


@dataclass(frozen=True)
class Node:
    """One node ``name[indices] = body`` or ``name[indices] = Σ_{sum_over} body``."""

    name: str
    indices: tuple[sp.Symbol, ...]
    body: sp.Expr
    sum_over: tuple[sp.Symbol, sp.Expr] | None = None  # (index, its upper bound + 1)

    def ref(self) -> sp.Expr:
        """This node at its own free indices, as it appears in consumers' bodies."""
        return U(self.name)[self.indices] if self.indices else sp.Symbol(self.name)

    def parents(self) -> set[str]:
        names = {str(x.base.label) for x in self.body.atoms(sp.Indexed)}
        names |= {str(s) for s in self.body.free_symbols if str(s).startswith("u")}
        return {nm for nm in names if nm.startswith("u")}


@dataclass(frozen=True)
class Graph:
    """A computation graph registered against one loss of ``formulas.LOSSES``."""

    loss: Loss
    nodes: tuple[Node, ...]
    indices: tuple[sp.Symbol, ...]  # the indices of an input entry: (i,) or (j, i)
    per: str  # "per example i" or "per entry (j, i)"
    consumers: dict[str, list[str]] = field(default_factory=dict, compare=False, init=False)

    def __post_init__(self) -> None:
        for node in self.nodes:
            for parent in node.parents():
                self.consumers.setdefault(parent, []).append(node.name)

    @property
    def task(self) -> str:
        return self.loss.name

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(nd.name for nd in self.nodes)
        raise InvalidArgument(
            f"Expected a node of the {self.task} graph ({known}) but got {name!r}"
        )

    @property
    def names(self) -> list[str]:
        return [nd.name for nd in self.nodes]

    def entry(self, base: sp.IndexedBase) -> sp.Expr:
        """``base`` at the input indices: ``a[i]`` (binary) or ``a[j, i]``."""
        return base[self.indices]

    def column_sum(self, base: sp.IndexedBase) -> sp.Expr:
        """``Σ_p base[p, i]`` (binary: the single entry ``base[i]``)."""
        if len(self.indices) == 1:
            return base[i]
        return sp.Sum(base[p, i], (p, 0, n - 1))

    def forward_values(self) -> dict[sp.Expr, sp.Expr]:
        """Each node at its free indices mapped to its value in ``a``, ``y`` and ``m``."""
        values: dict[sp.Expr, sp.Expr] = {}
        for node in self.nodes:
            body = node.body.xreplace(values)
            if node.sum_over is not None:
                idx, upper = node.sum_over
                body = sp.Sum(body, (idx, 0, upper - 1))
            values[node.ref()] = body
        return values


def _binary(loss: Loss) -> Graph:
    u = {k: U(f"u{k}") for k in range(5)}
    nodes = (
        Node("u0", (i,), a[i]),
        Node("u1", (i,), 1 - u[0][i]),
        Node("u2", (i,), sp.log(u[0][i])),
        Node("u3", (i,), sp.log(u[1][i])),
        Node("u4", (i,), y[i] * u[2][i] + (1 - y[i]) * u[3][i]),
        Node("u5", (), -u[4][i] / m, (i, m)),
    )
    return Graph(loss, nodes, (i,), "per example i")


def _multiclass(loss: Loss) -> Graph:
    u = {k: U(f"u{k}") for k in range(4)}
    nodes = (
        Node("u0", (j, i), a[j, i]),
        Node("u1", (j, i), sp.log(u[0][j, i])),
        Node("u2", (j, i), y[j, i] * u[1][j, i]),
        Node("u3", (i,), u[2][j, i], (j, n)),
        Node("u4", (), -u[3][i] / m, (i, m)),
    )
    return Graph(loss, nodes, (j, i), "per entry (j, i)")


def _multilabel(loss: Loss) -> Graph:
    u = {k: U(f"u{k}") for k in range(6)}
    nodes = (
        Node("u0", (j, i), a[j, i]),
        Node("u1", (j, i), 1 - u[0][j, i]),
        Node("u2", (j, i), sp.log(u[0][j, i])),
        Node("u3", (j, i), sp.log(u[1][j, i])),
        Node("u4", (j, i), y[j, i] * u[2][j, i] + (1 - y[j, i]) * u[3][j, i]),
        Node("u5", (j,), -u[4][j, i] / m, (i, m)),
        Node("u6", (), u[5][j], (j, n)),
    )
    return Graph(loss, nodes, (j, i), "per entry (j, i)")


def exact(value: object) -> sp.Expr:
    """A rule's value as an exact sympy expression: every float literal (``0.5*r**2``) becomes
    the rational its shortest decimal writes (``1/2``, ``1/10``), as the claims' parser reads
    numbers — so a zero test never rounds (an offset of ``10**-30`` stays visible)."""
    expr = sp.sympify(value)
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sp.Rational(repr(float(f))) for f in floats})


def parameters(loss: Loss) -> dict[str, sp.Symbol]:
    """The loss's hyper-parameters as positive symbols (they stay symbols in derivations)."""
    return {name: sp.Symbol(name, positive=True) for name in loss.params}


def entry_rule(loss: Loss, indices: tuple[sp.Symbol, ...]) -> sp.Expr:
    """``ℓ(a, y)`` at one entry, from the loss's rule run on sympy."""
    return exact(call_rule(loss.rule, a[indices], y[indices], n=n, params=parameters(loss)))


def from_rule(loss: Loss) -> Graph:
    """The computation graph of any loss, built from its rule: ``u0 = a``, one node per
    operation of ``ℓ`` that depends on ``a`` (a constant factor stays with its operand:
    ``−y u1`` is not a node of its own), the entry's term, then the means and sums of
    ``J = (1/m) Σ_j Σ_i ℓ``."""
    single = loss.single_row
    idx: tuple[sp.Symbol, ...] = (i,) if single else (j, i)
    entry = a[idx]
    ell = entry_rule(loss, idx)
    nodes: list[Node] = [Node("u0", idx, entry)]
    memo: dict[sp.Basic, sp.Basic] = {entry: nodes[0].ref()}

    def node(body: sp.Basic) -> sp.Basic:
        made = Node(f"u{len(nodes)}", idx, body)
        nodes.append(made)
        return made.ref()

    def visit(expr: sp.Basic) -> sp.Basic:
        if expr in memo:
            return memo[expr]
        if not expr.has(entry) or not expr.args:
            return expr
        rebuilt = expr.func(*(visit(arg) for arg in expr.args))
        varying = sum(1 for arg in expr.args if arg.has(entry))
        if isinstance(expr, sp.Mul) and varying == 1:
            out = rebuilt  # a constant factor stays with its operand
        elif isinstance(expr, (sp.core.relational.Relational, ExprCondPair)) or not isinstance(
            expr, sp.Expr
        ):
            out = rebuilt  # conditions and pieces belong to their Piecewise
        else:
            out = node(rebuilt)
        memo[expr] = out
        return out

    top = visit(ell)
    if not (isinstance(top, sp.Indexed) and str(top.base.label).startswith("u")):
        top = node(top)
    last = nodes[-1]
    if single:
        nodes.append(Node(f"u{len(nodes)}", (), last.ref() / m, (i, m)))
        return Graph(loss, tuple(nodes), idx, "per example i")
    mean = Node(f"u{len(nodes)}", (j,), last.ref() / m, (i, m))
    nodes.append(mean)
    nodes.append(Node(f"u{len(nodes)}", (), mean.ref(), (j, n)))
    return Graph(loss, tuple(nodes), idx, "per entry (j, i)")


_BUILDERS = {"binary": _binary, "multiclass": _multiclass, "multilabel": _multilabel}

#: One graph per registered loss (SPEC.md's three as written there, the others built from their
#: rules); tests iterate this registry.
GRAPHS: dict[str, Graph] = {
    name: (_BUILDERS[name](loss) if name in _BUILDERS else from_rule(loss))
    for name, loss in LOSSES.items()
}
_USER: dict[tuple[Any, ...], Graph] = {}


def graph_for(task: str | Loss) -> Graph:
    """The graph of a loss (a name of ``LOSSES`` or a :class:`Loss`), or
    :class:`InvalidArgument` listing the known names. A loss with values bound shares the
    graph of its rule: hyper-parameters stay symbols in derivations."""
    loss = get_loss(task)
    known = GRAPHS.get(loss.name)
    if known is not None and known.loss.rule is loss.rule:
        return known
    if loss.name in LOSSES and LOSSES[loss.name] is loss:  # registered after import
        GRAPHS[loss.name] = from_rule(loss)
        return GRAPHS[loss.name]
    # the same rule on another activation, or with other closed forms, is another graph; the
    # rule and the records themselves are the key (an id could be reused once one is freed)
    key = (
        loss.name,
        loss.rule,
        loss.activation,
        loss.single_row,
        loss.labels,
        loss.requires_simplex,
        loss.grad_A_rule,
        loss.grad_Z_rule,
        loss.grad_Z_general_rule,
        tuple(loss.params),
    )
    if key not in _USER:
        _USER[key] = from_rule(dataclasses.replace(loss, values={}))
    return _USER[key]
