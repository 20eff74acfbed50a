"""check_gradient: the catalogue of correct and buggy gradients, sensitivity, fallbacks,
reports and bad input."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest
from catalogue import Case, bce_logits, buggy_cases, correct_cases, float32_loss

from nnderiv import (
    GradientMismatch,
    InconclusiveWarning,
    InvalidArgument,
    ProbeError,
    assert_gradient,
    check_gradient,
)
from nnderiv.check import Engine, FallbackReason
from nnderiv.formulas import sigmoid

CORRECT = correct_cases()
BUGGY = buggy_cases()


@pytest.mark.parametrize("case", CORRECT, ids=[c.name for c in CORRECT])
def test_correct_gradients_at_hard_points_never_fail(case: Case) -> None:
    report = check_gradient(case.fun, case.grad, case.x, *case.args)
    assert report.status != "fail", str(report)
    if "float32" in case.tags:
        return
    if report.status == "inconclusive" and report.unresolved:
        # entries the loss cannot resolve on their own scale (saturated probabilities through
        # a loss that refuses complex input): undecided by default; decided once entries below
        # 1e-10 of the largest are declared negligible
        tiny = check_gradient(case.fun, case.grad, case.x, *case.args, negligible=1e-10)
        assert tiny.status == "pass" and tiny.negligible == report.unresolved, str(tiny)
        return
    assert report.status == "pass", str(report)  # everything else is decided outright


@pytest.mark.parametrize("case", BUGGY, ids=[c.name for c in BUGGY])
def test_buggy_gradients_fail_with_the_right_diagnosis(case: Case) -> None:
    report = check_gradient(case.fun, case.grad, case.x, *case.args)
    assert report.status == "fail", str(report)
    assert not report
    assert case.diagnosis in report.diagnosis, report.diagnosis
    if case.index is not None:
        assert report.worst_index == case.index
    assert report.worst_index is not None
    assert report.entries[0].verdict == "disagree"


def test_catalogue_is_large_enough() -> None:
    assert len(BUGGY) >= 15
    assert len({c.diagnosis for c in BUGGY}) >= 10


# --- sensitivity -------------------------------------------------------------------------------


def _large(rel: float, index: tuple[int, int], shape: tuple[int, int] = (10, 1000)) -> Any:
    rng = np.random.default_rng(5)
    Z = rng.normal(scale=3, size=shape)
    Y = (rng.uniform(size=shape) > 0.5) * 1.0

    def grad(z: Any, y: Any) -> Any:
        g = (sigmoid(z) - y) / z.shape[1]
        g[index] *= 1 + rel
        return g

    return Z, Y, grad


def test_one_entry_off_by_1e_minus_6_among_10000_is_found_by_complex_step() -> None:
    Z, Y, grad = _large(1e-6, (8, 901))
    report = check_gradient(bce_logits, grad, Z, Y)
    assert report.status == "fail"
    assert report.worst_index == (8, 901)
    assert report.engine is Engine.COMPLEX and report.fallback is None
    assert report.evaluations <= 100


@pytest.mark.parametrize("method", ["auto", "complex", "central"])
@pytest.mark.parametrize("strategy", ["entrywise", "probes"])
def test_a_1_percent_error_in_one_entry_is_caught_by_every_method(
    method: str, strategy: str
) -> None:
    Z, Y, grad = _large(1e-2, (2, 33), shape=(4, 60))
    report = check_gradient(bce_logits, grad, Z, Y, method=method, strategy=strategy)
    assert report.status == "fail"
    assert report.worst_index == (2, 33)
    assert "1 " in report.diagnosis


def test_the_unperturbed_large_gradient_passes_in_few_evaluations() -> None:
    Z, Y, grad = _large(0.0, (0, 0))
    report = check_gradient(bce_logits, grad, Z, Y)
    assert report.status == "pass"
    assert report.evaluations <= 20


# --- engines and fallbacks ---------------------------------------------------------------------


def test_abs_in_the_loss_makes_complex_step_fall_back_and_says_why() -> None:
    case = next(c for c in CORRECT if c.name.startswith("abs inside"))
    report = check_gradient(case.fun, case.grad, case.x, *case.args)
    assert report.status == "pass"
    assert report.engine is Engine.CENTRAL
    assert report.fallback is not None
    assert report.fallback.reason is FallbackReason.DISAGREED


def test_a_cast_that_drops_the_imaginary_part_is_detected() -> None:
    def astype_loss(z: Any) -> float:
        return float(np.sum(z.astype(np.float64) ** 2))  # ComplexWarning on complex input

    report = check_gradient(astype_loss, lambda z: 2 * z, np.array([0.5, -1.0]))
    assert report.status == "pass"
    assert report.fallback is not None and report.fallback.reason is FallbackReason.CAST
    # np.asarray(z, np.float32) drops it silently: the cross-check catches that instead
    case = next(c for c in CORRECT if "float32" in c.tags)
    report = check_gradient(case.fun, case.grad, case.x, *case.args)
    assert report.engine is Engine.CENTRAL and report.fallback is not None


def test_type_error_on_complex_input_falls_back() -> None:
    def loss(x: Any) -> Any:
        return np.sum(np.logaddexp(0.0, x))  # TypeError on complex

    report = check_gradient(loss, lambda x: sigmoid(x[None, :])[0], np.array([0.3, -2.0, 5.0]))
    assert report.status == "pass"
    assert report.fallback is not None and report.fallback.reason is FallbackReason.RAISED
    assert "TypeError" in str(report)


def test_forcing_complex_step_on_code_that_breaks_it_is_an_error() -> None:
    case = next(c for c in CORRECT if c.name.startswith("abs inside"))
    with pytest.raises(InvalidArgument, match="method='complex' but"):
        check_gradient(case.fun, case.grad, case.x, *case.args, method="complex")


def test_a_kink_with_a_claimed_value_outside_the_one_sided_slopes_fails() -> None:
    x = np.array([0.0, 1.0])
    report = check_gradient(
        lambda v: float(np.sum(np.maximum(v, 0.0))), lambda v: np.array([2.0, 1.0]), x
    )
    assert report.status == "fail"
    assert report.worst_index == (0,)
    assert "outside the one-sided slopes" in report.entries[0].note


def test_a_float32_loss_never_fails_a_correct_gradient() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        Z = rng.normal(scale=4, size=(6, 40))
        Y = (rng.uniform(size=Z.shape) > 0.5) * 1.0
        grad = lambda z, y: ((sigmoid(z) - y) / z.shape[1]).astype(np.float32)  # noqa: E731
        report = check_gradient(float32_loss, grad, Z, Y)
        assert report.status != "fail", str(report)


def test_a_float32_loss_still_catches_a_1_percent_error() -> None:
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(3, 8))
    Y = (rng.uniform(size=Z.shape) > 0.5) * 1.0

    def grad(z: Any, y: Any) -> Any:
        g = ((sigmoid(z) - y) / z.shape[1]).astype(np.float32)
        g[1, 4] *= 1.01
        return g

    report = check_gradient(float32_loss, grad, Z, Y)
    assert report.status == "fail" and report.worst_index == (1, 4)


def test_rounding_noise_inside_the_loss_is_not_a_false_alarm() -> None:
    # (1e8 + s) − 1e8 rounds s to multiples of 1.5e-8: noise far above ε·|f|
    def loss(x: Any) -> float:
        return float((1e8 + np.sum(x**2)) - 1e8)

    for method in ("auto", "central"):
        report = check_gradient(loss, lambda x: 2 * x, np.array([0.3, -0.7, 1.1]), method=method)
        assert report.status != "fail", str(report)


# --- reports -----------------------------------------------------------------------------------


def test_report_lines_up_claimed_against_numeric() -> None:
    case = next(c for c in BUGGY if c.name == "sign flip")
    report = check_gradient(case.fun, case.grad, case.x, *case.args, seed=3)
    text = str(report)
    assert text.splitlines()[0].endswith("FAIL")
    header = next(ln for ln in text.splitlines() if ln.strip().startswith("index"))
    assert header.index("claimed") < header.index("numeric") < header.index("allowed")
    assert "diagnosis: a sign flip" in text
    assert report.seed == 3
    e = report.entries[0]
    assert e.claimed == pytest.approx(-e.numeric, rel=1e-6)


def test_assert_gradient_raises_with_the_report_and_returns_on_pass() -> None:
    case = next(c for c in BUGGY if c.name == "missing 1/m")
    with pytest.raises(GradientMismatch) as info:
        assert_gradient(case.fun, case.grad, case.x, *case.args)
    assert isinstance(info.value, AssertionError)
    assert info.value.report.status == "fail"
    assert "missing 1/m" in str(info.value)
    good = CORRECT[0]
    assert assert_gradient(good.fun, good.grad, good.x, *good.args).status == "pass"


def test_assert_gradient_warns_on_inconclusive_and_raises_when_strict() -> None:
    # a loss so noisy that nothing can be decided: (1e13 + s) − 1e13 rounds s to 2e-3
    def noisy(x: Any) -> float:
        return float((1e13 + np.sum(x**2)) - 1e13)

    x = np.array([0.2, 0.4])
    report = check_gradient(noisy, lambda v: 2 * v, x)
    assert report.status == "inconclusive", str(report)
    assert "too large to decide" in report.reason
    with pytest.warns(InconclusiveWarning):
        assert_gradient(noisy, lambda v: 2 * v, x)
    with pytest.raises(GradientMismatch):
        assert_gradient(noisy, lambda v: 2 * v, x, strict=True)


# --- bad input ---------------------------------------------------------------------------------


def _boom(x: Any) -> float:
    if x[0] != 0.5:
        raise RuntimeError("fun only works at 0.5")
    return 1.0


BAD = [
    (
        "non-scalar loss",
        lambda x: x * 2,
        lambda x: x,
        [1.0, 2.0],
        InvalidArgument,
        "to return a scalar but got an array of shape (2,)",
    ),
    (
        "non-finite loss at x",
        lambda x: float("nan"),
        lambda x: x,
        [1.0],
        InvalidArgument,
        "to be finite at x but got nan",
    ),
    (
        "grad of the wrong shape",
        lambda x: float(np.sum(x)),
        lambda x: np.ones(3),
        np.ones((2, 2)),
        InvalidArgument,
        "shape of x (2, 2) but got shape (3,)",
    ),
    (
        "grad transposed",
        lambda x: float(np.sum(x)),
        lambda x: np.ones((3, 2)),
        np.ones((2, 3)),
        InvalidArgument,
        "the transpose of x's shape",
    ),
    (
        "non-finite grad",
        lambda x: float(np.sum(x)),
        lambda x: np.array([1.0, np.inf]),
        [1.0, 2.0],
        InvalidArgument,
        "finite values in grad but got grad[1]=inf",
    ),
    (
        "complex x",
        lambda x: 0.0,
        lambda x: x,
        np.array([1j]),
        InvalidArgument,
        "x.dtype=complex128",
    ),
    ("empty x", lambda x: 0.0, lambda x: x, np.zeros(0), InvalidArgument, "at least one entry"),
    ("nan in x", lambda x: 0.0, lambda x: x, [np.nan], InvalidArgument, "finite values in x"),
    (
        "fun raising at x",
        lambda x: 1 / 0,
        lambda x: x,
        [1.0],
        ProbeError,
        "raised when called at x itself (before any finite-difference step): ZeroDivisionError",
    ),
    (
        "fun raising at every step",
        _boom,
        lambda x: np.zeros(1),
        [0.5],
        ProbeError,
        "fun failed at every step",
    ),
    ("bad method", lambda x: 0.0, lambda x: x, [1.0], InvalidArgument, "method='fast'"),
]


@pytest.mark.parametrize(
    ("case", "fun", "grad", "x", "exc", "message"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_input_is_a_clear_error_never_a_silent_pass(
    case: str, fun: Any, grad: Any, x: Any, exc: type[Exception], message: str
) -> None:
    kwargs = {"method": "fast"} if case == "bad method" else {}
    with pytest.raises(exc, match=re.escape(message)):
        check_gradient(fun, grad, x, **kwargs)


def test_integer_x_is_promoted() -> None:
    report = check_gradient(lambda x: float(np.sum(x**2)), lambda x: 2 * x, [1, 2, 3])
    assert report.status == "pass"


def test_probe_error_names_the_probe_and_step() -> None:
    with pytest.raises(ProbeError) as info:
        check_gradient(_boom, lambda x: np.zeros(1), [0.5], method="central")
    text = str(info.value)
    assert "entry (0,)" in text and "RuntimeError: fun only works at 0.5" in text
    assert isinstance(info.value.__cause__, RuntimeError)


def test_no_warnings_leak_from_probing() -> None:
    case = CORRECT[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_gradient(case.fun, case.grad, case.x, *case.args)


# --- regressions from a new-user review ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fun", "grad", "x"),
    [
        (lambda z: np.sum(z**2) - 2.0, lambda z: 10 * z, np.array([[1.0, -1.0]])),  # f(x) = 0
        (lambda z: np.sum(z), lambda z: 3 + 0 * z, np.array([[1.0, -1.0]])),
        (lambda z: np.sum(np.maximum(z, 0)), lambda z: 5 + 0 * z, np.zeros((2, 3))),
        (lambda z: np.sum(z**2), lambda z: 3 * z + 1, np.zeros((2, 2))),  # x = 0, f = 0
    ],
    ids=["loss 0 at x", "sum to 0", "relu at 0 with loss 0", "x = 0"],
)
@pytest.mark.parametrize("method", ["auto", "central"])
def test_a_wrong_gradient_fails_when_the_loss_is_zero_at_x(
    fun: Any, grad: Any, x: Any, method: str
) -> None:
    report = check_gradient(fun, grad, x, method=method)
    assert report.status == "fail", str(report)
    assert all(e.bound < 1.0 + abs(e.claimed) + abs(e.numeric) for e in report.entries)


def test_no_pattern_is_named_at_kinks_or_degenerate_points() -> None:
    relu = lambda z: np.sum(np.maximum(z, 0))  # noqa: E731
    report = check_gradient(relu, lambda z: 5 + 0 * z, np.zeros((2, 3)), method="central")
    assert "σ'" not in report.diagnosis and "softmax" not in report.diagnosis
    assert "outside the one-sided slopes" in report.diagnosis

    def hinge(z: Any, y: Any) -> float:  # multiclass hinge, no softmax anywhere
        correct = np.sum(z * y, axis=0, keepdims=True)
        return float(np.sum(np.maximum(0.0, 1.0 + z - correct) * (1 - y)) / z.shape[1])

    def hinge_grad_wrong(z: Any, y: Any) -> Any:
        return np.ones_like(z) / z.shape[1]

    report = check_gradient(hinge, hinge_grad_wrong, np.zeros((2, 1)), np.array([[1.0], [0.0]]))
    assert report.status == "fail"
    assert "softmax" not in report.diagnosis


def test_a_loss_returning_a_string_is_bad_input() -> None:
    with pytest.raises(InvalidArgument, match="to return a real number but got '1'"):
        check_gradient(lambda x: "1", lambda x: x, [1.0])


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_bad_seed(seed: Any) -> None:
    with pytest.raises(InvalidArgument, match="seed to be an integer >= 0"):
        check_gradient(lambda x: float(np.sum(x)), np.ones_like, [1.0], seed=seed)
