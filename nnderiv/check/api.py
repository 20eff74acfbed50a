"""``check_gradient`` and ``assert_gradient``: validate, choose the engine, search, decide,
report. The parts live in their own modules; this one wires them together."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import as_real_array, check_choice, check_finite, check_seed, check_tolerance
from ..errors import GradientMismatch, InconclusiveWarning, InvalidArgument, ProbeError
from . import tuning
from .confirm import Confirmation, confirm_complex
from .context import ComplexStepBroken, Context, Fallback, make_context
from .diagnose import diagnose
from .engines import Engine, Flag
from .evaluate import Evaluator, measure_precision, to_scalar
from .joint import joint_kink_probes
from .probe import Probe
from .report import EntryCheck, GradientReport, Status
from .resolution import Resolution
from .search import SearchResult, entrywise, search_probes, tie_groups, tie_probes
from .structure import Structure
from .verdict import Verdict

__all__ = ["assert_gradient", "check_gradient"]

FloatArray = npt.NDArray[np.float64]


def _as_grad(g: Any, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr = as_real_array(g, "grad", "grad(x, *args) to return an array")
    if arr.shape != x.shape:
        hint = ""
        if arr.ndim == 2 and x.ndim == 2 and arr.shape == x.shape[::-1]:
            hint = " — it is the transpose of x's shape: the gradient's layout is transposed"
        elif arr.size == x.size:
            hint = " — same number of entries: a reshape or layout mix-up?"
        raise InvalidArgument(
            f"Expected grad(x, *args) to have the shape of x {x.shape} "
            f"but got shape {arr.shape}{hint}"
        )
    check_finite(arr, "grad")
    return arr


def _call_at_x(call: Callable[[], Any], name: str) -> Any:
    try:
        return call()
    except InvalidArgument:
        raise
    except Exception as exc:
        raise ProbeError(
            f"{name} raised when called at x itself (before any finite-difference step): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


@dataclass(frozen=True)
class _Options:
    strategy: str
    entrywise_max: int
    max_bad: int
    seed: int


def checked_kwargs(kwargs: Any) -> dict[str, Any]:
    """``kwargs=`` as a dict of names to values, or InvalidArgument saying what was got."""
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise InvalidArgument(
            f"Expected kwargs to be a mapping of names to values (e.g. {{'gamma': 2.0}}) but "
            f"got {kwargs!r}"
        )
    return dict(kwargs)


def _with_kwargs(
    fun: Callable[..., Any], grad: Callable[..., Any], kwargs: Mapping[str, Any] | None
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``fun`` and ``grad`` with the loss's keyword arguments bound."""
    if kwargs is None:
        return fun, grad
    bound = checked_kwargs(kwargs)

    def fun_kw(x: Any, *args: Any) -> Any:
        return fun(x, *args, **bound)

    def grad_kw(x: Any, *args: Any) -> Any:
        return grad(x, *args, **bound)

    fun_kw.__name__ = getattr(fun, "__name__", "fun")
    grad_kw.__name__ = getattr(grad, "__name__", "grad")
    return fun_kw, grad_kw


