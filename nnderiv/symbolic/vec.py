"""Matrix notation for the closed forms: placeholders that record arithmetic as ⊙ / ⊘.

A closed-form rule ``rule(a, y, m, ysum, **params)`` run on :class:`Vec` placeholders (``A``,
``Y``, the scalar ``m`` …) prints itself in three forms at once: Unicode text, LaTeX and
presentation MathML. ``nnderiv.ops`` functions answer for placeholders through
``Vec.__nnderiv_op__``.
"""

from __future__ import annotations

from html import escape
from typing import Any

import sympy as sp

__all__ = ["GREEK", "Vec", "parameter_names"]


def _mi(name: str) -> str:
    return f"<mi>{escape(name)}</mi>"


def _mo(op: str) -> str:
    return f"<mo>{escape(op)}</mo>"


def _row(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def _number_mml(v: Any) -> str:
    expr = sp.sympify(v)
    if expr.is_Integer and expr >= 0:
        return f"<mn>{expr}</mn>"
    return str(sp.mathml(expr, printer="presentation"))


class Vec:
    """A placeholder matrix or scalar that records arithmetic as ⊙ / ⊘ notation."""

    def __init__(
        self, text: str, tex: str, mml: str | None = None, *, matrix: bool = True, prec: int = 0
    ) -> None:
        self.text, self.tex, self.matrix, self.prec = text, tex, matrix, prec
        self.mml = mml if mml is not None else _mi(text)
        self.negated: Vec | None = None

    @staticmethod
    def lift(v: Any) -> Vec:
        if isinstance(v, Vec):
            return v
        return Vec(str(v), sp.latex(v), _number_mml(v), matrix=False, prec=0)

    def _wrap(self, limit: int) -> tuple[str, str, str]:
        if self.prec >= limit:
            return (
                f"({self.text})",
                f"\\left({self.tex}\\right)",
                _row(_mo("("), self.mml, _mo(")")),
            )
        return self.text, self.tex, self.mml

    def __add__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        return Vec(
            f"{self.text} + {o.text}",
            f"{self.tex} + {o.tex}",
            _row(self.mml, _mo("+"), o.mml),
            matrix=self.matrix or o.matrix,
            prec=2,
        )

    def __radd__(self, other: Any) -> Vec:
        return Vec.lift(other) + self

    def __sub__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        ot, ox, om = o._wrap(2)
        return Vec(
            f"{self.text} − {ot}",
            f"{self.tex} - {ox}",
            _row(self.mml, _mo("−"), om),
            matrix=self.matrix or o.matrix,
            prec=2,
        )

    def __rsub__(self, other: Any) -> Vec:
        return Vec.lift(other) - self

    def __neg__(self) -> Vec:
        t, x, mm = self._wrap(2)
        out = Vec(f"−{t}", f"-{x}", _row(_mo("−"), mm), matrix=self.matrix, prec=1)
        out.negated = self
        return out

    def __mul__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        (lt, lx, lm), (rt, rx, rm) = self._wrap(2), o._wrap(2)
        if self.matrix and o.matrix:
            return Vec(f"{lt} ⊙ {rt}", f"{lx} \\odot {rx}", _row(lm, _mo("⊙"), rm), prec=1)
        if self.matrix and not o.matrix:  # a scalar factor is written first: 2 Y, γ A
            return Vec(f"{rt} {lt}", f"{rx} {lx}", _row(rm, _mo("\u2062"), lm), prec=1)
        return Vec(
            f"{lt} {rt}",
            f"{lx} {rx}",
            _row(lm, _mo("\u2062"), rm),
            matrix=self.matrix or o.matrix,
            prec=1,
        )

    def __rmul__(self, other: Any) -> Vec:
        return Vec.lift(other) * self

    def __truediv__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        if o.matrix:
            (lt, lx, lm), (rt, rx, rm) = self._wrap(2), o._wrap(1)
            return Vec(f"{lt} ⊘ {rt}", f"{lx} \\oslash {rx}", _row(lm, _mo("⊘"), rm), prec=1)
        inner, sign = (self.negated, "−") if self.negated is not None else (self, "")
        t, x, mm = inner._wrap(2)
        frac = f"<mfrac><mn>1</mn>{o.mml}</mfrac>"
        return Vec(
            f"{sign}(1/{o.text}) {t}",
            f"{'-' if sign else ''}\\frac{{1}}{{{o.tex}}} {x}",
            _row(*([_mo("−")] if sign else []), frac, _mo("\u2062"), mm),
            matrix=self.matrix,
            prec=1,
        )

    def __pow__(self, other: Any) -> Vec:
        o = Vec.lift(other)
        bt, bx, bm = self._wrap(1)
        ot, ox, om = o._wrap(1)
        return Vec(f"{bt}^{ot}", f"{{{bx}}}^{{{ox}}}", f"<msup>{bm}{om}</msup>", matrix=self.matrix)

    def __rpow__(self, other: Any) -> Vec:
        return Vec.lift(other) ** self

    def _compare(self, other: Any, text: str, tex: str) -> Vec:
        o = Vec.lift(other)
        return Vec(
            f"{self.text} {text} {o.text}",
            f"{self.tex} {tex} {o.tex}",
            _row(self.mml, _mo(text), o.mml),
            prec=3,
        )

    def __lt__(self, other: Any) -> Vec:
        return self._compare(other, "<", "<")

    def __le__(self, other: Any) -> Vec:
        return self._compare(other, "≤", "\\le")

    def __gt__(self, other: Any) -> Vec:
        return self._compare(other, ">", ">")

    def __ge__(self, other: Any) -> Vec:
        return self._compare(other, "≥", "\\ge")

    @staticmethod
    def __nnderiv_op__(name: str, *args: Any) -> Vec:
        """``nnderiv.ops`` on placeholders: element-wise functions written by name."""
        vs = [Vec.lift(v) for v in args]
        matrix = any(v.matrix for v in vs)
        if name == "abs":
            v = vs[0]
            return Vec(
                f"|{v.text}|",
                f"\\left|{v.tex}\\right|",
                _row(_mo("|"), v.mml, _mo("|")),
                matrix=matrix,
            )
        if name == "where":
            c, x, z = vs
            table = (
                "<mtable>"
                f"<mtr><mtd>{x.mml}</mtd><mtd><mtext>where </mtext>{c.mml}</mtd></mtr>"
                f"<mtr><mtd>{z.mml}</mtd><mtd><mtext>otherwise</mtext></mtd></mtr>"
                "</mtable>"
            )
            return Vec(
                f"where({c.text}, {x.text}, {z.text})",
                f"\\begin{{cases}} {x.tex} & {c.tex} \\\\ {z.tex} & \\text{{otherwise}}"
                "\\end{cases}",
                _row(_mo("{"), table),
                matrix=matrix,
            )
        if name == "xlogy":
            x, z = vs
            xt, xx, xm = x._wrap(1)
            log = _row(_mi("log"), _mo("\u2061"), _row(_mo("("), z.mml, _mo(")")))
            return Vec(
                f"{xt} ⊙ log({z.text})",
                f"{xx} \\odot \\log\\left({z.tex}\\right)",
                _row(xm, _mo("⊙"), log),
                prec=1,
            )
        tex = {
            "log": "\\log",
            "exp": "\\exp",
            "tanh": "\\tanh",
            "cosh": "\\cosh",
            "sqrt": "\\sqrt",
            "maximum": "\\max",
            "minimum": "\\min",
            "sigmoid": "\\sigma",
        }.get(name, f"\\operatorname{{{name}}}")
        text = {"maximum": "max", "minimum": "min", "sigmoid": "σ"}.get(name, name)
        inner_t = ", ".join(v.text for v in vs)
        inner_x = ", ".join(v.tex for v in vs)
        inner_m = _mo(",").join(v.mml for v in vs)
        if name == "sqrt":
            return Vec(
                f"√({inner_t})", f"\\sqrt{{{inner_x}}}", f"<msqrt>{inner_m}</msqrt>", matrix=matrix
            )
        return Vec(
            f"{text}({inner_t})",
            f"{tex}\\left({inner_x}\\right)",
            _row(_mi(text), _mo("\u2061"), _row(_mo("("), inner_m, _mo(")"))),
            matrix=matrix,
        )


#: printed names of common hyper-parameters: (text, LaTeX)
GREEK = {
    "gamma": ("γ", "\\gamma"),
    "delta": ("δ", "\\delta"),
    "eps": ("ε", "\\varepsilon"),
    "epsilon": ("ε", "\\varepsilon"),
    "alpha": ("α", "\\alpha"),
    "beta": ("β", "\\beta"),
    "lam": ("λ", "\\lambda"),
    "tau": ("τ", "\\tau"),
    "pos_weight": ("w", "w"),
}


def parameter_names(loss: Any) -> dict[str, tuple[str, str]]:
    """Each hyper-parameter's printed name (text, LaTeX)."""
    return {k: GREEK.get(k, (k, f"\\mathrm{{{k}}}".replace("_", "\\_"))) for k in loss.params}
