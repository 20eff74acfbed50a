"""nnderiv: prove the derivatives of neural-network cost functions right.

Three independent witnesses agree on every derivative: closed forms (:mod:`nnderiv.formulas`),
symbolic derivations (:mod:`nnderiv.symbolic`) and finite differences
(:func:`nnderiv.check_gradient`).
"""

from __future__ import annotations

from . import formulas, strategies
from .check import EntryCheck, GradientReport, assert_gradient, check_gradient
from .errors import GradientMismatch, InconclusiveWarning, InvalidArgument, ProbeError
from .formulas import LOSSES
from .verify import VerificationResult, verify_gradient

__version__ = "0.1.0"

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
    "formulas",
    "strategies",
    "verify_gradient",
]
