"""Reverse accumulation over the graphs, and proofs that the results equal ``formulas``.

``derive(task, wrt)`` walks the graph from ``∂J/∂u_last = 1`` down to ``∂J/∂u0 = ∂J/∂A``, then
pushes ``∂J/∂A`` through the activation (sigmoid, or softmax with its column sum inside).  The
result is compared with the closed-form *rule* of :mod:`nnderiv.formulas` evaluated on sympy
entries — the very code users call — for symbolic ``n`` and ``m``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import sympy as sp

from ..errors import InvalidArgument
from ..formulas import Loss, get_loss
from ..formulas.losses import call_rule
from .budget import run_bounded
from .display import Shown, Term
from .evaluate import Evaluation, OutOfTime, Ranges, evaluate_at_points
from .graphs import Graph, Node, a, entry_rule, exact, graph_for, i, j, m, n, p, parameters, y
from .pieces import describe, has_kinks, split

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
    condition: str = ""  # proved only under this condition (e.g. label columns summing to 1)

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
    reference: str = ""  # what the result was proved against, in words
    values: dict[str, float] | None = None  # the hyper-parameters' values for to_numpy

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

    def to_html(self) -> str:
        """One self-contained HTML page with MathML (no scripts): a page to hand out."""
        from .page import derivation_html

        return derivation_html(self)

    def to_markdown(self) -> str:
        from .printing import derivation_markdown

        return derivation_markdown(self)

    def to_numpy(self, *, logits: bool = False) -> Any:
        """The derived element result as a vectorised numpy function ``f(A, Y)`` (via
        ``lambdify``), with the loss's hyper-parameters at their bound values (or defaults).

        ``logits=True`` (``∂J/∂Z`` only) gives ``f(Z, Y)`` instead, with the activation's
        outputs and their logs computed stably from ``Z``, exponentials combined and
        ``sinh/cosh`` written as ``tanh``: finite at ``|z| = 800`` for every built-in loss (an
        ``exp`` activation overflows beyond ``z ≈ 709``, where the loss itself is infinite).
        A form that divides by an output which underflows (``y/a`` at ``a = softplus(−800)``)
        can still give ``inf`` or ``nan``."""
        if logits and self.wrt != "Z":
            raise InvalidArgument("Expected logits=True only for a derivation of ∂J/∂Z")
        return lambdify_entry(self.result, self.graph, self.values, logits=logits)

    def _repr_latex_(self) -> str:
        return "$$" + self.to_latex() + "$$"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_text()


def lambdify_entry(
    expr: sp.Expr,
    graph: Graph,
    values: dict[str, float] | None = None,
    *,
    logits: bool = False,
) -> Any:
    """Turn an element expression in ``a``, ``y``, ``m`` and column sums ``Σ_p y_pi`` into a
    vectorised numpy function ``f(A, Y)`` of ``n × m`` arrays — or, with ``logits=True``,
    ``f(Z, Y)``: then ``a``, ``log a``, ``log(1 − a)`` and the powers ``a^γ``, ``(1 − a)^γ``
    are computed from ``Z`` in the activation's stable forms (``log σ(z) = −softplus(−z)``),
    so that a saturated output (``|z| = 800``) gives no ``0 · log 0``."""
    import numpy as np

    A_, Y_, S_, m_, n_, LA, L1A = sp.symbols("A Y S m_ n_ LA L1A")
    entry = graph.entry(a)
    flat = split_sums(expr).xreplace({graph.column_sum(y): S_, m: m_, n: n_})
    flat = _stable_forms(flat)
    if logits:
        flat = _logs_as_symbols(flat, entry, LA, L1A)
    # every other column sum Σ_p f(a_pi, y_pi) is computed numerically as a sum over the rows
    sums = sorted(flat.atoms(sp.Sum), key=sp.default_sort_key)
    column_symbols = sp.symbols(f"C0:{len(sums)}") if sums else ()
    summands = []
    for s_ in sums:
        idx = s_.limits[0][0]
        body = s_.function.xreplace({idx: j}) if len(graph.indices) == 2 else s_.function
        body = _logs_as_symbols(body, entry, LA, L1A) if logits else body
        summands.append(body.xreplace({entry: A_, graph.entry(y): Y_}))
    flat = flat.xreplace(dict(zip(sums, column_symbols, strict=True)))
    flat = flat.xreplace({entry: A_, graph.entry(y): Y_})
    if (
        flat.atoms(sp.Indexed)
        or flat.atoms(sp.Sum)
        or any(b.atoms(sp.Indexed) or b.atoms(sp.Sum) for b in summands)
    ):
        raise InvalidArgument(f"Cannot vectorise {flat}: it has entries at other indices")
    symbols = parameters(graph.loss)
    bound = values if values is not None else graph.loss.parameter_values()
    common = (A_, Y_, S_, m_, n_, LA, L1A, *symbols.values())
    fn = sp.lambdify((*common, *column_symbols), flat, "numpy")
    column_fns = [sp.lambdify(common, b, "numpy") for b in summands]
    act = graph.loss.activation

    def vectorised(X: Any, Y: Any) -> Any:
        X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            if logits:
                A, log_a, log_1ma = act.stable_logs(X)
            else:
                A, log_a, log_1ma = X, np.log(X), np.log1p(-X)
            args = (
                A,
                Y,
                Y.sum(axis=0, keepdims=True),
                A.shape[1],
                A.shape[0],
                log_a,
                log_1ma,
                *(bound[k] for k in symbols),
            )
            columns = [
                np.broadcast_to(g(*args), A.shape).sum(axis=0, keepdims=True) for g in column_fns
            ]
            out = fn(*args, *columns)
        return np.broadcast_to(out, A.shape)

    return vectorised


def _stable_forms(expr: sp.Expr) -> sp.Expr:
    """Forms that do not overflow where the value is finite: ``exp(x)·exp(y)`` combined into
    ``exp(x + y)`` (no ``0 · ∞`` from ``e^{−2ay} e^{a}``), ``sinh/cosh`` as ``tanh``."""
    out = expr
    if out.has(sp.exp):
        try:
            out = sp.powsimp(sp.expand(sp.cancel(out), deep=False), combine="exp")
        except Exception:  # sympy giving up: keep the form as derived
            out = expr
    if out.has(sp.sinh, sp.cosh):
        with contextlib.suppress(Exception):  # sympy giving up: keep the form as derived
            out = out.replace(
                lambda e: isinstance(e, sp.Mul) and e.has(sp.sinh) and e.has(sp.cosh),
                lambda e: _tanh_of(e),
            )
    return out


def _tanh_of(product: sp.Expr) -> sp.Expr:
    """``… sinh(x)^k cosh(x)^(−k) …`` → ``… tanh(x)^k …``."""
    factors = product.as_powers_dict()
    paired: set[sp.Basic] = set()
    out = sp.Integer(1)
    for base, power in factors.items():  # first the pairs, whatever the order of the factors
        if isinstance(base, sp.sinh) and factors.get(sp.cosh(base.args[0]), 0) == -power:
            out *= sp.tanh(base.args[0]) ** power
            paired |= {base, sp.cosh(base.args[0])}
    for base, power in factors.items():
        if base not in paired:
            out *= base**power
    return out


def _logs_as_symbols(expr: sp.Expr, entry: sp.Expr, LA: sp.Symbol, L1A: sp.Symbol) -> sp.Expr:
    """``log a`` → ``LA``, ``log(1 − a)`` → ``L1A``, ``a^γ`` → ``exp(γ LA)``, ``(1 − a)^γ`` →
    ``exp(γ L1A)`` (non-integer or negative powers only)."""
    mapping: dict[sp.Basic, sp.Basic] = {}
    for f in expr.atoms(sp.log):
        arg = sp.expand(f.args[0])
        if arg == entry:
            mapping[f] = LA
        elif sp.expand(arg - (1 - entry)) == 0:
            mapping[f] = L1A
    for q in expr.atoms(sp.Pow):
        if q.exp.is_Integer and q.exp > 0:
            continue
        base = sp.expand(q.base)
        if base == entry:
            mapping[q] = sp.exp(q.exp * LA)
        elif sp.expand(base - (1 - entry)) == 0:
            mapping[q] = sp.exp(q.exp * L1A)
    return expr.xreplace(mapping) if mapping else expr


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
    ranges: Ranges | None = None,
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
    that point disproves the residual. ``ranges``: where the random entries are drawn, by
    label (``{"a": (-4, 4)}``; default (0, 1)).
    """
    residual = sp.sympify(residual)
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    try:
        ev = evaluate_at_points(
            residual, seed=seed, deadline=deadline, defined=defined, ranges=ranges
        )
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
    positive = tuple(
        label
        for label in ("a", "y")
        if ranges is None or label not in ranges or ranges[label][0] >= 0
    )
    outcome = run_bounded(_symbolic_zero, residual, positive, seconds=remaining)
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


