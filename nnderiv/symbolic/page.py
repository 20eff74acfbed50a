"""A derivation as one self-contained HTML page with MathML: a page a teacher can hand out.

No scripts, no fonts, no network: browsers render MathML Core natively (Chromium 109+, Firefox,
Safari). The page holds the loss, its computation graph, the reverse accumulation line by line,
the vectorised result, the line through the activation, and the proof's status.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter

from .graphs import Node
from .vec import GREEK, Vec, parameter_names

if TYPE_CHECKING:
    from .derive import Derivation, Proof

__all__ = ["derivation_html", "expr_mathml"]

_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 56rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #111; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
math[display=block] { margin: 0.35rem 0 0.35rem 1.5rem; }
.note { color: #444; font-size: 0.95rem; }
.proved { color: #0a5d1a; } .disproved { color: #a01010; } .unknown { color: #7a5a00; }
footer { margin-top: 2rem; color: #666; font-size: 0.85rem; }
"""


class _MathML(MathMLPresentationPrinter):  # type: ignore[misc]
    """sympy's presentation MathML, with the derivations' notation: ``a_ji``, ``u_{3,ji}``,
    ``Σ_p``, Greek hyper-parameters and ``[x > 0]`` for a step."""

    def _print_Indexed(self, expr: sp.Indexed) -> Any:
        label = str(expr.base.label)
        idx = "".join(str(k) for k in expr.indices)
        msub = self.dom.createElement("msub")
        mi = self.dom.createElement("mi")
        sub = self.dom.createElement("mrow")
        if label.startswith("u") and label[1:].isdigit():
            mi.appendChild(self.dom.createTextNode("u"))
            mn = self.dom.createElement("mn")
            mn.appendChild(self.dom.createTextNode(label[1:]))
            sub.appendChild(mn)
            comma = self.dom.createElement("mo")
            comma.appendChild(self.dom.createTextNode(","))
            sub.appendChild(comma)
        else:
            mi.appendChild(self.dom.createTextNode(label))
        index = self.dom.createElement("mi")
        index.appendChild(self.dom.createTextNode(idx))
        sub.appendChild(index)
        msub.appendChild(mi)
        msub.appendChild(sub)
        return msub

    def _print_Symbol(self, sym: sp.Symbol, style: str = "plain") -> Any:
        name = GREEK.get(sym.name, (None, None))[0]
        if name is None:
            return super()._print_Symbol(sym, style=style)
        mi = self.dom.createElement("mi")
        mi.appendChild(self.dom.createTextNode(name))
        return mi

    def _print_Sum(self, expr: sp.Sum) -> Any:
        (idx, _lo, _hi), body = expr.limits[0], expr.function
        row = self.dom.createElement("mrow")
        under = self.dom.createElement("munder")
        sigma = self.dom.createElement("mo")
        sigma.appendChild(self.dom.createTextNode("∑"))
        under.appendChild(sigma)
        under.appendChild(self._print(idx))
        row.appendChild(under)
        inner = self._print(body)
        if isinstance(body, sp.Add):
            fenced = self.dom.createElement("mrow")
            for ch in ("(", None, ")"):
                if ch is None:
                    fenced.appendChild(inner)
                else:
                    mo = self.dom.createElement("mo")
                    mo.appendChild(self.dom.createTextNode(ch))
                    fenced.appendChild(mo)
            inner = fenced
        row.appendChild(inner)
        return row

    def _print_Heaviside(self, expr: sp.Heaviside, exp: Any = None) -> Any:
        row = self.dom.createElement("mrow")
        for part in ("[", expr.args[0], ">", 0, "]"):
            if isinstance(part, str):
                mo = self.dom.createElement("mo")
                mo.appendChild(self.dom.createTextNode(part))
                row.appendChild(mo)
            else:
                row.appendChild(self._print(sp.sympify(part)))
        return row


def expr_mathml(expr: Any) -> str:
    """Presentation MathML (the inner ``mrow``) of an element expression."""
    return str(_MathML().doprint(sp.sympify(expr)))


def _math(inner: str) -> str:
    return f'<math display="block">{inner}</math>'


def _mo(op: str) -> str:
    return f"<mo>{escape(op)}</mo>"


def _partial(top: str, bottom: str) -> str:
    return f"<mfrac><mrow><mo>∂</mo>{top}</mrow><mrow><mo>∂</mo>{bottom}</mrow></mfrac>"


def _node(node: Node) -> str:
    return expr_mathml(node.ref())


def _graph(d: Derivation) -> list[str]:
    out = []
    last = d.graph.nodes[-1].name
    for node in d.graph.nodes:
        body = node.body
        if node.sum_over is not None:
            idx, upper = node.sum_over
            body = sp.Sum(body, (idx, 0, upper - 1))
        rhs = expr_mathml(body)
        tail = _mo("=") + "<mi>J</mi>" if node.name == last else ""
        out.append(_math(f"<mrow>{_node(node)}{_mo('=')}{rhs}{tail}</mrow>"))
    return out


