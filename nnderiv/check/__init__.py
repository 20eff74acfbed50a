"""``nnderiv.check``: a claimed gradient of any scalar loss against finite differences,
decided from error estimates.

The parts, each with one job:

* :mod:`~nnderiv.check.evaluate` — calls the loss (a fresh copy of ``x`` each time, every call
  counted) and measures the precision it is computed in;
* :mod:`~nnderiv.check.engines` — complex step, central and one-sided differences, each
  returning a typed :class:`~nnderiv.check.engines.Estimate` (value, error, flags);
* :mod:`~nnderiv.check.verdict` — the pure :func:`~nnderiv.check.verdict.judge`;
* :mod:`~nnderiv.check.probe` — one directional check, and the real-arithmetic confirmation
  that complex step needs before it may pass anything;
* :mod:`~nnderiv.check.search` — entry by entry, random probes, bisection, kinks;
* :mod:`~nnderiv.check.diagnose` — the bug people most likely made;
* :mod:`~nnderiv.check.report` — :class:`GradientReport`;
* :mod:`~nnderiv.check.tuning` — every constant, with its reason.
"""

from __future__ import annotations

from .api import assert_gradient, check_gradient
from .context import Fallback, FallbackReason
from .engines import Engine, Estimate, Flag
from .products import check_hvp, check_jvp, check_vjp
from .report import EntryCheck, GradientReport
from .verdict import Verdict

__all__ = [
    "Engine",
    "EntryCheck",
    "Estimate",
    "Fallback",
    "FallbackReason",
    "Flag",
    "GradientReport",
    "Verdict",
    "assert_gradient",
    "check_gradient",
    "check_hvp",
    "check_jvp",
    "check_vjp",
]
