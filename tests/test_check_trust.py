"""Issue 8, "never a wrong verdict": each example of the issue as a regression test, and for
each safeguard a planted defect that shows the test can fail without it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from catalogue import (
    _lasso_grad_no_l1,
    _naive_bce_grad,
    _naive_focal_grad,
    _sparse_lasso_grad,
    f32_bce_logits,
    lasso,
    naive_bce,
    naive_focal,
    sparse_lasso,
)

import nnderiv.check.api as api
from nnderiv import InvalidArgument, check_gradient
from nnderiv.check import Engine, FallbackReason, Verdict
from nnderiv.check.confirm import Confirmation
from nnderiv.formulas import binary, sigmoid

# --- 1. complex step is never the only witness of a pass --------------------------------------


def _lasso_point() -> tuple[Any, tuple[Any, ...]]:
    rng = np.random.default_rng(1)
    w = rng.normal(size=30)
    w[rng.uniform(size=30) < 0.5] = 0.0
    return w, (rng.normal(size=(20, 30)), rng.normal(size=20), 0.3)


def test_a_gradient_missing_the_l1_term_fails_at_exact_zeros() -> None:
    w, args = _lasso_point()
    report = check_gradient(lasso, _lasso_grad_no_l1, w, *args)
    assert report.status == "fail", str(report)
    assert report.engine is Engine.CENTRAL
    assert report.fallback is not None and report.fallback.reason is FallbackReason.DISAGREED


def test_without_the_real_arithmetic_confirmation_that_gradient_would_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The planted defect: complex step trusted unconfirmed agrees with the buggy gradient."""
    monkeypatch.setattr(api, "confirm_complex", lambda ctx, rng: Confirmation(None, "none"))
    w, args = _lasso_point()
    assert check_gradient(lasso, _lasso_grad_no_l1, w, *args).status == "pass"


def test_complex_step_that_no_clean_probe_can_confirm_is_abandoned() -> None:
    # every entry sits on the kink of |x|: every real-arithmetic probe crosses it
    report = check_gradient(lambda v: float(np.sum(np.abs(v))), np.zeros_like, np.zeros(5))
    assert report.status == "pass", str(report)
    assert report.fallback is not None
    assert report.fallback.reason is FallbackReason.UNCONFIRMED
    assert report.engine is Engine.CENTRAL
    assert len(report.kinks) == 5


# --- 2. kinked large inputs never pass from a few spot checks ----------------------------------


def _big_lasso() -> tuple[Any, Any]:
    rng = np.random.default_rng(2)
    w = rng.normal(size=10_000)
    w[rng.uniform(size=10_000) < 0.8] = 0.0
    return w, rng.normal(size=10_000)


def test_a_large_lasso_at_8000_kinks_is_inconclusive_not_passed() -> None:
    w, c = _big_lasso()
    report = check_gradient(sparse_lasso, _sparse_lasso_grad, w, c, 0.1)
    assert report.status == "inconclusive", str(report)
    assert report.unchecked == int(np.sum(w == 0))
    assert "kinks" in report.reason


def test_a_zero_weight_claimed_outside_its_subdifferential_is_not_passed() -> None:
    w, c = _big_lasso()
    k = int(np.flatnonzero(w == 0)[3])

    def grad(v: Any, c: Any, lam: float) -> Any:
        g = _sparse_lasso_grad(v, c, lam)
        g[k] = (v - c)[k] + 3 * lam * np.sign((v - c)[k])  # beyond the ±λ of |w_k| at 0
        return g

    assert check_gradient(sparse_lasso, grad, w, c, 0.1).status != "pass"
    small = np.concatenate([w[:200], [0.0]])
    cs = np.concatenate([c[:200], [0.5]])

    def small_grad(v: Any, c: Any, lam: float) -> Any:
        g = _sparse_lasso_grad(v, c, lam)
        g[-1] = -0.5 + 3 * lam  # the subdifferential at 0 is −0.5 + [−λ, λ]
        return g

    report = check_gradient(sparse_lasso, small_grad, small, cs, 0.1)
    assert report.status == "fail" and report.worst_index == (200,)


def test_a_wrong_entry_off_the_kinks_of_a_large_lasso_is_found() -> None:
    w, c = _big_lasso()
    k = int(np.flatnonzero(w)[7])

    def grad(v: Any, c: Any, lam: float) -> Any:
        g = _sparse_lasso_grad(v, c, lam)
        g[k] *= 1.1
        return g

    report = check_gradient(sparse_lasso, grad, w, c, 0.1)
    assert report.status == "fail" and report.worst_index == (k,)


# --- 3. naive but correct code passes; the report says how many digits the loss keeps ----------


