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
from .graphs import Graph, Node, symbols

if TYPE_CHECKING:
    from .derive import Derivation, Proof, Step

__all__ = ["Vec", "derivation_latex", "derivation_markdown", "derivation_text", "expr_latex"]


# ---------------------------------------------------------------------------------------------
# element expressions
# ---------------------------------------------------------------------------------------------


class _Text(StrPrinter):  # type: ignore[misc]
    printmethod = "_nnderiv_text"  # not "_sympystr", which Indexed defines for itself

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        return f"{expr.base.label}_{''.join(str(k) for k in expr.indices)}"

    def _print_Sum(self, expr: sp.Sum) -> str:
        (idx, _lo, _hi), body = expr.limits[0], expr.function
        inner = self._print(body)
        return (
            f"Σ_{idx} {inner}"
            if body.is_Atom or isinstance(body, sp.Indexed)
            else f"Σ_{idx} ({inner})"
        )


class _Latex(LatexPrinter):  # type: ignore[misc]
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


class Vec:
    """A placeholder matrix or scalar that records arithmetic as ⊙ / ⊘ notation."""

    def __init__(self, text: str, tex: str, *, matrix: bool = True, prec: int = 0) -> None:
        self.text, self.tex, self.matrix, self.prec = text, tex, matrix, prec
        self.negated: Vec | None = None

    @staticmethod
    def lift(v: Any) -> Vec:
        if isinstance(v, Vec):
            return v
        return Vec(str(v), sp.latex(v), matrix=False, prec=0)

    def _wrap(self, limit: int) -> tuple[str, str]:
        if self.prec >= limit:
            return f"({self.text})", f"\\left({self.tex}\\right)"
        return self.text, self.tex

    def __add__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        return Vec(f"{self.text} + {o.text}", f"{self.tex} + {o.tex}", matrix=True, prec=2)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        ot, ox = o._wrap(2)
        return Vec(f"{self.text} − {ot}", f"{self.tex} - {ox}", matrix=True, prec=2)

    def __rsub__(self, other: Any) -> Vec:
        return Vec.lift(other) - self

    def __neg__(self) -> Vec:
        t, x = self._wrap(2)
        out = Vec(f"−{t}", f"-{x}", matrix=self.matrix, prec=1)
        out.negated = self
        return out

    def __mul__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        (lt, lx), (rt, rx) = self._wrap(2), o._wrap(2)
        if self.matrix and o.matrix:
            return Vec(f"{lt} ⊙ {rt}", f"{lx} \\odot {rx}", prec=1)
        return Vec(f"{lt} {rt}", f"{lx} {rx}", matrix=self.matrix or o.matrix, prec=1)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        if o.matrix:
            (lt, lx), (rt, rx) = self._wrap(2), o._wrap(1)
            return Vec(f"{lt} ⊘ {rt}", f"{lx} \\oslash {rx}", prec=1)
        inner, sign = (self.negated, "−") if self.negated is not None else (self, "")
        t, x = inner._wrap(2)
        return Vec(
            f"{sign}(1/{o.text}) {t}",
            f"{'-' if sign else ''}\\frac{{1}}{{{o.tex}}} {x}",
            matrix=self.matrix,
            prec=1,
        )


def vectorised(graph: Graph, rule_name: str) -> Vec:
    """The closed-form rule ``rule_name`` of the graph's loss, printed in matrix notation."""
    A, Y = Vec("A", "A"), Vec("Y", "Y")
    ysum = Vec("1 1ᵀY", "\\mathbf{1}\\mathbf{1}^{\\top} Y")
    m = Vec("m", "m", matrix=False)
    out: Vec = getattr(graph.loss, rule_name)(A, Y, m, ysum)
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
    value = sp.sympify(act.slope(g.entry(symbols["a"])))
    return shown_latex(value) if latex else shown_text(value)


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
            f"  ∂J/∂z{s} = ∂J/∂a{s} · {_slope(d, False)} = {shown_text(step.value)}",
            f"Vectorised: ∂J/∂Z = {_backward(d, False)} = {vectorised(g, 'grad_Z_rule').text}"
            f"    equation ({loss.equations[2]})",
        ]
    out = [
        "",
        f"Through the {act.name} (each column i; its sum Σ_p runs over the rows):",
        f"  ∂J/∂z_ji = {act.chain_text} = {shown_text(step.value)}",
        f"  general form: ∂J/∂Z = {_backward(d, False)} = "
        f"{vectorised(g, 'grad_Z_general_rule').text}",
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
            f"{{\\partial a_{{{idx}}}}} {_slope(d, True)} = {shown_latex(step.value)}",
            f"&\\frac{{\\partial J}}{{\\partial Z}} = {_backward(d, True)} = "
            f"{vectorised(g, 'grad_Z_rule').tex} \\qquad ({loss.equations[2]})",
        ]
    return [
        f"&\\frac{{\\partial J}}{{\\partial z_{{ji}}}} = {act.chain_latex} = "
        f"{shown_latex(step.value)}",
        f"&\\frac{{\\partial J}}{{\\partial Z}} = {_backward(d, True)} = "
        f"{vectorised(g, 'grad_Z_general_rule').tex}",
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
    out += ["", f"Vectorised: ∂J/∂A = {vectorised(g, 'grad_A_rule').text}"]
    if d.wrt == "A":
        out[-1] += f"    equation ({loss.equations[1]})"
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
                f"Vectorised: ∂J/∂Z = {vectorised(g, 'grad_Z_rule').text}"
                f"    equation ({loss.equations[2]})"
            )
            if d.without_constraint is not None:
                out.append(f"  without the constraint: {_proof_text(d.without_constraint)}")
    rule = "grad_A" if d.wrt == "A" else "grad_Z"
    out += [
        "",
        f"Proof against formulas.{loss.name}.{rule} (symbolic n, m): {_proof_text(d.proof)}",
    ]
    del dA
    return "\n".join(out) + "\n"


def _sub(g: Graph) -> str:
    return "_" + "".join(map(str, g.indices))


def _latex_lines(d: Derivation) -> list[str]:
    g, loss = d.graph, d.graph.loss
    lines = ["&\\textbf{Computation graph } (\\text{" + g.per + "}):"]
    lines += ["&" + line for line in _graph_lines(g, latex=True)]
    lines.append("&\\textbf{Reverse accumulation:}")
    lines += ["&" + line for line in _step_lines(d, latex=True)]
    lines.append(
        f"&\\frac{{\\partial J}}{{\\partial A}} = {vectorised(g, 'grad_A_rule').tex}"
        + (f" \\qquad ({loss.equations[1]})" if d.wrt == "A" else "")
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
                f"&\\frac{{\\partial J}}{{\\partial Z}} = {vectorised(g, 'grad_Z_rule').tex}"
                f" \\qquad ({loss.equations[2]})"
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