def _symbolic_zero(
    residual: sp.Expr, positive: tuple[str, ...] = ("a", "y")
) -> tuple[bool, str, sp.Expr]:
    """The symbolic zero test; through kinks (|r|, max, pieces), piece by piece. ``positive``:
    the entries known positive where the residual is defined (log rules apply to them)."""
    if not has_kinks(residual):
        return _smooth_zero(residual, positive)
    count = 0
    for conditions, piece in split(residual):
        count += 1
        if has_kinks(piece):
            return False, "a kink that could not be split into pieces", residual
        proved, note, shown = _smooth_zero(piece, positive)
        if not proved:
            where = describe(conditions)
            return False, f"not shown zero where {where} ({note or 'no proof'})", shown
    return True, f"zero on each of {count} smooth pieces (split at the kinks)", residual


def _opaque_powers(expr: sp.Expr) -> sp.Expr:
    """``x**(γ − 1)`` → ``P/x`` with ``P`` standing for ``x**γ``: powers with symbolic exponents
    split into their integer and symbolic parts, each symbolic power an opaque symbol."""
    split = {}
    for q in expr.atoms(sp.Pow):
        if q.exp.is_number:
            continue
        base = sp.expand(q.base)  # one form of the base: (ya + (1−y)(1−a)) and its expansion
        const, rest = (
            q.exp.as_independent(*q.exp.free_symbols)
            if isinstance(q.exp, sp.Add)
            else (sp.Integer(0), q.exp)
        )
        split[q] = sp.Pow(base, rest, evaluate=False) * base**const
    expr = expr.xreplace(split) if split else expr
    powers = sorted(
        (q for q in expr.atoms(sp.Pow) if not q.exp.is_number),
        key=sp.default_sort_key,
    )
    return expr.xreplace({q: sp.Dummy(f"P{k}", positive=True) for k, q in enumerate(powers)})