@pytest.mark.parametrize("z", [15.0, 25.0])
def test_bce_written_with_log_1_minus_sigmoid_passes_at_large_logits(z: float) -> None:
    x = np.array([z, 1.0, -2.0])
    y = np.array([0.0, 1.0, 0.0])
    report = check_gradient(naive_bce, _naive_bce_grad, x, y)
    assert report.status == "pass", str(report)
    assert report.loss_digits is not None and 4 < report.loss_digits < 15
    assert "keeps about" in str(report)
    bad = check_gradient(naive_bce, lambda v, t: _naive_bce_grad(v, t) * 1.001, x, y)
    assert bad.status == "fail", str(bad)


def test_the_common_focal_loss_passes_at_z_11() -> None:
    report = check_gradient(
        naive_focal, _naive_focal_grad, np.array([11.0, -3.0, 0.5]), np.array([0.0, 1.0, 1.0])
    )
    assert report.status == "pass", str(report)


def test_a_clean_loss_keeps_complex_steps_full_precision() -> None:
    """No cancellation in the loss: a 1e-9 relative error in one entry still fails."""
    rng = np.random.default_rng(3)
    Z, Y = rng.normal(size=(3, 4)), (rng.uniform(size=(3, 4)) > 0.5) * 1.0

    def bce(z: Any, y: Any) -> Any:
        return np.sum(y * np.log1p(np.exp(-z)) + (1 - y) * np.log1p(np.exp(z))) / z.shape[1]

    def grad(z: Any, y: Any) -> Any:
        g = (sigmoid(z) - y) / z.shape[1]
        g[1, 2] *= 1 + 1e-9
        return g

    report = check_gradient(bce, grad, Z, Y)
    assert report.status == "fail" and report.worst_index == (1, 2)
    assert report.engine is Engine.COMPLEX


# --- 4. float32 ---------------------------------------------------------------------------------


def _f32_point() -> tuple[Any, Any]:
    rng = np.random.default_rng(4)
    return rng.normal(scale=2, size=(4, 8)), (rng.uniform(size=(4, 8)) > 0.5) * 1.0


def _bce_grad(z: Any, y: Any) -> Any:
    return (sigmoid(z) - y) / z.shape[1]


def test_a_float32_loss_is_measured_as_float32_and_never_fails_a_correct_gradient() -> None:
    Z, Y = _f32_point()
    report = check_gradient(f32_bce_logits, _bce_grad, Z, Y)
    assert report.precision == "float32"
    assert report.status != "fail", str(report)


@pytest.mark.parametrize("rel", [3e-3, 1e-2, 5e-2])
def test_a_float32_loss_catches_errors_of_0_3_percent_everywhere(rel: float) -> None:
    Z, Y = _f32_point()
    report = check_gradient(f32_bce_logits, lambda z, y: _bce_grad(z, y) * (1 + rel), Z, Y)
    assert report.status == "fail", str(report)


@pytest.mark.parametrize("rel", [3e-3, 1e-2, 5e-2])
def test_a_float32_loss_never_passes_one_wrong_entry(rel: float) -> None:
    Z, Y = _f32_point()

    def grad(z: Any, y: Any) -> Any:
        g = _bce_grad(z, y)
        g[2, 5] *= 1 + rel
        return g

    report = check_gradient(f32_bce_logits, grad, Z, Y)
    assert report.status != "pass", str(report)
    if rel >= 1e-2:
        assert report.status == "fail" and report.worst_index == (2, 5)


def test_a_large_float32_loss_says_how_finely_it_resolved_single_entries() -> None:
    rng = np.random.default_rng(5)
    Z, Y = rng.normal(scale=3, size=(10, 1000)), (rng.uniform(size=(10, 1000)) > 0.5) * 1.0
    report = check_gradient(f32_bce_logits, _bce_grad, Z, Y)
    assert report.status != "fail"
    if report.status == "inconclusive" and report.unresolved:
        assert report.resolution > 1e-2
        assert "wider than 1% of themselves" in report.reason
    bad = check_gradient(f32_bce_logits, lambda z, y: _bce_grad(z, y) * 1.05, Z, Y)
    assert bad.status == "fail", str(bad)


def test_a_float16_loss_is_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidArgument, match="returns float16"):
        check_gradient(lambda v: np.sum(v.astype(np.float16) ** 2), lambda v: 2 * v, [0.3, 1.0])


# --- 5. domain edges ----------------------------------------------------------------------------