def check_gradient(
    fun: Callable[..., Any],
    grad: Callable[..., Any],
    x: Any,
    *args: Any,
    method: str = "auto",
    strategy: str = "auto",
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    entrywise_max: int = tuning.ENTRYWISE_MAX,
    max_bad: int = 5,
    negligible: float = 0.0,
    kwargs: Mapping[str, Any] | None = None,
    wrt: Sequence[Any] | None = None,
) -> GradientReport:
    """Check ``grad(x, *args)`` against finite differences of the scalar ``fun(x, *args)``.

    Args:
        fun: the loss; returns a real scalar (Python, numpy or a 1-element array).
        grad: the claimed gradient; returns an array shaped like ``x`` (for a structured
            ``x``, the same structure).
        x: the point: an array-like of floats (ints are promoted), or a tuple, list or dict of
            such arrays, nested as you like (``{"W1": W1, "b1": b1, …}``). ``fun`` and ``grad``
            receive it as given, each array in its own dtype.
        *args: passed on to ``fun`` and ``grad`` (labels, weights, …).
        kwargs: keyword arguments for ``fun`` and ``grad`` (a loss's hyper-parameters:
            ``kwargs={"gamma": 2.0}``).
        wrt: for a structured ``x``, the keys (dict) or positions (tuple, list) to check; the
            other arrays are passed unchanged and not checked.
        method: ``"auto"`` (complex step where the loss allows it and real arithmetic
            confirms it, else central differences), ``"complex"`` or ``"central"``.
        strategy: ``"auto"`` (entry by entry up to ``entrywise_max`` entries, else random
            probes and bisection), ``"entrywise"`` or ``"probes"``.
        rtol, atol: extra tolerance on top of the error estimate (default 0: the estimate and
            the rounding floor of the dtypes decide alone).
        seed: seed of the random probe directions and spot checks.
        entrywise_max: the largest ``x.size`` checked entry by entry under ``strategy="auto"``.
        max_bad: how many wrong entries to localise at most (probes).
        negligible: every entry is judged on its own scale; one that the loss cannot resolve
            (its share of ``f`` is below the loss's rounding) makes the check inconclusive,
            unless its possible error is below ``negligible`` times the gradient's largest
            entry (say ``1e-10`` for saturated probabilities checked by central differences).
            Default 0: nothing is negligible.

    Example::

        >>> import numpy as np
        >>> f = lambda x: float(np.sum(x ** 3))
        >>> check_gradient(f, lambda x: 3 * x ** 2, np.array([1.0, -2.0])).status
        'pass'
    """
    name = getattr(fun, "__name__", "fun")
    check_choice("method", method, ("auto", "complex", "central"))
    check_choice("strategy", strategy, ("auto", "entrywise", "probes"))
    check_tolerance("rtol", rtol)
    check_tolerance("atol", atol)
    check_tolerance("negligible", negligible)
    if negligible >= 1:
        raise InvalidArgument(
            f"Expected negligible to be a fraction of the largest entry below 1 "
            f"but got negligible={negligible!r}"
        )
    check_seed(seed)
    fun, grad = _with_kwargs(fun, grad, kwargs)
    structure: Structure | None = None
    narrow: np.dtype[Any] | None = None
    x_in: npt.NDArray[Any]
    if Structure.is_structured(x):
        structure = Structure.of(x, "x", wrt)
        fun, grad = structure.wrap(fun, grad, getattr(grad, "__name__", "grad"))
        x_in = structure.flatten(x, "x")
        narrow = structure.dtype_of_flat()
    else:
        if wrt is not None:
            raise InvalidArgument(
                f"Expected wrt only with a structured x (a tuple, list or dict of arrays) but "
                f"x is {type(x).__name__} and wrt={wrt!r}"
            )
        x_in = as_real_array(x, "x", "x to be an array")
    check_finite(x_in, "x")
    # never handed to fun (each call gets a copy or a fresh array), so no copy is needed
    x64 = x_in.astype(np.float64, copy=False)
    ev = Evaluator(fun, args, x_in.dtype)  # fun and grad see x in its own dtype
    f0_raw = _call_at_x(lambda: ev.raw(x64), f"fun ({name})")
    f0 = to_scalar(f0_raw, name)
    if not math.isfinite(f0):
        raise InvalidArgument(f"Expected {name}(x, *args) to be finite at x but got {f0!r}")
    g_name = getattr(grad, "__name__", "grad")
    g = _as_grad(_call_at_x(lambda: grad(x_in.copy(), *args), f"grad ({g_name})"), x_in)
    eps_g = float(np.finfo(g.dtype).eps)
    if narrow is not None:  # a structured x: held to its narrowest leaf's precision
        eps_g = max(eps_g, float(np.finfo(narrow).eps))
    if x_in.dtype.itemsize < 8 and g.dtype.itemsize > x_in.dtype.itemsize:
        # a wider claimed gradient from a narrow x: computed at x's precision only if its
        # values are x's kind of numbers (a float32 result cast up); else at its own
        with np.errstate(over="ignore"):
            cast = g.astype(x_in.dtype).astype(g.dtype)
        if np.array_equal(cast, g):
            eps_g = float(np.finfo(x_in.dtype).eps)
    elif x_in.dtype.itemsize < 8:
        eps_g = max(eps_g, float(np.finfo(x_in.dtype).eps))
    for arg in args:
        # float32 labels (or any narrower array argument): the loss computes with their float32
        # arithmetic (1 − Y stays float32), which its claimed gradient need not reproduce; so
        # the gradient is held to that precision, like a float32 gradient
        dt = getattr(arg, "dtype", None)
        if isinstance(dt, np.dtype) and dt.kind in "fc" and dt.itemsize < 8:
            eps_g = max(eps_g, float(np.finfo(dt).eps))
    g64 = g.astype(np.float64, copy=False)
    prec = measure_precision(ev, x64, f0_raw, f0, g64, np.random.default_rng([seed, 1]))
    if narrow is not None and narrow.itemsize < 8 and prec.x_eps < float(np.finfo(narrow).eps):
        # a float32 leaf reads its entries in float32: steps sized for it
        x_eps = float(np.finfo(narrow).eps)
        prec = dataclasses.replace(prec, x_eps=x_eps, eps=max(prec.eps, x_eps))
    ctx = make_context(
        ev,
        x64,
        g64,
        prec,
        f0,
        eps_g,
        float(rtol or 0.0),
        float(atol or 0.0),
        grad=grad,
        negligible=float(negligible),
        indexer=structure.index if structure is not None else None,
    )
    opts = _Options(strategy, entrywise_max, max_bad, seed)
    report = _run_engines(ctx, opts, name, method)
    if structure is not None:
        report.layout = structure.describe()
    return report


