"""Probes: directional checks of a claimed gradient, their verdicts, localisation by bisection,
kinks, and the complex-step cross-check. :mod:`nnderiv.check` builds the report from them.

A probe checks ``g · d`` for ``d = s ⊙ v`` (``s`` the per-entry step scale of
:func:`nnderiv.numeric.entry_scale`, ``v`` a one-hot, a block mask or random signs): the claimed
value gets a rounding floor from the dtypes, the numeric value an error estimate, and the
verdict is ``agree``, ``disagree`` (beyond ``K_ERROR`` error estimates plus the floor, with an
estimate small against the scale ``ref``), ``inconclusive`` or ``subgradient`` (at a kink).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from . import numeric
from .errors import ProbeError

__all__ = [
    "KINK_ENTRYWISE_MAX",
    "ComplexStepBroken",
    "Probe",
    "ProbeChecker",
    "Verdict",
    "cross_check",
]

FloatArray = npt.NDArray[np.float64]
Verdict = Literal["agree", "disagree", "inconclusive", "subgradient"]

K_ERROR = 4.0  # multiple of the error estimate a discrepancy must exceed
RELIABLE = 0.1  # an estimate whose error exceeds this fraction of the scale cannot fail a probe
AGREE = 0.01  # to pass a probe, 4 error estimates must stay within this fraction of the scale
ENTRYWISE_MAX = 256
SQRT_EPS = float(np.sqrt(np.finfo(np.float64).eps))
RANDOM_PROBES = 3
MAX_KINK_LEAVES = 8  # bisections that may end on a kink before the search gives up
KINK_ENTRYWISE_MAX = 4096  # random probes crossed kinks: check entry by entry up to this size


@dataclass(frozen=True)
class Probe:
    """One directional check: support (flat indices), claimed ``g·d``, numeric estimate."""

    support: npt.NDArray[np.intp]
    weights: FloatArray  # d on the support
    claimed: float
    value: float
    error: float
    floor: float
    ref: float
    verdict: Verdict
    note: str = ""
    estimate: numeric.Estimate | None = None  # the numeric estimate behind ``value``, if direct

    @property
    def gap(self) -> float:
        return abs(self.claimed - self.value)

    @property
    def allowed(self) -> float:
        return K_ERROR * self.error + self.floor

    @property
    def excess(self) -> float:
        return self.gap / self.allowed if self.allowed > 0 else math.inf


class ProbeChecker:
    """Runs the probes of one check: ``x``, the claimed ``g``, the engine and the tolerances."""

    def __init__(
        self,
        fun: Callable[..., Any],
        x: FloatArray,
        g: FloatArray,
        args: Sequence[Any],
        engine: str,
        rtol: float,
        atol: float,
        eps_g: float,
        f0: float,
    ) -> None:
        self.ev = numeric.Evaluator(fun, args, x)
        self.ev.note_value(f0, f0)
        self.x, self.g, self.engine = x, g, engine
        self.flat_g = g.ravel()
        self.scale = numeric.entry_scale(x).ravel()
        self.rtol, self.atol, self.eps_g, self.f0 = rtol, atol, eps_g, f0
        size = x.size
        # absolute rounding floor per entry of the claimed gradient: it is computed from rounded
        # inputs (a − y with a ≈ 1 loses ε absolutely), so an ε of a typical entry, or of an
        # O(1) quantity spread over the entries — not of the largest entry, which may be 10¹²
        # times the others (a probability near 0) and would hide everything else
        nonzero = np.abs(g[g != 0])
        self.tau = (float(np.median(nonzero)) if nonzero.size else 0.0) + max(1.0, abs(f0)) / size
        self.gscale = float(np.sqrt(np.mean(g**2))) or self.tau
        self.first_probe: tuple[FloatArray, numeric.Estimate] | None = None
        self.loss_rel = 0.0  # relative cancellation seen in the loss (cross-check; complex step)
        self.kink_switch = False  # a bisection ended on a kink: central differences from then

    # -- one probe -----------------------------------------------------------------------------
    def direction(self, support: npt.NDArray[np.intp], v: FloatArray) -> FloatArray:
        d = np.zeros(self.x.size)
        d[support] = self.scale[support] * v
        return d.reshape(self.x.shape)

    def estimate(self, d: FloatArray, engine: str) -> numeric.Estimate:
        if engine == "complex":
            return numeric.complex_step(self.ev, self.x, d)
        return numeric.central(self.ev, self.x, d, f0=self.f0)

    def judge(
        self,
        support: npt.NDArray[np.intp],
        w: FloatArray,
        value: float,
        error: float,
        note: str = "",
    ) -> Probe:
        gw = self.flat_g[support] * w
        claimed = float(np.sum(gw))
        # rounding floor of the claimed value: each entry may carry rounding amplified by
        # cancellation in the user's formula (1 − a for a near 1, …) up to ε^(-1/4) times,
        # i.e. a relative ε^(3/4) (1.8e-12 in float64) — or more when the loss itself shows
        # that much cancellation (its measured noise) — plus an absolute 16 ε on O(1) terms
        rel = max(self.eps_g**0.75, min(self.loss_rel, SQRT_EPS))
        floor = (
            rel * float(np.sum(np.abs(gw)))
            + 16 * self.eps_g * self.tau * float(np.sum(np.abs(w)))
            + self.atol * float(np.sum(np.abs(w)))
            + self.rtol * max(abs(claimed), abs(value))
        )
        # the scale an error estimate must be small against to decide: the probe's values, the
        # gradient's typical size, or (for a gradient that is ~0 here) √ε of the loss itself
        unit = float(np.sqrt(np.sum((w / self.scale[support]) ** 2)))
        ref = max(
            abs(claimed),
            abs(value),
            self.gscale * float(np.sqrt(np.sum(w**2))),
            SQRT_EPS * abs(self.f0) * unit,
        )
        gap = abs(claimed - value)
        verdict: Verdict
        if gap <= K_ERROR * error + floor:
            # agreeing needs a precise estimate: 4 E within 1 % of the scale, so that an error
            # of 1 % is never passed — it is caught, or the verdict is inconclusive
            precise = K_ERROR * error <= AGREE * ref or gap <= floor
            verdict = "agree" if precise else "inconclusive"
        elif error <= RELIABLE * ref:
            verdict = "disagree"
        else:
            verdict = "inconclusive"
        return Probe(support, w, claimed, value, error, floor, ref, verdict, note)

    def probe(
        self,
        support: npt.NDArray[np.intp],
        v: FloatArray,
        what: str,
        confirm: bool = True,
        est: numeric.Estimate | None = None,
    ) -> Probe:
        """Check ``g · d`` along ``d = s ⊙ v`` on ``support``.

        A complex-step disagreement is confirmed with central differences (and its one-sided
        slopes, for kinks) unless ``confirm=False`` — used inside a bisection, whose final
        single entry is always re-probed with confirmation."""
        d = self.direction(support, v)
        w = d.ravel()[support]
        self.ev.probe = what
        if est is None:  # (a caller may pass the estimate it already has along this d)
            est = self.estimate(d, self.engine)
        p = dataclasses.replace(
            self.judge(support, w, est.value, est.error, est.note), estimate=est
        )
        if p.verdict == "agree":
            return p
        if self.engine != "complex":
            if est.note == numeric.FLAT:
                return self.unflatten(p, d, support, w)
            return self.kink(p, est.sides)
        if p.verdict != "disagree" or not confirm:
            return p
        central = numeric.central(self.ev, self.x, d, f0=self.f0)
        c = self.judge(support, w, central.value, central.error, central.note)
        kinked = self.kink(c, central.sides)
        if kinked is not c:
            return kinked  # a kink: complex step saw one side of it
        contradicted = abs(p.value - central.value) > K_ERROR * central.error + p.floor
        if contradicted and central.error <= RELIABLE * p.ref:
            raise ComplexStepBroken(f"complex step disagreed with central differences along {what}")
        return p  # central differences are consistent with the complex step: its verdict stands

    def unflatten(
        self, p: Probe, d: FloatArray, support: npt.NDArray[np.intp], w: FloatArray
    ) -> Probe:
        """``f`` did not change at all at the steps used: that is no evidence of a zero slope
        when ``f`` is coarse (rounded to a grid far above ε|f|). Larger steps (×64, ×4096)
        until ``f`` changes; the estimate there (with the grid as its noise) decides."""
        assert p.estimate is not None
        step = p.estimate.step
        for factor in (64.0, 4096.0):
            try:
                est = numeric.central(self.ev, self.x, d, f0=self.f0, h=step * factor, coarse=True)
            except ProbeError:
                break
            if est.note != numeric.FLAT:
                q = self.judge(support, w, est.value, est.error, "f changed only at larger steps")
                return dataclasses.replace(q, estimate=est)
        return p

    def kink(self, p: Probe, sides: Any) -> Probe:
        """At a disagreement: one-sided slopes; a kink with the claim between them passes.

        ``sides`` are the (left, right) slopes with errors, from the central samples."""
        if sides is None:
            return p
        (left, left_err), (right, right_err) = sides
        if abs(right - left) <= K_ERROR * (right_err + left_err) + p.floor:
            return p  # smooth here: the central verdict stands
        if max(left_err, right_err) > RELIABLE * p.ref:
            return p  # the one-sided slopes are too rough to call it a kink
        lo, hi = sorted((left, right))
        slack = K_ERROR * max(right_err, left_err) + p.floor
        if lo - slack <= p.claimed <= hi + slack:
            note = f"kink: one-sided slopes {left / _w(p):.6g} and {right / _w(p):.6g}"
            return dataclasses.replace(p, verdict="subgradient", note=note)
        note = f"kink: claimed value outside the one-sided slopes {lo / _w(p):.6g}…{hi / _w(p):.6g}"
        return dataclasses.replace(p, verdict="disagree", note=note)

    # -- strategies ----------------------------------------------------------------------------
    def entrywise(self) -> list[Probe]:
        out = []
        for k in range(self.x.size):
            idx = np.array([k])
            out.append(self.probe(idx, np.ones(1), f"entry {self.index(k)}"))
        return out

    def random_v(self, rng: np.random.Generator, support: npt.NDArray[np.intp]) -> FloatArray:
        """Random signed weights for a probe over ``support``, each in ±[0.5, 1.5], divided by
        ``1 + |g_k s_k| / median |g s|`` so that no entry's term dominates the probe: an entry
        whose gradient is 10¹² times the others' (a probability near 0) cannot hide a wrong
        entry elsewhere behind its rounding."""
        size = support.size
        v: FloatArray = rng.choice([-1.0, 1.0], size=size) * rng.uniform(0.5, 1.5, size=size)
        contrib = np.abs(self.flat_g[support] * self.scale[support])
        nonzero = contrib[contrib > 0]
        typical = float(np.median(nonzero)) if nonzero.size else 0.0
        if typical > 0:
            v = v / (1.0 + contrib / typical)
        return v

    def probes(
        self, rng: np.random.Generator, max_bad: int
    ) -> tuple[list[Probe], list[Probe], bool]:
        """Random signed probes over all entries, then bisection to each wrong entry.

        A disagreeing random probe is confirmed (with complex step: by central differences,
        whose one-sided slopes reveal kinks). A bisection that ends on a kink rather than a
        wrong entry switches the engine to central differences — complex step sees only one
        side of a kink — and goes on with the other entries.

        Returns the leaf probes of localised entries, the random probes, and whether a probe
        over the entries left after localising agreed (every wrong entry was found)."""
        everything = np.arange(self.x.size)
        randoms = []
        for t in range(RANDOM_PROBES):
            first = self.first_probe if t == 0 else None  # the cross-check's probe, reused
            v = first[0] if first else self.random_v(rng, everything)
            est = first[1] if first else None
            randoms.append(self.probe(everything, v, f"random probe {t + 1}", True, est))
            if randoms[-1].verdict == "disagree":
                break  # one disagreeing probe is enough to start localising
        leaves: list[Probe] = []
        bad = next((p for p in randoms if p.verdict == "disagree"), None)
        remaining = everything
        clean = False
        kinks = 0
        while bad is not None and len(leaves) < max_bad and kinks < MAX_KINK_LEAVES:
            leaf = self.localise(bad)
            if leaf.verdict == "subgradient":
                kinks += 1
                self.engine = "central"
                self.kink_switch = True
            elif leaf.verdict == "disagree":
                leaves.append(leaf)
            else:
                leaves.append(leaf)
                break
            remaining = remaining[remaining != leaf.support[0]]
            if remaining.size == 0:
                break
            v = self.random_v(rng, remaining)
            rest = self.probe(remaining, v, "the remaining entries")
            bad = rest if rest.verdict == "disagree" else None
            clean = rest.verdict == "agree"
        return leaves, randoms, clean

    def localise(self, parent: Probe) -> Probe:
        """Bisect a disagreeing probe down to one entry (the other half inferred by linearity)."""
        while parent.support.size > 1:
            half = parent.support.size // 2
            s1 = parent.support[:half]
            d = np.zeros(self.x.size)
            d[parent.support] = parent.weights
            w1 = d[s1] / self.scale[s1]
            what = f"block of {s1.size} entries from {self.index(int(s1[0]))}"
            p1 = self.probe(s1, w1, what, confirm=False)
            s2 = parent.support[half:]
            p2 = self.judge(s2, d[s2], parent.value - p1.value, parent.error + p1.error, "inferred")
            parent = max((p1, p2), key=lambda p: (p.verdict == "disagree", p.excess))
        k = int(parent.support[0])  # the single entry, re-probed directly and confirmed
        v = parent.weights / self.scale[k]
        return self.probe(parent.support, v, f"entry {self.index(k)}", est=parent.estimate)

    def spot_checks(
        self, rng: np.random.Generator, count: int, extra: Sequence[int], skip: set[int]
    ) -> list[Probe]:
        """Single entries: ``extra`` first, then ``count`` random ones, none of ``skip``."""
        drawn = rng.choice(self.x.size, size=min(count + len(skip), self.x.size), replace=False)
        picks = [k for k in dict.fromkeys([*extra, *map(int, drawn)]) if k not in skip]
        picks = picks[: len(extra) + count]
        return [self.probe(np.array([k]), np.ones(1), f"entry {self.index(k)}") for k in picks]

    def index(self, k: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(k, self.x.shape))


def _w(p: Probe) -> float:
    return float(p.weights[0]) if p.support.size == 1 else 1.0


class ComplexStepBroken(Exception):
    pass


def cross_check(ch: ProbeChecker, rng: np.random.Generator) -> None:
    """One random probe by complex step and by central differences: they must agree."""
    everything = np.arange(ch.x.size)
    d = ch.direction(
        everything, ch.random_v(np.random.default_rng(rng.integers(2**32)), everything)
    )
    ch.ev.probe = "the complex-step cross-check"
    try:
        est = numeric.complex_step(ch.ev, ch.x, d)
        ch.first_probe = (d.ravel() / ch.scale, est)
    except np.exceptions.ComplexWarning:
        raise ComplexStepBroken(
            "fun drops the imaginary part (ComplexWarning: a cast to real)"
        ) from None
    except Exception as exc:
        raise ComplexStepBroken(
            f"fun raised {type(exc).__name__} on complex input ({exc})"
        ) from None
    try:
        central = numeric.central(ch.ev, ch.x, d, f0=ch.f0)
    except ProbeError:
        return
    # a loss whose values carry relative noise ρ = σ/|f| well above ε was computed with
    # cancellation; the claimed gradient, from the same intermediates, may carry a relative
    # error of that order too (4ρ, capped at √ε by the caller; ignored when f(x) is 0)
    rho = central.noise / abs(ch.f0) if ch.f0 != 0 else 0.0
    ch.loss_rel = 4 * rho if rho > 64 * float(np.finfo(np.float64).eps) else 0.0
    w = d.ravel()
    p = ch.judge(everything, w, central.value, central.error)
    gap = abs(est.value - central.value)
    if gap > K_ERROR * central.error + p.floor and central.error <= RELIABLE * p.ref:
        raise ComplexStepBroken(
            "complex step disagreed with central differences on a random probe "
            f"({est.value:.6g} vs {central.value:.6g}): abs, sign, conj or a comparison on the "
            "imaginary part breaks it"
        )
