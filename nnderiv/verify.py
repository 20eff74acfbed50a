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
import os
import random
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy

from .check import GradientReport, check_gradient
from .errors import GradientMismatch, InconclusiveWarning, InvalidArgument

__all__ = ["DEFAULT_MAX_INCONCLUSIVE", "VerificationResult", "verify_gradient"]


#: the share of inconclusive examples above which a verification warns (and fails if strict)
DEFAULT_MAX_INCONCLUSIVE = 0.1
#: checks spent at most on deleting rows and columns of a failing input
MAX_DELETION_CHECKS = 400

#: verifications that were mostly undecided, (where, result), outside a pytest session (in one,
#: they go to the session's list, which the plugin's terminal summary prints)
MOSTLY_UNDECIDED: list[tuple[str, VerificationResult]] = []


@dataclass
class VerificationResult:
    """What :func:`verify_gradient` saw: examples checked, and the inconclusive ones.

    Every example that was decided passed (a failing one raises). ``mostly_undecided`` is True
    when more than ``max_inconclusive`` of the examples were inconclusive: the verification then
    warns (:class:`InconclusiveWarning`), and fails with ``strict=True``."""

    examples: int
    seed: int | None
    inconclusive: list[str] = field(default_factory=list)
    max_inconclusive: float = DEFAULT_MAX_INCONCLUSIVE

    @property
    def decided(self) -> int:
        return self.examples - len(self.inconclusive)

    @property
    def passed(self) -> int:
        return self.decided

    @property
    def inconclusive_share(self) -> float:
        return len(self.inconclusive) / self.examples if self.examples else 0.0

    @property
    def mostly_undecided(self) -> bool:
        return self.inconclusive_share > self.max_inconclusive

    def __str__(self) -> str:
        text = (
            f"verify_gradient: {self.examples} examples, {self.decided} decided (all passed), "
            f"{len(self.inconclusive)} inconclusive ({self.inconclusive_share:.0%}; "
            f"more than {self.max_inconclusive:.0%} warns) — seed {self.seed}"
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
    max_inconclusive: float | None = None,
    strict: bool = False,
    **options: Any,
) -> Any:
    """Check ``grad`` against finite differences of ``fun`` on inputs drawn from ``inputs``.

    Args:
        fun: the loss, ``fun(x, *args)``; it receives ``x`` and the arguments in the dtype
            they were drawn in (float32 inputs run the float32 code path).
        grad: its claimed gradient, ``grad(x, *args)``.
        inputs: a hypothesis strategy of ``x`` or of tuples ``(x, *args)`` (e.g.
            :func:`nnderiv.strategies.loss_inputs`); or one concrete input (inside your own
            ``@given`` test).
        max_examples: how many inputs to draw.
        seed: the hypothesis seed. ``None``: the pytest session's ``--nnderiv-seed`` when the
            plugin is active, else a random one; either way it is printed with any failure.
        max_inconclusive: the share of inconclusive examples above which the run warns
            (:class:`InconclusiveWarning`; default 0.1, or the session's
            ``--nnderiv-max-inconclusive``).
        strict: a run above that share fails (:class:`GradientMismatch`) instead of warning.
        **options: passed to :func:`check_gradient` (``method``, ``strategy``, ``rtol``, …).

    Returns a :class:`VerificationResult`; raises :class:`GradientMismatch` with the smallest
    failing input, its report and the seed that reproduces it. hypothesis shrinks a failing
    input; then rows and columns of ``x`` and of every argument of its shape are deleted while
    the check still fails (columns of labels on the simplex are re-normalised), so a bug in
    the last row shrinks to two rows. A crash in ``fun`` or ``grad`` is re-raised with the
    seed and the input it crashed on. With ``fun`` and ``grad`` omitted it returns a decorator
    for a test function that returns ``(fun, grad)``.
    """
    if fun is None and grad is None:
        return _decorator(inputs, max_examples, seed, max_inconclusive, strict, options)
    if fun is None or grad is None or not callable(fun) or not callable(grad):
        raise InvalidArgument(
            f"Expected fun and grad to be callables but got fun={fun!r}, grad={grad!r}"
        )
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise InvalidArgument(f"Expected max_examples >= 1 but got max_examples={max_examples!r}")
    share = _share(max_inconclusive)
    if not isinstance(strict, bool):
        raise InvalidArgument(f"Expected strict to be a bool but got strict={strict!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise InvalidArgument(f"Expected seed to be None or an integer but got seed={seed!r}")
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
            1, None, [report.reason] if report.status == "inconclusive" else [], share
        )
    used_seed = _resolve_seed(seed)
    result = VerificationResult(0, used_seed, max_inconclusive=share)
    last: list[Any] = [None]

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
        last[0] = example
        report = _check_one(fun, grad, example, options)
        result.examples += 1
        if report.status == "inconclusive":
            x, _ = _split(example)
            result.inconclusive.append(f"shape {np.shape(x)}: {report.reason}")

    try:
        property_test()
    except GradientMismatch as exc:
        message = str(exc)
        floor = getattr(inputs, "nnderiv_min_shape", (1, 1))
        minimal = _delete_rows_and_columns(fun, grad, last[0], options, floor)
        if minimal is not None:
            report, example = minimal
            x, args = _split(example)
            message = (
                f"{report}\n\nfailing input:\n{describe_input(x, args)}\n\n(hypothesis' "
                "smallest failing input, then rows and columns deleted while it still fails)"
            )
            exc = GradientMismatch(message, report)
        raise GradientMismatch(
            f"{message}\n\nreproduce with verify_gradient(..., seed={used_seed}) "
            f"(or pytest --nnderiv-seed={used_seed})",
            exc.report,
        ) from None
    except Exception as exc:  # a crash in fun or grad: say how to reproduce it
        if last[0] is not None:
            x, args = _split(last[0])
            exc.add_note(
                f"nnderiv: raised while verifying, on the input\n{describe_input(x, args)}\n"
                f"reproduce with verify_gradient(..., seed={used_seed}) "
                f"(or pytest --nnderiv-seed={used_seed})"
            )
        raise
    _judge_indecision(result, strict)
    return result