def test_probabilities_next_to_the_edges_pass_without_complex_step() -> None:
    report = check_gradient(
        binary.cost, binary.grad_A, np.array([[1 - 1e-6, 1e-6]]), np.array([[0.0, 1.0]])
    )
    assert report.status == "pass", str(report)
    assert report.precision == "float64"  # not taken for a float32 reader near the edge
    assert report.fallback is not None and report.fallback.reason is FallbackReason.RAISED


@pytest.mark.parametrize("margin", [1e-6, 1e-9])
def test_a_wrong_gradient_next_to_the_edges_still_fails(margin: float) -> None:
    A = np.array([[1 - margin, margin, 0.5]])
    Y = np.array([[0.0, 1.0, 1.0]])
    report = check_gradient(binary.cost, lambda a, y: binary.grad_A(a, y) * 1.01, A, Y)
    assert report.status == "fail", str(report)


def test_the_grad_A_example_that_made_make_test_flaky_is_decided() -> None:
    A = np.full((1, 9), 1e-6)
    Y = np.full((1, 9), 0.6680154852284831)
    report = check_gradient(binary.cost, binary.grad_A, A, Y)
    assert report.status == "pass", str(report)


# --- 6. every evaluation gets its own x, and every call is counted -----------------------------


def test_a_loss_that_shifts_its_input_in_place_is_checked_correctly() -> None:
    def centre(x: Any) -> Any:
        x -= 1.0
        return float(np.sum(x**2))

    x = np.array([0.5, 2.0, -1.0])
    before = x.copy()
    assert check_gradient(centre, lambda v: 2 * (v - 1.0), x).status == "pass"
    assert check_gradient(centre, lambda v: 2 * v, x).status == "fail"
    np.testing.assert_array_equal(x, before)  # the caller's x is untouched


@pytest.mark.parametrize(
    "fun",
    [
        lambda v: np.sum(np.log1p(np.exp(v))),  # complex step all the way
        lambda v: float(np.sum(np.abs(v) + v**2)),  # falls back: every call is counted
    ],
    ids=["complex", "fallback"],
)
def test_evaluations_count_every_call(fun: Any) -> None:
    calls = 0

    def counted(v: Any) -> Any:
        nonlocal calls
        calls += 1
        return fun(v)

    grad = lambda v: sigmoid(v[None, :])[0] if fun(np.zeros(1)) > 0.5 else np.sign(v) + 2 * v  # noqa: E731
    report = check_gradient(counted, grad, np.array([0.3, -1.2, 2.0]))
    assert report.evaluations == calls


def test_the_verdicts_are_typed() -> None:
    w, args = _lasso_point()
    report = check_gradient(lasso, _lasso_grad_no_l1, w, *args)
    assert all(isinstance(e.verdict, Verdict) for e in report.entries)
    assert report.entries[0].verdict is Verdict.DISAGREE


def _poisoning_loss(x: Any) -> float:
    """Computes its value, then overwrites its input with NaN: any array the checker passed
    in and used again afterwards would poison the check."""
    value = float(np.sum(np.sin(x) * x))
    x[...] = np.nan
    return value


def _poisoning_grad(x: Any) -> Any:
    return np.cos(x) * x + np.sin(x)


def test_an_input_overwritten_by_the_loss_is_never_used_again() -> None:
    x = np.array([0.3, -1.2, 2.0])
    assert check_gradient(_poisoning_loss, _poisoning_grad, x).status == "pass"
    assert check_gradient(_poisoning_loss, lambda v: 1.01 * _poisoning_grad(v), x).status == "fail"
    big = np.linspace(-2.0, 2.0, 1000)
    assert check_gradient(_poisoning_loss, _poisoning_grad, big).status == "pass"


def test_without_a_private_copy_the_overwritten_input_would_poison_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The planted defect: the checker's own x handed to fun without a copy."""
    from nnderiv.check.evaluate import Evaluator

    def shared(self: Evaluator, x: Any, *, fresh: bool = False) -> Any:
        self.evaluations += 1
        return self.fun(x, *self.args)

    monkeypatch.setattr(Evaluator, "raw", shared)
    x = np.array([0.3, -1.2, 2.0])
    try:
        status = check_gradient(_poisoning_loss, _poisoning_grad, x).status
    except Exception:  # NaN everywhere: refused, which is also not a pass
        status = "error"
    assert status != "pass"


# --- ties: a vector of one-sided slopes is not a subgradient entry by entry ----------------------


def test_full_weight_to_both_tied_maxima_fails_and_a_split_passes() -> None:
    x = np.array([1.0, 3.0, 3.0, -2.0])
    full = check_gradient(lambda v: float(np.max(v)), lambda v: (v == v.max()) * 1.0, x)
    assert full.status == "fail", str(full)
    assert "no subgradient jointly" in full.diagnosis
    split = check_gradient(
        lambda v: float(np.max(v)), lambda v: (v == v.max()) / np.sum(v == v.max()), x
    )
    assert split.status == "pass", str(split)