def _run_engines(ctx: Context, opts: _Options, name: str, method: str) -> GradientReport:
    fallback: Fallback | None = None
    if method != "central":
        try:
            return _run(ctx, Engine.COMPLEX, opts, name, None)
        except ComplexStepBroken as exc:
            if method == "complex":
                raise InvalidArgument(
                    f"method='complex' but {exc.fallback}; use method='auto' or 'central'"
                ) from None
            fallback = exc.fallback
    return _run(ctx, Engine.CENTRAL, opts, name, fallback, forced=method == "central")


def _run(
    ctx: Context,
    engine: Engine,
    opts: _Options,
    name: str,
    fallback: Fallback | None,
    *,
    forced: bool = False,
) -> GradientReport:
    """One complete search with ``engine`` (raises ComplexStepBroken to fall back)."""
    rng = np.random.default_rng(opts.seed)
    confirmation = confirm_complex(ctx, rng) if engine is Engine.COMPLEX else None
    use_entrywise = opts.strategy == "entrywise" or (
        opts.strategy == "auto" and ctx.size <= opts.entrywise_max
    )
    if use_entrywise:
        ties = tie_probes(ctx, tie_groups(ctx.x, tuning.TIE_GROUPS), engine)
        singles = entrywise(ctx, engine, range(ctx.size))
        joint = joint_kink_probes(ctx, rng, singles)
        result = SearchResult(singles, engine=engine, ties=ties, joint=joint)
    else:
        first = confirmation.first if confirmation else None
        result = search_probes(ctx, engine, rng, opts.max_bad, first)
    return _report(ctx, result, opts, name, fallback, confirmation, forced, use_entrywise)


def _method_text(
    result: SearchResult,
    fallback: Fallback | None,
    confirmation: Confirmation | None,
    forced: bool,
    use_entrywise: bool,
    size: int,
) -> tuple[str, str]:
    if forced:
        why = "central differences (forced by method='central')"
    elif fallback is not None:
        why = (
            "central differences with Richardson extrapolation — fell back from complex step: "
            f"{fallback}"
        )
    else:
        assert confirmation is not None
        why = (
            "complex step (analytic code), confirmed by central differences along "
            f"{confirmation.what}"
        )
    if use_entrywise:
        return why, f"entry by entry (x has {size} ≤ entrywise_max entries)"
    how = (
        f"up to {tuning.RANDOM_PROBES} random signed probes over all {size} entries; a wrong "
        "entry localised by the ratio of two probes' discrepancies, or by bisection"
    )
    if result.kinked:
        how += (
            "; the probes crossed kinks: central differences from there on, "
            f"{result.suspects} entries at exact zeros or ties checked one by one as "
            "subgradients, the others by probes of their own"
        )
    return why, how


