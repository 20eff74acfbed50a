"""How finely each entry was checked, on its own scale.

An agreeing probe over many entries bounds the error any single entry could carry: ``allowed
/ |w_k|`` in the gradient's units. An entry is *resolved* when that bound is within
``ENTRY_RESOLUTION`` of the entry itself (or within the claimed gradient's own rounding
floor), *negligible* when the bound is below the user's ``negligible`` fraction of the
gradient's largest entry (default 0: nothing is negligible), and otherwise *unresolved*: the
check is then inconclusive and says so. Random weights favour the large entries, so entries
many decades below the others get *equalised* probes of their own (weights ∝ 1/|g_k s_k|),
where each entry's term has the same size.

Example::

    >>> r = Resolution(count=0, worst=0.0, negligible=2, smallest=1e-9)
    >>> r.count, r.negligible
    (0, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import tuning
from .context import Context
from .probe import Probe

__all__ = ["Resolution", "absolute_floor", "entry_bounds", "equalised_v", "resolution"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Resolution:
    """What the agreeing probes established entry by entry.

    Attributes:
        count: entries neither resolved to ``ENTRY_RESOLUTION`` of themselves nor negligible.
        worst: the relative error the worst of those could still carry.
        negligible: entries not resolved on their own scale whose possible error is below
            ``negligible`` (an option of check_gradient) of the gradient's largest entry.
        smallest: the smallest |claimed| entry that was resolved on its own scale (0 if none).
    """

    count: int = 0
    worst: float = 0.0
    negligible: int = 0
    smallest: float = 0.0


def absolute_floor(ctx: Context) -> float:
    """The claimed gradient's absolute rounding floor per entry (gradient units)."""
    return tuning.CLAIMED_ABS_ULPS * ctx.eps_g * ctx.tau + ctx.atol


def resolved_mask(ctx: Context, bound: FloatArray, g: FloatArray) -> npt.NDArray[np.bool_]:
    """Entries resolved by their bound: within ENTRY_RESOLUTION of themselves — or, for an
    entry within ROUNDING_LEVEL absolute floors of 0 (at the claimed gradient's own rounding
    level), within ENTRY_RESOLUTION of that level — or within their whole rounding floor."""
    floor = absolute_floor(ctx)
    size = np.maximum(g, tuning.ROUNDING_LEVEL * floor)
    full = floor + ctx.eps_g**tuning.CLAIMED_REL_POWER * g + ctx.rtol * g
    out: npt.NDArray[np.bool_] = (bound <= tuning.ENTRY_RESOLUTION * size) | (bound <= full)
    return out


def resolution(ctx: Context, bound: FloatArray, g: FloatArray | None = None) -> Resolution:
    """Classify entries by their absolute error bound ``bound`` (gradient units)."""
    g = np.abs(ctx.g) if g is None else np.abs(g)
    resolved = resolved_mask(ctx, bound, g)
    gmax = float(np.max(g)) if g.size else 0.0
    negligible = ~resolved & (bound <= ctx.negligible * gmax)
    open_ = ~resolved & ~negligible
    count = int(np.count_nonzero(open_))
    worst = 0.0
    if count:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(g[open_] > 0, bound[open_] / g[open_], np.inf)
        worst = float(np.max(rel))
    shown = g[resolved & (g > 0)]
    smallest = float(np.min(shown)) if shown.size else 0.0
    return Resolution(count, worst, int(np.count_nonzero(negligible)), smallest)


def entry_bounds(ctx: Context, agreeing: list[Probe]) -> FloatArray:
    """For each entry, the absolute error it alone could carry and still let every agreeing
    probe agree: ``allowed / |w_k|``, the best over the probes (inf when no probe covered it).
    A probe that kept no weights (an agreeing probe over every entry) is credited with the
    smallest weight its entries can have (see :func:`nnderiv.check.context.random_v`)."""
    out = np.full(ctx.size, np.inf)
    full = [p.allowed for p in agreeing if p.weights.size == 0]
    if full:
        w = 0.5 * ctx.scale
        if ctx.damp > 0:
            w /= 1.0 + np.abs(ctx.g) * ctx.scale / ctx.damp
        with np.errstate(divide="ignore"):
            out = np.where(w > 0, min(full) / w, np.inf)
    for p in agreeing:
        if p.weights.size == 0:
            continue
        with np.errstate(divide="ignore"):
            bound = np.where(p.weights != 0, p.allowed / np.abs(p.weights), np.inf)
        out[p.support] = np.minimum(out[p.support], bound)
    return out


def surely_resolved(ctx: Context, agreeing: list[Probe]) -> bool:
    """Every entry resolved or negligible, shown from scalars alone (no per-entry arrays): an
    agreeing probe over every entry gives each entry at least the weight ``0.5 s_min / 2``
    (a weight is damped at most by half unless its term exceeds the damping size)."""
    full = [p.allowed for p in agreeing if p.weights.size == 0]
    if not full or len(full) < len(agreeing):
        return False
    if ctx.damp > 0 and float(np.max(np.abs(ctx.g) * ctx.scale)) > ctx.damp:
        return False
    bound = min(full) / (0.25 * float(ctx.scale.min()))
    g = np.abs(ctx.g)
    threshold = max(
        tuning.ENTRY_RESOLUTION
        * max(float(np.min(g)), tuning.ROUNDING_LEVEL * absolute_floor(ctx)),
        ctx.negligible * float(np.max(g)),
        absolute_floor(ctx),
    )
    return bound <= threshold


def equalised_size(ctx: Context, support: IntArray) -> FloatArray:
    """The size each entry's term is equalised at: |g_k|, but at least the claimed gradient's
    rounding level (ROUNDING_LEVEL absolute floors) and the negligible size."""
    gmax = float(np.max(np.abs(ctx.g)))
    least = max(
        tuning.ROUNDING_LEVEL * absolute_floor(ctx),
        max(ctx.negligible, tuning.EQUALISE_FLOOR) * gmax,
        1e-300,
    )
    out: FloatArray = np.maximum(np.abs(ctx.g[support]), least)
    return out


def bands(ctx: Context, support: IntArray) -> list[IntArray]:
    """``support`` split by the size of its entries into bands of BAND_DECADES decades (the
    largest first, at most MAX_BANDS; the rest join the last): within a band, equalised
    weights keep every term's rounding floor far below the terms themselves."""
    if support.size == 0:
        return []
    level = np.floor(np.log10(equalised_size(ctx, support)) / tuning.BAND_DECADES)
    order = np.unique(level)[::-1]
    cut = order[: tuning.MAX_BANDS]
    out = [support[level == lv] for lv in cut[:-1]]
    out.append(support[level <= cut[-1]])
    return [b for b in out if b.size]


def equalised_v(ctx: Context, rng: np.random.Generator, support: IntArray) -> FloatArray:
    """Random signed weights over ``support`` that give every entry's term ``g_k s_k v_k`` the
    same size (entries below ``negligible`` of the largest, or EQUALISE_FLOOR, count as that
    size), largest 1.5."""
    size = equalised_size(ctx, support)
    size *= ctx.scale[support]  # the term is g_k s_k v_k
    v: FloatArray = rng.uniform(0.5, 1.5, support.size) / size
    v *= 1.5 / float(np.max(v))
    v *= rng.choice((-1.0, 1.0), support.size)
    return v
