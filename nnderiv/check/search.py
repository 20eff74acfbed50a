"""Where to probe: entry by entry, random signed probes over all entries, bisection down to a
wrong entry, and the extra evidence kinks call for. Each function returns new values; none
writes another object's state.

* Small ``x``: every entry on its own.
* Large ``x``: up to ``RANDOM_PROBES`` random signed probes over all entries; a disagreeing one
  is bisected (one probe per level, the other half inferred by linearity) down to the wrong
  entry in O(log N) probes; a probe over the remaining entries says whether more are wrong.
* Kinks: a probe through kinks only bounds the sum of the one-sided slopes, so an error can
  hide inside it. The entries at exact zeros and ties (where ``abs``, ``maximum``, ``norm``
  put their kinks) are then checked one by one as subgradients, and the others by probes of
  their own; when that is too many entries, the check says so (``unchecked``) instead of
  passing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from . import tuning
from .context import Context, random_v, spot_entries
from .engines import Engine, Estimate
from .joint import joint_kink_probes
from .probe import Probe, evaluate_probe, judge_probe
from .resolution import (
    Resolution,
    bands,
    entry_bounds,
    equalised_v,
    resolution,
    resolved_mask,
    surely_resolved,
)
from .verdict import Verdict

__all__ = ["SearchResult", "entrywise", "search_probes"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
_NO_WEIGHTS: npt.NDArray[np.float64] = np.zeros(0)  # weights not kept (an agreeing full probe)


@dataclass(frozen=True)
class SearchResult:
    """The probes of one check and what the search learned.

    Attributes:
        singles: single-entry probes (every entry, localised leaves, kinked entries, spots).
        randoms: probes over many entries.
        engine: the engine in use at the end (central once a probe crossed a kink).
        kinked: probes crossed kinks, so the engine turned to central differences.
        clean: after localising wrong entries, a probe over all the others agreed.
        unchecked: entries at suspected kinks that were too many to check one by one.
        suspects: how many entries were suspected kinks (exact zeros and ties).
        spots: single entries drawn at random for the report and the diagnosis; at large
            sizes a float32 loss cannot resolve one entry, so only their disagreement counts.
        unresolved: entries the agreeing probes could not certify to ``ENTRY_RESOLUTION`` of
            themselves, and not negligible (see :mod:`nnderiv.check.resolution`).
        resolution: the relative error the worst-certified entry could still carry.
        negligible: entries not resolved on their own scale but below ``negligible`` of the
            largest entry.
        smallest_resolved: the smallest |claimed| entry resolved on its own scale.
        joint: probes along combinations of the kinked entries (kinks judged jointly).
        ties: groups of tied entries moved together (joint subgradient checks).
    """

    singles: list[Probe]
    randoms: list[Probe] = field(default_factory=list)
    engine: Engine = Engine.CENTRAL
    kinked: bool = False
    clean: bool = False
    unchecked: int = 0
    suspects: int = 0
    spots: list[Probe] = field(default_factory=list)
    unresolved: int = 0
    resolution: float = 0.0
    ties: list[Probe] = field(default_factory=list)
    negligible: int = 0
    smallest_resolved: float = 0.0
    joint: list[Probe] = field(default_factory=list)


def entrywise(ctx: Context, engine: Engine, entries: Sequence[int] | IntArray) -> list[Probe]:
    """Every entry in ``entries`` on its own (a one-hot direction scaled to the entry)."""
    return [
        evaluate_probe(ctx, engine, np.array([k]), np.ones(1), f"entry {ctx.index(int(k))}")
        for k in entries
    ]


def tie_groups(x: npt.NDArray[np.float64], limit: int) -> list[IntArray]:
    """Groups of two or more entries sharing one exact value (the largest ``limit``): at a tie
    of ``max`` or ``min`` each entry alone may lie between its one-sided slopes while the
    claimed vector is no subgradient (full weight to every tied maximum)."""
    flat = x.ravel()
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    groups = [np.flatnonzero(inverse == u) for u in np.flatnonzero(counts > 1)]
    groups.sort(key=lambda grp: -grp.size)
    return groups[:limit]


def tie_probes(
    ctx: Context, groups: list[IntArray], engine: Engine = Engine.CENTRAL
) -> list[Probe]:
    """Each group of tied entries moved together, by central differences (which see both
    sides of the kink): the claimed sum must lie between the one-sided slopes.

    Where they see no kink but disagree, and complex step is the confirmed engine of this
    check, complex step along the same direction decides: the loss is smooth along it there,
    and central differences of a loss that cancels (``log(1 − x)`` at ``x`` = 1e-6) can be off
    by far more than their noise shows."""
    out = []
    for grp in groups:
        what = f"the {grp.size} entries tied at {ctx.x.ravel()[grp[0]]:.6g}, moved together"
        p = evaluate_probe(ctx, Engine.CENTRAL, grp, np.ones(grp.size), what)
        if (
            engine is Engine.COMPLEX
            and p.verdict is Verdict.DISAGREE
            and p.judgement.slopes is None
        ):
            smooth = evaluate_probe(ctx, Engine.COMPLEX, grp, np.ones(grp.size), what)
            if smooth.verdict is Verdict.AGREE:
                p = smooth
        out.append(p)
    return out


def _crossed_kink(p: Probe) -> bool:
    return p.judgement.slopes is not None


def localise_by_ratio(
    ctx: Context, engine: Engine, rng: np.random.Generator, parent: Probe
) -> Probe | None:
    """One wrong entry among many, found with one more probe: along two random directions
    ``w₁``, ``w₂`` over the same entries a single wrong entry ``k`` (off by ``δ``) moves the
    claimed values by ``δ w₁ₖ`` and ``δ w₂ₖ``, so the ratio of the two discrepancies is
    ``w₁ₖ / w₂ₖ`` — a value no other entry shares. The entries whose weight ratios come
    closest are checked on their own; None when none of them is wrong (several wrong
    entries: bisection takes over)."""
    support = parent.support
    second = evaluate_probe(
        ctx, engine, support, random_v(ctx, rng, support), "a second random probe", confirm=False
    )
    d1 = parent.judgement.claimed - parent.value
    d2 = second.judgement.claimed - second.value
    if second.verdict is not Verdict.DISAGREE or d2 == 0.0:
        return None
    ratios = parent.weights / second.weights
    del second
    ratios -= d1 / d2
    np.abs(ratios, out=ratios)
    # a copy of the few indices needed, so the full sort and the ratios are freed (memory)
    closest = np.array(np.argsort(ratios)[: tuning.RATIO_CANDIDATES])
    del ratios
    for i in closest:
        k = int(support[i])
        leaf = evaluate_probe(ctx, engine, np.array([k]), np.ones(1), f"entry {ctx.index(k)}")
        if leaf.verdict not in (Verdict.AGREE, Verdict.UNRESOLVED):
            return leaf
    return None


def localise(
    ctx: Context, engine: Engine, parent: Probe, rng: np.random.Generator | None = None
) -> Probe:
    """Localise a disagreeing probe to one entry: by the ratio of two discrepancies when one
    entry is wrong (:func:`localise_by_ratio`), else by bisection (one probe per level, the
    other half inferred by linearity)."""
    if rng is not None and parent.support.size > tuning.RATIO_MIN_SUPPORT:
        leaf = localise_by_ratio(ctx, engine, rng, parent)
        if leaf is not None:
            return leaf
    while parent.support.size > 1:
        half = parent.support.size // 2
        d = np.zeros(ctx.size)
        d[parent.support] = parent.weights
        s1, s2 = parent.support[:half], parent.support[half:]
        what = f"block of {s1.size} entries from {ctx.index(int(s1[0]))}"
        p1 = evaluate_probe(ctx, engine, s1, d[s1] / ctx.scale[s1], what, confirm=False)
        j2 = judge_probe(
            ctx, s2, d[s2], parent.value - p1.value, parent.judgement.error + p1.judgement.error
        )
        p2 = Probe(s2, d[s2], j2, parent.estimate)
        parent = max((p1, p2), key=lambda p: (p.verdict is Verdict.DISAGREE, p.excess))
    k = int(parent.support[0])  # the single entry, re-probed directly and confirmed
    v = parent.weights / ctx.scale[k]
    est = parent.estimate if parent.estimate.evaluations and parent.support.size == 1 else None
    return evaluate_probe(ctx, engine, parent.support, v, f"entry {ctx.index(k)}", est=est)


@dataclass(frozen=True)
class _Localised:
    leaves: list[Probe]
    engine: Engine
    kinked: bool
    clean: bool


def _localise_all(
    ctx: Context,
    engine: Engine,
    rng: np.random.Generator,
    bad: Probe | None,
    support: IntArray,
    max_bad: int,
) -> _Localised:
    """Localise wrong entries one after another, re-probing the rest after each."""
    leaves: list[Probe] = []
    remaining = support
    clean = kinked = False
    kinks = 0
    while bad is not None and len(leaves) < max_bad and kinks < tuning.MAX_KINK_LEAVES:
        leaf = localise(ctx, engine, bad, rng)
        if leaf.verdict is Verdict.SUBGRADIENT:
            kinks += 1
            engine, kinked = Engine.CENTRAL, True  # complex step sees only one side of a kink
        else:
            leaves.append(leaf)
            if leaf.verdict is not Verdict.DISAGREE:
                break
        remaining = remaining[remaining != leaf.support[0]]
        if remaining.size == 0:
            break
        rest = evaluate_probe(
            ctx, engine, remaining, random_v(ctx, rng, remaining), "the remaining entries"
        )
        bad = rest if rest.verdict is Verdict.DISAGREE else None
        clean = rest.verdict is Verdict.AGREE
        kinked = kinked or _crossed_kink(rest)
    return _Localised(leaves, engine, kinked, clean)


def _random_probes(
    ctx: Context,
    engine: Engine,
    rng: np.random.Generator,
    support: IntArray,
    first: tuple[dict[str, Any], Estimate] | None,
    label: str,
) -> list[Probe]:
    out: list[Probe] = []
    # complex step is exact to rounding: two random directions leave no room for an error to
    # cancel by chance; real differences get a third
    count = tuning.RANDOM_PROBES - (engine is Engine.COMPLEX)
    for t in range(count):
        est: Estimate | None = None
        if t == 0 and first is not None:
            replay = np.random.default_rng()
            replay.bit_generator.state = first[0]
            v = random_v(ctx, replay, support)
            est = first[1]
        else:
            v = random_v(ctx, rng, support)
        # complex step: a disagreement is confirmed at the wrong entry it leads to (and the
        # probe itself only if none is found: search_probes), not twice
        p = evaluate_probe(
            ctx,
            engine,
            support,
            v,
            f"{label} {t + 1}",
            est=est,
            confirm=engine is not Engine.COMPLEX,
        )
        del v
        if p.verdict is Verdict.DISAGREE:
            out.append(p)
            break  # one disagreeing probe is enough to start localising
        # an agreeing probe over every entry keeps no weights (memory): its per-entry bound
        # is taken from the smallest weight its entries can have (see entry_bounds)
        out.append(dataclasses.replace(p, weights=_NO_WEIGHTS) if support.size == ctx.size else p)
        del p  # not held while the next probe evaluates the loss
    return out


def _reexamine(ctx: Context, engine: Engine, p: Probe) -> Probe:
    """A probe's disagreement, confirmed (complex step) or judged afresh (central)."""
    v = p.weights / ctx.scale[p.support]
    est = p.estimate if p.estimate.engine is engine else None
    return evaluate_probe(ctx, engine, p.support, v, "the disagreeing random probe", est=est)


