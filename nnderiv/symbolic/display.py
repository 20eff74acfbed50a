"""Expressions in the text's own forms: ``−(1/m)(1 − y_i)/(1 − a_i)``, terms in graph order.

sympy keeps a canonical order and sign (``(1 − y)/(m·(a − 1))``, ``(1 − y)·u3 + u2·y``); a
textbook writes the constant ``1/m`` in front, keeps ``1 − y`` and ``1 − a`` as the graph has
them, and lists the terms in the order the chain rule produced them. A :class:`Shown` is that
written form: a sum of :class:`Term` s, each a coefficient (a number times a power of ``m``),
numerator factors and denominator factors, kept in the order they were multiplied in. The
values themselves stay sympy expressions; a ``Shown`` is only for printing, and its
:meth:`Shown.value` is checked equal to the value in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from .graphs import m

__all__ = ["Shown", "Term", "shown_latex", "shown_of", "shown_text"]


@dataclass(frozen=True)
class Term:
    """``coeff · Π num / Π den``; ``coeff`` is a number times a power of ``m``."""

    coeff: sp.Expr
    num: tuple[sp.Expr, ...] = ()
    den: tuple[sp.Expr, ...] = ()

    def value(self) -> sp.Expr:
        return self.coeff * sp.Mul(*self.num) / sp.Mul(*self.den)

    def times(self, other: Term) -> Term:
        return Term(self.coeff * other.coeff, self.num + other.num, self.den + other.den)


@dataclass(frozen=True)
class Shown:
    """A sum of terms in the order they were written."""

    terms: tuple[Term, ...]

    def value(self) -> sp.Expr:
        return sp.Add(*(t.value() for t in self.terms))

    def times(self, factor: sp.Expr) -> Shown:
        """This form times a local derivative, factor by factor (a sum stays one factor)."""
        local = _term(factor)
        return Shown(tuple(t.times(local) for t in self.terms if t.coeff != 0))

    def plus(self, other: Shown) -> Shown:
        return Shown(self.terms + other.terms)


def _is_coefficient(f: sp.Expr) -> bool:
    return bool(f.is_number or f == m or (f.is_Pow and f.base == m and f.exp.is_number))


def _term(expr: sp.Expr) -> Term:
    """One product, split into coefficient, numerator and denominator factors."""
    coeff: sp.Expr = sp.Integer(1)
    num: list[sp.Expr] = []
    den: list[sp.Expr] = []
    for f in sp.Mul.make_args(expr):
        if _is_coefficient(f):
            coeff *= f
        elif f.is_Pow and f.exp.is_number and f.exp < 0:
            base = f.base if f.exp == -1 else sp.Pow(f.base, -f.exp)
            den.append(base)
        else:
            num.append(f)
    return Term(coeff, tuple(_ordered(num)), tuple(_ordered(den)))


def _node_rank(expr: sp.Expr) -> int:
    """The index of the first graph node ``u<k>`` in ``expr`` (inputs first: −1)."""
    ranks = [
        int(str(x.base.label)[1:])
        for x in expr.atoms(sp.Indexed)
        if str(x.base.label)[:1] == "u" and str(x.base.label)[1:].isdigit()
    ]
    ranks += [
        int(s.name[1:])
        for s in expr.free_symbols
        if isinstance(s, sp.Symbol) and s.name[:1] == "u" and s.name[1:].isdigit()
    ]
    return min(ranks, default=-1)


def _ordered(factors: list[sp.Expr]) -> list[sp.Expr]:
    """Inputs and labels before graph nodes (``y_i u2_i``), single factors before sums
    (``a_ji (Σ_p y_pi − 1)``), otherwise as given."""
    return sorted(factors, key=lambda f: (_node_rank(f), isinstance(f, sp.Add)))


def shown_of(expr: sp.Expr) -> Shown:
    """The written form of a sympy expression: ``1/m`` pulled out, terms in graph order."""
    expr = sp.sympify(expr)
    terms = list(expr.as_ordered_terms()) if isinstance(expr, sp.Add) else [expr]
    if len(terms) > 1:
        terms.sort(key=_node_rank)
    return Shown(tuple(_term(t) for t in terms))


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------


def _split(coeff: sp.Expr) -> tuple[bool, sp.Expr]:
    """(negative?, |coeff|)."""
    negative = bool(coeff.could_extract_minus_sign())
    return negative, (-coeff if negative else coeff)


class _Renderer:
    def __init__(self, latex: bool) -> None:
        from .printing import expr_latex, expr_text

        self.latex = latex
        self.expr = expr_latex if latex else expr_text

    def factor(self, f: sp.Expr) -> str:
        if isinstance(f, sp.Add):  # a sum inside a product: written the same way, in parentheses
            text = self.shown(shown_of(f))
            return f"\\left({text}\\right)" if self.latex else f"({text})"
        text = str(self.expr(f))
        if f.is_Mul and not self.latex:
            return f"\\left({text}\\right)" if self.latex else f"({text})"
        return text

    def product(self, factors: tuple[sp.Expr, ...]) -> str:
        return " ".join(self.factor(f) for f in factors)

    def coefficient(self, c: sp.Expr) -> str:
        """``1/m`` → ``(1/m)``; ``2`` → ``2``; ``1`` → ``''``."""
        if c == 1:
            return ""
        if c.is_Integer:
            return str(c)
        num, den = sp.fraction(c)
        if self.latex:
            return f"\\frac{{{sp.latex(num)}}}{{{sp.latex(den)}}}"
        bottom = self.expr(den)
        if isinstance(den, (sp.Mul, sp.Add)):  # 1/(2·m), never 1/2·m (which reads as m/2)
            bottom = f"({bottom})"
        return f"({self.expr(num)}/{bottom})"

    def body(self, t: Term) -> str:
        """The term without its coefficient: ``(1 − y_i)/(1 − a_i)``, ``y_i``, ``1/a_i``."""
        if not t.den:
            return self.product(t.num)
        num = self.product(t.num) if t.num else "1"
        if self.latex:  # \frac needs no parentheses around a single sum
            num = _bare(num) if len(t.num) == 1 else num
            den = _bare(self.product(t.den)) if len(t.den) == 1 else self.product(t.den)
            return f"\\frac{{{num}}}{{{den}}}"
        den = self.product(t.den)
        if len(t.den) > 1 or isinstance(t.den[0], sp.Add) or " " in den:
            single = den.startswith("(") and den.endswith(")") and len(t.den) == 1
            den = den if single else f"({den})"
        return f"{num}/{den}"

    def term(self, t: Term, *, first: bool) -> str:
        negative, c = _split(t.coeff)
        sign = ("−" if not self.latex else "-") if negative else ("" if first else "+")
        body = self.body(t)
        if not body:  # a bare coefficient: −1/m, 1
            text = str(self.expr(c)) if not self.latex else sp.latex(c)
            return _signed(sign, text, first)
        coeff = self.coefficient(c)
        if not coeff:
            return _signed(sign, body, first)
        joiner = "" if body.startswith(("(", "\\left(")) or self.latex else " "
        if self.latex:
            joiner = " "
        return _signed(sign, f"{coeff}{joiner}{body}", first)

    def shown(self, s: Shown) -> str:
        terms = [t for t in s.terms if t.coeff != 0]
        if not terms:
            return "0"
        common = _common_coefficient(terms)
        if common is not None and len(terms) > 1:
            inner = Shown(tuple(Term(t.coeff / common, t.num, t.den) for t in terms))
            text = self.shown(inner)
            negative, c = _split(common)
            coeff = self.coefficient(c)
            wrapped = f"\\left({text}\\right)" if self.latex else f"({text})"
            sign = ("−" if not self.latex else "-") if negative else ""
            return f"{sign}{coeff}{' ' if self.latex else ''}{wrapped}"
        return "".join(self.term(t, first=k == 0) for k, t in enumerate(terms))


def _bare(tex: str) -> str:
    if tex.startswith("\\left(") and tex.endswith("\\right)"):
        return tex[len("\\left(") : -len("\\right)")]
    return tex


def _signed(sign: str, text: str, first: bool) -> str:
    if first:
        return f"{sign}{text}"
    return f" {sign} {text}"


def _common_coefficient(terms: list[Term]) -> sp.Expr | None:
    """The shared |coefficient| when it is not 1 (``1/m``), with the first term's sign."""
    mags = {_split(t.coeff)[1] for t in terms}
    if len(mags) != 1:
        return None
    (mag,) = mags
    if mag == 1:
        return None
    negative = all(_split(t.coeff)[0] for t in terms)
    return -mag if negative else mag


def shown_text(s: Shown | Any) -> str:
    """Unicode text of a written form (or of a sympy expression, via :func:`shown_of`)."""
    return _Renderer(latex=False).shown(s if isinstance(s, Shown) else shown_of(s))


def shown_latex(s: Shown | Any) -> str:
    """LaTeX of a written form (or of a sympy expression)."""
    return _Renderer(latex=True).shown(s if isinstance(s, Shown) else shown_of(s))
