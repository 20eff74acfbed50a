"""Decide that an expression is *not* zero by evaluating it at random points, exactly.

A residual ``claimed − true`` in the graph's symbols (``m``, ``n``, the entries ``a[j,i]``,
``y[j,i]``, column sums ``Σ_p``) is evaluated at several random points: random integers for
``m`` and ``n`` and random rationals in (0, 1) with denominator 2³² for every entry. Rational
arithmetic is exact (:class:`fractions.Fraction`); ``log``, ``exp`` and fractional powers are
carried as rigorous intervals (mpmath's interval context at 320 bits, then 1,600). A point
*disproves* ``residual ≡ 0`` only when the exact value is non-zero or the interval excludes 0 —
never from a rounded float — so an offset of ``10**-30`` is found and a counterexample is never
an artefact of rounding.

Why several points suffice (Schwartz–Zippel): a non-zero rational function of degree ``d`` in
its variables vanishes at a point drawn uniformly from ``S^k`` with probability at most
``d/|S|``. Entries come from a set of 2³² values and ``m``, ``n`` (where they are not the length
of a column sum) from 2³⁰, so a claim of the parser's bounded size that differs from the truth
agrees with it at the ``POINTS − 1`` large points with probability below ``(d/2³⁰)^(POINTS−1)``
(the first point is small — ``m`` ≤ 9, entries k/100 — so that a printed counterexample is
readable). Where ``n`` is a sum's length it is drawn from 2…:data:`MAX_ROWS`; two points use the
largest rows.

Only a disproof is concluded here; equality stays the business of the symbolic zero test.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp
from mpmath.libmp import finf, fnan, fninf

from .graphs import i, j, m, n

__all__ = ["POINTS", "Evaluation", "OutOfTime", "Point", "evaluate_at_points"]

#: random points per residual
POINTS = 6
#: entries are k / DENOMINATOR with 0 < k < DENOMINATOR
DENOMINATOR = 2**32
#: m and n (where n is not the length of a sum) are drawn from 1 … 2³⁰
LARGE = 2**30
#: the rows of a column sum: n drawn from 2 … MAX_ROWS
MAX_ROWS = 24
#: interval precisions (bits): the second only when the first cannot exclude 0
PRECISIONS = (320, 1600)
#: exact rationals larger than this (bits) are carried as intervals only
MAX_EXACT_BITS = 200_000
#: |argument| of exp beyond which a point is not evaluable (the result's exponent explodes)
MAX_EXP_ARGUMENT = 10**8


class OutOfTime(Exception):
    """The deadline passed while evaluating."""


class _NotEvaluable(Exception):
    """This point may lie outside the expression's domain, or the expression is unsupported."""


class _Undefined(_NotEvaluable):
    """The expression is certainly undefined here (a log of a negative, a division by 0)."""


@dataclass(frozen=True)
class Point:
    """One evaluation point: the values of ``m``, ``n``, the free indices and the entries."""

    m: int
    n: int
    j: int
    i: int
    entries: dict[tuple[str, tuple[int, ...]], Fraction] = field(default_factory=dict)

    def describe(self, expr: sp.Basic | None = None, limit: int = 4) -> str:
        free = expr.free_symbols if expr is not None else {m, n}
        shown = [f"{s}={v}" for s, v in ((m, self.m), (n, self.n)) if s in free]
        for (label, idx), value in sorted(self.entries.items())[:limit]:
            name = label.removeprefix("symbol ")
            shown.append(f"{name}[{','.join(map(str, idx))}]={value}" if idx else f"{name}={value}")
        more = "…" if len(self.entries) > limit else ""
        return (", ".join(shown) + more) or "any point"


@dataclass(frozen=True)
class Evaluation:
    """Outcome of evaluating a residual at random points.

    ``counterexample`` is the first point where the residual is certainly non-zero (``value``
    its exact value or an interval's midpoint); ``agreed`` counts the points where it is zero
    (exactly, or within an interval of width below 2^-1600 relative); ``skipped`` the points
    outside the domain (a log of a negative, a division by zero)."""

    counterexample: Point | None
    value: str
    agreed: int
    skipped: int
    exact: bool  # every agreeing point was decided in exact rational arithmetic
    undefined: bool = False  # the counterexample: the residual has no value there


Ranges = dict[str, tuple[Fraction, Fraction]]