def _steps(d: Derivation) -> list[str]:
    out = []
    J = "<mi>J</mi>"
    for step in d.steps:
        if step.rule:
            continue
        node = d.graph.node(step.node)
        lhs = _partial(J, _node(node))
        if not step.terms:
            out.append(_math(f"<mrow>{lhs}{_mo('=')}<mn>1</mn></mrow>"))
            continue
        chain = []
        for cname, _local in step.terms:
            consumer = _node(d.graph.node(cname))
            chain.append(f"{_partial(J, consumer)}{_mo('⋅')}{_partial(consumer, _node(node))}")
        rhs = _mo("+").join(chain)
        value = expr_mathml(step.value)
        out.append(_math(f"<mrow>{lhs}{_mo('=')}{rhs}{_mo('=')}{value}</mrow>"))
    return out


def _vectorised(d: Derivation, rule_name: str, value: sp.Expr) -> str:
    from ..formulas.losses import call_rule

    rule = getattr(d.graph.loss, rule_name)
    if rule is None:
        return f"<mtext>entry by entry: </mtext>{expr_mathml(value)}"
    A, Y = Vec("A", "A"), Vec("Y", "Y")
    ysum = Vec("1 1ᵀY", "", "<mrow><mn>𝟏</mn><msup><mn>𝟏</mn><mi>⊤</mi></msup><mi>Y</mi></mrow>")
    m = Vec("m", "m", matrix=False)
    params = {k: Vec(t, x, matrix=False) for k, (t, x) in parameter_names(d.graph.loss).items()}
    out: Vec = call_rule(rule, A, Y, m, ysum, n=Vec("n", "n", matrix=False), params=params)
    return out.mml


def _backward_mml(d: Derivation) -> str:
    act = d.graph.loss.activation
    dA = Vec("∂J/∂A", "", _partial("<mi>J</mi>", "<mi>A</mi>"))
    if act.slope is not None:
        return str((dA * act.slope(Vec("A", "A"))).mml)
    return f"<mtext>{escape(act.backward_text)}</mtext>"


def _proof(p: Proof) -> str:
    cls = {"proved": "proved", "disproved": "disproved"}.get(p.status, "unknown")
    word = {"proved": "proved", "disproved": "NOT equal", "unknown": "not proved"}[p.status]
    cond = f" when {escape(p.condition)}" if p.condition else ""
    return f'<span class="{cls}">{word}{cond}</span> <span class="note">({escape(p.detail)})</span>'


def derivation_html(d: Derivation) -> str:
    """The derivation as one self-contained HTML page (MathML, no scripts)."""
    loss = d.graph.loss
    title = f"∂J/∂{d.wrt} for the {loss.name} loss"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(loss.title)}; output activation: {escape(loss.activation.title)}. "
        "Layout: one column per example, n units in rows j, m examples in columns i; "
        "J = (1/m) Σ<sub>j</sub> Σ<sub>i</sub> ℓ(a<sub>ji</sub>, y<sub>ji</sub>).</p>",
    ]
    if loss.params:
        shown = ", ".join(
            f"{escape(GREEK.get(k, (k, ''))[0])} = {v}" for k, v in loss.parameter_values().items()
        )
        parts.append(
            f"<p class='note'>Hyper-parameters stay symbols (numeric values: {shown}).</p>"
        )
    parts.append(f"<h2>Computation graph ({escape(d.graph.per)})</h2>")
    parts += _graph(d)
    parts.append(f"<h2>Reverse accumulation, from ∂J/∂{d.graph.nodes[-1].name} = 1 down</h2>")
    parts += _steps(d)
    dA = [s for s in d.steps if not s.rule][-1].value
    dA_mml = _partial("<mi>J</mi>", "<mi>A</mi>")
    parts.append("<h2>Vectorised</h2>")
    parts.append(_math(f"<mrow>{dA_mml}{_mo('=')}{_vectorised(d, 'grad_A_rule', dA)}</mrow>"))
    dZ_mml = _partial("<mi>J</mi>", "<mi>Z</mi>")
    for step in d.steps:
        if step.rule == "activation":
            act = loss.activation
            parts.append(f"<h2>Through the {escape(act.name)}</h2>")
            entry = expr_mathml(sp.Symbol("z_" + "".join(map(str, d.graph.indices))))
            parts.append(
                _math(
                    f"<mrow>{_partial('<mi>J</mi>', entry)}{_mo('=')}"
                    f"{expr_mathml(step.value)}</mrow>"
                )
            )
            rule = "grad_Z_rule" if not loss.requires_simplex else "grad_Z_general_rule"
            parts.append(
                _math(
                    f"<mrow>{dZ_mml}{_mo('=')}{_backward_mml(d)}{_mo('=')}"
                    f"{_vectorised(d, rule, step.value)}</mrow>"
                )
            )
            if d.general is not None:
                parts.append(f"<p>General form, any labels y ≥ 0: {_proof(d.general)}</p>")
        elif step.rule == "simplex":
            parts.append(f"<h2>With the constraint {escape(d.constraint)}</h2>")
            parts.append(
                _math(f"<mrow>{dZ_mml}{_mo('=')}{_vectorised(d, 'grad_Z_rule', step.value)}</mrow>")
            )
    parts.append("<h2>Proof</h2>")
    parts.append(f"<p>Against {escape(d.reference)} (symbolic n, m): {_proof(d.proof)}</p>")
    parts.append("<footer>Generated by nnderiv (the symbolic witness).</footer></body></html>")
    return "\n".join(parts) + "\n"
