"""Exceptions raised by nnderiv.

``InvalidArgument`` is raised for bad input anywhere in nnderiv (it is a ``ValueError``);
``GradientMismatch`` is raised by ``assert_gradient`` when a claimed gradient is wrong (it is
an ``AssertionError`` so that test runners report it as a failure, not an error).
"""

from __future__ import annotations

from typing import Any

import hypothesis.errors


class InvalidArgument(ValueError, hypothesis.errors.InvalidArgument):
    """Bad input: the message says what was expected, what was got and where.

    It is a ``ValueError``, and also hypothesis' own ``InvalidArgument`` so that a bad argument
    to an :mod:`nnderiv.strategies` strategy is reported by hypothesis as a usage error.
    """


class GradientMismatch(AssertionError):
    """A claimed gradient disagrees with finite differences; ``.report`` holds the evidence."""

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


class ProbeError(RuntimeError):
    """``fun`` raised, or was non-finite, at every step tried along one probe.

    The message names the probe and the steps; the original exception is ``__cause__``.
    """


class InconclusiveWarning(UserWarning):
    """``assert_gradient`` could not decide (the numeric error was too large) and did not fail."""