def test_without_the_joint_tie_probes_full_weight_would_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = np.array([1.0, 3.0, 3.0, -2.0])

    def run() -> str:
        return check_gradient(lambda v: float(np.max(v)), lambda v: (v == v.max()) * 1.0, x).status

    monkeypatch.setattr(api, "tie_groups", lambda x, limit: [])
    assert run() == "fail"  # the joint kink probes (issue 9) catch it alone
    monkeypatch.setattr(api, "joint_kink_probes", lambda ctx, rng, singles: [])
    assert run() == "pass"  # with neither, each entry alone lies between its slopes


# --- flat and coarse losses: an estimate that merely coincides with the claim is no proof ------


def test_a_zero_gradient_claimed_for_a_coarse_loss_is_not_passed() -> None:
    def coarse(x: Any) -> float:  # (1e15 + s) − 1e15 rounds s to multiples of 0.125
        return float((1e15 + np.sum(x**2)) - 1e15)

    report = check_gradient(coarse, np.zeros_like, np.array([0.3, -0.2]))
    assert report.status != "pass", str(report)


def test_a_dead_relu_has_a_zero_slope_and_a_wrong_claim_there_fails() -> None:
    relu = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    x = np.array([-0.3, -0.2])
    assert check_gradient(relu, np.zeros_like, x).status == "pass"
    assert check_gradient(relu, np.ones_like, x).status == "fail"


# --- found by `make soak`: the claimed gradient's own rounding -----------------------------------


def test_a_claimed_gradient_that_cancels_is_held_to_its_own_measured_rounding() -> None:
    """(A ⊙ 1 1ᵀY − Y)/m with labels summing to 3 and a ≈ 1 − 3e-6: 3a − 3 loses digits, so
    the claim differs from the (precise) numeric value by 1.3e-10 relative — its rounding."""
    from nnderiv.formulas import multiclass, softmax

    Z = np.array([[0.0], [-14.0], [-14.0], [-14.0], [-14.0]])
    Y = np.array([[3.0], [0.0], [0.0], [0.0], [0.0]])

    def claimed(z: Any, y: Any) -> Any:
        return multiclass.grad_Z_general(softmax(z), y)

    report = check_gradient(multiclass.cost_from_logits, claimed, Z, Y)
    assert report.status == "pass", str(report)
    wrong = check_gradient(multiclass.cost_from_logits, lambda z, y: claimed(z, y) * 1.0001, Z, Y)
    assert wrong.status == "fail", str(wrong)


def test_a_zero_gradient_at_a_stationary_point_with_a_mildly_noisy_loss_passes() -> None:
    """Found by `make soak`: equal logits and uniform labels, the gradient exactly 0, the loss
    (logsumexp at z ≈ −28) noisy at 30 ε|f|: zero at the loss's resolution is agreement."""
    from nnderiv.formulas import multiclass

    Z = np.full((7, 4), -28.39122678288355)
    Y = np.full((7, 4), 1 / 7)

    def claimed(z: Any, y: Any) -> Any:
        return multiclass.grad_Z_general(multiclass.activation(z), y)

    assert check_gradient(multiclass.cost_from_logits, claimed, Z, Y).status == "pass"
    wrong = lambda z, y: claimed(z, y) + 1e-6  # noqa: E731
    assert check_gradient(multiclass.cost_from_logits, wrong, Z, Y).status == "fail"


# --- found by the second blind set: a point just off a kink is differentiable -------------------


@pytest.mark.parametrize("claim", [0.0, 0.75])
def test_relu_just_off_its_kink_is_judged_by_its_one_slope(claim: float) -> None:
    x = np.array([1e-9, 0.7, -0.4])

    def loss(v: Any) -> float:
        return float(1.5 * np.sum(np.maximum(v, 0.0)))

    def grad(v: Any) -> Any:
        g = 1.5 * (v > 0)
        g[0] = claim  # the true derivative at 1e-9 is 1.5: x is not at the kink
        return g

    assert check_gradient(loss, grad, x).status == "fail"
    assert check_gradient(loss, lambda v: 1.5 * (v > 0), x).status == "pass"


def test_relu_just_below_its_kink_has_slope_zero() -> None:
    x = np.array([-1e-9, 0.7])
    loss = lambda v: float(1.5 * np.sum(np.maximum(v, 0.0)))  # noqa: E731
    assert check_gradient(loss, lambda v: np.array([1.5, 1.5]), x).status == "fail"
    assert check_gradient(loss, lambda v: np.array([0.0, 1.5]), x).status == "pass"