def _smooth_zero(
    residual: sp.Expr, positive: tuple[str, ...] = ("a", "y")
) -> tuple[bool, str, sp.Expr]:
    try:
        if _numerator_is_zero(residual):
            return True, "together + expanded numerator", residual
        if any(not q.exp.is_number for q in residual.atoms(sp.Pow)) and _numerator_is_zero(
            _opaque_powers(residual)
        ):
            return True, "powers split by exponent + expanded numerator", residual
        if residual.has(sp.tanh, sp.sinh, sp.cosh) and _numerator_is_zero(
            sp.expand(residual.rewrite(sp.exp))
        ):
            return True, "hyperbolic functions as exponentials + expanded numerator", residual
    except Exception as exc:  # sympy giving up (overflow, recursion): not a verdict
        return False, f"sympy failed: {type(exc).__name__}", residual
    try:  # entries are positive where the loss is defined: log(a·y) = log a + log y
        entries = sorted(
            (e for e in residual.atoms(sp.Indexed) if str(e.base.label) in positive),
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
    if not expr.atoms(sp.Indexed):
        return expr
    return _tidy_kinks(sp.factor_terms(sp.cancel(sp.expand(expr))))


def _tidy_kinks(expr: sp.Expr) -> sp.Expr:
    """The arguments of steps, signs and absolute values expanded where that is shorter:
    ``[τ(y − a) − (τ − 1)(y − a) > 0]`` is ``[y − a > 0]``."""
    mapping = {}
    for f in expr.atoms(sp.Heaviside, sp.sign, sp.Abs):
        arg = f.args[0]
        short = sp.factor_terms(sp.expand(arg))
        if sp.count_ops(short) < sp.count_ops(arg):
            mapping[f] = f.func(short, *f.args[1:])
    return expr.xreplace(mapping) if mapping else expr


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
            local = _tidy_kinks(sp.diff(consumer.body, node.ref()).xreplace(values))
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


def _closed(graph: Graph, which: str) -> sp.Expr | None:
    """A closed-form rule of the graph's loss at the graph's entry (None: the loss has none)."""
    rule = getattr(graph.loss, which)
    if rule is None:
        return None
    return exact(
        call_rule(
            rule,
            graph.entry(a),
            graph.entry(y),
            m,
            graph.column_sum(y),
            n=n,
            params=parameters(graph.loss),
        )
    )


def ranges_for(loss: Loss) -> Ranges:
    """Where the random points of a zero test are drawn for ``loss``: ``a`` in its activation's
    domain, ``y`` by its label kind, hyper-parameters in (0, 4)."""
    domain = {
        "unit": (0, 1),
        "simplex": (0, 1),
        "symmetric": (-1, 1),
        "positive": (0, 8),
        "real": (-4, 4),
    }[loss.activation.domain]
    labels = {
        "binary": (0, 1),
        "onehot": (0, 1),
        "simplex": (0, 1),
        "real": (-4, 4),
        "count": (0, 8),
    }[loss.labels]
    out: Ranges = {
        "a": (Fraction(domain[0]), Fraction(domain[1])),
        "y": (Fraction(labels[0]), Fraction(labels[1])),
    }
    for name in loss.params:
        out[f"symbol {name}"] = (Fraction(0), Fraction(4))
    return out


def on_simplex_labels(loss: Loss) -> bool:
    """A softmax loss whose labels are declared one-hot or soft columns on the simplex: a claim
    right only when every label column sums to 1 is proved under that condition."""
    return loss.requires_simplex or (
        loss.activation.domain == "simplex" and loss.labels in ("onehot", "simplex")
    )


def split_sums(expr: sp.Expr) -> sp.Expr:
    """``Σ_p (c + d·y_p)`` → ``n·c + d Σ_p y_p``: constants out of every sum, so that a column
    sum of the labels appears as itself (``Σ_p ỹ_p`` of label smoothing)."""
    mapping = {}
    for s in expr.atoms(sp.Sum):
        (idx, lo, hi), body = s.limits[0], s.function
        out = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(body)):
            const, rest = term.as_independent(idx, as_Add=False)
            out += (
                const * (hi - lo + 1) * rest
                if not rest.has(idx)
                else const * sp.Sum(rest, (idx, lo, hi))
            )
        mapping[s] = out
    return expr.xreplace(mapping) if mapping else expr


