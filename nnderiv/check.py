"""``check_gradient``: a claimed gradient of any scalar loss against finite differences,
decided from error estimates.

How it decides (see DESIGN.md, "The numeric checker"):

* every probe is a directional derivative ``∇f(x) · d`` with ``d = s ⊙ v`` (``s`` the per-entry
  step scale, ``v`` a one-hot, a block mask or random signs);
* the numeric value comes with an error estimate ``E``; the claimed value ``g · d`` with a
  rounding floor set by the dtypes (of ``x``, of the loss value, of ``grad``);
* a probe *disagrees* only when ``|claimed − numeric| > 4 E + floor`` **and** ``E`` is small
  against the gradient's scale; when ``E`` is too large to tell, the verdict is
  ``inconclusive`` — never a false ``fail``;
* at a disagreement the one-sided slopes are measured: when they differ the point is a kink,
  and a claimed value between them passes as a subgradient;
* complex step is used where the loss allows it (exact to rounding); it is cross-checked once
  against central differences, and every complex-step disagreement is confirmed with central
  differences before it counts — code that breaks complex step (``abs``, a cast that drops the
  imaginary part, a ``TypeError`` on complex input) makes the check fall back, and
  ``report.method`` says why;
* up to ``entrywise_max`` entries are checked one by one; larger ``x`` gets a few random signed
  probes, then bisection over blocks localises a wrong entry in O(log N) probes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from . import numeric
from .errors import GradientMismatch, InconclusiveWarning, InvalidArgument, ProbeError
from .formulas import check_finite
from .probes import (
    ENTRYWISE_MAX,
    KINK_ENTRYWISE_MAX,
    RANDOM_PROBES,
    ComplexStepBroken,
    Probe,
    ProbeChecker,
    Verdict,
    cross_check,
)

__all__ = ["EntryCheck", "GradientReport", "assert_gradient", "check_gradient"]

FloatArray = npt.NDArray[np.float64]
Status = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class EntryCheck:
    """One checked entry: claimed and numeric ``∂f/∂x[index]``, and the allowed difference."""

    index: tuple[int, ...]
    claimed: float
    numeric: float
    bound: float
    verdict: Verdict
    note: str = ""


@dataclass
class GradientReport:
    """The outcome of :func:`check_gradient`; ``bool(report)`` is ``status == "pass"``."""

    status: Status
    worst_index: tuple[int, ...] | None
    entries: list[EntryCheck]
    method: str
    evaluations: int
    seed: int
    diagnosis: str
    reason: str = ""
    kinks: list[tuple[int, ...]] = field(default_factory=list)
    shape: tuple[int, ...] = ()
    checked: str = ""
    name: str = "fun"

    def __bool__(self) -> bool:
        return self.status == "pass"

    def __str__(self) -> str:
        head = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}[self.status]
        lines = [f"check_gradient({self.name}) on x of shape {self.shape}: {head}"]
        if self.checked:
            lines.append(f"  checked:   {self.checked}")
        lines.append(f"  method:    {self.method}")
        lines.append(f"  cost:      {self.evaluations} evaluations of fun, seed {self.seed}")
        if self.diagnosis:
            lines.append(f"  diagnosis: {self.diagnosis}")
        if self.reason:
            lines.append(f"  reason:    {self.reason}")
        if self.kinks:
            shown = ", ".join(map(str, self.kinks[:5]))
            lines.append(f"  kinks:     {shown} (claimed values between the one-sided slopes)")
        if self.entries:
            lines.append(
                f"  {'index':<16}{'claimed':>17}{'numeric':>17}{'|difference|':>14}"
                f"{'allowed':>11}  verdict"
            )
            for e in self.entries:
                diff = abs(e.claimed - e.numeric)
                lines.append(
                    f"  {e.index!s:<16}{e.claimed:>17.10g}{e.numeric:>17.10g}{diff:>14.3g}"
                    f"{e.bound:>11.3g}  {e.verdict}{' — ' + e.note if e.note else ''}"
                )
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------


def _as_real_array(value: Any, name: str, what: str) -> FloatArray:
    """``value`` as a non-empty, finite, real floating array (ints and bools promoted)."""
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise InvalidArgument(f"Expected {what} but could not convert it: {exc}") from exc
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float64)
    if np.iscomplexobj(arr) or not np.issubdtype(arr.dtype, np.floating):
        raise InvalidArgument(f"Expected {what} of real floats but got {name}.dtype={arr.dtype}")
    if arr.size == 0:
        raise InvalidArgument(
            f"Expected {name} to have at least one entry but got shape {arr.shape}"
        )
    return arr


def _as_x(x: Any) -> FloatArray:
    arr = _as_real_array(x, "x", "x to be an array")
    check_finite(arr, "x")
    return arr


def _as_grad(g: Any, x: FloatArray) -> FloatArray:
    arr = _as_real_array(g, "grad", "grad(x, *args) to return an array")
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


def _call_at_x(fun: Callable[..., Any], x: FloatArray, args: Sequence[Any], name: str) -> Any:
    try:
        return fun(x, *args)
    except Exception as exc:
        raise ProbeError(
            f"{name} raised when called at x itself (before any finite-difference step): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


# ---------------------------------------------------------------------------------------------
# the public API
# ---------------------------------------------------------------------------------------------


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
    entrywise_max: int = ENTRYWISE_MAX,
    max_bad: int = 5,
) -> GradientReport:
    """Check ``grad(x, *args)`` against finite differences of the scalar ``fun(x, *args)``.

    Args:
        fun: the loss; returns a real scalar (Python, numpy or a 1-element array).
        grad: the claimed gradient; returns an array shaped like ``x``.
        x: the point (any array-like of floats; ints are promoted; evaluated in float64).
        *args: passed on to ``fun`` and ``grad`` (labels, weights, …).
        method: ``"auto"`` (complex step where the loss allows it, else central differences),
            ``"complex"`` or ``"central"``.
        strategy: ``"auto"`` (entry by entry up to ``entrywise_max`` entries, else random
            probes and bisection), ``"entrywise"`` or ``"probes"``.
        rtol, atol: extra tolerance on top of the error estimate (default 0: the estimate and
            the rounding floor of the dtypes decide alone).
        seed: seed of the random probe directions and spot checks.
        entrywise_max: the largest ``x.size`` checked entry by entry under ``strategy="auto"``.
        max_bad: how many wrong entries to localise at most (probes).

    Example::

        >>> import numpy as np
        >>> f = lambda x: float(np.sum(x ** 3))
        >>> check_gradient(f, lambda x: 3 * x ** 2, np.array([1.0, -2.0])).status
        'pass'
    """
    name = getattr(fun, "__name__", "fun")
    if method not in ("auto", "complex", "central"):
        raise InvalidArgument(
            f"Expected method='auto', 'complex' or 'central' but got method={method!r}"
        )
    if strategy not in ("auto", "entrywise", "probes"):
        raise InvalidArgument(
            f"Expected strategy='auto', 'entrywise' or 'probes' but got strategy={strategy!r}"
        )
    for label, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and not (
            isinstance(value, (int, float)) and value >= 0 and math.isfinite(value)
        ):
            raise InvalidArgument(
                f"Expected {label} to be a finite number >= 0 but got {label}={value!r}"
            )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgument(f"Expected seed to be an integer >= 0 but got seed={seed!r}")
    x_in = _as_x(x)
    x64 = x_in.astype(np.float64)
    f0 = numeric.to_scalar(_call_at_x(fun, x64, args, f"fun ({name})"), name)
    if not math.isfinite(f0):
        raise InvalidArgument(f"Expected {name}(x, *args) to be finite at x but got {f0!r}")
    g_raw = _call_at_x(grad, x64, args, f"grad ({getattr(grad, '__name__', 'grad')})")
    g = _as_grad(g_raw, x_in)
    eps_g = float(np.finfo(g.dtype).eps)
    eps_g = max(eps_g, float(np.finfo(x_in.dtype).eps) if x_in.dtype.itemsize < 8 else eps_g)
    g64 = g.astype(np.float64)
    use_entrywise = strategy == "entrywise" or (strategy == "auto" and x_in.size <= entrywise_max)

    def run(engine: str, why: str) -> GradientReport:
        ch = ProbeChecker(fun, x64, g64, args, engine, rtol or 0.0, atol or 0.0, eps_g, f0)
        ch.ev.evaluations = 1  # fun(x) above
        rng = np.random.default_rng(seed)
        if engine == "complex":
            cross_check(ch, rng)
        elif _reads_x_coarsely(ch, rng):
            ch.ev.x_eps = float(np.finfo(np.float32).eps)
            why += "; fun reads x at float32 precision (a change of x by 1e-10 did not move it)"
        return _assemble(ch, rng, use_entrywise, why, seed, name, max_bad)

    if method == "central":
        return run("central", "central differences (forced by method='central')")
    try:
        return run("complex", "complex step (analytic code)")
    except ComplexStepBroken as exc:
        if method == "complex":
            raise InvalidArgument(
                f"method='complex' but {exc}; use method='auto' or 'central'"
            ) from None
        return run(
            "central",
            "central differences with Richardson extrapolation — fell back from complex step: "
            f"{exc}",
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


def _assemble(
    ch: ProbeChecker,
    rng: np.random.Generator,
    use_entrywise: bool,
    why: str,
    seed: int,
    name: str,
    max_bad: int,
) -> GradientReport:
    from .diagnose import diagnose

    size = ch.x.size
    randoms: list[Probe] = []
    if use_entrywise:
        singles = ch.entrywise()
        how = f"entry by entry (x has {size} ≤ entrywise_max entries)"
        checked = f"all {size} entries, one by one"
    else:
        leaves, randoms, clean = ch.probes(rng, max_bad)
        found = {int(p.support[0]) for p in leaves}
        extra = []
        if ch.x.ndim == 2 and ch.x.shape[0] == ch.x.shape[1]:  # room for a transposed layout
            extra = [int(np.ravel_multi_index(ch.index(k)[::-1], ch.x.shape)) for k in found]
        # spot checks: for the report on a pass, and for the diagnosis of a widespread error;
        # none when every wrong entry was localised and a probe over the rest agreed
        spots = 0 if clean else (4 if leaves else 3)
        how = (
            f"up to {RANDOM_PROBES} random signed probes over all {size} entries, then "
            "bisection over blocks to localise wrong entries, plus single-entry spot checks"
        )
        kinked = ch.kink_switch or any(r.verdict == "subgradient" for r in randoms)
        if kinked and not leaves and size <= KINK_ENTRYWISE_MAX:
            # a probe through kinks only bounds the sum of the slopes: an error can hide inside
            # that interval, so every entry is checked on its own (central differences)
            ch.engine = "central"
            singles = ch.entrywise()
            how += (
                f"; the probes crossed kinks, so all {size} entries were then checked one by "
                "one with central differences"
            )
        else:
            singles = leaves + ch.spot_checks(rng, spots, extra if spots else [], found)
            if kinked:
                how += "; the probes crossed kinks: central differences from there on" + (
                    ""
                    if leaves
                    else f" (x is too large, > {KINK_ENTRYWISE_MAX} entries, "
                    "for an entry-by-entry check: use strategy='entrywise')"
                )
        checked = f"{len(randoms)} random probes, {len(singles)} single entries"
        if clean:
            checked += ", then a random probe over all the other entries (agrees)"
    bad = [p for p in singles if p.verdict == "disagree"]
    bad_random = [r for r in randoms if r.verdict == "disagree"]
    unsure = [p for p in singles + randoms if p.verdict == "inconclusive"]
    kinks = [ch.index(int(p.support[0])) for p in singles if p.verdict == "subgradient"]
    reason = ""
    if bad or bad_random:
        status: Status = "fail"
        diagnosis = diagnose(ch, singles)
        if not bad:
            diagnosis = (
                "random probes disagree but no single entry could be singled out: many small "
                "errors spread over the entries. " + diagnosis
            )
    elif unsure:
        status = "inconclusive"
        worst = max(unsure, key=lambda p: p.error / p.ref if p.ref else math.inf)
        where = (
            f"entry {ch.index(int(worst.support[0]))}"
            if worst.support.size == 1
            else "a random probe"
        )
        precision = "float32" if ch.ev.eps > 1e-10 else "float64"
        reason = (
            f"the numeric error at {where} is {worst.error / max(worst.ref, 1e-300):.1%} of the "
            f"gradient's scale (loss computed in {precision}): too large to decide"
        )
        diagnosis = ""
    else:
        status = "pass"
        diagnosis = "kinks: the claimed values are valid subgradients" if kinks else ""
    order = sorted(
        singles, key=lambda p: (p.verdict != "disagree", p.verdict != "inconclusive", -p.excess)
    )
    entries = [_entry(ch, p) for p in order[:8]]
    worst_index = ch.index(int(order[0].support[0])) if bad else None
    method = f"{why}; {how}"
    return GradientReport(
        status,
        worst_index,
        entries,
        method,
        ch.ev.evaluations,
        seed,
        diagnosis,
        reason,
        kinks,
        ch.x.shape,
        checked,
        name,
    )


def _entry(ch: ProbeChecker, p: Probe) -> EntryCheck:
    """A single-entry probe in the units of the gradient (divided by its step weight)."""
    k, w = int(p.support[0]), float(p.weights[0])
    return EntryCheck(
        ch.index(k), float(ch.flat_g[k]), p.value / w, p.allowed / abs(w), p.verdict, p.note
    )


def _reads_x_coarsely(ch: ProbeChecker, rng: np.random.Generator) -> bool:
    """Does fun round x (to float32, say) before using it? Two evaluations along random signs:
    a step of relative 2⁻²⁰ (above float32's resolution) measures the slope, a step of 2⁻³³
    (below it, far above float64's) must then move f by 2⁻¹³ of that. A loss that rounds x to
    float32 moves by 0, or by a jump where an entry crosses a rounding boundary."""
    everything = np.arange(ch.x.size)
    d = ch.direction(everything, rng.choice([-1.0, 1.0], size=ch.x.size))
    ch.ev.probe = "the input-precision test"
    far, near = ch.ev(ch.x + d * 2.0**-20), ch.ev(ch.x + d * 2.0**-33)
    if not (math.isfinite(far) and math.isfinite(near)):
        return False
    predicted = (far - ch.f0) * 2.0**-13
    if abs(predicted) <= 64 * float(np.finfo(np.float64).eps) * max(abs(ch.f0), abs(far)):
        return False  # the change would be invisible at float64 anyway: no information
    return abs((near - ch.f0) - predicted) > 0.5 * abs(predicted)