def suspected_kinks(x: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Entries at exact zeros or tied with another entry: where ``abs``, ``maximum``, ``norm``,
    ``clip`` and total variation put their kinks."""
    flat = x.ravel()
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    out: npt.NDArray[np.bool_] = (flat == 0) | (counts[inverse] > 1)
    return out


def search_probes(
    ctx: Context,
    engine: Engine,
    rng: np.random.Generator,
    max_bad: int,
    first: tuple[dict[str, Any], Estimate] | None = None,
) -> SearchResult:
    """Random probes, localisation, and — when probes crossed kinks — the kinked-input path.

    ``first``: random weights over all entries with their estimate (from the complex-step
    confirmation), reused as the first random probe."""
    everything = np.arange(ctx.size)
    randoms = _random_probes(ctx, engine, rng, everything, first, "random probe")
    bad = next((p for p in randoms if p.verdict is Verdict.DISAGREE), None)
    loc = _localise_all(ctx, engine, rng, bad, everything, max_bad)
    if bad is not None and not any(p.verdict is Verdict.DISAGREE for p in loc.leaves):
        # no wrong entry behind the disagreement: now the probe itself is examined in real
        # arithmetic (a kink, or the loss's own rounding, may explain it)
        again = _reexamine(ctx, loc.engine, bad)
        randoms = [again if p is bad else p for p in randoms]
    kinked = loc.kinked or any(_crossed_kink(r) for r in randoms)
    if kinked and not loc.leaves:
        return _kinked_search(ctx, rng, randoms, max_bad)
    found = {int(p.support[0]) for p in loc.leaves}
    extra = []
    if ctx.x.ndim == 2 and ctx.x.shape[0] == ctx.x.shape[1]:  # room for a transposed layout
        extra = [int(np.ravel_multi_index(ctx.index(k)[::-1], ctx.x.shape)) for k in found]
    # spot checks: for the report on a pass, and for the diagnosis of a widespread error;
    # none when every wrong entry was localised and a probe over the rest agreed
    count = 0 if loc.clean else (tuning.SPOT_CHECKS_FAIL if loc.leaves else tuning.SPOT_CHECKS)
    spots = entrywise(ctx, loc.engine, spot_entries(ctx, rng, count, extra if count else [], found))
    agreeing = [p for p in randoms if p.verdict is Verdict.AGREE]
    res = Resolution()
    leaves, engine = loc.leaves, loc.engine
    if not leaves and not surely_resolved(ctx, agreeing):
        bounds = entry_bounds(ctx, agreeing)
        res = resolution(ctx, bounds)
        if res.count:
            # entries many decades below the others: equalised probes of their own
            eq, found_eq = _equalised(ctx, engine, rng, bounds, max_bad)
            randoms = randoms + eq.randoms
            leaves, engine = found_eq.leaves, found_eq.engine
            if not leaves:
                bounds = np.minimum(bounds, entry_bounds(ctx, eq.agreeing))
                res = resolution(ctx, bounds)
    return SearchResult(
        leaves,
        randoms,
        engine,
        kinked,
        loc.clean,
        spots=spots,
        unresolved=res.count,
        resolution=res.worst,
        negligible=res.negligible,
        smallest_resolved=res.smallest,
    )


@dataclass(frozen=True)
class _Equalised:
    randoms: list[Probe]
    agreeing: list[Probe]


def _equalised(
    ctx: Context, engine: Engine, rng: np.random.Generator, bounds: FloatArray, max_bad: int
) -> tuple[_Equalised, _Localised]:
    """Probes over the unresolved entries whose terms all have the same size: an error of 1 %
    in any one of them is then 1 % of a term, whatever its size against the other entries."""
    g = np.abs(ctx.g)
    resolved = resolved_mask(ctx, bounds, g)
    support = np.flatnonzero(~resolved & (bounds > ctx.negligible * float(np.max(g))))
    out: list[Probe] = []
    bad: Probe | None = None
    count = tuning.EQUALISED_PROBES - (engine is Engine.COMPLEX)
    for band in bands(ctx, support):
        for t in range(count):
            v = equalised_v(ctx, rng, band)
            what = f"equalised probe {t + 1} over {band.size} small entries"
            p = evaluate_probe(ctx, engine, band, v, what)
            out.append(p)
            if p.verdict is Verdict.DISAGREE:
                bad = p
                break
        if bad is not None:
            support = band
            break
    loc = _localise_all(ctx, engine, rng, bad, support, max_bad)
    agreeing = [p for p in out if p.verdict is Verdict.AGREE]
    return _Equalised(out, agreeing), loc


def _kinked_search(
    ctx: Context, rng: np.random.Generator, randoms: list[Probe], max_bad: int
) -> SearchResult:
    """Probes crossed kinks and found nothing wrong: that bounds only the sum of one-sided
    slopes. Split the entries: suspected kinks (exact zeros and ties) one by one as
    subgradients, the others by probes of their own (central differences throughout)."""
    engine = Engine.CENTRAL
    suspect = suspected_kinks(ctx.x)
    smooth = np.flatnonzero(~suspect)
    kinked_entries = np.flatnonzero(suspect)
    more: list[Probe] = []
    leaves: list[Probe] = []
    clean = False
    if smooth.size:
        more = _random_probes(ctx, engine, rng, smooth, None, "probe off the kinks")
        if any(_crossed_kink(p) for p in more):
            kinked_entries = np.arange(ctx.size)  # kinks elsewhere too: every entry on its own
        else:
            bad = next((p for p in more if p.verdict is Verdict.DISAGREE), None)
            loc = _localise_all(ctx, engine, rng, bad, smooth, max_bad)
            leaves, clean = loc.leaves, loc.clean
    if kinked_entries.size > tuning.KINK_ENTRYWISE_MAX:
        spots = entrywise(ctx, engine, spot_entries(ctx, rng, tuning.SPOT_CHECKS, [], set()))
        return SearchResult(
            leaves,
            randoms + more,
            engine,
            True,
            clean,
            int(kinked_entries.size),
            int(suspect.sum()),
            spots,
        )
    singles = leaves + entrywise(ctx, engine, kinked_entries)
    ties = tie_probes(ctx, tie_groups(ctx.x, tuning.TIE_GROUPS), engine)
    joint = joint_kink_probes(ctx, rng, singles)
    return SearchResult(
        singles, randoms + more, engine, True, clean, 0, int(suspect.sum()), ties=ties, joint=joint
    )
