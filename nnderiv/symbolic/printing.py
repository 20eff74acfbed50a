"""Printers for derivations: Unicode text, LaTeX and Markdown, in the order of SPEC.md.

The graph first, then one line per node from ``∂J/∂u_last = 1`` down (chain rule, then value;
a node with two consumers sums both paths), then the vectorised result with ⊙ / ⊘ — printed by
evaluating the closed-form rule of ``formulas`` on :class:`Vec` placeholders, so the printed
matrix form is the code that was proved — then ``∂J/∂Z`` through the activation.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from .display import shown_latex, shown_text
from .graphs import Graph, Node, exact, symbols
from .vec import GREEK, Vec, parameter_names

if TYPE_CHECKING:
    from .derive import Derivation, Proof, Step

__all__ = ["Vec", "derivation_latex", "derivation_markdown", "derivation_text", "expr_latex"]


# ---------------------------------------------------------------------------------------------
# element expressions
# ---------------------------------------------------------------------------------------------


_TEXT_NAMES = {k: t for k, (t, _) in GREEK.items()}
_RELATIONS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}


class _Text(StrPrinter):  # type: ignore[misc]
    printmethod = "_nnderiv_text"  # not "_sympystr", which Indexed defines for itself

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        return f"{expr.base.label}_{''.join(str(k) for k in expr.indices)}"

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return str(_TEXT_NAMES.get(expr.name, expr.name))

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Max(self, expr: sp.Max) -> str:
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr: sp.Min) -> str:
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        return f"[{self._print(expr.args[0])} > 0]"

    def _print_sign(self, expr: sp.sign) -> str:
        return f"sign({self._print(expr.args[0])})"

    def _print_Relational(self, expr: Any) -> str:
        op = _RELATIONS.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        parts = []
        for value, cond in expr.args:
            where = "otherwise" if cond is sp.true else f"if {self._print(cond)}"
            parts.append(f"{self._print(value)} {where}")
        return "{" + "; ".join(parts) + "}"

    def _print_Sum(self, expr: sp.Sum) -> str:
        (idx, _lo, _hi), body = expr.limits[0], expr.function
        inner = self._print(body)
        return (
            f"Σ_{idx} {inner}"
            if body.is_Atom or isinstance(body, sp.Indexed)
            else f"Σ_{idx} ({inner})"
        )


_LATEX_NAMES = {k: x for k, (_, x) in GREEK.items()}


class _Latex(LatexPrinter):  # type: ignore[misc]
    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        name = _LATEX_NAMES.get(expr.name)
        return name if name is not None else str(super()._print_Symbol(expr, style=style))

    def _print_Heaviside(self, expr: sp.Heaviside, exp: Any = None) -> str:
        return f"[{self._print(expr.args[0])} > 0]"

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        label = str(expr.base.label)
        idx = "".join(str(k) for k in expr.indices)
        if label.startswith("u") and label[1:].isdigit():
            return f"u_{{{label[1:]},{idx}}}"
        return f"{label}_{{{idx}}}"


def expr_text(expr: Any) -> str:
    """Unicode text of an element expression: ``-y_ji/(m·a_ji)``, ``Σ_p y_pi``."""
    out = str(_Text().doprint(sp.sympify(expr)))
    return out.replace("**", "^").replace("*", "·").replace("-", "−")


def expr_latex(expr: Any) -> str:
    """LaTeX of an element expression (``\\frac{1}{m}`` kept as a factor)."""
    return str(_Latex({"long_frac_ratio": 1}).doprint(sp.sympify(expr)))


def _node_text(name: str, indices: tuple[sp.Symbol, ...]) -> str:
    return f"{name}_{''.join(map(str, indices))}" if indices else name


def _node_latex(name: str, indices: tuple[sp.Symbol, ...]) -> str:
    k = name[1:]
    return f"u_{{{k},{''.join(map(str, indices))}}}" if indices else f"u_{{{k}}}"


def _graph_lines(graph: Graph, latex: bool) -> list[str]:
    show = shown_latex if latex else shown_text
    label = _node_latex if latex else _node_text
    lines = []
    last = graph.nodes[-1].name
    for node in graph.nodes:
        lhs = label(node.name, node.indices)
        rhs = _body(node, show, latex)
        tail = " = J" if node.name == last else ""
        lines.append(f"{lhs} = {rhs}{tail}")
    return lines


def _body(node: Node, show: Any, latex: bool) -> str:
    if node.sum_over is None:
        return str(show(node.body))
    idx = node.sum_over[0]
    coeff, rest = node.body.as_independent(idx, as_Add=False)
    sigma = f"\\sum_{{{idx}}} " if latex else f"Σ_{idx} "
    if coeff == 1:
        return sigma + str(show(rest))
    num, den = sp.fraction(coeff)
    sign = "-" if latex else "−"
    frac = f"\\frac{{{sp.latex(abs(num))}}}{{{sp.latex(den)}}}" if latex else f"({abs(num)}/{den})"
    return f"{sign if num.could_extract_minus_sign() else ''}{frac} {sigma}{show(rest)}"


def _step_lines(d: Derivation, latex: bool) -> list[str]:
    written = shown_latex if latex else shown_text
    label = _node_latex if latex else _node_text

    def partial(top: str, bot: str) -> str:
        return f"\\frac{{\\partial {top}}}{{\\partial {bot}}}" if latex else f"∂{top}/∂{bot}"

    dot = " \\cdot " if latex else " · "
    lines = []
    for step in d.steps:
        if step.rule:
            continue
        node = d.graph.node(step.node)
        lhs = partial("J", label(node.name, node.indices))
        if not step.terms:
            lines.append(f"{lhs} = 1")
            continue
        chain = []
        for cname, _local in step.terms:
            consumer = d.graph.node(cname)
            c_lab = label(consumer.name, consumer.indices)
            chain.append(partial("J", c_lab) + dot + partial(c_lab, label(node.name, node.indices)))
        lines.append(f"{lhs} = {' + '.join(chain)} = {written(step.shown or step.value)}")
    return lines


# ---------------------------------------------------------------------------------------------
# matrix (vectorised) form
# ---------------------------------------------------------------------------------------------


def vectorised(graph: Graph, rule_name: str) -> Vec | None:
    """The closed-form rule ``rule_name`` of the graph's loss, printed in matrix notation
    (None: the loss has no such closed form)."""
    from ..formulas.losses import call_rule

    rule = getattr(graph.loss, rule_name)
    if rule is None:
        return None
    A, Y = Vec("A", "A"), Vec("Y", "Y")
    ysum = Vec("1 1ᵀY", "\\mathbf{1}\\mathbf{1}^{\\top} Y")
    m = Vec("m", "m", matrix=False)
    params = {k: Vec(t, x, matrix=False) for k, (t, x) in parameter_names(graph.loss).items()}
    out: Vec = call_rule(rule, A, Y, m, ysum, n=Vec("n", "n", matrix=False), params=params)
    return out


def _slope(d: Derivation, latex: bool) -> str:
    """An element-wise activation's ``g'`` written in the entry ``a_i`` / ``a_ji``: the
    record's printed form with ``a`` at the graph's indices, or its sympy form printed."""
    act, g = d.graph.loss.activation, d.graph
    idx = "".join(map(str, g.indices))
    written = act.slope_latex if latex else act.slope_text
    if written:
        entry = f"a_{{{idx}}}" if latex else f"a_{idx}"
        return re.sub(r"(?<![A-Za-z\\])a(?![A-Za-z_])", lambda _: entry, written)
    assert act.slope is not None
    value = exact(act.slope(g.entry(symbols["a"])))
    return shown_latex(value) if latex else shown_text(value)


def _grouped(text: str, latex: bool) -> str:
    """A factor written after ``∂J/∂a ·``: in parentheses when it is a sum (``(1 − a²)``)."""
    depth, top = 0, []
    for ch in text:  # the text outside every parenthesis or brace
        depth += ch in "({"
        depth -= ch in ")}"
        if depth == 0:
            top.append(ch)
    bare = "".join(top)
    if any(op in bare for op in (" + ", " − ", " - ")) or bare.startswith(("−", "-")):
        return f"\\left({text}\\right)" if latex else f"({text})"
    return text


def _backward(d: Derivation, latex: bool) -> str:
    act = d.graph.loss.activation
    written = act.backward_latex if latex else act.backward_text
    if written:
        return written
    if latex:
        return f"\\frac{{\\partial J}}{{\\partial A}} \\odot {act.symbol}'(Z)"
    return f"∂J/∂A ⊙ {act.symbol}'(Z)"


def _activation_text(d: Derivation, step: Step) -> list[str]:
    g, loss = d.graph, d.graph.loss
    act = loss.activation
    if act.elementwise:
        s = _sub(g)
        slope = act.slope_text or _slope(d, False).replace(f"a{s}", "a")
        return [
            "",
            f"Through the {act.name}, {act.symbol}'(z) = {slope}:",
            f"  ∂J/∂z{s} = ∂J/∂a{s} · {_grouped(_slope(d, False), False)} = "
            f"{shown_text(step.value)}",
            f"Vectorised: ∂J/∂Z = {_backward(d, False)} = "
            f"{_vec(d, 'grad_Z_rule', False, step.value)}{_eq(d, 2, False)}",
        ]
    out = [
        "",
        f"Through the {act.name} (each column i; its sum Σ_p runs over the rows):",
        f"  ∂J/∂z_ji = {act.chain_text} = {shown_text(step.value)}",
        f"  general form: ∂J/∂Z = {_backward(d, False)} = "
        f"{_vec(d, 'grad_Z_general_rule', False, step.value)}",
    ]
    if d.general is not None:
        out.append(f"  general form, any labels y ≥ 0: {_proof_text(d.general)}")
    return out


def _activation_latex(d: Derivation, step: Step) -> list[str]:
    g, loss = d.graph, d.graph.loss
    act = loss.activation
    idx = "".join(map(str, g.indices))
    if act.elementwise:
        return [
            f"&\\frac{{\\partial J}}{{\\partial z_{{{idx}}}}} = \\frac{{\\partial J}}"
            f"{{\\partial a_{{{idx}}}}} {_grouped(_slope(d, True), True)} = "
            f"{shown_latex(step.value)}",
            f"&\\frac{{\\partial J}}{{\\partial Z}} = {_backward(d, True)} = "
            f"{_vec(d, 'grad_Z_rule', True, step.value)}{_eq(d, 2, True)}",
        ]
    return [
        f"&\\frac{{\\partial J}}{{\\partial z_{{ji}}}} = {act.chain_latex} = "
        f"{shown_latex(step.value)}",
        f"&\\frac{{\\partial J}}{{\\partial Z}} = {_backward(d, True)} = "
        f"{_vec(d, 'grad_Z_general_rule', True, step.value)}",
    ]


def _proof_text(p: Proof) -> str:
    if p.status == "proved":
        return f"proved ({p.detail})"
    if p.status == "disproved":
        return f"NOT equal: residual {shown_text(p.residual)} ({p.detail})"
    return f"could not prove (residual {shown_text(p.residual)}; {p.detail})"


def _entry_name(d: Derivation, latex: bool) -> str:
    idx = "".join(map(str, d.graph.indices))
    var = "z" if d.wrt == "Z" else "a"
    return f"\\frac{{\\partial J}}{{\\partial {var}_{{{idx}}}}}" if latex else f"∂J/∂{var}_{idx}"


def _vec(d: Derivation, rule_name: str, latex: bool, value: sp.Expr) -> str:
    """A closed form in matrix notation; for a loss without one, the derived entry itself."""
    v = vectorised(d.graph, rule_name)
    if v is not None:
        return v.tex if latex else v.text
    if latex:
        return f"\\text{{entry by entry: }} {shown_latex(value)}"
    return f"entry by entry, {shown_text(value)}"


def _eq(d: Derivation, k: int, latex: bool) -> str:
    number = d.graph.loss.equations[k]
    if number is None:
        return ""
    return f" \\qquad ({number})" if latex else f"    equation ({number})"


def _z_steps(d: Derivation) -> list[Step]:
    return [s for s in d.steps if s.rule]


def derivation_text(d: Derivation) -> str:
    """The derivation as Unicode text."""
    g, loss = d.graph, d.graph.loss
    out = [f"∂J/∂{d.wrt} for the {loss.name} loss ({loss.title}), by reverse accumulation", ""]
    out.append(f"Computation graph ({g.per}):")
    out += ["  " + line for line in _graph_lines(g, latex=False)]
    out += ["", f"Reverse accumulation, from ∂J/∂{g.nodes[-1].name} = 1 down:"]
    out += ["  " + line for line in _step_lines(d, latex=False)]
    dA = [s for s in d.steps if not s.rule][-1].value
    out += ["", f"Vectorised: ∂J/∂A = {_vec(d, 'grad_A_rule', False, dA)}"]
    if d.wrt == "A":
        out[-1] += _eq(d, 1, False)
    for step in _z_steps(d):
        if step.rule == "activation":
            out += _activation_text(d, step)
        elif step.rule == "simplex":
            out += [
                "",
                f"With the simplex constraint {d.constraint} (one-hot or probability labels):",
            ]
            out.append(f"  ∂J/∂z_ji = {shown_text(step.value)}")
            out.append(
                f"Vectorised: ∂J/∂Z = {_vec(d, 'grad_Z_rule', False, step.value)}{_eq(d, 2, False)}"
            )
            if d.without_constraint is not None:
                out.append(f"  without the constraint: {_proof_text(d.without_constraint)}")
    out += ["", f"Proof against {d.reference} (symbolic n, m): {_proof_text(d.proof)}"]
    return "\n".join(out) + "\n"


def _sub(g: Graph) -> str:
    return "_" + "".join(map(str, g.indices))


def _latex_lines(d: Derivation) -> list[str]:
    g = d.graph
    lines = ["&\\textbf{Computation graph } (\\text{" + g.per + "}):"]
    lines += ["&" + line for line in _graph_lines(g, latex=True)]
    lines.append("&\\textbf{Reverse accumulation:}")
    lines += ["&" + line for line in _step_lines(d, latex=True)]
    dA = [s for s in d.steps if not s.rule][-1].value
    lines.append(
        f"&\\frac{{\\partial J}}{{\\partial A}} = {_vec(d, 'grad_A_rule', True, dA)}"
        + (_eq(d, 1, True) if d.wrt == "A" else "")
    )
    for step in _z_steps(d):
        if step.rule == "activation":
            lines += _activation_latex(d, step)
        elif step.rule == "simplex":
            lines.append(
                "&\\text{with } \\textstyle\\sum_{p} y_{pi} = 1: \\quad "
                f"\\frac{{\\partial J}}{{\\partial z_{{ji}}}} = {shown_latex(step.value)}"
            )
            lines.append(
                f"&\\frac{{\\partial J}}{{\\partial Z}} = "
                f"{_vec(d, 'grad_Z_rule', True, step.value)}{_eq(d, 2, True)}"
            )
    return lines


def derivation_latex(d: Derivation) -> str:
    """The derivation as one LaTeX ``aligned`` block (valid for KaTeX and MathJax)."""
    return "\\begin{aligned}\n" + " \\\\\n".join(_latex_lines(d)) + "\n\\end{aligned}"


def derivation_markdown(d: Derivation) -> str:
    """The derivation as Markdown with ``$$`` display math (GitHub, Jupyter)."""
    loss = d.graph.loss
    rule = "grad_A" if d.wrt == "A" else "grad_Z"
    status = (
        "✅ proved"
        if d.proved
        else ("❌ disproved" if d.proof.status == "disproved" else "❔ not proved")
    )
    parts = [
        f"### ∂J/∂{d.wrt} for the {loss.name} loss ({loss.title})",
        "",
        f"{status} equal to `formulas.{loss.name}.{rule}` for symbolic $n$, $m$"
        + (f" under the constraint {d.constraint}." if d.constraint else "."),
        "",
        "$$",
        derivation_latex(d),
        "$$",
        "",
    ]
    return "\n".join(parts)
