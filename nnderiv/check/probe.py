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

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import ProbeError
from . import tuning
from .context import ComplexStepBroken, Context, Fallback, FallbackReason
from .engines import Engine, Estimate, Flag, central, complex_jitter, complex_step, one_sided
from .verdict import Judgement, Verdict, judge, judge_kink

__all__ = ["Probe", "evaluate_probe", "judge_probe"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


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
    conditioned: bool = False  # explained by the loss's conditioning (see _conditioning)

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
    rel, absolute = (
        ctx.eps_g**tuning.CLAIMED_REL_POWER,
        tuning.CLAIMED_ABS_ULPS * ctx.eps_g * ctx.tau,
    )
    rounding = rel * abs_gw + absolute * weight
    if support.size >= tuning.RANDOM_SIGN_MIN and bool(np.any(w < 0)) and bool(np.any(w > 0)):
        # random signs (drawn independently of the claimed gradient's rounding): the rounding
        # errors of the terms add up like a random walk, within HOEFFDING root-sum-squares
        # except with probability 2·exp(−HOEFFDING²/2) (Hoeffding), not linearly
        spread_w = float(np.sqrt(np.dot(w, w)))
        rounding = min(rounding, tuning.HOEFFDING * (rel * spread + absolute * spread_w))
    floor = rounding + ctx.atol * weight + ctx.rtol * max(abs(claimed), abs(value))
    # the scale an error estimate must be small against to decide: the probe's values; the
    # size its terms g_k d_k add up to with random signs (a probe over many entries, whose
    # sum may cancel by chance); for one entry, the gradient's typical size; or (for a
    # gradient that is ~0 here) √ε of the loss itself
    ratio = np.divide(w, ctx.on(ctx.scale, support), out=gw)
    unit = float(np.sqrt(np.dot(ratio, ratio)))
    if spread == 0.0:  # one entry, or a claimed gradient of 0 here: the gradient's typical size
        spread = ctx.gscale * float(np.sqrt(np.dot(w, w)))
    # a derivative that moves f by less than √ε of its value over a full-scale step is zero at
    # the loss's own resolution; agreeing to a tenth of that needs no relative precision
    zero = math.sqrt(tuning.EPS64) * abs(ctx.f0) * unit
    ref = max(abs(claimed), abs(value), spread, zero)
    # one entry is judged on its own scale: agreeing needs it resolved relative to itself
    own = support.size == 1
    zero *= tuning.ZERO_FRACTION
    if own:
        # a claimed 0 (a stationary point, a dead unit) has no scale of its own: it agrees
        # with a numeric value resolved to PRECISE of the gradient's typical entry (the median
        # |g_k| plus 1/N, as in the rounding floor); a nonzero claim needs its own scale
        zero = max(zero, tuning.PRECISE * ctx.tau * float(abs(w[0])))
    j = judge(claimed, value, error, floor, ref, zero=zero, own=own)
    gap = abs(claimed - value)
    # small relative to the values — or, for an entry that is itself a cancellation's tiny
    # remainder, small against the gradient's typical entry (w·(σ(25) − 1) off by 4e-16)
    small = gap <= tuning.ROUNDING_SUSPECT * max(abs(claimed), abs(value)) or (
        gap <= tuning.ROUNDING_SUSPECT_ULPS * ctx.eps_g * ctx.tau * weight
    )
    if j.verdict is Verdict.DISAGREE and small and ctx.claimed_rounding is not None:
        # a discrepancy this small may be the claimed gradient's own rounding: measured
        noise = ctx.on(ctx.claimed_rounding.noise(ctx.scale), support)
        extra = tuning.K_ERROR * float(np.dot(noise, np.abs(w)))
        if extra > 0:
            j = judge(claimed, value, error, floor + extra, ref, zero=zero, own=own)
    return j


def _make(ctx: Context, support: IntArray, w: FloatArray, est: Estimate) -> Probe:
    est = _below_resolution(ctx, support, w, est)
    return Probe(support, w, judge_probe(ctx, support, w, est.value, est.error), est)


def _below_resolution(ctx: Context, support: IntArray, w: FloatArray, est: Estimate) -> Estimate:
    """Real differences whose (largest) step moves an entry by less than the resolution at
    which the loss reads ``x`` (a float32 ``x`` near 1 after a step shrank away from a domain
    edge) saw no move at all: their value says nothing, whatever their error estimate."""
    if est.engine is Engine.COMPLEX or ctx.prec.x_eps <= 0:
        return est
    moved = est.step * np.abs(ctx.on(ctx.scale, support) * w)
    grid = tuning.RESOLUTION_ULPS * ctx.prec.x_eps * np.abs(ctx.on(ctx.x.ravel(), support))
    if bool(np.any((moved < grid) & (grid > 0))):
        return dataclasses.replace(est, error=max(est.error, abs(est.value) + ctx.gscale))
    return est


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
            if kinked.slopes is not None:
                # a kink within the step: just off it (a differentiable point), smaller steps
                # see one smooth slope, which decides; at it, the one-sided slopes decide
                at_kink = p.with_judgement(kinked)
                return _off_the_kink(ctx, at_kink, d, what) or at_kink
            if p.verdict is not Verdict.AGREE:
                return p.with_judgement(kinked)
        return p
    if p.verdict in (Verdict.AGREE, Verdict.UNRESOLVED):
        return p
    if not confirm:
        return p
    return _confirm_disagreement(ctx, p, d, w, what)


def _confirm_disagreement(ctx: Context, p: Probe, d: FloatArray, w: FloatArray, what: str) -> Probe:
    """A complex-step probe that did not agree, examined in real arithmetic — refined only
    until it can resolve the discrepancy complex step saw (a tenth of it, over K_ERROR)."""
    gap = p.judgement.gap / max(abs(p.value), abs(p.judgement.claimed), 1e-300)
    if gap <= tuning.ROUNDING_SUSPECT:
        conditioned = _conditioning(ctx, p, d, w)
        if conditioned is not None:
            return conditioned
    enough = max(tuning.REFINE_TARGET, 0.1 * gap / tuning.K_ERROR)
    c = central(ctx.ev, ctx.x, d, f0=ctx.f0, prec=ctx.prec, what=what, good_enough=enough)
    pc = _make(ctx, p.support, w, c)
    if c.sides is not None and c.has(Flag.KINK):
        kinked = judge_kink(pc.judgement, c.sides)
        if kinked.slopes is not None:  # a kink: at x (complex step saw one side), or just off it
            at_kink = pc.with_judgement(kinked)
            return _off_the_kink(ctx, at_kink, d, what) or at_kink
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
        # loss can tell (an ill-conditioned loss lands here too: a 1e-5 error in a loss with
        # condition number 1e8 can pass, with the accuracy stated)
        return dataclasses.replace(pc, explained=True, loss_digits=digits)
    return pj


def _conditioning(ctx: Context, p: Probe, d: FloatArray, w: FloatArray) -> Probe | None:
    """An ill-conditioned loss (a solve or an inverse with condition number 1e8) is computed
    exactly only for an input moved by its rounding, ~ε|x|, so its derivative — by any finite
    differences of the computed loss — is that of a nearby point: it differs from the exact
    derivative at ``x`` by about (condition number)·ε, smoothly, with no noise to show it.
    Measured: complex step along ``d`` at ``x ± δ r`` (``r`` random signs at each entry's scale,
    ``δ`` = 1e-9) gives the derivative's change when every entry moves; scaled to moves of
    BACKWARD_ULPS·ε it bounds that shift. A probe that agrees within it is explained (None
    otherwise: the usual confirmation follows)."""
    rng = np.random.default_rng(tuning.CONDITIONING_SEED)
    shift = tuning.CONDITIONING_SHIFT
    change, used = 0.0, 0
    for _ in range(tuning.CONDITIONING_DIRECTIONS):  # the largest of a few random moves
        r = rng.choice([-1.0, 1.0], size=ctx.x.shape) * ctx.scale.reshape(ctx.x.shape)
        try:
            up = complex_step(ctx.ev, ctx.x + shift * r, d, ctx.prec)
            down = complex_step(ctx.ev, ctx.x - shift * r, d, ctx.prec)
        except Exception:  # no measurement: the usual confirmation decides
            return None
        if not (math.isfinite(up.value) and math.isfinite(down.value)):
            return None
        change = max(change, abs(up.value - down.value) / 2)
        used += up.evaluations + down.evaluations
    eps = max(ctx.prec.eps, tuning.EPS64)
    allowance = change * tuning.BACKWARD_ULPS * eps / shift
    est = dataclasses.replace(
        p.estimate,
        error=p.estimate.error + allowance,
        evaluations=p.estimate.evaluations + used,
    )
    widened = _make(ctx, p.support, w, est)
    if widened.verdict is Verdict.AGREE:
        return dataclasses.replace(widened, explained=True, conditioned=True)
    return None


def _off_the_kink(ctx: Context, p: Probe, d: FloatArray, what: str) -> Probe | None:
    """The probe again at steps 64× and 4096× smaller. A point just off a kink (relu at
    x = 1e-9, a runner-up 1e-7 below a maximum) is differentiable: once the steps stay on one
    side, the one-sided slopes agree and that smooth, decided estimate judges the claim. At
    the kink itself they never agree: None, and the one-sided slopes decide."""
    for factor in tuning.OFF_KINK_FACTORS:
        try:
            est = central(
                ctx.ev, ctx.x, d, f0=ctx.f0, prec=ctx.prec, h=p.estimate.step / factor, what=what
            )
        except ProbeError:
            return None
        if est.has(Flag.KINK) or est.has(Flag.ONE_SIDED):
            continue
        if est.has(Flag.FLAT) and (est.has(Flag.GRID) or p.estimate.has(Flag.GRID)):
            continue  # a coarse loss: flat at small steps says nothing
        # (flat off any grid: f is constant on this side of the kink, its slope 0)
        smooth = _make(ctx, p.support, p.weights, _wider_side(ctx, d, est, p, what))
        if smooth.verdict is not Verdict.INCONCLUSIVE:
            return smooth
    return None


def _wider_side(ctx: Context, d: FloatArray, est: Estimate, p: Probe, what: str) -> Estimate:
    """A slope measured at the tiny steps that stay off a nearby kink pays in rounding; on the
    side away from the kink, one-sided differences at the full step see the same smooth piece
    (relu at −1e-9 is flat all the way down). Used only when the tiny-step slope tells the two
    one-sided slopes of the kink apart, and only the side that matches it: the other side
    crosses the kink."""
    slopes = p.judgement.slopes
    if slopes is None or tuning.K_ERROR * est.error >= abs(slopes[1] - slopes[0]) / 4:
        return est
    best = est
    for side in (-1, 1):
        try:
            other = one_sided(
                ctx.ev, ctx.x, d, side=side, f0=ctx.f0, prec=ctx.prec, h=p.estimate.step, what=what
            )
        except ProbeError:
            continue
        close = abs(other.value - est.value) <= tuning.K_ERROR * est.error + other.error
        if close and other.error < best.error:
            best = dataclasses.replace(other, flags=est.flags, noise=est.noise)
    return best


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
