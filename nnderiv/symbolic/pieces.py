"""Zero tests through kinks: split an expression into smooth pieces by the signs of its kinks.

``|r|``, ``sign(r)``, ``Heaviside(r)``, ``max(p, q)``, ``min(p, q)`` and the conditions of a
``Piecewise`` are decided by the sign of one argument (``r``, ``p − q``, ``lhs − rhs``). Taking
each sign in turn replaces them by smooth expressions; where the pieces are all identically zero,
so is the expression (on the boundaries, a measure-zero set, the one-sided values are not
compared). A sign pattern that the conditions already taken exclude is skipped only when that is
*proved*: by Fourier–Motzkin elimination over the conditions read as linear forms in their
monomials (each monomial an independent variable: if even that relaxation has no solution, the
pattern has none), with the known signs of the symbols (hyper-parameters are positive).

Example::

    >>> import sympy as sp
    >>> r = sp.Symbol("r", real=True)
    >>> [(conds, piece) for conds, piece in split(sp.Abs(r) - sp.Max(r, -r))]
    [([(r, 1)], 0), ([(r, -1)], 0)]
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import sympy as sp

__all__ = ["KINKS", "describe", "has_kinks", "split"]

KINKS = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min, sp.Piecewise)
#: most sign splits along one path (2^depth pieces at most)
MAX_DEPTH = 6
#: most conditions for the elimination (its cost grows quickly)
MAX_CONDITIONS = 12

Condition = tuple[sp.Expr, int]  # (k, s): s·k > 0


def has_kinks(expr: sp.Basic) -> bool:
    return bool(expr.has(*KINKS))


def _arguments(expr: sp.Basic) -> list[sp.Expr]:
    """The smooth arguments whose sign decides a kink of ``expr``."""
    found: list[sp.Expr] = []
    for f in expr.atoms(sp.Abs, sp.sign, sp.Heaviside):
        found.append(f.args[0])
    for f in expr.atoms(sp.Max, sp.Min):
        if len(f.args) == 2:
            found.append(f.args[0] - f.args[1])
    for f in expr.atoms(sp.Piecewise):
        for _, cond in f.args:
            for rel in cond.atoms(sp.core.relational.Relational):
                found.append(rel.lhs - rel.rhs)
    smooth = {_primitive(k) for k in found if not has_kinks(k) and not k.is_number}
    return sorted(smooth, key=lambda k: (sp.count_ops(k), sp.default_sort_key(k)))


def _primitive(k: sp.Expr) -> sp.Expr:
    """``k`` without its positive rational content and with a leading plus sign: ``2r − 2`` and
    ``1 − r`` both give ``r − 1``."""
    _, prim = sp.expand(k).as_content_primitive()
    return -prim if prim.could_extract_minus_sign() else prim


def _sign_of(arg: sp.Expr, k: sp.Expr, s: int) -> int | None:
    """The sign of ``arg`` when ``s·k > 0``, if ``arg`` is a rational multiple of ``k``."""
    if sp.expand(arg - k) == 0:
        return s
    if sp.expand(arg + k) == 0:
        return -s
    ratio = sp.cancel(sp.expand(arg) / k)
    if ratio.is_Rational and ratio != 0:
        return s if ratio > 0 else -s
    return None


def _resolve(expr: sp.Basic, k: sp.Expr, s: int) -> sp.Basic:
    mapping: dict[sp.Basic, sp.Basic] = {}
    for f in expr.atoms(sp.Abs):
        sg = _sign_of(f.args[0], k, s)
        if sg is not None:
            mapping[f] = sg * f.args[0]
    for f in expr.atoms(sp.sign):
        sg = _sign_of(f.args[0], k, s)
        if sg is not None:
            mapping[f] = sp.Integer(sg)
    for f in expr.atoms(sp.Heaviside):
        sg = _sign_of(f.args[0], k, s)
        if sg is not None:
            mapping[f] = sp.Integer(1 if sg > 0 else 0)
    for f in expr.atoms(sp.Max, sp.Min):
        if len(f.args) == 2:
            sg = _sign_of(f.args[0] - f.args[1], k, s)
            if sg is not None:
                first = (sg > 0) == isinstance(f, sp.Max)
                mapping[f] = f.args[0] if first else f.args[1]
    for rel in expr.atoms(sp.core.relational.Relational):
        sg = _sign_of(rel.lhs - rel.rhs, k, s)
        if sg is not None:
            truth = {
                sp.StrictLessThan: sg < 0,
                sp.LessThan: sg < 0,
                sp.StrictGreaterThan: sg > 0,
                sp.GreaterThan: sg > 0,
                sp.Equality: False,  # the boundary: measure zero
                sp.Unequality: True,
            }
            for kind, value in truth.items():
                if isinstance(rel, kind):
                    mapping[rel] = sp.true if value else sp.false
    if not mapping:
        return expr
    # replace the innermost first: a Max inside an Abs is resolved before the Abs is matched
    out = expr
    for old in sorted(mapping, key=lambda e: sp.count_ops(e)):
        out = out.xreplace({old: mapping[old]})
    return out


def split(
    expr: sp.Basic, conditions: list[Condition] | None = None, depth: int = 0
) -> Iterator[tuple[list[Condition], sp.Basic]]:
    """``(conditions, piece)`` for every sign pattern not proved impossible; a piece that is
    still not smooth (too deep, or a kink this module cannot split) is yielded as it is."""
    conditions = conditions or []
    if not has_kinks(expr):
        yield conditions, expr
        return
    candidates = _arguments(expr)
    if not candidates or depth >= MAX_DEPTH:
        yield conditions, expr
        return
    k = candidates[0]
    for s in (1, -1):
        taken = [*conditions, (k, s)]
        if infeasible(taken, expr):
            continue
        yield from split(_resolve(expr, k, s), taken, depth + 1)


def describe(conditions: list[Condition]) -> str:
    return ", ".join(f"{k} {'>' if s > 0 else '<'} 0" for k, s in conditions) or "everywhere"


# ---------------------------------------------------------------------------------------------
# Fourier–Motzkin over the relaxation (monomials as independent variables)
# ---------------------------------------------------------------------------------------------

Linear = tuple[dict[sp.Basic, Fraction], Fraction]  # Σ c_t x_t + c0 > 0


def _linear(k: sp.Expr, s: int) -> Linear | None:
    # a positive denominator (a hyper-parameter, a product of positive symbols) does not change
    # the sign: (a − y)/β > 0 is a − y > 0
    num, den = sp.fraction(sp.together(k))
    if den.is_positive:
        k = num
    elif den.is_negative:
        k, s = num, -s
    poly = sp.expand(s * k)
    coeffs: dict[sp.Basic, Fraction] = {}
    const = Fraction(0)
    for term in sp.Add.make_args(poly):
        c, rest = term.as_coeff_Mul()
        if not c.is_Rational:
            return None
        if rest == 1:
            const += Fraction(int(c.p), int(c.q))
        else:
            coeffs[rest] = coeffs.get(rest, Fraction(0)) + Fraction(int(c.p), int(c.q))
    return {t: c for t, c in coeffs.items() if c != 0}, const


def _known_signs(expr: sp.Basic, conditions: list[Condition]) -> list[Linear]:
    """``x > 0`` for every positive symbol among the conditions' monomials."""
    out: list[Linear] = []
    seen: set[sp.Basic] = set()
    for k, _ in conditions:
        for sym in k.free_symbols:
            if sym in seen:
                continue
            seen.add(sym)
            if sym.is_positive:
                out.append(({sym: Fraction(1)}, Fraction(0)))
    del expr
    return out


