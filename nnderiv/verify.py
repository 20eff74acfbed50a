"""Property-based verification: ``check_gradient`` on every input a strategy draws, with
hypothesis shrinking a failure to the smallest failing input.

Three ways to use it::

    # 1. run it: draws inputs, raises GradientMismatch with the smallest failing one
    verify_gradient(focal, focal_grad, nst.loss_inputs("multilabel", wrt="Z"))

    # 2. as a decorator: the test returns (fun, grad)
    @verify_gradient(inputs=nst.loss_inputs("multilabel", wrt="Z"))
    def test_focal():
        return focal, focal_grad

    # 3. inside your own @given test: pass one concrete input instead of a strategy
    @given(nst.loss_inputs("multilabel", wrt="Z"))
    def test_focal(xy):
        verify_gradient(focal, focal_grad, xy)
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy

from .check import GradientReport, check_gradient
from .errors import GradientMismatch, InvalidArgument

__all__ = ["VerificationResult", "verify_gradient"]


@dataclass
class VerificationResult:
    """What :func:`verify_gradient` saw: examples checked, and the inconclusive ones."""

    examples: int
    seed: int | None
    inconclusive: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.examples - len(self.inconclusive)

    def __str__(self) -> str:
        text = (
            f"verify_gradient: {self.examples} examples, {self.passed} passed, "
            f"{len(self.inconclusive)} inconclusive (seed {self.seed})"
        )
        return "\n".join([text, *("  inconclusive: " + s for s in self.inconclusive[:5])])


def describe_input(x: Any, args: tuple[Any, ...]) -> str:
    """The shape and values of a drawn input, as printed in a failure."""
    with np.printoptions(precision=6, threshold=60, linewidth=96):
        parts = [f"x = {np.asarray(x)!r}  (shape {np.shape(x)})"]
        for k, a in enumerate(args):
            if isinstance(a, np.ndarray):
                parts.append(f"args[{k}] = {a!r}")
    return "\n".join(parts)


def _split(example: Any) -> tuple[Any, tuple[Any, ...]]:
    if isinstance(example, tuple) and example:
        return example[0], tuple(example[1:])
    return example, ()


def _check_one(
    fun: Callable[..., Any], grad: Callable[..., Any], example: Any, options: dict[str, Any]
) -> GradientReport:
    x, args = _split(example)
    report = check_gradient(fun, grad, x, *args, **options)
    if report.status == "fail":
        raise GradientMismatch(f"{report}\n\nfailing input:\n{describe_input(x, args)}", report)
    return report


def verify_gradient(
    fun: Callable[..., Any] | None = None,
    grad: Callable[..., Any] | None = None,
    inputs: Any = None,
    *,
    max_examples: int = 100,
    seed: int | None = None,
    **options: Any,
) -> Any:
    """Check ``grad`` against finite differences of ``fun`` on inputs drawn from ``inputs``.

    Args:
        fun: the loss, ``fun(x, *args)``.
        grad: its claimed gradient, ``grad(x, *args)``.
        inputs: a hypothesis strategy of ``x`` or of tuples ``(x, *args)`` (e.g.
            :func:`nnderiv.strategies.loss_inputs`); or one concrete input (inside your own
            ``@given`` test).
        max_examples: how many inputs to draw.
        seed: the hypothesis seed; a random one is chosen (and reported) when None.
        **options: passed to :func:`check_gradient` (``method``, ``strategy``, ``rtol``, …).

    Returns a :class:`VerificationResult`; raises :class:`GradientMismatch` with the smallest
    failing input, its report and the seed that reproduces it. Inconclusive examples are
    counted and listed, not failed. With ``fun`` and ``grad`` omitted it returns a decorator
    for a test function that returns ``(fun, grad)``.
    """
    if fun is None and grad is None:
        return _decorator(inputs, max_examples, seed, options)
    if fun is None or grad is None or not callable(fun) or not callable(grad):
        raise InvalidArgument(
            f"Expected fun and grad to be callables but got fun={fun!r}, grad={grad!r}"
        )
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise InvalidArgument(f"Expected max_examples >= 1 but got max_examples={max_examples!r}")
    if inputs is None:
        raise InvalidArgument("Expected inputs: a hypothesis strategy or one concrete input")
    if not isinstance(inputs, SearchStrategy):
        if isinstance(inputs, (str, bytes)) or not (
            isinstance(inputs, (tuple, np.ndarray, list)) or hasattr(inputs, "__array__")
        ):
            raise InvalidArgument(
                "Expected inputs to be a hypothesis strategy (e.g. nnderiv.strategies."
                "loss_inputs(...)) or one example x or (x, *args) but got "
                f"{inputs!r} (type={type(inputs).__name__})"
            )
        report = _check_one(fun, grad, inputs, options)
        _note_inconclusive(report)
        return VerificationResult(
            1, None, [report.reason] if report.status == "inconclusive" else []
        )
    used_seed = random.randrange(2**32) if seed is None else int(seed)
    result = VerificationResult(0, used_seed)

    @hypothesis_seed(used_seed)
    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(inputs)
    def property_test(example: Any) -> None:
        report = _check_one(fun, grad, example, options)
        result.examples += 1
        if report.status == "inconclusive":
            x, _ = _split(example)
            result.inconclusive.append(f"shape {np.shape(x)}: {report.reason}")

    try:
        property_test()
    except GradientMismatch as exc:
        raise GradientMismatch(
            f"{exc}\n\nthe smallest failing input hypothesis found is above; reproduce with "
            f"verify_gradient(..., seed={used_seed})",
            exc.report,
        ) from None
    return result


def _note_inconclusive(report: GradientReport) -> None:
    if report.status != "inconclusive":
        return
    from hypothesis import event
    from hypothesis.control import currently_in_test_context

    if currently_in_test_context():
        event("nnderiv: inconclusive")


def _decorator(
    inputs: Any, max_examples: int, seed: int | None, options: dict[str, Any]
) -> Callable[[Callable[[], tuple[Any, Any]]], Callable[[], None]]:
    if not isinstance(inputs, SearchStrategy):
        raise InvalidArgument(
            f"Expected inputs to be a hypothesis strategy for the decorator form but got {inputs!r}"
        )

    def wrap(make: Callable[[], tuple[Any, Any]]) -> Callable[[], None]:
        @functools.wraps(make)
        def test() -> None:  # a test returns None (pytest warns otherwise)
            pair = make()
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise InvalidArgument(
                    f"Expected {make.__name__}() to return (fun, grad) but got {pair!r}"
                )
            verify_gradient(
                pair[0], pair[1], inputs, max_examples=max_examples, seed=seed, **options
            )

        return test

    return wrap
