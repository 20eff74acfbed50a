"""nnderiv: prove the derivatives of neural-network cost functions right.

Three independent witnesses agree on every derivative: closed forms (:mod:`nnderiv.formulas`),
symbolic derivations (:mod:`nnderiv.symbolic`) and finite differences
(:func:`nnderiv.check_gradient`).

The public names below are imported on first use (PEP 562), so that ``import nnderiv.plugin``
— which pytest does at start-up — loads neither numpy nor hypothesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "LOSSES": "formulas",
    "EntryCheck": "check",
    "GradientReport": "check",
    "assert_gradient": "check",
    "check_gradient": "check",
    "check_hvp": "check",
    "check_jvp": "check",
    "check_vjp": "check",
    "GradientMismatch": "errors",
    "InconclusiveWarning": "errors",
    "InvalidArgument": "errors",
    "ProbeError": "errors",
    "VerificationResult": "verify",
    "verify_gradient": "verify",
}
_MODULES = ("formulas", "strategies", "symbolic")

__all__ = [
    "LOSSES",
    "EntryCheck",
    "GradientMismatch",
    "GradientReport",
    "InconclusiveWarning",
    "InvalidArgument",
    "ProbeError",
    "VerificationResult",
    "__version__",
    "assert_gradient",
    "check_gradient",
    "check_hvp",
    "check_jvp",
    "check_vjp",
    "formulas",
    "strategies",
    "symbolic",
    "verify_gradient",
]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nnderiv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from . import formulas, strategies, symbolic
    from .check import (
        EntryCheck,
        GradientReport,
        assert_gradient,
        check_gradient,
        check_hvp,
        check_jvp,
        check_vjp,
    )
    from .errors import GradientMismatch, InconclusiveWarning, InvalidArgument, ProbeError
    from .formulas import LOSSES
    from .verify import VerificationResult, verify_gradient
