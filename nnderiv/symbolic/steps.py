"""Verify a person's step-by-step derivation, line by line, and parse claims safely.

Claims are untrusted (a teacher checks a student's file): they are parsed with Python's ``ast``
into sympy *without evaluating anything* — only numbers, ``m``, ``n``, ``a[j,i]``, ``y[j,i]``
(binary: ``a[i]``, ``y[i]``), ``+ − * / ^ **``, parentheses, ``log`` and ``exp`` are accepted.
``sympify`` / ``parse_expr`` are never called on a claim.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import sympy as sp

from ..errors import InvalidArgument
from .derive import Proof, adjoints, decide_zero
from .graphs import Graph, a, graph_for, m, n, y
from .printing import expr_text

__all__ = ["StepLine", "StepReport", "parse_claim", "verify_steps"]

LineStatus = Literal["correct", "wrong", "carried", "unjustified", "undecided", "unclaimed"]
MAX_CLAIM_LENGTH = 2000
MAX_EXPONENT = 64
MAX_DIGITS = 10_000

_BINOPS: dict[type[ast.operator], Callable[[sp.Expr, sp.Expr], sp.Expr]] = {
    ast.Add: lambda x, z: x + z,
    ast.Sub: lambda x, z: x - z,
    ast.Mult: lambda x, z: x * z,
    ast.Div: lambda x, z: x / z,
}
_FUNCS = {"log": sp.log, "exp": sp.exp}


def parse_claim(text: str, graph: Graph, node: str = "claim") -> sp.Expr:
    """Parse one claimed expression into sympy, refusing anything outside the small grammar.

    Raises :class:`InvalidArgument` naming ``node`` and what was refused.
    """
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
    source = text.replace("^", "**")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        caret = " " * max((exc.offset or 1) - 1, 0) + "^"
        raise InvalidArgument(
            f"Could not parse the claim for {node}: {exc.msg}\n    {source.strip()}\n    {caret}"
        ) from None
    return _Builder(graph, node).build(tree.body)


class _Builder:
    def __init__(self, graph: Graph, node: str) -> None:
        self.graph, self.node = graph, node
        self.index_names = {str(s): s for s in graph.indices}

    def refuse(self, what: str) -> InvalidArgument:
        allowed = "numbers, m, n, " + ", ".join(
            f"{b}[{','.join(self.index_names)}]" for b in ("a", "y")
        )
        return InvalidArgument(
            f"Refused in the claim for {self.node}: {what}. Allowed: {allowed}, "
            "+ - * / ^ **, parentheses, log(...) and exp(...)"
        )

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.refuse(f"the constant {node.value!r}")
            if isinstance(node.value, float) and not math.isfinite(node.value):
                raise self.refuse(f"the number {ast.unparse(node)} (not finite)")
            return (
                sp.Rational(str(node.value))
                if isinstance(node.value, float)
                else sp.Integer(node.value)
            )
        if isinstance(node, ast.Name):
            if node.id == "m":
                return m
            if node.id == "n":
                return n
            raise self.refuse(f"the name {node.id!r}")
        if isinstance(node, ast.BinOp):
            left, right = self.build(node.left), self.build(node.right)
            if isinstance(node.op, ast.Pow):
                if not (right.is_number and abs(float(right)) <= MAX_EXPONENT):
                    raise self.refuse(f"the exponent {right} (a number within ±{MAX_EXPONENT})")
                if left.is_Rational:  # bound the size of exact numbers: no (10^64)^64^… bombs
                    digits = len(str(abs(left.p))) + len(str(left.q))
                    if digits * abs(float(right)) > MAX_DIGITS:
                        raise self.refuse(f"a number of more than {MAX_DIGITS} digits")
                return sp.Pow(left, right)
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self.refuse(f"the operator {type(node.op).__name__}")
            if isinstance(node.op, ast.Div) and right == 0:
                raise self.refuse("a division by zero")
            out: sp.Expr = op(left, right)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            func = node.func.id if isinstance(node.func, ast.Name) else None
            if func not in _FUNCS or node.keywords or len(node.args) != 1:
                shown = ast.unparse(node.func)
                raise self.refuse(f"the call {shown}(...) (only log(x) and exp(x))")
            called: sp.Expr = _FUNCS[func](self.build(node.args[0]))
            return called
        raise self.refuse(f"the expression {ast.unparse(node)!r}")

    def subscript(self, node: ast.Subscript) -> sp.Expr:
        if not isinstance(node.value, ast.Name) or node.value.id not in ("a", "y"):
            raise self.refuse(f"the subscript {ast.unparse(node)!r}")
        base = a if node.value.id == "a" else y
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        names = [p.id if isinstance(p, ast.Name) else None for p in parts]
        want = list(self.index_names)
        if names != want:
            raise self.refuse(
                f"{ast.unparse(node)} (entries are written {node.value.id}[{','.join(want)}])"
            )
        return base[tuple(self.index_names[str(k)] for k in names)]


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


def verify_steps(task: str, claims: Mapping[str, str]) -> StepReport:
    """Check a claimed ``∂J/∂u_k`` for each node against the derivation and the chain rule.

    A line is ``correct``; ``wrong`` (a new error: neither right nor what the chain rule gives
    from the claimed lines above); ``carried`` (wrong, but it does follow from a wrong line above:
    the error is carried forward); ``unjustified`` (right, but not what the chain rule gives from
    the claimed lines above); ``undecided`` (sympy could neither prove nor disprove).

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
    for name in claims:
        graph.node(str(name))  # unknown node: InvalidArgument listing the known ones
    parsed = {str(k): parse_claim(v, graph, str(k)) for k, v in claims.items()}
    steps = {s.node: s for s in adjoints(graph)}
    used: dict[str, sp.Expr] = {}  # the claimed value where given, else the true one
    lines: list[StepLine] = []
    for node in reversed(graph.nodes):
        step = steps[node.name]
        true = step.value
        expected = (
            sp.Add(*(used[c] * local for c, local in step.terms)) if step.terms else sp.Integer(1)
        )
        claim = parsed.get(node.name)
        if claim is None:
            used[node.name] = true
            lines.append(StepLine(node.name, None, "unclaimed", true, expected, ""))
            continue
        used[node.name] = claim
        right = decide_zero(claim - true)
        follows = decide_zero(claim - expected)
        lines.append(
            _verdict(node.name, str(claims[node.name]), true, expected, right, follows, step.terms)
        )
    return StepReport(task, lines)


def _verdict(
    name: str,
    text: str,
    true: sp.Expr,
    expected: sp.Expr,
    right: Proof,
    follows: Proof,
    terms: tuple[tuple[str, sp.Expr], ...],
) -> StepLine:
    r, f = right.status, follows.status
    parents = ", ".join(c for c, _ in terms) or "the seed"
    if (
        r == "unknown"
        or (r == "proved" and f == "unknown")
        or (r == "disproved" and f == "unknown")
    ):
        return StepLine(
            name,
            text,
            "undecided",
            true,
            expected,
            f"sympy could not decide; expected {expr_text(true)}",
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
            f"right, but the chain rule from the claimed {parents} gives {expr_text(expected)}",
        )
    if f == "proved":
        return StepLine(
            name,
            text,
            "carried",
            true,
            expected,
            f"follows from the wrong line above ({parents}); correct: {expr_text(true)}",
        )
    return StepLine(name, text, "wrong", true, expected, f"correct: {expr_text(true)}")