def through_activation(graph: Graph, dA: sp.Expr) -> sp.Expr:
    """``∂J/∂z`` from ``∂J/∂a`` by the activation's record: ``∂J/∂a · g'`` (``g'`` written in
    ``a``) for an element-wise one, else its own column-coupled rule."""
    act = graph.loss.activation
    if act.coupled_symbolic is not None:
        return split_sums(exact(act.coupled_symbolic(dA, a, j, i, p, n)))
    assert act.slope is not None
    return _tidy(dA * exact(act.slope(graph.entry(a))))


def derive(task: str | Loss, wrt: str = "A") -> Derivation:
    """Derive ``∂J/∂A`` or ``∂J/∂Z`` of a loss by reverse accumulation and prove it.

    Args:
        task: a key of ``formulas.LOSSES`` or any :class:`~nnderiv.formulas.Loss` (built-in or
            from ``define_loss``): its graph is built from its rule.
        wrt: ``"A"`` (equations 2, 5, 8) or ``"Z"`` (3, 6, 9).

    The result is proved against the loss's closed form where it has one, else against
    ``formulas``' own route (sympy's derivative of the rule, pushed through the activation).

    Example::

        >>> d = derive("binary", "Z")
        >>> d.proved
        True
    """
    graph = graph_for(task)
    if wrt not in ("A", "Z"):
        raise InvalidArgument(f"Expected wrt='A' or wrt='Z' but got wrt={wrt!r}")
    start = time.perf_counter()
    loss = graph.loss
    name = loss.name
    ranges = ranges_for(loss)

    def zero(residual: sp.Expr) -> Proof:
        return decide_zero(residual, ranges=ranges)

    steps = adjoints(graph)
    dA = steps[-1].value
    closed_A = _closed(graph, "grad_A_rule")
    reference = f"formulas.{name}.grad_{wrt}"
    if closed_A is None:  # no closed form: the formulas differentiate the rule with sympy
        closed_A = sp.diff(entry_rule(loss, graph.indices), graph.entry(a)) / m
        reference = (
            "sympy's derivative of the rule"
            if wrt == "A"
            else "sympy's derivative of the rule, pushed through the activation"
        )
    if wrt == "A":
        deriv = Derivation(
            name, "A", graph, steps, dA, closed_A, zero(dA - closed_A), loss.equations[1]
        )
    elif not loss.requires_simplex:
        dZ = _tidy(through_activation(graph, dA))
        steps.append(Step("Z", graph.indices, (), dZ, "activation"))
        closed = _closed(graph, "grad_Z_rule")
        if closed is None:
            closed = _tidy(through_activation(graph, closed_A))
            if reference.startswith("formulas"):
                reference = f"formulas.{name}.grad_A pushed through the activation"
        deriv = Derivation(
            name, "Z", graph, steps, dZ, closed, zero(dZ - closed), loss.equations[2]
        )
    else:
        dZ = through_activation(graph, dA)
        general_closed = _closed(graph, "grad_Z_general_rule")
        if general_closed is None:
            general_closed = through_activation(graph, closed_A)
        general = zero(dZ - general_closed)
        simplex = {graph.column_sum(y): sp.Integer(1)}
        on_simplex = _tidy(dZ.xreplace(simplex))
        steps.append(Step("Z", graph.indices, (), _tidy(dZ), "activation"))
        steps.append(Step("Z", graph.indices, (), on_simplex, "simplex"))
        closed = _closed(graph, "grad_Z_rule")
        if closed is None:
            closed = _tidy(general_closed.xreplace(simplex))
        deriv = Derivation(
            name,
            "Z",
            graph,
            steps,
            on_simplex,
            closed,
            zero(on_simplex - closed),
            loss.equations[2],
            constraint="Σ_p y_pi = 1 for every column i",
            general=general,
            without_constraint=zero(dZ - closed),
            general_result=dZ,
        )
    deriv.reference = reference
    deriv.values = get_loss(task).parameter_values()
    deriv.seconds = time.perf_counter() - start
    return deriv