def _report(
    ctx: Context,
    result: SearchResult,
    opts: _Options,
    name: str,
    fallback: Fallback | None,
    confirmation: Confirmation | None,
    forced: bool,
    use_entrywise: bool,
) -> GradientReport:
    randoms = result.randoms
    singles = result.singles + result.spots
    bad = [p for p in singles if p.verdict is Verdict.DISAGREE]
    bad_random = [r for r in randoms if r.verdict is Verdict.DISAGREE]
    bad_ties = [t for t in result.ties if t.verdict is Verdict.DISAGREE]
    bad_joint = [t for t in result.joint if t.verdict is Verdict.DISAGREE]
    # a spot check too rough to decide is no evidence either way: the probes decide; a group
    # of tied entries leaves a doubt only at a kink (elsewhere the single entries settle it)
    unsure = [p for p in result.singles + randoms if p.verdict is Verdict.INCONCLUSIVE] + [
        t
        for t in result.ties + result.joint
        if t.verdict is Verdict.INCONCLUSIVE and t.estimate.has(Flag.KINK)
    ]
    kinks = [ctx.index(int(p.support[0])) for p in singles if p.verdict is Verdict.SUBGRADIENT]
    res = _resolution(ctx, result)
    reason = diagnosis = ""
    status: Status
    if bad or bad_random or bad_ties or bad_joint:
        status = "fail"
        diagnosis = diagnose(ctx, singles) if bad or bad_random else ""
        if bad_ties:
            diagnosis = _tie_diagnosis(ctx, bad_ties[0]) + ("; " + diagnosis if diagnosis else "")
        elif bad_joint:
            diagnosis = _joint_diagnosis(ctx, bad_joint[0]) + (
                "; " + diagnosis if diagnosis else ""
            )
        elif not bad:
            diagnosis = (
                "random probes disagree but no single entry could be singled out: many small "
                "errors spread over the entries. " + diagnosis
            )
    elif unsure or result.unchecked or res.count:
        status = "inconclusive"
        reason = _reason(ctx, unsure, result, res)
    else:
        status = "pass"
        diagnosis = "kinks: the claimed values are valid subgradients" if kinks else ""
    order = sorted(
        singles,
        key=lambda p: (
            p.verdict is not Verdict.DISAGREE,
            p.verdict not in (Verdict.INCONCLUSIVE, Verdict.UNRESOLVED),
            -p.excess,
        ),
    )
    entries = [_entry(ctx, p) for p in order[:8]]
    why, how = _method_text(result, fallback, confirmation, forced, use_entrywise, ctx.size)
    checked = (
        f"all {ctx.size} entries, one by one"
        if use_entrywise
        else f"{len(randoms)} random probes, {len(singles)} single entries"
        + (", then a random probe over all the other entries (agrees)" if result.clean else "")
    )
    explained = [p for p in singles + randoms if p.explained]
    kept = [p.loss_digits for p in explained if p.loss_digits is not None]
    digits = min(kept) if kept and status == "pass" else None
    return GradientReport(
        status,
        ctx.index(int(order[0].support[0])) if bad else None,
        entries,
        f"{why}; {how}",
        ctx.ev.evaluations,
        opts.seed,
        diagnosis,
        reason,
        kinks,
        tuple(ctx.x.shape),
        checked,
        name,
        result.engine,
        fallback,
        ctx.prec.dtype,
        digits,
        result.unchecked,
        res.count,
        res.worst,
        res.negligible,
        res.smallest,
    )


def _resolution(ctx: Context, result: SearchResult) -> Resolution:
    """The probes' per-entry resolution (large x) merged with the single entries': a single
    entry ``unresolved`` on its own scale counts unless its band is negligible against the
    gradient's largest entry."""
    loose = [p for p in result.singles if p.verdict is Verdict.UNRESOLVED]
    resolved = [
        abs(p.judgement.claimed / float(p.weights[0]))
        for p in result.singles
        if p.verdict is Verdict.AGREE and p.judgement.claimed != 0
    ]
    if result.smallest_resolved:
        resolved.append(result.smallest_resolved)
    smallest = min(resolved, default=0.0)
    gmax = float(np.max(np.abs(ctx.g)))
    bands = [p.allowed / abs(float(p.weights[0])) for p in loose]
    open_ = [p for p, b in zip(loose, bands, strict=True) if b > ctx.negligible * gmax]
    worst = max([result.resolution, *(p.judgement.precision for p in open_)])
    return Resolution(
        result.unresolved + len(open_),
        worst,
        result.negligible + len(loose) - len(open_),
        smallest,
    )


def _entries_and_rate(ctx: Context, p: Probe) -> tuple[str, str, float]:
    """The entries a joint probe moved (at most four named), the loss's rate along it, and the
    claimed rate."""
    shown = ", ".join(str(ctx.index(int(k))) for k in p.support[:4])
    more = ", …" if p.support.size > 4 else ""
    j = p.judgement
    slopes = f"between {j.slopes[0]:.6g} and {j.slopes[1]:.6g}" if j.slopes else f"{j.value:.6g}"
    return shown + more, slopes, j.claimed


