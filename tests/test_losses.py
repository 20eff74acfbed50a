"""Losses as data (issue 13): define_loss, the ten new built-ins, derivation of any loss,
prove, verify_steps through the activation, stable vectorised results, one-registration
extensibility, the command line and the README's generated table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loss_labels import labels_for

from nnderiv import InvalidArgument, check_gradient, ops, verify_gradient
from nnderiv import strategies as nst
from nnderiv.cli import main
from nnderiv.formulas import ACTIVATIONS, LOSSES, define_activation, define_loss, loss
from nnderiv.symbolic import derive, prove, verify_steps
from nnderiv.symbolic.listing import markdown_table

ROOT = Path(__file__).resolve().parent.parent
NEW = [
    "mse",
    "mae",
    "huber",
    "weighted_binary",
    "focal",
    "label_smoothing",
    "hinge",
    "squared_hinge",
    "kl_div",
    "poisson_nll",
]


def test_the_ten_losses_are_registered_with_their_conventions() -> None:
    assert set(NEW) <= set(LOSSES)
    assert LOSSES["focal"].params == {"gamma": 2.0}
    assert LOSSES["huber"].params == {"delta": 1.0}
    assert LOSSES["label_smoothing"].params == {"eps": 0.1}
    assert LOSSES["weighted_binary"].params == {"pos_weight": 1.0}
    act = {name: LOSSES[name].activation.name for name in NEW}
    assert act == {
        "mse": "identity",
        "mae": "identity",
        "huber": "identity",
        "weighted_binary": "sigmoid",
        "focal": "sigmoid",
        "label_smoothing": "softmax",
        "hinge": "identity",
        "squared_hinge": "identity",
        "kl_div": "softmax",
        "poisson_nll": "exp",
    }


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("wrt", ["A", "Z"])
def test_every_loss_is_derived_and_proved(name: str, wrt: str) -> None:
    d = derive(name, wrt)
    assert d.proved, d.proof
    assert d.to_text() and d.to_latex() and d.to_markdown() and d.to_html()


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_to_numpy_from_logits_is_finite_at_800(name: str) -> None:
    L = LOSSES[name]
    n = 1 if L.single_row else 3
    big = 800.0 if L.activation.name != "exp" else 700.0  # e^z overflows beyond ≈ 709
    Z = np.array([[big, -big, 0.5, 30.0, -30.0, big - 0.5]] * n)
    Y = labels_for(L, Z.shape, np.random.default_rng(0))
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        got = derive(name, "Z").to_numpy(logits=True)(Z, Y)
        assert np.isfinite(L.cost_from_logits(Z, Y))
    assert np.all(np.isfinite(got))
    with np.errstate(all="ignore"):
        expected = L.grad_Z(L.activation(Z), Y)
    # grad_Z from A = g(Z) rounds 1 − a at saturated outputs: absolute agreement at the
    # rounding of the gradient's largest entries (the logits form is the more accurate one)
    atol = 64 * np.finfo(float).eps * float(np.max(np.abs(expected)))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=atol)


def test_hyper_parameters_are_numbers_in_numpy_and_symbols_in_derivations() -> None:
    focal3 = loss("focal", gamma=3.0)
    assert focal3.parameter_values() == {"gamma": 3.0}
    rng = np.random.default_rng(1)
    A, Y = rng.uniform(0.05, 0.95, (2, 5)), (rng.uniform(size=(2, 5)) > 0.5) * 1.0
    assert not np.allclose(focal3.grad_A(A, Y), LOSSES["focal"].grad_A(A, Y))
    d = derive(focal3, "A")
    assert "γ" in d.to_text()  # a symbol in the derivation
    np.testing.assert_allclose(d.to_numpy()(A, Y), focal3.grad_A(A, Y), rtol=1e-12)
    with pytest.raises(InvalidArgument, match="hyper-parameters of the focal loss"):
        loss("focal", alpha=0.25)
    with pytest.raises(InvalidArgument, match="a number"):
        loss("focal", gamma="two")


@pytest.mark.parametrize("name", NEW)
def test_bound_values_pass_the_numeric_witness(name: str) -> None:
    L = LOSSES[name]
    rng = np.random.default_rng(2)
    shape = (3, 5)
    Z = rng.normal(scale=2, size=shape)
    Y = labels_for(L, shape, rng)
    report = check_gradient(
        L.cost_from_logits, lambda z, y: L.grad_Z_general(L.activation(z), y), Z, Y
    )
    assert report.status == "pass", report


def test_prove_right_wrong_and_conditional_claims() -> None:
    assert prove("focal", "Z", lambda a, y, m, ysum, gamma: (a - y) / m).status == "disproved"
    right = prove(
        "huber",
        "A",
        lambda a, y, m, ysum, delta: ops.minimum(ops.maximum(a - y, -delta), delta) / m,
    )
    assert right.proved
    wrong = prove("hinge", "A", "-(2*y[j,i]-1)/m")
    assert wrong.status == "disproved" and "at " in wrong.detail  # a counterexample
    cond = prove("kl_div", "Z", "(a[j,i] - y[j,i])/m")
    assert cond.proved and "Σ_p y_pi = 1" in cond.condition
    assert prove("poisson_nll", "Z", lambda a, y, m, ysum: (a - y) / m).proved
    with pytest.raises(InvalidArgument, match="the name 'beta'"):
        prove("focal", "A", "beta*a[j,i]")


def test_verify_steps_covers_the_line_through_the_activation() -> None:
    r = verify_steps(
        "weighted_binary", {"z": "((1 + (pos_weight-1)*y[j,i])*a[j,i] - pos_weight*y[j,i])/m"}
    )
    assert r.ok and r.lines[-1].node == "z"
    r = verify_steps("weighted_binary", {"z": "(a[j,i] - y[j,i])/m"})  # only when w = 1
    assert r.lines[-1].status == "wrong"
    r = verify_steps("multiclass", {"z": "(a[j,i]-y[j,i])/m"})
    assert r.lines[-1].status == "correct" and "sums to 1" in r.lines[-1].message
    r = verify_steps("poisson_nll", {"u0": "(1 + y[j,i]/a[j,i])/m", "z": "(a[j,i] + y[j,i])/m"})
    assert [ln.status for ln in r.lines[-2:]] == ["wrong", "carried"]


def test_a_new_activation_and_a_loss_on_it_are_one_registration_each() -> None:
    """No other edit: formulas, strategies, derivation, proof and printout follow."""
    act = define_activation(
        "softsign_test",
        lambda z: z / (1 + ops.abs(z)),
        lambda a: (1 - ops.abs(a)) ** 2,
        domain="symmetric",
        title="softsign z/(1 + |z|)",
    )
    try:
        sq = define_loss("softsign_mse_test", lambda a, y: (a - y) ** 2 / 2, "softsign_test")
        rng = np.random.default_rng(3)
        Z, Y = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
        A = sq.activation(Z)
        np.testing.assert_allclose(A, Z / (1 + np.abs(Z)))
        np.testing.assert_allclose(sq.grad_Z(A, Y), (A - Y) / 4 / (1 + np.abs(Z)) ** 2)
        d = derive(sq, "Z")
        assert d.proved
        assert "softsign_test" in d.to_text() and d.to_html().count("<math") > 5
        result = verify_gradient(
            sq.cost_from_logits,
            lambda z, y: sq.grad_Z(sq.activation(z), y),
            nst.loss_inputs(sq, wrt="Z", scale=5.0),
            max_examples=20,
            seed=0,
        )
        assert result.decided > 0
        wrong = define_activation(
            "softsign_wrong_test",
            lambda z: z / (1 + ops.abs(z)),
            lambda a: 1 - ops.abs(a),
            domain="symmetric",
            register=False,
        )
        bad = define_loss("bad_test", lambda a, y: (a - y) ** 2 / 2, wrong)
        with pytest.raises(AssertionError):
            verify_gradient(
                bad.cost_from_logits,
                lambda z, y: bad.grad_Z(bad.activation(z), y),
                nst.loss_inputs(bad, wrt="Z", scale=5.0),
                max_examples=20,
                seed=0,
            )
        assert act is ACTIVATIONS["softsign_test"]
    finally:
        del ACTIVATIONS["softsign_test"]


def test_define_loss_refuses_bad_definitions() -> None:
    with pytest.raises(InvalidArgument, match="identifier"):
        define_loss("my loss", lambda a, y: a, "identity")
    with pytest.raises(InvalidArgument, match="activation among"):
        define_loss("x_test", lambda a, y: a, "relu6")
    with pytest.raises(InvalidArgument, match="accept the hyper-parameters"):
        define_loss("x_test", lambda a, y: a, "identity", params={"gamma": 2.0})
    with pytest.raises(InvalidArgument, match="built-in"):
        define_loss("focal", lambda a, y: a, "sigmoid", register=True)
    with pytest.raises(InvalidArgument, match="labels among"):
        define_loss("x_test", lambda a, y: a, "identity", labels="ordinal")  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(gamma=st.floats(0.5, 4.0), eps=st.floats(0.01, 0.5))
def test_closed_forms_hold_for_any_hyper_parameter(gamma: float, eps: float) -> None:
    rng = np.random.default_rng(4)
    Z = rng.normal(scale=2, size=(3, 4))
    Y = np.eye(3)[:, rng.integers(0, 3, 4)]
    for L in (loss("focal", gamma=gamma), loss("label_smoothing", eps=eps)):
        A = L.activation(Z)
        np.testing.assert_allclose(
            L.grad_Z(A, Y), L.activation.backward(L.grad_A(A, Y), A), rtol=1e-9, atol=1e-14
        )


def test_the_own_loss_example_passes_its_three_witnesses(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "own_loss.py", "--html", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT / "examples",
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "claimed pinball_grad: proved" in out.stdout
    assert "claimed pinball_grad_wrong: disproved" in out.stdout
    assert (tmp_path / "pinball.html").read_text().count("<math") > 5


def test_the_command_line_derives_lists_and_selfchecks_a_users_losses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    own = str(ROOT / "examples" / "own_loss.py")
    assert main(["derive", f"{own}:pinball", "--wrt", "Z"]) == 0
    assert "pinball" in capsys.readouterr().out
    page = tmp_path / "p.html"
    assert main(["derive", "focal", "--format", "html", "-o", str(page)]) == 0
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert main(["selfcheck", "--module", own]) == 0
    assert "4 of 4 checks passed" in capsys.readouterr().out
    assert main(["losses"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in LOSSES) and "γ = gamma=2.0" in listing
    assert main(["derive", f"{own}:main"]) == 2
    assert "made with nnderiv.formulas.define_loss" in capsys.readouterr().err


def test_the_readme_table_is_generated_from_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    builtin = [L for L in LOSSES.values() if L.builtin]
    assert markdown_table(builtin) in readme, (
        "the README's loss table is stale: regenerate it with `nnderiv losses --format markdown`"
    )


def test_one_rule_on_two_activations_is_two_graphs() -> None:
    """Graphs of user losses are cached by the rule and the records, never by an object id."""
    rule = lambda a, y: (a - y) ** 2 / 2  # noqa: E731
    on_sigmoid = define_loss("same_rule", rule, "sigmoid", labels="real")
    on_identity = define_loss("same_rule", rule, "identity")
    rng = np.random.default_rng(6)
    Z, Y = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    for L in (on_sigmoid, on_identity):
        d = derive(L, "Z")
        assert d.proved
        np.testing.assert_allclose(
            d.to_numpy()(L.activation(Z), Y), L.grad_Z(L.activation(Z), Y), rtol=1e-12
        )