class _EntryDraw:
    """Random entries in (0, 1): k/100 at the first (printed) point, k/2³² elsewhere — mapped
    into ``ranges[label]`` where one is given (``a`` of an identity output in (−4, 4), a
    hyper-parameter in (0, 4), …)."""

    def __init__(self, seed: int, small: bool, ranges: Ranges | None = None) -> None:
        self.rng, self.small = random.Random(seed), small
        self.ranges = ranges or {}

    def draw(self, label: str = "") -> Fraction:
        if self.small:
            u = Fraction(self.rng.randint(1, 99), 100)
        else:
            u = Fraction(self.rng.randint(1, DENOMINATOR - 1), DENOMINATOR)
        lo, hi = self.ranges.get(label, (Fraction(0), Fraction(1)))
        return lo + (hi - lo) * u


class _Value:
    __slots__ = ("exact", "interval")

    def __init__(self, exact: Fraction | None, interval: Any) -> None:
        self.exact, self.interval = exact, interval


class _Evaluator:
    def __init__(self, point: Point, rng: _EntryDraw, deadline: float, prec: int) -> None:
        self.point, self.rng, self.deadline = point, rng, deadline
        self.ctx = mpmath.MPIntervalContext()
        self.ctx.prec = prec
        self.bound: dict[sp.Symbol, int] = {}
        self.memo: dict[tuple[sp.Basic, tuple[int, ...]], _Value] = {}
        self.ticks = 0

    # -- leaves ---------------------------------------------------------------------------
    def interval(self, q: Fraction) -> Any:
        return self.ctx.mpf(q.numerator) / q.denominator

    def number(self, q: Fraction) -> _Value:
        return _Value(q, self.interval(q))

    def integer_of(self, expr: sp.Basic) -> int:
        v = self.eval(expr)
        if v.exact is None or v.exact.denominator != 1:
            raise _NotEvaluable(f"the index {expr} is not an integer")
        return int(v.exact)

    def entry(self, label: str, idx: tuple[int, ...]) -> _Value:
        key = (label, idx)
        if label not in ("a", "y") and not label.startswith("symbol "):
            raise _NotEvaluable(f"the entry {label}{list(idx)}")
        value = self.point.entries.get(key)
        if value is None:
            value = self.rng.draw(label)
            self.point.entries[key] = value
        return self.number(value)

    # -- the walk -------------------------------------------------------------------------
    def eval(self, expr: sp.Basic) -> _Value:
        self.ticks += 1
        if self.ticks % 256 == 0 and time.monotonic() > self.deadline:
            raise OutOfTime
        key = (expr, tuple(self.bound.values()))
        hit = self.memo.get(key)
        if hit is None:
            hit = self._eval(expr)
            self.memo[key] = hit
        return hit

    def _eval(self, expr: sp.Basic) -> _Value:
        if expr.is_Rational:
            return self.number(Fraction(int(expr.p), int(expr.q)))
        if isinstance(expr, sp.Symbol):
            if expr in self.bound:
                return self.number(Fraction(self.bound[expr]))
            fixed = {m: self.point.m, n: self.point.n, i: self.point.i, j: self.point.j}
            if expr in fixed:
                return self.number(Fraction(fixed[expr]))
            # any other symbol (the concrete path's a_00, e_01 …) is one more entry
            return self.entry(f"symbol {expr.name}", ())
        if isinstance(expr, sp.Indexed):
            idx = tuple(self.integer_of(k) for k in expr.indices)
            return self.entry(str(expr.base.label), idx)
        if isinstance(expr, sp.Add):
            return self.fold(expr.args, lambda x, z: x + z)
        if isinstance(expr, sp.Mul):
            return self.fold(expr.args, lambda x, z: x * z)
        if isinstance(expr, sp.Pow):
            return self.power(expr)
        if isinstance(expr, sp.log):
            return self.log(self.eval(expr.args[0]))
        if isinstance(expr, sp.exp):
            return self.exp(self.eval(expr.args[0]))
        if isinstance(expr, sp.Sum):
            return self.summation(expr)
        piecewise = self.piecewise(expr)
        if piecewise is not None:
            return piecewise
        if expr is sp.E:
            return _Value(None, self.ctx.e)
        if expr is sp.pi:
            return _Value(None, self.ctx.pi)
        raise _NotEvaluable(f"the function {type(expr).__name__}")

    # -- kinks and pieces: decided by the sign of an exact value (or an interval clear of 0) -----
    def sign(self, v: _Value) -> int:
        if v.exact is not None:
            return (v.exact > 0) - (v.exact < 0)
        if v.interval.a > 0:
            return 1
        if v.interval.b < 0:
            return -1
        raise _NotEvaluable("a sign that the intervals cannot decide")

    def truth(self, cond: sp.Basic) -> bool:
        if cond is sp.true:
            return True
        if cond is sp.false:
            return False
        if isinstance(cond, sp.And):
            return all(self.truth(c) for c in cond.args)
        if isinstance(cond, sp.Or):
            return any(self.truth(c) for c in cond.args)
        if isinstance(cond, sp.Not):
            return not self.truth(cond.args[0])
        if isinstance(cond, sp.core.relational.Relational):
            s = self.sign(self.eval(cond.lhs - cond.rhs))
            ops = {
                sp.StrictLessThan: s < 0,
                sp.LessThan: s <= 0,
                sp.StrictGreaterThan: s > 0,
                sp.GreaterThan: s >= 0,
                sp.Equality: s == 0,
                sp.Unequality: s != 0,
            }
            for kind, value in ops.items():
                if isinstance(cond, kind):
                    return value
        raise _NotEvaluable(f"the condition {type(cond).__name__}")

    def piecewise(self, expr: sp.Basic) -> _Value | None:
        """Abs, sign, Heaviside, Max, Min, Piecewise and the hyperbolic functions, or None."""
        if isinstance(expr, sp.Abs):
            v = self.eval(expr.args[0])
            return v if self.sign(v) >= 0 else self.negated(v)
        if isinstance(expr, sp.sign):
            return self.number(Fraction(self.sign(self.eval(expr.args[0]))))
        if isinstance(expr, sp.Heaviside):
            s = self.sign(self.eval(expr.args[0]))
            if s == 0:
                half = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
                return self.eval(half)
            return self.number(Fraction(1 if s > 0 else 0))
        if isinstance(expr, (sp.Max, sp.Min)):
            values = [self.eval(arg) for arg in expr.args]
            best = values[0]
            for v in values[1:]:
                diff = self.sign(self.fold_values(v, best, lambda x, z: x - z))
                if (diff > 0) == isinstance(expr, sp.Max) and diff != 0:
                    best = v
            return best
        if isinstance(expr, sp.Piecewise):
            for value, cond in expr.args:
                if self.truth(cond):
                    return self.eval(value)
            raise _Undefined("no piece of a Piecewise applies")
        if isinstance(expr, (sp.tanh, sp.cosh, sp.sinh)):
            x = self.eval(expr.args[0])
            if x.exact is not None and x.exact == 0:
                return self.number(Fraction(0 if not isinstance(expr, sp.cosh) else 1))
            e1, e2 = self.exp(x).interval, self.exp(self.negated(x)).interval
            if isinstance(expr, sp.tanh):
                return self.checked(_Value(None, (e1 - e2) / (e1 + e2)))
            sign = 1 if isinstance(expr, sp.cosh) else -1
            return self.checked(_Value(None, (e1 + sign * e2) / 2))
        return None

    def negated(self, v: _Value) -> _Value:
        if v.exact is not None:
            return self.number(-v.exact)
        return _Value(None, -v.interval)

    def fold_values(self, x: _Value, z: _Value, op: Callable[[Any, Any], Any]) -> _Value:
        if x.exact is not None and z.exact is not None:
            return self.number(op(x.exact, z.exact))
        return _Value(None, op(x.interval, z.interval))

    def fold(self, args: tuple[sp.Basic, ...], op: Callable[[Any, Any], Any]) -> _Value:
        values = [self.eval(a) for a in args]
        exact: Fraction | None = None
        if all(v.exact is not None for v in values):
            exact = values[0].exact
            for v in values[1:]:
                exact = op(exact, v.exact)
            exact = self.bounded(exact)
        if exact is not None:
            return self.number(exact)
        out = values[0].interval
        for v in values[1:]:
            out = op(out, v.interval)
        return self.checked(_Value(None, out))

    def bounded(self, q: Fraction | None) -> Fraction | None:
        if q is None:
            return None
        if q.numerator.bit_length() + q.denominator.bit_length() > MAX_EXACT_BITS:
            return None
        return q

    def checked(self, v: _Value) -> _Value:
        if not isinstance(v.interval, type(self.ctx.mpf(0))):
            raise _NotEvaluable("a complex intermediate value")
        lo, hi = v.interval._mpi_
        if fnan in (lo, hi) or (lo == fninf and hi == finf):
            raise _NotEvaluable("an unbounded intermediate value")
        return v

    def power(self, expr: sp.Pow) -> _Value:
        base, exponent = self.eval(expr.base), expr.exp
        if exponent.is_Integer:
            k = int(exponent)
            if base.exact is not None:
                if base.exact == 0 and k < 0:
                    raise _Undefined("a division by zero")
                bits = base.exact.numerator.bit_length() + base.exact.denominator.bit_length()
                if bits * abs(k) <= MAX_EXACT_BITS:
                    return self.number(base.exact**k)
            if k < 0 and 0 in base.interval:
                raise _NotEvaluable("a division by zero")
            return self.checked(_Value(None, base.interval**k))
        e = self.eval(exponent)
        if e.exact is not None and base.exact is not None and base.exact > 0:
            root = _exact_root(base.exact, e.exact)
            if root is not None:
                return self.number(root)
        if base.interval.b < 0:
            raise _Undefined("a fractional power of a negative number")
        if base.interval.a <= 0:
            raise _NotEvaluable("a fractional power of a number that may be ≤ 0")
        return self.checked(_Value(None, self.ctx.exp(e.interval * self.ctx.log(base.interval))))

    def log(self, x: _Value) -> _Value:
        if x.exact is not None and x.exact == 1:
            return self.number(Fraction(0))
        if (x.exact is not None and x.exact <= 0) or x.interval.b < 0:
            raise _Undefined("the log of a number ≤ 0")
        if x.interval.a <= 0:
            raise _NotEvaluable("the log of a number that may be ≤ 0")
        return self.checked(_Value(None, self.ctx.log(x.interval)))

    def exp(self, x: _Value) -> _Value:
        if x.exact is not None and x.exact == 0:
            return self.number(Fraction(1))
        lo, hi = x.interval.a, x.interval.b
        if lo >= -MAX_EXP_ARGUMENT and hi <= MAX_EXP_ARGUMENT:
            return self.checked(_Value(None, self.ctx.exp(x.interval)))
        # beyond ±1e8 the exponent explodes: keep rigorous one-sided bounds instead,
        # exp(x) ≥ exp(1e8) for x ≥ 1e8 and 0 < exp(x) for any x
        big = self.ctx.mpf(MAX_EXP_ARGUMENT)
        lower = self.ctx.mpf(0) if lo < -big else self.ctx.exp(big if lo > big else lo)
        upper = self.ctx.mpf("+inf") if hi > big else self.ctx.exp(-big if hi < -big else hi)
        return self.checked(_Value(None, self.ctx.mpf([lower.a, upper.b])))

    def summation(self, expr: sp.Sum) -> _Value:
        if len(expr.limits) != 1:
            raise _NotEvaluable("a multiple sum")
        idx, lo, hi = expr.limits[0]
        start, stop = self.integer_of(lo), self.integer_of(hi)
        if stop - start > 10 * MAX_ROWS:
            raise _NotEvaluable("a sum of more than a few hundred terms")
        terms = []
        for k in range(start, stop + 1):
            self.bound[idx] = k
            try:
                terms.append(self.eval(expr.function))
            finally:
                del self.bound[idx]
        if not terms:
            return self.number(Fraction(0))
        exact: Fraction | None = Fraction(0)
        for t in terms:
            exact = None if exact is None or t.exact is None else exact + t.exact
        if exact is not None:
            return self.number(exact)
        out = terms[0].interval
        for t in terms[1:]:
            out = out + t.interval
        return self.checked(_Value(None, out))


