"""Complex step confirmed in real arithmetic before it may pass anything: central
differences along a probe free of kinks, domain edges and flat or coarse values must agree
with it, or the check runs on central differences (:class:`~nnderiv.check.context.Fallback`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ProbeError
from . import tuning
from .context import ComplexStepBroken, Context, Fallback, FallbackReason, random_v
from .engines import Estimate, Flag, central, complex_step
from .probe import judge_probe

__all__ = ["Confirmation", "confirm_complex"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


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


def _finer(ctx: Context, d: FloatArray, real: Estimate, what: str) -> Estimate | None:
    """Central differences along ``d`` at a step FINER_STEP times smaller than ``real``'s;
    None when they fail or are too rough (beyond RELIABLE of their value) to side with
    anything."""
    try:
        fine = central(
            ctx.ev,
            ctx.x,
            d,
            f0=ctx.f0,
            prec=ctx.prec,
            h=real.step / tuning.FINER_STEP,
            what=what,
            good_enough=tuning.CONFIRM_TARGET,
        )
    except ProbeError:
        return None
    if fine.flags & {Flag.KINK, Flag.ONE_SIDED, Flag.FLAT, Flag.COARSE}:
        return None
    if tuning.K_ERROR * fine.error > tuning.RELIABLE * abs(fine.value):
        return None
    return fine


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
            fine = _finer(ctx, d, real, what)
            if (
                fine is not None
                and abs(est.value - fine.value)
                <= tuning.K_ERROR * (fine.error + est.error) + j.floor
            ):
                # real arithmetic at a far smaller step sides with complex step: the first
                # steps were outside the function's own scale (sin(1e4 x) at x ≈ 1e3,
                # sampled at steps of ~1): complex step stands, confirmed there
                first = (state, est) if support.size == ctx.size else None
                return Confirmation(first, what + f" (at steps {tuning.FINER_STEP:g}× smaller)")
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
