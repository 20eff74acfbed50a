"""Verify a person's step-by-step derivation, line by line, and parse claims safely.

Claims are untrusted (a teacher checks a student's file): they are parsed with Python's ``ast``
into sympy *without evaluating anything* — only numbers, ``m``, ``n``, ``a[j,i]``, ``y[j,i]``
(binary: ``a[i]``, ``y[i]``), ``+ − * / ^ **``, parentheses, ``log`` and ``exp`` are accepted.
``sympify`` / ``parse_expr`` are never called on a claim.
"""

from __future__ import annotations

import ast
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import sympy as sp

from ..errors import InvalidArgument
from ..formulas import Loss
from .derive import (
    Proof,
    adjoints,
    decide_zero,
    on_simplex_labels,
    ranges_for,
    through_activation,
)
from .display import shown_text
from .evaluate import OutOfTime, evaluate_at_points
from .graphs import Graph, a, graph_for, i, j, m, n, parameters, y
from .printing import expr_text

__all__ = ["DEFAULT_TIMEOUT", "StepLine", "StepReport", "parse_claim", "verify_steps"]

LineStatus = Literal["correct", "wrong", "carried", "unjustified", "undecided", "unclaimed"]
MAX_CLAIM_LENGTH = 2000
MAX_EXPONENT = 64
MAX_DIGITS = 10_000
MAX_DEPTH = 100
#: seconds per claimed line (both of its zero tests); ``timeout=None`` lifts it
DEFAULT_TIMEOUT = 4.0

_BINOPS: dict[type[ast.operator], Callable[[sp.Expr, sp.Expr], sp.Expr]] = {
    ast.Add: lambda x, z: x + z,
    ast.Sub: lambda x, z: x - z,
    ast.Mult: lambda x, z: x * z,
    ast.Div: lambda x, z: x / z,
}
_FUNCS: dict[str, tuple[int, Callable[..., sp.Expr]]] = {
    "log": (1, sp.log),
    "exp": (1, sp.exp),
    "log1p": (1, lambda x: sp.log(1 + x)),
    "sqrt": (1, sp.sqrt),
    "tanh": (1, sp.tanh),
    "cosh": (1, sp.cosh),
    "sigmoid": (1, lambda x: 1 / (1 + sp.exp(-x))),
    "softplus": (1, lambda x: sp.log(1 + sp.exp(x))),
    "abs": (1, sp.Abs),
    "sign": (1, sp.sign),
    "max": (2, sp.Max),
    "min": (2, sp.Min),
}


def parse_claim(text: str, graph: Graph, node: str = "claim") -> sp.Expr:
    """Parse one claimed expression into sympy, refusing anything outside the small grammar.

    Raises :class:`InvalidArgument` naming ``node`` and what was refused. An entry written with
    the graph's index names in another order (``y[i,j]`` for ``y[j,i]``) is parsed as that
    other entry; :func:`verify_steps` reports it as a wrong line with a hint.
    """
    return _parse(text, graph, node)[0]


def _parse(text: str, graph: Graph, node: str) -> tuple[sp.Expr, list[str]]:
    if not isinstance(text, str):
        raise InvalidArgument(
            f"Expected the claim for {node} to be a string but got {text!r} "
            f"(type={type(text).__name__})"
        )
    if len(text) > MAX_CLAIM_LENGTH:
        raise InvalidArgument(
            f"Expected the claim for {node} to be at most {MAX_CLAIM_LENGTH} characters "
            f"but got {len(text)}"
        )
    for k, ch in enumerate(text):
        if 0xD800 <= ord(ch) <= 0xDFFF or ch == "\0":
            raise InvalidArgument(
                f"Expected the claim for {node} to be text but got the character "
                f"U+{ord(ch):04X} at position {k} (a lone surrogate or a NUL)"
            )
    source = text.replace("^", "**").strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        caret = " " * max((exc.offset or 1) - 1, 0) + "^"
        raise InvalidArgument(
            f"Could not parse the claim for {node}: {exc.msg}\n    {source}\n    {caret}"
        ) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise InvalidArgument(
            f"Could not parse the claim for {node}: nested too deeply for the parser "
            f"({type(exc).__name__})"
        ) from None
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:
        raise InvalidArgument(
            f"Expected the claim for {node} to be nested at most {MAX_DEPTH} deep "
            f"but got {depth} levels (unary signs, calls, powers and parentheses count)"
        )
    builder = _Builder(graph, node)
    try:
        expr = builder.build(tree.body)
    except RecursionError:
        raise InvalidArgument(f"Could not build the claim for {node}: nested too deeply") from None
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise InvalidArgument(
            f"Refused in the claim for {node}: it is infinite or undefined ({expr_text(expr)})"
        )
    if expr.has(sp.I):
        raise InvalidArgument(
            f"Refused in the claim for {node}: it is not real ({expr_text(expr)})"
        )
    return expr, builder.slips