def infeasible(conditions: list[Condition], expr: sp.Basic | None = None) -> bool:
    """True only when no point satisfies every ``s·k > 0`` (a proof by elimination)."""
    system: list[Linear] = []
    for k, s in conditions:
        lin = _linear(k, s)
        if lin is None:
            return False
        system.append(lin)
    system += _known_signs(expr if expr is not None else sp.Integer(0), conditions)
    if len(system) > MAX_CONDITIONS:
        return False
    return _eliminate(system)


def _eliminate(system: list[Linear]) -> bool:
    while True:
        for coeffs, const in system:
            if not coeffs and const <= 0:
                return True
        variables = {t for coeffs, _ in system for t in coeffs}
        if not variables:
            return False
        x = min(variables, key=sp.default_sort_key)
        pos = [(c, k) for c, k in system if c.get(x, 0) > 0]
        neg = [(c, k) for c, k in system if c.get(x, 0) < 0]
        rest = [(c, k) for c, k in system if c.get(x, 0) == 0]
        combined: list[Linear] = []
        for cp, kp in pos:
            for cn, kn in neg:
                wp, wn = -cn[x], cp[x]  # both positive
                merged: dict[sp.Basic, Fraction] = {}
                for t in set(cp) | set(cn):
                    if t == x:
                        continue
                    v = wp * cp.get(t, Fraction(0)) + wn * cn.get(t, Fraction(0))
                    if v != 0:
                        merged[t] = v
                combined.append((merged, wp * kp + wn * kn))
        system = rest + combined
        if len(system) > 4 * MAX_CONDITIONS:
            return False  # too large to decide: not proved impossible
