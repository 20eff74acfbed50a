"""Kinks judged jointly: the claimed vector against directional derivatives along combinations
of the kinked entries.

Each kinked entry on its own may lie between its one-sided slopes while the vector is no
subgradient: at ``max(a·x, b·x)`` with ``a·x = b·x`` every entry of ``(a+b)/2 + 0.3(1,−1,0)``
lies between ``a_k`` and ``b_k``, and at ``‖x‖₂`` at 0 every entry of a vector of norm 1.2 lies in
[−1, 1]. Along a direction ``d`` over the kinked entries, a valid (Clarke) subgradient ``g``
has ``g·d`` between the one-sided slopes ``−f'(x; −d)`` and ``f'(x; d)`` — for a convex kink
that is the subgradient inequality ``g·d ≤ f'(x; d)``. The directions probed: ``±g`` on the
kinked entries (where a vector outside the subdifferential shows most: ``u·u = 1.44 > ‖u‖``)
and random signed ones. Every valid subgradient passes them all; the judgement of each is
:func:`nnderiv.check.verdict.judge_kink` on central differences, which see both sides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..errors import ProbeError
from . import tuning
from .context import Context
from .engines import Engine, one_sided
from .probe import Probe, evaluate_probe
from .verdict import Verdict

__all__ = ["joint_kink_probes"]

FloatArray = npt.NDArray[np.float64]


def _bend(p: Probe) -> int:
    """+1 for a convex kink along the probe (the right slope above the left), −1 for a concave
    one, 0 when the sides do not tell."""
    sides = p.estimate.sides
    if sides is None:
        return 0
    (left, el), (right, er) = sides
    if abs(right - left) <= tuning.K_ERROR * (el + er):
        return 0
    return 1 if right > left else -1


def joint_kink_probes(
    ctx: Context, rng: np.random.Generator, singles: Sequence[Probe]
) -> list[Probe]:
    """Probes along combinations of the entries whose single probes found a kink, in groups of
    one bend: convex kinks together, concave kinks together (``f`` = convex + concave +
    smooth). A sum of a convex and a concave kink is not regular: (0, 0) is a valid (Clarke)
    subgradient of ``2 relu(x₁) − 1.5 relu(x₃)`` at 0 whose directional slopes are not between
    the one-sided ones, so such kinks are never judged together. Stops at the first probe
    that disagrees."""
    groups: dict[int, list[int]] = {1: [], -1: []}
    for p in singles:
        bend = _bend(p) if p.verdict is Verdict.SUBGRADIENT else 0
        if bend:
            groups[bend].append(int(p.support[0]))
    middle = {int(p.support[0]): _middle(p) for p in singles if p.verdict is Verdict.SUBGRADIENT}
    out: list[Probe] = []
    for bend, entries in groups.items():
        if len(entries) < 2:
            continue
        support = np.array(sorted(entries)[: tuning.JOINT_KINK_MAX], dtype=np.intp)
        centre = np.array([middle[int(k)] for k in support])
        out += _probe_group(ctx, rng, support, bend, centre)
        if out and out[-1].verdict is Verdict.DISAGREE:
            break
        extra = vertex_probe(ctx, support)
        if extra is not None:
            out.append(extra)
            if extra.verdict is Verdict.DISAGREE:
                break
    return out


def _middle(p: Probe) -> float:
    """The middle of an entry's one-sided slopes, in the gradient's units."""
    slopes = p.judgement.slopes
    w = float(p.weights[0])
    return 0.0 if slopes is None else (slopes[0] + slopes[1]) / (2.0 * w)


def _probe_group(
    ctx: Context,
    rng: np.random.Generator,
    support: npt.NDArray[np.intp],
    bend: int,
    centre: FloatArray,
) -> list[Probe]:
    g = ctx.g[support]
    directions: list[tuple[FloatArray, str]] = []
    # g − c, with c the middles of the entries' slope intervals: for a kink between two pieces
    # c is the midpoint of their gradients, and a claim moved along the kink shows there
    # (max(a·x, b·x): the claimed (a+b)/2 + 0.3(1, −1, 0) moves along a smooth direction)
    for vec, label in ((g, "the claimed gradient"), (g - centre, "the claim off the middles")):
        v = vec / ctx.scale[support]  # d = s ⊙ v ∝ vec on the support
        top = float(np.max(np.abs(v)))
        if top > 0:
            v = v * (1.0 / top)
            directions += [(v, label), (-v, "minus " + label)]
    for t in range(tuning.JOINT_KINK_RANDOM):
        r = rng.uniform(-1.0, 1.0, support.size)
        r += np.copysign(0.5, r)
        directions.append((r, f"random combination {t + 1}"))
    out: list[Probe] = []
    for v, label in directions:
        what = f"{label} over the {support.size} kinked entries"
        p = evaluate_probe(ctx, Engine.CENTRAL, support, v.copy(), what)
        if p.verdict is Verdict.DISAGREE and p.judgement.slopes is not None and _bend(p) != bend:
            continue  # the kink bends the other way along this combination: not regular here
        out.append(p)
        if p.verdict is Verdict.DISAGREE:
            break
    return out


# --- the subdifferential's vertices -------------------------------------------------------------


def _vertex(ctx: Context, support: npt.NDArray[np.intp], k: int, side: int) -> FloatArray | None:
    """The gradient of the piece that is active along ``side · e_k`` from the kink, on
    ``support``: ``f'(x; s_k e_k + η s_j e_j) − f'(x; s_k e_k) = η s_j p_j`` for each other
    entry ``j`` (η small enough that the active piece does not change). None when ``f`` fails."""
    base = np.zeros(ctx.x.shape)
    flat = base.reshape(-1)
    flat[k] = side * ctx.scale[k]

    def slope(d: FloatArray) -> float:
        return one_sided(ctx.ev, ctx.x, d, side=1, f0=ctx.f0, prec=ctx.prec, what="a vertex").value

    try:
        at = slope(base)
        out = np.empty(support.size)
        for i, j in enumerate(support):
            j = int(j)
            if j == k:
                out[i] = side * at / ctx.scale[k]
                continue
            d = base.copy()
            d.reshape(-1)[j] = tuning.VERTEX_ETA * ctx.scale[j]
            out[i] = (slope(d) - at) / (tuning.VERTEX_ETA * ctx.scale[j])
    except ProbeError:
        return None
    return out


def _nearest_in_hull(g: FloatArray, vertices: FloatArray) -> FloatArray:
    """The point of the convex hull of ``vertices`` (rows) nearest to ``g``: projected gradient
    descent on the simplex of weights (a handful of vertices in a few dimensions)."""
    count = vertices.shape[0]
    lam = np.full(count, 1.0 / count)
    gram = vertices @ vertices.T
    lipschitz = float(np.linalg.norm(gram, 2)) or 1.0
    target = vertices @ g
    for _ in range(tuning.HULL_ITERATIONS):
        lam = _onto_simplex(lam - (gram @ lam - target) / lipschitz)
    out: FloatArray = vertices.T @ lam
    return out


def _onto_simplex(v: FloatArray) -> FloatArray:
    u = np.sort(v)[::-1]
    cum = np.cumsum(u) - 1.0
    rho = int(np.nonzero(u - cum / np.arange(1, v.size + 1) > 0)[0][-1])
    out: FloatArray = np.maximum(v - cum[rho] / (rho + 1), 0.0)
    return out


def vertex_probe(ctx: Context, support: npt.NDArray[np.intp]) -> Probe | None:
    """The claimed vector against the hull of the subdifferential's vertices found along ±e_k:
    when it lies outside, the probe along ``g − (nearest point of the hull)`` — the direction
    in which a claim off the affine hull (weights of a max summing to 1.5) shows — judged by
    central differences. None when the claim is inside the hull found, or too many entries."""
    if not 2 <= support.size <= tuning.JOINT_VERTEX_MAX:
        return None
    found = [
        v
        for k in support
        for side in (1, -1)
        if (v := _vertex(ctx, support, int(k), side)) is not None
    ]
    if len(found) < 2:
        return None
    g = ctx.g[support]
    gap = g - _nearest_in_hull(g, np.array(found))
    if float(np.linalg.norm(gap)) <= tuning.HULL_SLACK * max(float(np.linalg.norm(g)), 1e-300):
        return None
    v = gap / ctx.scale[support]
    v *= 1.0 / float(np.max(np.abs(v)))
    what = f"the claim off the hull of the kink's vertices, over {support.size} entries"
    return evaluate_probe(ctx, Engine.CENTRAL, support, v, what)