def _exact_root(base: Fraction, exponent: Fraction) -> Fraction | None:
    """``base ** exponent`` when it is rational (e.g. ``4 ** (1/2)``), else None."""
    p, q = exponent.numerator, exponent.denominator
    if q > 64:
        return None
    num, den = _int_root(base.numerator, q), _int_root(base.denominator, q)
    if num is None or den is None:
        return None
    return Fraction(num, den) ** p


def _int_root(x: int, q: int) -> int | None:
    if x.bit_length() > 4096:
        return None
    r: int | None = round(x ** (1.0 / q)) if x < 2**1000 else None
    if r is None:
        return None
    for c in (r - 1, r, r + 1):
        if c >= 0 and c**q == x:
            return c
    return None


def _draw_point(rng: random.Random, k: int, rows_are_counted: bool, rows: tuple[int, int]) -> Point:
    lo, hi = rows
    if k == 0:  # a small first point, so that a printed counterexample is readable
        n_value = rng.randint(max(lo, 3), 5)
        return Point(rng.randint(2, 9), n_value, rng.randint(1, n_value - 1), 0)
    if rows_are_counted:
        n_value = hi if k < 3 else rng.randint(lo, hi)
    else:
        n_value = rng.randint(max(lo, 2), LARGE)
    m_value = rng.randint(1, LARGE)
    j_value = rng.randint(1, n_value - 1) if n_value > 1 else 0
    return Point(m_value, n_value, j_value, 0)


