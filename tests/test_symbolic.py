"""The symbolic witness: graphs, reverse accumulation, proofs, step checks, printers."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from loss_labels import labels_for

from nnderiv import InvalidArgument
from nnderiv.formulas import LOSSES, softmax
from nnderiv.symbolic import GRAPHS, derive, prove_concrete, verify_steps
from nnderiv.symbolic.derive import decide_zero
from nnderiv.symbolic.graphs import a, i, m, y

TASKS = sorted(LOSSES)
CASES = [(t, w) for t in TASKS for w in "AZ"]


# --- graphs --------------------------------------------------------------------------------------


def test_every_registered_loss_has_its_graph() -> None:
    assert set(GRAPHS) == set(LOSSES)
    for name, graph in GRAPHS.items():
        assert graph.loss is LOSSES[name]
        assert graph.nodes[0].body == graph.entry(a)
        assert graph.nodes[-1].indices == ()  # the last node is the scalar J


def test_graph_sizes_follow_the_spec() -> None:
    assert [len(GRAPHS[t].nodes) for t in ("binary", "multiclass", "multilabel")] == [6, 5, 7]


@pytest.mark.parametrize("task", TASKS)
def test_graph_evaluates_to_the_cost_of_formulas(task: str) -> None:
    from nnderiv.symbolic.concrete import evaluate_graph
    from nnderiv.symbolic.graphs import parameters

    loss = LOSSES[task]
    shape = (1, 3) if loss.single_row else (3, 2)
    rng = np.random.default_rng(1)
    A = loss.activation(rng.normal(size=shape))
    Y = labels_for(loss, shape, rng)
    J = evaluate_graph(GRAPHS[task], sp.Matrix(A), sp.Matrix(Y))
    J = J.xreplace({s: loss.parameter_values()[k] for k, s in parameters(loss).items()})
    assert float(J) == pytest.approx(float(loss.cost(A, Y)), rel=1e-12)


# --- generic proofs ------------------------------------------------------------------------------


@pytest.mark.parametrize(("task", "wrt"), CASES)
def test_derive_proves_every_result_for_symbolic_n_and_m(task: str, wrt: str) -> None:
    d = derive(task, wrt)
    assert d.proof.status == "proved"
    assert d.proved
    assert d.equation == LOSSES[task].equations[1 if wrt == "A" else 2]


def test_softmax_result_needs_the_simplex_and_the_general_form_does_not() -> None:
    d = derive("multiclass", "Z")
    assert d.general is not None and d.general.status == "proved"
    assert d.without_constraint is not None
    assert d.without_constraint.status == "disproved"  # a counterexample, not just "unproved"
    s = d.graph.column_sum(y)
    residual = d.without_constraint.residual
    assert residual != 0 and residual.has(sp.Sum)
    # the residual is a_ji (Σ_p y_pi − 1)/m: zero exactly when the column sums to 1
    assert sp.simplify(residual.xreplace({s: 1})) == 0


@pytest.mark.parametrize(
    ("task", "wrt", "rule", "bug"),
    [
        ("binary", "A", "grad_A_rule", lambda a_, y_, m_, s_: (1 - y_) / (1 - a_) - y_ / a_),
        ("multiclass", "A", "grad_A_rule", lambda a_, y_, m_, s_: (y_ / a_) / m_),
        ("multilabel", "Z", "grad_Z_rule", lambda a_, y_, m_, s_: (y_ - a_) / m_),
        ("multiclass", "Z", "grad_Z_general_rule", lambda a_, y_, m_, s_: (a_ - y_) / m_),
    ],
    ids=["dropped 1/m", "flipped sign", "flipped sign Z", "simplex shortcut as general"],
)
def test_a_planted_bug_in_a_closed_form_is_disproved(
    monkeypatch: pytest.MonkeyPatch, task: str, wrt: str, rule: str, bug: Any
) -> None:
    graph = GRAPHS[task]
    bad = dataclasses.replace(graph, loss=dataclasses.replace(graph.loss, **{rule: bug}))
    monkeypatch.setitem(GRAPHS, task, bad)
    d = derive(task, wrt)
    assert not d.proved
    which = d.general if rule == "grad_Z_general_rule" else d.proof
    assert which is not None and which.status == "disproved"
    assert "residual" in d.to_text()


def test_could_not_prove_is_not_reported_as_false() -> None:
    x, w = sp.IndexedBase("x")[i], sp.IndexedBase("w")[i]
    # zero for positive x, w, but neither together() nor simplify() can see it without assumptions
    p = decide_zero(sp.log(x * w) - sp.log(x) - sp.log(w))
    assert p.status == "unknown"
    assert not p.proved


@pytest.mark.parametrize(("task", "wrt"), CASES)
def test_lambdified_derivation_agrees_with_formulas(task: str, wrt: str) -> None:
    loss = LOSSES[task]
    rng = np.random.default_rng(3)
    shape = (1, 7) if loss.single_row else (4, 7)
    Z = rng.normal(scale=3, size=shape)
    A = loss.activation(Z)
    Y = labels_for(loss, shape, rng) if loss.labels != "binary" else rng.uniform(size=shape)
    d = derive(task, wrt)
    expected = loss.grad_A(A, Y) if wrt == "A" else loss.grad_Z(A, Y)
    np.testing.assert_allclose(d.to_numpy()(A, Y), expected, rtol=1e-10, atol=1e-15)
    if d.general_result is not None:  # the general softmax form, with labels off the simplex
        from nnderiv.symbolic.derive import lambdify_entry

        Y2 = rng.uniform(0, 2, size=shape)
        np.testing.assert_allclose(
            lambdify_entry(d.general_result, d.graph)(A, Y2),
            loss.grad_Z_general(A, Y2),
            rtol=1e-10,
            atol=1e-15,
        )


# --- concrete-shape proofs ---------------------------------------------------------------


@pytest.mark.parametrize(("task", "wrt"), CASES)
@pytest.mark.parametrize("shape", [(2, 3), (6, 6)])
def test_concrete_path_proves_every_entry(task: str, wrt: str, shape: tuple[int, int]) -> None:
    proof = prove_concrete(task, wrt, shape)
    assert proof.proved, proof.entries
    n, m = proof.shape
    assert len(proof.entries) == n * m
    assert n == (1 if LOSSES[task].single_row else shape[0])


def test_concrete_path_disproves_equation_6_without_the_simplex() -> None:
    proof = prove_concrete("multiclass", "Z", (3, 2), simplex=False)
    assert proof.status == "disproved"


def test_concrete_path_disproves_a_planted_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = GRAPHS["multilabel"]
    wrong_sign = dataclasses.replace(graph.loss, grad_A_rule=lambda a_, y_, m_, s_: (y_ / a_) / m_)
    monkeypatch.setitem(GRAPHS, "multilabel", dataclasses.replace(graph, loss=wrong_sign))
    assert prove_concrete("multilabel", "A", (2, 2)).status == "disproved"


# --- step verification ----------------------------------------------------------------------------

BINARY_GOOD = {
    "u5": "1",
    "u4": "-1/m",
    "u3": "-(1-y[i])/m",
    "u2": "-y[i]/m",
    "u1": "-(1-y[i])/(m*(1-a[i]))",
    "u0": "(1-y[i])/(m*(1-a[i])) - y[i]/(m*a[i])",
}


def test_a_correct_derivation_passes() -> None:
    report = verify_steps("binary", BINARY_GOOD)
    assert report.ok and report.first_wrong is None
    assert [ln.status for ln in report.lines] == ["correct"] * 6


def test_an_isolated_typo_is_wrong_and_the_lines_below_are_unjustified() -> None:
    claims = dict(BINARY_GOOD, u3="-(1+y[i])/m")
    report = verify_steps("binary", claims)
    status = {ln.node: ln.status for ln in report.lines}
    assert report.first_wrong == "u3"
    assert status["u3"] == "wrong"
    assert status["u1"] == "unjustified"  # right, but not what the claimed u3 gives
    assert status["u0"] == "correct"
    u3 = next(ln for ln in report.lines if ln.node == "u3")
    assert sp.simplify(u3.correct - (y[i] - 1) / m) == 0


def test_an_error_carried_forward_is_told_from_a_new_one() -> None:
    claims = dict(
        BINARY_GOOD,
        u3="-(1+y[i])/m",
        u1="-(1+y[i])/(m*(1-a[i]))",
        u0="(1+y[i])/(m*(1-a[i])) - y[i]/(m*a[i])",
    )
    report = verify_steps("binary", claims)
    status = {ln.node: ln.status for ln in report.lines}
    assert (status["u3"], status["u1"], status["u0"]) == ("wrong", "carried", "carried")
    assert report.first_wrong == "u3"
    assert "follows from the wrong line above (u3)" in str(report)


def test_multiclass_claims_use_two_indices() -> None:
    claims = {"u3": "-1/m", "u2": "-1/m", "u1": "-y[j,i]/m", "u0": "-y[j,i]/(m*a[j,i])"}
    assert verify_steps("multiclass", claims).ok
    wrong = verify_steps("multiclass", dict(claims, u0="-y[j,i]/a[j,i]"))
    assert wrong.first_wrong == "u0"
    assert "correct: −(1/m) y_ji/a_ji" in str(wrong)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"u9": "1"}, "node of the binary graph (u0, u1, u2, u3, u4, u5) but got 'u9'"),
        ({"u4": "-1/"}, "Could not parse the claim for u4"),
        ({"u4": "a[k]"}, "entries are written a[i]"),
        ({"u4": "x + 1"}, "the name 'x'"),
        ({"u4": "sin(a[i])"}, "the call sin(...)"),
        ({"u4": "2**(10**10)"}, "exponent"),
        ({"u4": "lambda: 1"}, "Refused in the claim for u4"),
        ({"u4": 3}, "to be a string"),
    ],
)
def test_bad_claims_are_refused_clearly(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        verify_steps("binary", claims)
    assert message in str(info.value)


def test_claims_cannot_run_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for payload in (
        "__import__('os').system('touch PWNED')",
        "a[i].__class__.__mro__",
        "(lambda: __import__('os').system('touch PWNED'))()",
        'exec(\'open("PWNED", "w")\')',
    ):
        with pytest.raises(InvalidArgument, match="Refused in the claim for u4"):
            verify_steps("binary", {"u4": payload})
    assert not (tmp_path / "PWNED").exists()


def test_unknown_task_lists_the_known_ones() -> None:
    with pytest.raises(
        InvalidArgument, match=r"binary, multiclass, multilabel.* but got task='nope'"
    ):
        derive("nope")
    with pytest.raises(InvalidArgument, match="wrt='B'"):
        derive("binary", "B")


# --- printers -------------------------------------------------------------------------------------


def test_text_follows_the_order_and_notation_of_the_spec() -> None:
    text = derive("binary", "Z").to_text()
    lines = text.splitlines()
    graph_at = lines.index("Computation graph (per example i):")
    seed_at = next(k for k, ln in enumerate(lines) if ln.strip() == "∂J/∂u5 = 1")
    assert graph_at < seed_at
    order = [ln.split("=")[0].strip() for ln in lines[seed_at : seed_at + 6]]
    assert order == ["∂J/∂u5", "∂J/∂u4_i", "∂J/∂u3_i", "∂J/∂u2_i", "∂J/∂u1_i", "∂J/∂u0_i"]
    two_paths = next(ln for ln in lines if ln.strip().startswith("∂J/∂u0_i"))
    assert "∂J/∂u1_i · ∂u1_i/∂u0_i + ∂J/∂u2_i · ∂u2_i/∂u0_i" in two_paths
    assert "∂J/∂A = (1/m) ((1 − Y) ⊘ (1 − A) − Y ⊘ A)" in text
    assert "∂J/∂Z = ∂J/∂A ⊙ A ⊙ (1 − A) = (1/m) (A − Y)    equation (3)" in text


def test_softmax_text_shows_the_column_sum_and_the_simplex_step() -> None:
    text = derive("multiclass", "Z").to_text()
    assert "Σ_p y_pi" in text
    assert "(1/m) (A ⊙ 1 1ᵀY − Y)" in text
    assert "without the constraint: NOT equal" in text


def _render(items: list[dict[str, str]]) -> list[dict[str, Any]]:
    modules = os.environ.get("NNDERIV_NODE_MODULES", "")
    node = shutil.which("node")
    if not node or not Path(modules, "katex").is_dir():
        if os.environ.get("CI"):
            pytest.fail("KaTeX is missing: `make test` installs it with npm into .venv/node")
        pytest.skip("KaTeX not installed (run through `make test`)")
    script = Path(__file__).parent / "js" / "render_check.mjs"
    out = subprocess.run(
        [node, str(script)],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NNDERIV_NODE_MODULES": modules},
    )
    result: list[dict[str, Any]] = json.loads(out.stdout)
    return result


def test_latex_and_markdown_render_with_katex() -> None:
    items = []
    for task, wrt in CASES:
        d = derive(task, wrt)
        items.append({"kind": "latex", "text": d.to_latex()})
        items.append({"kind": "markdown", "text": d.to_markdown()})
        assert d._repr_latex_().startswith("$$") and d._repr_markdown_() == d.to_markdown()
    results = _render(items)
    bad = [
        (it["text"][:80], r["error"]) for it, r in zip(items, results, strict=True) if not r["ok"]
    ]
    assert not bad
    assert all(r["html_length"] > 1000 for r in results)


def test_the_renderer_rejects_invalid_latex() -> None:
    results = _render(
        [
            {"kind": "latex", "text": "\\frac{1}{m"},
            {"kind": "latex", "text": "a \\odotx b"},
            {"kind": "markdown", "text": "$$\n\\begin{aligned} x \\end{align}\n$$"},
        ]
    )
    assert [r["ok"] for r in results] == [False, False, False]


def test_softmax_identity_printed_matches_numbers() -> None:
    # the printed general form, evaluated, equals formulas.grad_Z_general on off-simplex labels
    d = derive("multiclass", "Z")
    assert d.general_result is not None
    A = softmax(np.array([[0.2, 1.0], [0.5, -1.0], [0.0, 0.3]]))
    Y = np.array([[2.0, 0.0], [0.0, 0.5], [1.0, 0.0]])
    from nnderiv.symbolic.derive import lambdify_entry

    np.testing.assert_allclose(
        lambdify_entry(d.general_result, d.graph)(A, Y),
        LOSSES["multiclass"].grad_Z_general(A, Y),
        rtol=1e-12,
    )
