"""The report of a check: typed fields for programs, a readable ``str()`` for people.

Everything a program may branch on is a typed field (``status``, ``engine``, ``fallback``,
``worst_index``, ``kinks``, ``unchecked``, ``loss_digits``); ``method``, ``checked``,
``reason`` and ``diagnosis`` are presentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .context import Fallback
from .engines import Engine
from .verdict import Verdict

__all__ = ["EntryCheck", "GradientReport", "Status"]

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
    precision: float = 0.0  # the relative precision reached: the allowed band over the entry


@dataclass
class GradientReport:
    """The outcome of :func:`check_gradient`; ``bool(report)`` is ``status == "pass"``.

    Attributes:
        status: ``"pass"``, ``"fail"`` or ``"inconclusive"``.
        worst_index: the most clearly wrong entry on a fail, else None.
        entries: the single entries checked (wrong ones first), at most 8.
        method: how the check was made, in words.
        evaluations: every call of ``fun``, fallbacks included.
        seed: the seed of the random probes.
        diagnosis: the most likely bug, in words, on a fail.
        reason: why the verdict is inconclusive.
        kinks: entries at kinks whose claimed value is a valid subgradient.
        shape: the shape of ``x``.
        checked: what was probed, in words.
        name: the loss's name.
        engine: the engine the verdict rests on (``Engine.COMPLEX`` or ``Engine.CENTRAL``).
        fallback: why complex step was abandoned (None when it was used or not tried).
        precision: the precision the loss is computed in (``"float64"``, ``"float32"``).
        loss_digits: where the loss loses digits to cancellation at ``x``: about how many it
            keeps (and the claimed gradient was held to that accuracy); else None.
        unchecked: entries at suspected kinks that could not be checked one by one.
        unresolved: entries that could not be resolved to 1 % of themselves (each entry is
            judged on its own scale) and whose possible error is not negligible (below
            ``negligible`` times the largest entry, an option, default 0); ``resolution``: the
            relative error the worst of them could still carry.
        negligible: entries not resolved on their own scale whose possible error is below
            that fraction of the largest entry (they do not block a pass; shown in the
            report).
        smallest_resolved: the smallest |claimed| entry resolved on its own scale.
    """

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
    engine: Engine = Engine.COMPLEX
    fallback: Fallback | None = None
    precision: str = "float64"
    loss_digits: float | None = None
    unchecked: int = 0
    unresolved: int = 0
    resolution: float = 0.0
    negligible: int = 0
    smallest_resolved: float = 0.0
    layout: str = ""  # a structured x: its leaves, e.g. "{W1: (4, 3), b1: (4, 1)}"
    output_index: tuple[int, ...] | None = None  # check_vjp / check_jvp: the wrong output entry

    def __bool__(self) -> bool:
        return self.status == "pass"

    def __str__(self) -> str:
        head = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}[self.status]
        where = f"x = {self.layout}" if self.layout else f"x of shape {self.shape}"
        lines = [f"check_gradient({self.name}) on {where}: {head}"]
        if self.checked:
            lines.append(f"  checked:   {self.checked}")
        lines.append(f"  method:    {self.method}")
        lines.append(
            f"  cost:      {self.evaluations} evaluations of fun ({self.precision}), "
            f"seed {self.seed}"
        )
        if self.diagnosis:
            lines.append(f"  diagnosis: {self.diagnosis}")
        if self.output_index is not None:
            lines.append(
                f"  output:    the cotangent at output entry {self.output_index} alone shows it"
            )
        if self.reason:
            lines.append(f"  reason:    {self.reason}")
        if self.loss_digits is not None:
            lines.append(
                f"  accuracy:  the loss keeps about {self.loss_digits:.0f} digits at x "
                "(cancellation); the claimed gradient agrees to that accuracy"
            )
        if self.negligible:
            lines.append(
                f"  tiny:      {self.negligible} entries below the loss's resolution (their "
                "possible error is under the negligible fraction of the largest entry); not "
                "resolved on their own scale"
                + (
                    f", the smallest resolved entry is {self.smallest_resolved:.3g}"
                    if self.smallest_resolved
                    else ""
                )
            )
        if self.kinks:
            shown = ", ".join(map(str, self.kinks[:5]))
            more = f" and {len(self.kinks) - 5} more" if len(self.kinks) > 5 else ""
            lines.append(
                f"  kinks:     {shown}{more} (claimed values between the one-sided slopes)"
            )
        if self.entries:
            lines.append(
                f"  {'index':<16}{'claimed':>17}{'numeric':>17}{'|difference|':>14}"
                f"{'allowed':>11}{'rel. prec.':>11}  verdict"
            )
            for e in self.entries:
                diff = abs(e.claimed - e.numeric)
                lines.append(
                    f"  {e.index!s:<16}{e.claimed:>17.10g}{e.numeric:>17.10g}{diff:>14.3g}"
                    f"{e.bound:>11.3g}{e.precision:>11.2g}  "
                    f"{e.verdict.value}{' — ' + e.note if e.note else ''}"
                )
        return "\n".join(lines)