def evaluate_at_points(
    residual: sp.Expr,
    *,
    seed: int = 0,
    deadline: float | None = None,
    points: int = POINTS,
    min_rows: int = 2,
    defined: sp.Expr | None = None,
    ranges: Ranges | None = None,
) -> Evaluation:
    """Evaluate ``residual`` at ``points`` random points; stop at the first counterexample.

    ``defined``: an expression known to be defined wherever the residual should be (the true
    value of a claim): a point where the residual is certainly undefined (a log of a negative,
    a division by zero) while ``defined`` has a value is a counterexample too.
    Raises :class:`OutOfTime` when ``deadline`` (a ``time.monotonic()`` value) passes.
    """
    rng = random.Random(seed)
    deadline = float("inf") if deadline is None else deadline
    counted = any(limit.has(n) for s in residual.atoms(sp.Sum) for limit in s.limits[0][1:])
    agreed = skipped = 0
    exact_all = True
    for k in range(points):
        point = _draw_point(rng, k, counted, (min_rows, MAX_ROWS))
        entry_rng = _EntryDraw(rng.getrandbits(64), small=k == 0, ranges=ranges)
        verdict: str | None = None
        for prec in PRECISIONS:
            ev = _Evaluator(point, entry_rng, deadline, prec)
            try:
                value = ev.eval(residual)
            except _Undefined as exc:
                verdict = "skip"
                if defined is not None and _has_value(defined, point, entry_rng, deadline, prec):
                    verdict, shown = "undefined", str(exc)
                break
            except _NotEvaluable:
                verdict = "skip"
                break
            except (ZeroDivisionError, OverflowError, ValueError, ArithmeticError):
                verdict = "skip"
                break
            except RecursionError:
                verdict = "skip"
                break
            if value.exact is not None:
                verdict = "zero" if value.exact == 0 else "nonzero"
                shown = _show_fraction(value.exact)
                break
            if 0 not in value.interval:
                verdict = "nonzero"
                shown = _show_interval(value.interval)
                break
            verdict = "zero-ish"
        if verdict in ("nonzero", "undefined"):
            return Evaluation(
                point, shown, agreed, skipped, exact_all, undefined=verdict == "undefined"
            )
        if verdict == "skip":
            skipped += 1
        else:
            agreed += 1
            exact_all = exact_all and verdict == "zero"
    return Evaluation(None, "", agreed, skipped, exact_all and agreed > 0)


def _has_value(
    expr: sp.Expr, point: Point, entries: _EntryDraw, deadline: float, prec: int
) -> bool:
    try:
        _Evaluator(point, entries, deadline, prec).eval(expr)
    except (_NotEvaluable, ArithmeticError, ValueError, RecursionError):
        return False
    return True


def _show_interval(x: Any) -> str:
    lo, hi = mpmath.mpf(x.a), mpmath.mpf(x.b)
    if mpmath.isinf(hi):
        return f"≥ {mpmath.nstr(lo, 6)}"
    if mpmath.isinf(lo):
        return f"≤ {mpmath.nstr(hi, 6)}"
    return str(mpmath.nstr((lo + hi) / 2, 6))


def _show_fraction(q: Fraction) -> str:
    if q.numerator.bit_length() + q.denominator.bit_length() < 80:
        return str(q)
    return str(mpmath.nstr(mpmath.mpf(q.numerator) / q.denominator, 6))