def _tie_diagnosis(ctx: Context, p: Probe) -> str:
    entries, rate, claimed = _entries_and_rate(ctx, p)
    return (
        f"the claimed values at the tied entries {entries} are no subgradient jointly: "
        f"moving them together changes the loss at a rate {rate}, the claimed gradient "
        f"says {claimed:.6g} (full weight given to every tied entry?)"
    )


def _joint_diagnosis(ctx: Context, p: Probe) -> str:
    entries, rate, claimed = _entries_and_rate(ctx, p)
    return (
        f"each entry at the kinks {entries} lies between its own one-sided slopes, but the "
        f"claimed vector is no subgradient jointly: along a combination of them the loss "
        f"changes at a rate {rate}, the claimed gradient says {claimed:.6g}"
    )


def _reason(ctx: Context, unsure: list[Probe], result: SearchResult, res: Resolution) -> str:
    parts = []
    if unsure:
        worst = max(unsure, key=lambda p: p.judgement.relative_error)
        if worst.support.size == 1:
            where = f"entry {ctx.index(int(worst.support[0]))}"
        elif any(worst is t for t in result.ties):
            where = f"the {worst.support.size} tied entries moved together"
        elif any(worst is t for t in result.joint):
            where = f"a combination of the {worst.support.size} kinked entries"
        else:
            where = "a random probe"
        parts.append(
            f"the numeric error at {where} is {worst.judgement.relative_error:.1%} of the "
            f"gradient's scale (loss computed in {ctx.prec.dtype}): too large to decide"
        )
    if res.count:
        smallest = (
            f"; the smallest entry resolved on its own scale is {res.smallest:.3g}"
            if res.smallest
            else ""
        )
        parts.append(
            f"{res.count} of {ctx.size} entries agree only within a band wider than "
            f"{tuning.ENTRY_RESOLUTION:.0%} of themselves (relative precision down to "
            f"{res.worst:.2g}): an error that large in one of them would not show through the "
            f"noise of the loss ({ctx.prec.dtype}){smallest}"
        )
    if result.unchecked:
        parts.append(
            f"{result.unchecked} entries sit at suspected kinks (exact zeros or ties), more than "
            f"{tuning.KINK_ENTRYWISE_MAX} to check one by one as subgradients; the probes that "
            "crossed them only bound sums of one-sided slopes (strategy='entrywise' checks "
            "them all)"
        )
    return "; ".join(parts)


def _entry(ctx: Context, p: Probe) -> EntryCheck:
    """A single-entry probe in the units of the gradient (divided by its step weight)."""
    k, w = int(p.support[0]), float(p.weights[0])
    j = p.judgement
    note = ""
    if j.slopes is not None:
        lo, hi = sorted((j.slopes[0] / w, j.slopes[1] / w))
        note = (
            f"kink: one-sided slopes {lo:.6g} and {hi:.6g}"
            if p.verdict is Verdict.SUBGRADIENT
            else f"kink: claimed value outside the one-sided slopes {lo:.6g}…{hi:.6g}"
        )
    elif p.conditioned:
        note = (
            "within the loss's conditioning (its derivative moves that much when x moves by "
            "its own rounding)"
        )
    elif p.explained:
        note = "within the loss's own rounding (complex step varies that much 1e-8 away)"
    elif p.estimate.has(Flag.ONE_SIDED):
        note = "one-sided: fun is not finite on the other side"
    elif p.estimate.has(Flag.SHRUNK):
        note = "step shrank away from a domain edge"
    elif p.estimate.has(Flag.COARSE):
        note = "f changed only at larger steps"
    return EntryCheck(
        ctx.index(k), float(ctx.g[k]), p.value / w, p.allowed / abs(w), p.verdict, note, j.precision
    )


def assert_gradient(
    fun: Callable[..., Any],
    grad: Callable[..., Any],
    x: Any,
    *args: Any,
    strict: bool = False,
    **options: Any,
) -> GradientReport:
    """:func:`check_gradient`, raising :class:`GradientMismatch` (with ``.report``) on a fail.

    An ``inconclusive`` result warns (:class:`InconclusiveWarning`) and returns, or raises with
    ``strict=True``. Returns the report on a pass.
    """
    report = check_gradient(fun, grad, x, *args, **options)
    if report.status == "fail" or (strict and report.status == "inconclusive"):
        raise GradientMismatch(str(report), report)
    if report.status == "inconclusive":
        warnings.warn(
            f"nnderiv could not decide: {report.reason}", InconclusiveWarning, stacklevel=2
        )
    return report