def _share(value: float | None) -> float:
    if value is None:
        return float(_session().get("max_inconclusive", DEFAULT_MAX_INCONCLUSIVE))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InvalidArgument(
            f"Expected max_inconclusive to be a fraction in [0, 1] but got "
            f"max_inconclusive={value!r}"
        )
    return float(value)


def _session() -> dict[str, Any]:
    """The pytest session's nnderiv options, when the plugin configured a session."""
    plugin = sys.modules.get("nnderiv.plugin")
    session = getattr(plugin, "SESSION", None)
    return dict(session) if isinstance(session, dict) else {}


def _resolve_seed(seed: int | None) -> int:
    if seed is not None:
        return int(seed)
    session_seed = _session().get("seed")
    if isinstance(session_seed, int):
        return session_seed
    return random.randrange(2**32)


def _judge_indecision(result: VerificationResult, strict: bool) -> None:
    if not result.mostly_undecided:
        return
    message = (
        f"nnderiv: {len(result.inconclusive)} of {result.examples} examples were inconclusive "
        f"({result.inconclusive_share:.0%}, more than {result.max_inconclusive:.0%}): most of "
        f"the inputs could not be decided (seed {result.seed})"
    )
    if result.inconclusive:
        message += f"; e.g. {result.inconclusive[0]}"
    if strict:
        raise GradientMismatch(message, None)
    where = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0] or "verify_gradient"
    plugin = sys.modules.get("nnderiv.plugin")
    log = getattr(plugin, "SESSION", {}).get("undecided")
    (log if isinstance(log, list) else MOSTLY_UNDECIDED).append((where, result))
    warnings.warn(message, InconclusiveWarning, stacklevel=3)


