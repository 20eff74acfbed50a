"""One probe: a directional check of the claimed gradient, ``g · d`` against ``∇f · d``, and
the complex-step confirmation that must precede any pass resting on complex step.

A probe direction is ``d = s ⊙ v`` on a support (``s`` the per-entry step scale of
:func:`nnderiv.check.engines.entry_scale`, ``v`` a one-hot, a block mask or random weights).
The numbers come from an engine, the verdict from :func:`nnderiv.check.verdict.judge`.

Rules that make a verdict trustworthy:

* a complex-step disagreement counts only when a real-arithmetic witness (central
  differences) also excludes the claim, or when complex step, repeated at points 1e-8 away,
  shows that the loss's own rounding cannot explain it;
* complex step is used at all only after a real-arithmetic probe has confirmed it on a probe
  free of kinks and domain edges (:func:`confirm_complex`).
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ProbeError
from . import tuning
from .engines import Engine, Estimate, Flag, central, complex_jitter, complex_step, entry_scale
from .evaluate import Evaluator, Precision
from .verdict import Judgement, Verdict, judge, judge_kink

__all__ = [
    "ComplexStepBroken",
    "Context",
    "Fallback",
    "FallbackReason",
    "Probe",
    "confirm_complex",
    "evaluate_probe",
    "make_context",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class FallbackReason(enum.StrEnum):
    """Why the check did not (or not only) use complex step."""

    RAISED = "fun raised on complex input"
    CAST = "fun drops the imaginary part (ComplexWarning: a cast to real)"
    DISAGREED = "complex step disagreed with central differences"
    UNCONFIRMED = "no real-arithmetic probe could confirm complex step"


@dataclass(frozen=True)
class Fallback:
    """A switch from complex step to central differences: the reason and its details."""

    reason: FallbackReason
    detail: str

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value


class ComplexStepBroken(Exception):
    """Complex step cannot be trusted for this loss; ``.fallback`` says why."""

    def __init__(self, fallback: Fallback) -> None:
        super().__init__(str(fallback))
        self.fallback = fallback


class ClaimedRounding:
    """The rounding noise of the claimed gradient, measured (once, when first needed).

    A claimed gradient computed with cancellation (``3a − 3`` for a probability ``a`` near 1)
    carries rounding far above ε of its own size. It is measured like the loss's: ``grad`` is
    evaluated at ``x ± δ s`` and ``x ± 2δ s`` (``δ`` relative 1e-8: every intermediate moves by
    many ulps, the gradient itself by far less than its rounding); the symmetric means about
    ``x`` cancel the linear change, and their spread around ``grad(x)`` is the noise, per entry.
    """

    def __init__(
        self, grad: Callable[..., Any] | None, args: Sequence[Any], x: FloatArray, g: FloatArray
    ) -> None:
        self._grad, self._args, self._x, self._g = grad, tuple(args), x, g
        self._noise: FloatArray | None = None

    def noise(self, scale: FloatArray) -> FloatArray:
        if self._noise is None:
            self._noise = self._measure(scale)
        return self._noise

    def _measure(self, scale: FloatArray) -> FloatArray:
        out = np.zeros(self._g.size)
        if self._grad is None:
            return out
        step = tuning.GRAD_JITTER * scale.reshape(self._x.shape)
        for k in (1.0, 2.0):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    up = np.asarray(self._grad(self._x + k * step, *self._args), dtype=float)
                    down = np.asarray(self._grad(self._x - k * step, *self._args), dtype=float)
            except Exception:  # no measurement: the floor stays as it was
                return np.zeros(self._g.size)
            if up.shape != self._x.shape or down.shape != self._x.shape:
                return np.zeros(self._g.size)
            spread = np.abs((up + down).ravel() / 2 - self._g)
            out = np.maximum(out, np.where(np.isfinite(spread), spread, 0.0))
        return out


@dataclass(frozen=True)
class Context:
    """Everything a probe needs, fixed for the whole check.

    Attributes:
        ev: the counting evaluator of the loss.
        x: the point (float64).
        g: the claimed gradient, flattened (float64).
        scale: the per-entry step scale, flattened.
        prec: the precision of the loss.
        f0: the loss at ``x``.
        eps_g: machine epsilon of the claimed gradient's dtype.
        tau: a typical entry of the claimed gradient, for its absolute rounding floor.
        gscale: the root-mean-square of the claimed gradient (the scale of an entry).
        rtol, atol: the user's extra tolerances.
        damp: the size of ``|g_k s_k|`` above which random probe weights are damped.
        claimed_rounding: measures the claimed gradient's own rounding when a small
            discrepancy might be nothing else.
    """

    ev: Evaluator
    x: FloatArray
    g: FloatArray
    scale: FloatArray
    prec: Precision
    f0: float
    eps_g: float
    tau: float
    gscale: float
    rtol: float
    atol: float
    damp: float = 0.0
    claimed_rounding: ClaimedRounding | None = None

    @property
    def size(self) -> int:
        return int(self.x.size)

    def direction(self, support: IntArray, v: FloatArray) -> FloatArray:
        """``d = s ⊙ v`` on ``support``. Takes ownership of ``v`` (a fresh array): over every
        entry it is scaled in place (memory: one array the size of x, not two)."""
        if support.size == self.size:  # every entry, in order: no scatter, no zeros
            v *= self.scale
            return v.reshape(self.x.shape)
        d = np.zeros(self.size)
        d[support] = self.scale[support] * v
        return d.reshape(self.x.shape)

    def on(self, d: FloatArray, support: IntArray) -> FloatArray:
        """``d`` on ``support`` (a view when the support is every entry)."""
        flat = d.ravel()
        return flat if support.size == self.size else flat[support]

    def index(self, k: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(k, self.x.shape))


def make_context(
    ev: Evaluator,
    x: FloatArray,
    g: FloatArray,
    prec: Precision,
    f0: float,
    eps_g: float,
    rtol: float,
    atol: float,
    grad: Callable[..., Any] | None = None,
) -> Context:
    """The fixed quantities of a check, derived once from ``x`` and the claimed gradient."""
    flat = g.ravel()
    # absolute rounding floor per entry of the claimed gradient: it is computed from rounded
    # inputs (a − y with a ≈ 1 loses ε absolutely), so an ε of a typical entry, or of an
    # O(1) quantity spread over the entries — not of the largest entry, which may be 10¹²
    # times the others (a probability near 0) and would hide everything else
    # (typical sizes: quantiles of at most QUANTILE_SAMPLE evenly spaced entries suffice)
    sample = _sample(flat)
    nonzero = np.abs(sample[sample != 0])
    tau = (float(np.median(nonzero)) if nonzero.size else 0.0) + max(1.0, abs(f0)) / flat.size
    gscale = float(np.sqrt(np.dot(flat, flat) / flat.size)) or tau
    scale = entry_scale(x).ravel()
    # random probe weights are damped only for outliers — a thousand times the 90th
    # percentile of |g_k s_k| — so every other entry keeps its full weight
    contrib = np.abs(sample * _sample(scale))
    nonzero = contrib[contrib > 0]
    damp = tuning.DAMP_ABOVE * float(np.quantile(nonzero, 0.9)) if nonzero.size else 0.0
    rounding = ClaimedRounding(grad, ev.args, x, flat)
    return Context(ev, x, flat, scale, prec, f0, eps_g, tau, gscale, rtol, atol, damp, rounding)


def _sample(a: FloatArray) -> FloatArray:
    """At most ``tuning.QUANTILE_SAMPLE`` evenly spaced entries of ``a`` (all of a small a)."""
    stride = max(1, a.size // tuning.QUANTILE_SAMPLE)
    out: FloatArray = a[::stride]
    return out


@dataclass(frozen=True)
class Probe:
    """One directional check: its support, weights, the judgement and the estimate behind it.

    ``explained``: complex step disagreed, but by no more than the loss's own rounding,
    measured: central differences agree, and complex step repeated nearby varies that much
    or the loss's noise shows it loses digits to cancellation at x.
    """

    support: IntArray
    weights: FloatArray  # d on the support
    judgement: Judgement
    estimate: Estimate
    explained: bool = False
    loss_digits: float | None = None  # where explained: about how many digits the loss keeps

    @property
    def verdict(self) -> Verdict:
        return self.judgement.verdict

    @property
    def value(self) -> float:
        return self.judgement.value

    @property
    def allowed(self) -> float:
        return self.judgement.allowed

    @property
    def excess(self) -> float:
        return self.judgement.excess

    def with_judgement(self, j: Judgement) -> Probe:
        return dataclasses.replace(self, judgement=j)


def judge_probe(
    ctx: Context, support: IntArray, w: FloatArray, value: float, error: float
) -> Judgement:
    """The judgement of ``g · d`` (``d = w`` on ``support``) against a numeric value."""
    gw = ctx.on(ctx.g, support) * w
    claimed = float(np.sum(gw))
    spread = float(np.sqrt(np.dot(gw, gw))) if support.size > 1 else 0.0
    abs_gw = float(np.sum(np.abs(gw, out=gw)))
    weight = float(np.sum(np.abs(w)))
    floor = (
        ctx.eps_g**tuning.CLAIMED_REL_POWER * abs_gw
        + tuning.CLAIMED_ABS_ULPS * ctx.eps_g * ctx.tau * weight
        + ctx.atol * weight
        + ctx.rtol * max(abs(claimed), abs(value))
    )
    # the scale an error estimate must be small against to decide: the probe's values; the
    # size its terms g_k d_k add up to with random signs (a probe over many entries, whose
    # sum may cancel by chance); for one entry, the gradient's typical size; or (for a
    # gradient that is ~0 here) √ε of the loss itself
    ratio = np.divide(w, ctx.on(ctx.scale, support), out=gw)
    unit = float(np.sqrt(np.dot(ratio, ratio)))
    if spread == 0.0:  # one entry, or a claimed gradient of 0 here: the gradient's typical size
        spread = ctx.gscale * float(np.sqrt(np.dot(w, w)))
    ref = max(abs(claimed), abs(value), spread, math.sqrt(tuning.EPS64) * abs(ctx.f0) * unit)
    j = judge(claimed, value, error, floor, ref)
    small = abs(claimed - value) <= tuning.ROUNDING_SUSPECT * max(abs(claimed), abs(value))
    if j.verdict is Verdict.DISAGREE and small and ctx.claimed_rounding is not None:
        # a discrepancy this small may be the claimed gradient's own rounding: measured
        noise = ctx.on(ctx.claimed_rounding.noise(ctx.scale), support)
        extra = tuning.K_ERROR * float(np.dot(noise, np.abs(w)))
        if extra > 0:
            j = judge(claimed, value, error, floor + extra, ref)
    return j


def _make(ctx: Context, support: IntArray, w: FloatArray, est: Estimate) -> Probe:
    return Probe(support, w, judge_probe(ctx, support, w, est.value, est.error), est)


def _estimate(ctx: Context, engine: Engine, d: FloatArray, what: str) -> Estimate:
    if engine is Engine.COMPLEX:
        return complex_step(ctx.ev, ctx.x, d, ctx.prec)
    return central(ctx.ev, ctx.x, d, f0=ctx.f0, prec=ctx.prec, what=what)


def evaluate_probe(
    ctx: Context,
    engine: Engine,
    support: IntArray,
    v: FloatArray,
    what: str,
    *,
    confirm: bool = True,
    est: Estimate | None = None,
) -> Probe:
    """Check ``g · d`` along ``d = s ⊙ v`` on ``support`` with ``engine``.

    With central differences, a disagreement is re-examined at a kink (one-sided slopes) and
    on a flat loss (larger steps). With complex step, anything but agreement is confirmed by
    central differences unless ``confirm=False`` (inside a bisection, whose final single entry
    is always re-probed with confirmation). ``est``: an estimate already made along this ``d``.
    """
    d = ctx.direction(support, v)
    w = ctx.on(d, support)
    if est is None:
        est = _estimate(ctx, engine, d, what)
    p = _make(ctx, support, w, est)
    if engine is not Engine.COMPLEX:
        if est.has(Flag.FLAT):  # f did not move: no evidence yet, whatever the verdict
            return _unflatten(ctx, p, d, what)
        if est.sides is not None and (est.has(Flag.KINK) or p.verdict is not Verdict.AGREE):
            kinked = judge_kink(p.judgement, est.sides)
            if kinked.slopes is not None or p.verdict is not Verdict.AGREE:
                # a probe across a kink: its central value is the mean of the one-sided
                # slopes, so agreement with it says little; the slopes decide
                return p.with_judgement(kinked)
        return p
    if p.verdict is Verdict.AGREE:
        return p
    if not confirm:
        return p
    return _confirm_disagreement(ctx, p, d, w, what)


def _confirm_disagreement(ctx: Context, p: Probe, d: FloatArray, w: FloatArray, what: str) -> Probe:
    """A complex-step probe that did not agree, examined in real arithmetic — refined only
    until it can resolve the discrepancy complex step saw (a tenth of it, over K_ERROR)."""
    gap = p.judgement.gap / max(abs(p.value), abs(p.judgement.claimed), 1e-300)
    enough = max(tuning.REFINE_TARGET, 0.1 * gap / tuning.K_ERROR)
    c = central(ctx.ev, ctx.x, d, f0=ctx.f0, prec=ctx.prec, what=what, good_enough=enough)
    pc = _make(ctx, p.support, w, c)
    if c.sides is not None and c.has(Flag.KINK):
        kinked = judge_kink(pc.judgement, c.sides)
        if kinked.slopes is not None:
            return pc.with_judgement(kinked)  # a kink: complex step saw only one side of it
    if pc.verdict is Verdict.DISAGREE:
        # the real-arithmetic witness excludes the claim too; report the sharper estimate
        return p.with_judgement(dataclasses.replace(p.judgement, verdict=Verdict.DISAGREE))
    contradicted = abs(p.value - c.value) > tuning.K_ERROR * c.error + p.judgement.floor
    if contradicted and c.error <= tuning.RELIABLE * p.judgement.ref:
        raise ComplexStepBroken(
            Fallback(
                FallbackReason.DISAGREED,
                f"along {what} ({p.value:.6g} against {c.value:.6g}): abs, sign, a norm or a "
                "comparison on the imaginary part breaks it",
            )
        )
    # central differences cannot tell: both values fit. How far is complex step itself off,
    # through the loss's own rounding? Measured by repeating it 1e-8 away.
    jittered = complex_jitter(ctx.ev, ctx.x, d, ctx.prec, p.estimate)
    pj = _make(ctx, p.support, w, jittered)
    digits = -math.log10(max(c.noise / abs(ctx.f0), tuning.EPS64)) if ctx.f0 else None
    if pj.verdict is Verdict.AGREE:
        return dataclasses.replace(pj, explained=True, loss_digits=digits)
    if c.has(Flag.NOISY) and pc.verdict is Verdict.AGREE:
        # the loss loses digits to cancellation at x (measured: its noise is far above ε|f|),
        # so complex step differentiates a function that is not quite the loss; the claim
        # agrees with the real-arithmetic estimate to its accuracy, which is all the computed
        # loss can tell
        return dataclasses.replace(pc, explained=True, loss_digits=digits)
    return pj


def _unflatten(ctx: Context, p: Probe, d: FloatArray, what: str) -> Probe:
    """``f`` did not change at all at the steps used: no evidence of a zero slope when ``f``
    is coarse (rounded to a grid far above ε|f|). Larger steps (×64, ×4096) until ``f``
    changes: on a grid, the estimate there (with the grid as its noise) decides; off any
    grid, ``f`` is truly constant near ``x`` and the zero slope stands."""
    step = p.estimate.step
    for factor in (64.0, 4096.0):
        try:
            est = central(
                ctx.ev, ctx.x, d, f0=ctx.f0, prec=ctx.prec, h=step * factor, coarse=True, what=what
            )
        except ProbeError:
            break
        if est.has(Flag.FLAT):
            continue
        if est.has(Flag.GRID):  # a coarse loss: the estimate at the larger step decides
            return _make(ctx, p.support, p.weights, est)
        # f changes smoothly farther out, so it really is constant near x (a dead ReLU):
        # the zero slope stands
        return p
    return p


# --------------------------------------------------------------------------------------------
# random weights and the complex-step confirmation
# --------------------------------------------------------------------------------------------


def random_v(ctx: Context, rng: np.random.Generator, support: IntArray) -> FloatArray:
    """Random signed weights for a probe over ``support``, each in ±[0.5, 1.5], divided by
    ``1 + |g_k s_k| / (1000 q₉₀ |g s|)``: an entry whose gradient is 10¹² times the others' (a
    probability near 0) cannot hide a wrong entry elsewhere behind its rounding, while every
    ordinary entry keeps its full weight."""
    size = support.size
    v: FloatArray = rng.uniform(-1.0, 1.0, size)
    v += np.copysign(0.5, v)  # ±[0.5, 1.5], the sign at random
    if ctx.damp > 0:
        v = v / (1.0 + np.abs(ctx.g[support] * ctx.scale[support]) / ctx.damp)
    return v


@dataclass(frozen=True)
class Confirmation:
    """Complex step confirmed in real arithmetic along one probe.

    ``first``: the state of the random generator that drew the full-support weights (they
    are drawn again from it rather than kept: memory) and the complex-step estimate along
    them, reusable as the first random probe (None when a smaller probe confirmed);
    ``what``: which probe confirmed it.
    """

    first: tuple[dict[str, Any], Estimate] | None
    what: str


def _candidates(ctx: Context, rng: np.random.Generator) -> Iterator[tuple[IntArray, str]]:
    """Supports to try, in order: all entries; the entries off exact zeros and ties (where
    ``abs``, ``maximum`` and ``norm`` put their kinks); random smaller blocks; single entries.
    Lazy: the first usually confirms, and the rest costs a sort of x."""
    everything = np.arange(ctx.size)
    yield everything, "a random probe over all entries"
    out: list[tuple[IntArray, str]] = [(everything, "")]
    flat = ctx.x.ravel()
    _, first, counts = np.unique(flat, return_index=True, return_counts=True)
    plain = np.sort(first[(counts == 1) & (flat[first] != 0)])
    if 0 < plain.size < ctx.size:
        out.append((plain, f"a random probe over the {plain.size} entries off zeros and ties"))
        yield out[-1]
    pool = plain if plain.size else everything
    size = pool.size // 4
    while len(out) < tuning.CONFIRM_TRIES and size > 1:
        out.append((np.sort(rng.choice(pool, size=size, replace=False)), f"{size} entries"))
        yield out[-1]
        size //= 4
    while len(out) < tuning.CONFIRM_TRIES:
        k = int(rng.choice(pool))
        out.append((np.array([k]), f"entry {ctx.index(k)}"))
        yield out[-1]


def confirm_complex(ctx: Context, rng: np.random.Generator) -> Confirmation:
    """Complex step against central differences along probes until one, free of kinks, domain
    edges and flat or coarse values, confirms it. Raises :class:`ComplexStepBroken` when the
    loss refuses complex input, drops its imaginary part, disagrees with real arithmetic, or
    when no probe could confirm it (a pass never rests on complex step alone)."""
    for support, what in _candidates(ctx, rng):
        state: dict[str, Any] = copy.deepcopy(dict(rng.bit_generator.state))
        v = random_v(ctx, rng, support)
        d = ctx.direction(support, v)
        try:
            est = complex_step(ctx.ev, ctx.x, d, ctx.prec)
        except np.exceptions.ComplexWarning:
            raise ComplexStepBroken(Fallback(FallbackReason.CAST, "")) from None
        except ProbeError:
            continue  # non-finite on complex input at this direction: try another
        except Exception as exc:
            raise ComplexStepBroken(
                Fallback(FallbackReason.RAISED, f"{type(exc).__name__}: {exc}")
            ) from None
        try:
            real = central(
                ctx.ev,
                ctx.x,
                d,
                f0=ctx.f0,
                prec=ctx.prec,
                what=what,
                good_enough=tuning.CONFIRM_TARGET,
            )
        except ProbeError:
            continue
        if real.flags & {Flag.KINK, Flag.ONE_SIDED, Flag.FLAT, Flag.COARSE}:
            continue
        w = ctx.on(d, support)
        j = judge_probe(ctx, support, w, real.value, real.error)
        if tuning.K_ERROR * real.error > tuning.PRECISE * j.ref:
            continue  # too rough to confirm anything
        if abs(est.value - real.value) > tuning.K_ERROR * (real.error + est.error) + j.floor:
            raise ComplexStepBroken(
                Fallback(
                    FallbackReason.DISAGREED,
                    f"along {what} ({est.value:.6g} against {real.value:.6g}): abs, sign, a "
                    "norm or a comparison on the imaginary part breaks it",
                )
            )
        first = (state, est) if support.size == ctx.size else None
        return Confirmation(first, what)
    raise ComplexStepBroken(
        Fallback(
            FallbackReason.UNCONFIRMED,
            f"all {tuning.CONFIRM_TRIES} probes tried crossed a kink or a domain edge, or were "
            "too noisy",
        )
    )


def spot_entries(
    ctx: Context, rng: np.random.Generator, count: int, extra: Sequence[int], skip: set[int]
) -> list[int]:
    """Single entries to show: ``extra`` first, then ``count`` random ones, none of ``skip``."""
    drawn = rng.choice(ctx.size, size=min(count + len(skip), ctx.size), replace=False)
    picks = [k for k in dict.fromkeys([*extra, *map(int, drawn)]) if k not in skip]
    return picks[: len(extra) + count]
