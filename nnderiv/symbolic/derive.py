"""Reverse accumulation over the graphs, and proofs that the results equal ``formulas``.

``derive(task, wrt)`` walks the graph from ``∂J/∂u_last = 1`` down to ``∂J/∂u0 = ∂J/∂A``, then
pushes ``∂J/∂A`` through the activation (sigmoid, or softmax with its column sum inside).  The
result is compared with the closed-form *rule* of :mod:`nnderiv.formulas` evaluated on sympy
entries — the very code users call — for symbolic ``n`` and ``m``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import sympy as sp

from ..errors import InvalidArgument
from .budget import run_bounded
from .display import Shown, Term
from .evaluate import Evaluation, OutOfTime, evaluate_at_points
from .graphs import Graph, Node, a, graph_for, i, j, m, n, p, y

__all__ = ["Derivation", "Proof", "Step", "adjoints", "decide_zero", "derive"]

Status = Literal["proved", "disproved", "unknown"]


@dataclass(frozen=True)
class Proof:
    """Outcome of a zero test: ``proved`` (residual is identically 0), ``disproved`` (a concrete
    counterexample is given), or ``unknown`` (neither could be shown) — never conflated."""

    status: Status
    residual: sp.Expr
    detail: str = ""
    timed_out: bool = False  # unknown because the time budget was spent

    @property
    def proved(self) -> bool:
        return self.status == "proved"


@dataclass(frozen=True)
class Step:
    """One line of the derivation: ``∂J/∂node = Σ chain terms = value``.

    ``terms`` lists ``(consumer, local derivative)`` pairs; empty for the seed ``∂J/∂J = 1`` and
    for the lines through the activation, which carry their own ``rule`` text instead.
    """

    node: str
    indices: tuple[sp.Symbol, ...]
    terms: tuple[tuple[str, sp.Expr], ...]
    value: sp.Expr
    rule: str = ""
    shown: Shown | None = None  # the value in the text's own form (printing only)


@dataclass
class Derivation:
    """A derived gradient with its steps and its proof against the closed form."""

    task: str
    wrt: Literal["A", "Z"]
    graph: Graph
    steps: list[Step]
    result: sp.Expr
    closed_form: sp.Expr
    proof: Proof
    equation: int | None
    constraint: str = ""
    general: Proof | None = None  # multiclass wrt Z: the unconstrained form, proved too
    without_constraint: Proof | None = None  # and eq. (6) without the simplex: not zero
    seconds: float = 0.0
    general_result: sp.Expr | None = None  # multiclass wrt Z: the derived form for any labels

    @property
    def proved(self) -> bool:
        """True only when the derived result was shown equal to the closed form."""
        return self.proof.proved and (self.general is None or self.general.proved)

    def to_text(self) -> str:
        from .printing import derivation_text

        return derivation_text(self)

    def to_latex(self) -> str:
        from .printing import derivation_latex

        return derivation_latex(self)

    def to_markdown(self) -> str:
        from .printing import derivation_markdown

        return derivation_markdown(self)

    def to_numpy(self) -> Any:
        """The derived element result as a numpy function ``f(A, Y)`` (via ``lambdify``)."""
        return lambdify_entry(self.result, self.graph)

    def _repr_latex_(self) -> str:
        return "$$" + self.to_latex() + "$$"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_text()


def lambdify_entry(expr: sp.Expr, graph: Graph) -> Any:
    """Turn an element expression in ``a``, ``y``, ``m`` and column sums ``Σ_p y_pi`` into a
    vectorised numpy function ``f(A, Y)`` of ``n × m`` arrays."""
    import numpy as np

    A_, Y_, S_, m_ = sp.symbols("A Y S m_")
    flat = expr.xreplace({graph.column_sum(y): S_, m: m_})
    flat = flat.xreplace({graph.entry(a): A_, graph.entry(y): Y_})
    if flat.atoms(sp.Indexed) or flat.atoms(sp.Sum):
        raise InvalidArgument(f"Cannot vectorise {flat}: it has entries at other indices")
    fn = sp.lambdify((A_, Y_, S_, m_), flat, "numpy")

    def vectorised(A: Any, Y: Any) -> Any:
        A, Y = np.asarray(A, dtype=float), np.asarray(Y, dtype=float)
        return np.broadcast_to(fn(A, Y, Y.sum(axis=0, keepdims=True), A.shape[1]), A.shape)

    return vectorised


# ---------------------------------------------------------------------------------------------
# zero tests
# ---------------------------------------------------------------------------------------------


def _opaque_sums(expr: sp.Expr) -> sp.Expr:
    """Replace each remaining ``Sum`` by an opaque symbol (equal sums → the same symbol)."""
    sums = sorted(expr.atoms(sp.Sum), key=sp.default_sort_key)
    return expr.xreplace({s: sp.Dummy(f"S{k}") for k, s in enumerate(sums)})


def _numerator_is_zero(expr: sp.Expr) -> bool:
    num, _ = sp.fraction(sp.together(_opaque_sums(expr)))
    return bool(sp.expand(num) == 0)


def decide_zero(
    residual: sp.Expr,
    *,
    seed: int = 0,
    timeout: float | None = None,
    defined: sp.Expr | None = None,
) -> Proof:
    """Show ``residual ≡ 0`` (proved), find a counterexample (disproved), or say unknown.

    1. Evaluation at random points in exact arithmetic (:mod:`.evaluate`): a point where the
       residual is certainly non-zero disproves it, with the point shown.
    2. Only where every point agrees: the symbolic zero test — opaque sums, ``together``, the
       expanded numerator, then a guarded ``simplify`` — proves it.
    With ``timeout`` (seconds), the whole test answers within it: the symbolic part runs in a
    worker process that is stopped at the deadline, and the proof is ``unknown`` with
    ``timed_out`` set. ``defined``: an expression that has a value wherever the residual
    should (a claim's true value); where the residual is certainly undefined and it is not,
    that point disproves the residual.
    """
    residual = sp.sympify(residual)
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    try:
        ev = evaluate_at_points(residual, seed=seed, deadline=deadline, defined=defined)
    except OutOfTime:
        return Proof("unknown", residual, "time budget spent while evaluating", timed_out=True)
    if ev.counterexample is not None:
        where = ev.counterexample.describe(residual)
        if timeout is None:  # the library's own derivations: show the residual tidied
            residual = _tidied(residual)
        if ev.undefined:
            return Proof("disproved", residual, f"at {where}: undefined there ({ev.value})")
        return Proof("disproved", residual, f"at {where}: residual = {ev.value}")
    remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
    outcome = run_bounded(_symbolic_zero, residual, seconds=remaining)
    agreement = _agreement(ev)
    if outcome.timed_out:
        return Proof(
            "unknown",
            residual,
            f"no symbolic proof within the time budget; {agreement}",
            timed_out=True,
        )
    if outcome.value is None:
        return Proof("unknown", residual, f"sympy failed: {outcome.error}; {agreement}")
    proved, note, shown = outcome.value
    if proved:
        return Proof("proved", residual, note)
    return Proof("unknown", shown, f"{note or 'no symbolic proof'}; {agreement}")


def _tidied(residual: sp.Expr) -> sp.Expr:
    try:
        return sp.factor_terms(sp.cancel(_expand_sums(residual)))
    except Exception:  # sympy giving up: show it as it is
        return residual


def _expand_sums(expr: sp.Expr) -> sp.Expr:
    """``Σ_p (x_p/m)`` → ``(1/m) Σ_p x_p``: constants out of each sum, so that cancel sees them."""
    return expr.xreplace({s: sp.factor_terms(s) for s in expr.atoms(sp.Sum)})


def _agreement(ev: Evaluation) -> str:
    if ev.agreed == 0:
        return f"not evaluable at any of {ev.skipped} random points"
    how = "exact arithmetic" if ev.exact else "rigorous intervals at 1,600 bits"
    return f"zero at {ev.agreed} random points ({how})"


def _symbolic_zero(residual: sp.Expr) -> tuple[bool, str, sp.Expr]:
    try:
        if _numerator_is_zero(residual):
            return True, "together + expanded numerator", residual
    except Exception as exc:  # sympy giving up (overflow, recursion): not a verdict
        return False, f"sympy failed: {type(exc).__name__}", residual
    try:  # entries are positive where the loss is defined: log(a·y) = log a + log y
        entries = sorted(
            (e for e in residual.atoms(sp.Indexed) if str(e.base.label) in ("a", "y")),
            key=sp.default_sort_key,
        )
        positive = residual.xreplace({e: sp.Dummy(positive=True) for e in entries})
        if _numerator_is_zero(sp.expand_log(positive, force=False)):
            return True, "log rules with positive entries", residual
    except Exception as exc:  # sympy giving up: not a verdict
        return False, f"sympy failed: {type(exc).__name__}", residual
    try:
        simpler = sp.simplify(residual)
        if _numerator_is_zero(simpler):
            return True, "simplify", residual
    except Exception as exc:  # sympy's simplify can raise (e.g. StopIteration) on softmax forms
        return False, f"simplify raised {type(exc).__name__}", residual
    return False, "", simpler


# ---------------------------------------------------------------------------------------------
# reverse accumulation
# ---------------------------------------------------------------------------------------------


def _tidy(expr: sp.Expr) -> sp.Expr:
    return sp.factor_terms(sp.cancel(sp.expand(expr))) if expr.atoms(sp.Indexed) else expr


def adjoints(graph: Graph) -> list[Step]:
    """Every ``∂J/∂u_k`` from the last node down, in ``a``, ``y``, ``m`` (one Step per node)."""
    values = graph.forward_values()
    adj: dict[str, sp.Expr] = {}
    shown: dict[str, Shown] = {}
    steps: list[Step] = []
    for node in reversed(graph.nodes):
        consumers = graph.consumers.get(node.name, [])
        if not consumers:
            adj[node.name] = sp.Integer(1)
            shown[node.name] = Shown((Term(sp.Integer(1)),))
            steps.append(Step(node.name, node.indices, (), sp.Integer(1), shown=shown[node.name]))
            continue
        terms = []
        for cname in consumers:
            consumer: Node = graph.node(cname)
            local = sp.diff(consumer.body, node.ref()).xreplace(values)
            terms.append((cname, local))
        # each path tidied on its own: two consumers show as a sum of two terms, as in SPEC.md
        value = sp.Add(*(_tidy(adj[c] * local) for c, local in terms))
        adj[node.name] = value
        # the written form: each path's factors in the order the chain rule multiplies them
        written = Shown(())
        for c, local in terms:
            written = written.plus(shown[c].times(local))
        shown[node.name] = written
        steps.append(Step(node.name, node.indices, tuple(terms), value, shown=written))
    return steps


def _closed(graph: Graph, which: str) -> sp.Expr:
    rule = getattr(graph.loss, which)
    return sp.sympify(rule(graph.entry(a), graph.entry(y), m, graph.column_sum(y)))


def through_activation(graph: Graph, dA: sp.Expr) -> sp.Expr:
    """``∂J/∂z`` from ``∂J/∂a`` by the activation's record: ``∂J/∂a · g'`` (``g'`` written in
    ``a``) for an element-wise one, else its own column-coupled rule."""
    act = graph.loss.activation
    if act.coupled_symbolic is not None:
        return sp.sympify(act.coupled_symbolic(dA, a, j, i, p, n))
    assert act.slope is not None
    return _tidy(dA * sp.sympify(act.slope(graph.entry(a))))


def derive(task: str, wrt: str = "A") -> Derivation:
    """Derive ``∂J/∂A`` or ``∂J/∂Z`` of ``task`` by reverse accumulation and prove it.

    Args:
        task: a key of ``formulas.LOSSES``.
        wrt: ``"A"`` (equations 2, 5, 8) or ``"Z"`` (3, 6, 9).

    Example::

        >>> d = derive("binary", "Z")
        >>> d.proved
        True
    """
    graph = graph_for(task)
    if wrt not in ("A", "Z"):
        raise InvalidArgument(f"Expected wrt='A' or wrt='Z' but got wrt={wrt!r}")
    start = time.perf_counter()
    steps = adjoints(graph)
    dA = steps[-1].value
    loss = graph.loss
    if wrt == "A":
        closed = _closed(graph, "grad_A_rule")
        deriv = Derivation(
            task, "A", graph, steps, dA, closed, decide_zero(dA - closed), loss.equations[1]
        )
    elif not loss.requires_simplex:
        dZ = _tidy(through_activation(graph, dA))
        steps.append(Step("Z", graph.indices, (), dZ, "activation"))
        closed = _closed(graph, "grad_Z_rule")
        deriv = Derivation(
            task, "Z", graph, steps, dZ, closed, decide_zero(dZ - closed), loss.equations[2]
        )
    else:
        dZ = through_activation(graph, dA)
        general_closed = _closed(graph, "grad_Z_general_rule")
        general = decide_zero(dZ - general_closed)
        simplex = {graph.column_sum(y): sp.Integer(1)}
        on_simplex = _tidy(dZ.xreplace(simplex))
        steps.append(Step("Z", graph.indices, (), _tidy(dZ), "activation"))
        steps.append(Step("Z", graph.indices, (), on_simplex, "simplex"))
        closed = _closed(graph, "grad_Z_rule")
        deriv = Derivation(
            task,
            "Z",
            graph,
            steps,
            on_simplex,
            closed,
            decide_zero(on_simplex - closed),
            loss.equations[2],
            constraint="Σ_p y_pi = 1 for every column i",
            general=general,
            without_constraint=decide_zero(dZ - closed),
            general_result=dZ,
        )
    deriv.seconds = time.perf_counter() - start
    return deriv