def _fails(
    fun: Callable[..., Any], grad: Callable[..., Any], example: Any, options: dict[str, Any]
) -> GradientReport | None:
    x, args = _split(example)
    try:
        report = check_gradient(fun, grad, x, *args, **options)
    except Exception:  # an input the loss does not accept: not a smaller failing one
        return None
    return report if report.status == "fail" else None


def _delete_rows_and_columns(
    fun: Callable[..., Any],
    grad: Callable[..., Any],
    example: Any,
    options: dict[str, Any],
    floor: tuple[int, int] = (1, 1),
) -> tuple[GradientReport, Any] | None:
    """The failing ``example`` with rows and columns deleted while the check still fails.

    Blocks of columns, then of rows, halving the block size (delta debugging); every argument
    of ``x``'s shape loses the same rows and columns, and an argument whose columns summed to
    1 (labels on the simplex) is re-normalised; no axis goes below ``floor`` (the strategy's
    smallest shape: a softmax keeps 2 rows). None when ``x`` is not a matrix or nothing could
    be deleted."""
    if example is None:
        return None
    x, args = _split(example)
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        return None
    current: tuple[Any, ...] = (x, *args)
    best = _fails(fun, grad, current if args else x, options)
    if best is None:
        return None
    budget = MAX_DELETION_CHECKS
    deleted = False
    progress = True
    while progress and budget > 0:
        progress = False
        for axis in (1, 0):
            block = current[0].shape[axis] // 2
            while block >= 1 and budget > 0:
                start = 0
                while start < current[0].shape[axis] and budget > 0:
                    keep = np.ones(current[0].shape[axis], dtype=bool)
                    keep[start : start + block] = False
                    if int(keep.sum()) < floor[0 if axis == 0 else 1]:  # the strategy's minimum
                        start += block
                        continue
                    candidate = _take(current, keep, axis)
                    budget -= 1
                    report = _fails(fun, grad, candidate if args else candidate[0], options)
                    if report is not None:
                        current, best, deleted, progress = candidate, report, True, True
                    else:
                        start += block
                block //= 2
    if not deleted:
        return None
    return best, (current if args else current[0])


def _take(arrays: tuple[Any, ...], keep: npt.NDArray[np.bool_], axis: int) -> tuple[Any, ...]:
    shape = arrays[0].shape
    out = []
    for k, arr in enumerate(arrays):
        if not (isinstance(arr, np.ndarray) and arr.shape == shape):
            out.append(arr)
            continue
        smaller = np.compress(keep, arr, axis=axis)
        if k > 0 and axis == 0 and _on_simplex(arr):
            smaller = _renormalised(smaller)
        out.append(smaller)
    return tuple(out)


def _on_simplex(arr: npt.NDArray[Any]) -> bool:
    if arr.shape[0] < 2 or arr.dtype.kind != "f" or bool(np.any(arr < 0)):
        return False
    tol = 16 * arr.shape[0] * float(np.finfo(arr.dtype).eps)
    return bool(np.all(np.abs(arr.sum(axis=0) - 1) <= tol))


def _renormalised(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    out = arr.astype(arr.dtype, copy=True)
    sums = out.sum(axis=0)
    empty = sums <= 0
    out[0, empty] = 1  # the label's row was deleted: the class becomes the first remaining
    sums = out.sum(axis=0)
    out /= sums
    return out


def _note_inconclusive(report: GradientReport) -> None:
    if report.status != "inconclusive":
        return
    from hypothesis import event
    from hypothesis.control import currently_in_test_context

    if currently_in_test_context():
        event("nnderiv: inconclusive")


def _decorator(
    inputs: Any,
    max_examples: int,
    seed: int | None,
    max_inconclusive: float | None,
    strict: bool,
    options: dict[str, Any],
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
                pair[0],
                pair[1],
                inputs,
                max_examples=max_examples,
                seed=seed,  # None: the session's --nnderiv-seed, resolved when the test runs
                max_inconclusive=max_inconclusive,
                strict=strict,
                **options,
            )

        return test

    return wrap