def _depth(root: ast.AST) -> int:
    """Nesting depth, iteratively; a chain ``x + y + z`` or ``x*y/z`` counts as one level."""
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        for child in ast.iter_child_nodes(node):
            same_chain = (
                isinstance(node, ast.BinOp)
                and isinstance(child, ast.BinOp)
                and child is node.left
                and _chain(node.op) == _chain(child.op)
                and _chain(node.op) != "pow"
            )
            stack.append((child, d if same_chain else d + 1))
    return deepest


def _chain(op: ast.operator) -> str:
    if isinstance(op, (ast.Add, ast.Sub)):
        return "add"
    if isinstance(op, (ast.Mult, ast.Div)):
        return "mul"
    return "pow"


class _Builder:
    def __init__(self, graph: Graph, node: str) -> None:
        self.graph, self.node = graph, node
        self.index_names = {str(s): s for s in graph.indices}
        self.params = parameters(graph.loss)
        self.slips: list[str] = []

    def refuse(self, what: str) -> InvalidArgument:
        allowed = "numbers, m, n, " + ", ".join(
            [*(f"{b}[{','.join(self.index_names)}]" for b in ("a", "y")), *self.params]
        )
        return InvalidArgument(
            f"Refused in the claim for {self.node}: {what}. Allowed: {allowed}, "
            "+ - * / ^ **, parentheses, and the functions "
            + ", ".join(f"{k}({'x, y' if n == 2 else 'x'})" for k, (n, _) in _FUNCS.items())
        )

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.BinOp) and _chain(node.op) != "pow":
            return self.chain(node)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.refuse(f"the constant {node.value!r}")
            if isinstance(node.value, float) and not math.isfinite(node.value):
                raise self.refuse(f"the number {ast.unparse(node)} (not finite)")
            if isinstance(node.value, int) and node.value.bit_length() > 4 * MAX_DIGITS:
                raise self.refuse(f"a number of more than {MAX_DIGITS} digits")
            return (
                sp.Rational(repr(node.value))
                if isinstance(node.value, float)
                else sp.Integer(node.value)
            )
        if isinstance(node, ast.Name):
            if node.id == "m":
                return m
            if node.id == "n":
                return n
            if node.id in self.params:
                return self.params[node.id]
            raise self.refuse(f"the name {node.id!r}")
        if isinstance(node, ast.BinOp):  # a power
            left, right = self.build(node.left), self.build(node.right)
            symbolic = (
                not right.is_number
                and right.free_symbols <= set(self.params.values())
                and sp.count_ops(right) <= 8
            )
            if not symbolic and not (right.is_Rational and abs(right) <= MAX_EXPONENT):
                raise self.refuse(
                    f"the exponent {expr_text(right)} (a rational number within ±{MAX_EXPONENT}"
                    " or an expression in the hyper-parameters)"
                )
            if left.is_Rational and right.is_number:  # bound exact numbers: no (10^64)^64^… bombs
                digits = len(str(abs(left.p))) + len(str(left.q))
                if digits * abs(float(right)) > MAX_DIGITS:
                    raise self.refuse(f"a number of more than {MAX_DIGITS} digits")
                if left == 0 and right < 0:
                    raise self.refuse("a division by zero")
            return sp.Pow(left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            func = node.func.id if isinstance(node.func, ast.Name) else None
            if func not in _FUNCS or node.keywords or len(node.args) != _FUNCS[func][0]:
                shown = ast.unparse(node.func)
                raise self.refuse(f"the call {shown}(...) with {len(node.args)} arguments")
            arguments = [self.build(arg) for arg in node.args]
            argument = arguments[0]
            if func == "log" and argument.is_number and argument.is_Rational and argument <= 0:
                raise self.refuse(f"the log of {expr_text(argument)} (not positive)")
            if func == "sqrt" and argument.is_number and argument.is_Rational and argument < 0:
                raise self.refuse(f"the square root of {expr_text(argument)} (negative)")
            called: sp.Expr = _FUNCS[func][1](*arguments)
            return called
        raise self.refuse(f"the expression {ast.unparse(node)!r}")

    def chain(self, node: ast.BinOp) -> sp.Expr:
        """``x + y − z`` or ``x·y/z`` along the left spine, without recursing down it."""
        kind = _chain(node.op)
        ops: list[tuple[ast.operator, ast.AST]] = []
        cur: ast.AST = node
        while isinstance(cur, ast.BinOp) and _chain(cur.op) == kind:
            ops.append((cur.op, cur.right))
            cur = cur.left
        out = self.build(cur)
        for op, right_node in reversed(ops):
            right = self.build(right_node)
            if isinstance(op, ast.Div) and right == 0:
                raise self.refuse("a division by zero")
            out = _BINOPS[type(op)](out, right)
        return out

    def subscript(self, node: ast.Subscript) -> sp.Expr:
        if not isinstance(node.value, ast.Name) or node.value.id not in ("a", "y"):
            raise self.refuse(f"the subscript {ast.unparse(node)!r}")
        base = a if node.value.id == "a" else y
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        names = [p.id if isinstance(p, ast.Name) else None for p in parts]
        want = list(self.index_names)
        if names == want:
            return base[tuple(self.index_names[str(k)] for k in names)]
        written = f"{node.value.id}[{','.join(want)}]"
        if names and all(k in _INDEX_SYMBOLS for k in names):
            # an index slip: a *different* entry, so the line is wrong (with a hint), not refused
            hint = (
                "indices swapped?"
                if sorted(names) == sorted(want)  # type: ignore[type-var]
                else "indices slipped?"
            )
            self.slips.append(f"{ast.unparse(node)}: {hint} entries are written {written}")
            return base[tuple(_INDEX_SYMBOLS[str(k)] for k in names)]
        raise self.refuse(f"{ast.unparse(node)} (entries are written {written})")


_INDEX_SYMBOLS = {"i": i, "j": j}


@dataclass(frozen=True)
class StepLine:
    """The verdict on one node's claimed adjoint ``∂J/∂node``."""

    node: str
    claimed: str | None
    status: LineStatus
    correct: sp.Expr
    expected_from_claims: sp.Expr | None
    message: str


@dataclass(frozen=True)
class StepReport:
    """Per-line verdicts, top (``∂J/∂u_last``) down; ``first_wrong`` names where errors start."""

    task: str
    lines: list[StepLine]

    @property
    def first_wrong(self) -> str | None:
        for line in self.lines:
            if line.status in ("wrong", "carried"):
                return line.node
        return None

    @property
    def ok(self) -> bool:
        return all(line.status in ("correct", "unclaimed") for line in self.lines)

    def __str__(self) -> str:
        width = max([len("(not claimed)"), *(len(ln.claimed or "") for ln in self.lines)])
        rows = [f"Step check for the {self.task} graph:"]
        for ln in self.lines:
            claim = ln.claimed if ln.claimed is not None else "(not claimed)"
            rows.append(
                f"  ∂J/∂{ln.node:<3} = {claim:<{width}}  {ln.status.upper():<11} {ln.message}"
            )
        fw = self.first_wrong
        rows.append(f"first wrong line: {fw}" if fw else "no wrong line")
        return "\n".join(rows)


#: the claim key of the line through the activation, ∂J/∂z
Z_LINE = "z"


def verify_steps(
    task: str | Loss, claims: Mapping[str, str], *, timeout: float | None = DEFAULT_TIMEOUT
) -> StepReport:
    """Check a claimed ``∂J/∂u_k`` for each node against the derivation and the chain rule.

    A line is ``correct``; ``wrong`` (a new error: neither right nor what the chain rule gives
    from the lines above); ``carried`` (wrong, but it does follow from a wrong line above: the
    error is carried forward); ``unjustified`` (right, but not what the chain rule gives from
    the lines above); ``undecided`` (neither proved nor disproved, with the reason). "The lines
    above" are the claimed ones where claimed; a line not written takes the value the chain rule
    gives from the lines above it, so an error is carried through unwritten lines.

    ``task`` is a loss's name or any :class:`~nnderiv.formulas.Loss`; claims may use its
    hyper-parameters by name (``gamma``). The key ``"z"`` claims the line through the
    activation, ``∂J/∂z`` at one entry, checked against the chain rule from ``∂J/∂u0``; for a
    softmax loss whose shortcut needs label columns summing to 1, a claim right only under that
    condition is ``correct`` with the condition stated.

    Inequality is decided by exact evaluation at random points, equality by sympy's zero test;
    each claimed line is answered within ``timeout`` seconds (``None``: no limit), after which
    it is ``undecided`` with the reason "time budget".

    Example::

        >>> r = verify_steps("binary", {"u4": "-1/m", "u2": "-y[i]/m"})
        >>> r.ok
        True
    """
    graph = graph_for(task)
    if not isinstance(claims, Mapping):
        raise InvalidArgument(
            f"Expected claims to be a mapping of node names to expressions but got "
            f"{type(claims).__name__}"
        )
    if not claims:
        raise InvalidArgument(
            f'Expected at least one claim, e.g. {{"u1": "..."}}, for the nodes '
            f"{', '.join(graph.names)} but got none"
        )
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise InvalidArgument(
            f"Expected timeout to be a positive number of seconds or None but got {timeout!r}"
        )
    for name in claims:
        if str(name) != Z_LINE:
            graph.node(str(name))  # unknown node: InvalidArgument listing the known ones
    parsed = {str(k): _parse(v, graph, str(k)) for k, v in claims.items()}
    ranges = ranges_for(graph.loss)
    steps = {s.node: s for s in adjoints(graph)}
    used: dict[str, sp.Expr] = {}  # the claimed value where given, else the chain rule's
    proved_right: set[str] = set()  # lines whose used value is proved equal to the true one
    lines: list[StepLine] = []
    for node in reversed(graph.nodes):
        step = steps[node.name]
        true = step.value
        truth = step.shown or true
        expected = (
            sp.Add(*(used[c] * local for c, local in step.terms)) if step.terms else sp.Integer(1)
        )
        # nothing wrong above: what the chain rule gives from the lines above is the truth
        clean = all(c in proved_right for c, _ in step.terms)
        deadline = None if timeout is None else time.monotonic() + timeout
        if node.name not in parsed:
            used[node.name] = true if clean else expected
            if clean:
                proved_right.add(node.name)
                lines.append(StepLine(node.name, None, "unclaimed", true, true, ""))
            else:
                lines.append(_unclaimed(node.name, true, truth, expected, deadline, ranges))
            continue
        claim, slips = parsed[node.name]
        used[node.name] = claim
        right = decide_zero(claim - true, timeout=_left(deadline), defined=true, ranges=ranges)
        if right.proved:
            proved_right.add(node.name)
        follows = (
            right
            if clean
            else decide_zero(
                claim - expected, timeout=_left(deadline), defined=expected, ranges=ranges
            )
        )
        line = _verdict(
            node.name, str(claims[node.name]), true, truth, expected, right, follows, step.terms
        )
        if slips:
            line = _with_slips(line, slips)
        lines.append(line)
    if Z_LINE in parsed:
        first = graph.nodes[0].name
        lines.append(
            _z_line(
                graph,
                parsed[Z_LINE],
                str(claims[Z_LINE]),
                steps[first].value,
                used[first],
                first in proved_right,
                timeout,
                ranges,
            )
        )
    return StepReport(graph.loss.name, lines)


def _z_line(
    graph: Graph,
    parsed: tuple[sp.Expr, list[str]],
    text: str,
    true_dA: sp.Expr,
    used_dA: sp.Expr,
    clean: bool,
    timeout: float | None,
    ranges: Any,
) -> StepLine:
    """The line through the activation: ``∂J/∂z = g'(∂J/∂a)`` from the record's backward."""
    claim, slips = parsed
    deadline = None if timeout is None else time.monotonic() + timeout
    true = through_activation(graph, true_dA)
    expected = true if clean else through_activation(graph, used_dA)
    right = decide_zero(claim - true, timeout=_left(deadline), defined=true, ranges=ranges)
    loss = graph.loss
    if right.status == "disproved" and on_simplex_labels(loss):
        simplex = {graph.column_sum(y): sp.Integer(1)}
        on = decide_zero((claim - true).xreplace(simplex), timeout=_left(deadline), ranges=ranges)
        if on.proved:
            return StepLine(
                Z_LINE,
                text,
                "correct",
                true,
                expected,
                "correct when every label column sums to 1 (Σ_p y_pi = 1); for any labels "
                f"∂J/∂z = {shown_text(true)}",
            )
    follows = (
        right
        if clean
        else decide_zero(claim - expected, timeout=_left(deadline), defined=expected, ranges=ranges)
    )
    line = _verdict(
        Z_LINE, text, true, true, expected, right, follows, ((graph.nodes[0].name, sp.Integer(1)),)
    )
    return _with_slips(line, slips) if slips else line


def _left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (at least a sliver, so the answer is "time budget")."""
    return None if deadline is None else max(deadline - time.monotonic(), 1e-3)


def _unclaimed(
    name: str,
    true: sp.Expr,
    truth: Any,
    expected: sp.Expr,
    deadline: float | None,
    ranges: Any = None,
) -> StepLine:
    """An unwritten line below a wrong one carries the chain rule's value; say so when a point
    shows that value wrong (evaluation only: an unwritten line spends no symbolic budget)."""
    try:
        ev = evaluate_at_points(expected - true, deadline=deadline, defined=true, ranges=ranges)
    except OutOfTime:
        return StepLine(name, None, "unclaimed", true, expected, "")
    note = (
        f"carries {shown_text(expected)} from the lines above (correct: {shown_text(truth)})"
        if ev.counterexample is not None
        else ""
    )
    return StepLine(name, None, "unclaimed", true, expected, note)


def _with_slips(line: StepLine, slips: list[str]) -> StepLine:
    hint = "; ".join(slips)
    if line.status in ("wrong", "carried"):
        return replace(line, message=f"{hint}; {line.message}")
    return replace(line, message=f"{hint}{'; ' + line.message if line.message else ''}")


def _reason(proof: Proof) -> str:
    return proof.detail or "no proof and no counterexample"


def _verdict(
    name: str,
    text: str,
    true: sp.Expr,
    truth: Any,
    expected: sp.Expr,
    right: Proof,
    follows: Proof,
    terms: tuple[tuple[str, sp.Expr], ...],
) -> StepLine:
    r, f = right.status, follows.status
    parents = ", ".join(c for c, _ in terms) or "the seed"
    if r == "unknown":
        return StepLine(
            name,
            text,
            "undecided",
            true,
            expected,
            f"{_budget_word(right)}could not decide whether it is right ({_reason(right)}); "
            f"expected {shown_text(truth)}",
        )
    if f == "unknown":
        verdict = "right" if r == "proved" else f"wrong (correct: {shown_text(truth)})"
        return StepLine(
            name,
            text,
            "undecided",
            true,
            expected,
            f"{_budget_word(follows)}{verdict}, but could not decide whether it follows from "
            f"the lines above ({_reason(follows)}); they give {shown_text(expected)}",
        )
    if r == "proved" and f == "proved":
        return StepLine(name, text, "correct", true, expected, "")
    if r == "proved":
        return StepLine(
            name,
            text,
            "unjustified",
            true,
            expected,
            f"right, but the chain rule from the lines above ({parents}) gives "
            f"{shown_text(expected)}",
        )
    if f == "proved":
        return StepLine(
            name,
            text,
            "carried",
            true,
            expected,
            f"follows from the wrong line above ({parents}); correct: {shown_text(truth)}",
        )
    return StepLine(
        name,
        text,
        "wrong",
        true,
        expected,
        f"correct: {shown_text(truth)} (differs {right.detail})",
    )


def _budget_word(proof: Proof) -> str:
    return "time budget spent: " if proof.timed_out else ""
