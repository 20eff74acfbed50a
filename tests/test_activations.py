"""Activations as records (issue 13): every record's backward, slope and sympy forms agree with
its forward (finite differences and sympy), and no module switches on an activation's name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

from nnderiv import InvalidArgument, check_vjp, ops
from nnderiv.formulas import ACTIVATIONS, Activation, define_activation, get_activation
from nnderiv.symbolic.derive import decide_zero

REQUIRED = ("identity", "sigmoid", "softmax", "tanh", "softplus", "exp")
Z = np.array([[0.5, -1.0, 2.0, 0.0], [2.0, 0.1, -0.3, 1.5], [0.2, -2.3, 0.4, -2.0]])


def test_the_required_activations_are_registered() -> None:
    assert set(REQUIRED) <= set(ACTIVATIONS)
    for name in REQUIRED:
        act = ACTIVATIONS[name]
        assert isinstance(act, Activation) and act.name == name
        assert act.domain in ("real", "unit", "simplex", "positive", "symmetric")
        assert act.min_rows >= 1
        assert act.backward_text and act.backward_latex  # printed rule


@pytest.mark.parametrize("name", REQUIRED)
def test_backward_is_the_vjp_of_forward(name: str) -> None:
    act = ACTIVATIONS[name]
    report = check_vjp(act.forward, lambda v, z: act.backward(v, act.forward(z)), Z)
    assert report.status == "pass", report


@pytest.mark.parametrize("name", [n for n in REQUIRED if ACTIVATIONS[n].elementwise])
def test_the_slope_in_a_is_the_derivative_of_the_rule(name: str) -> None:
    act = ACTIVATIONS[name]
    assert act.rule is not None and act.slope is not None
    z = sp.Symbol("z", real=True)
    residual = sp.diff(act.rule(z), z) - act.slope(act.rule(z))
    assert decide_zero(residual).proved, residual


@pytest.mark.parametrize("name", REQUIRED)
def test_the_form_in_exp_z_is_the_forward(name: str) -> None:
    act = ACTIVATIONS[name]
    E = sp.Matrix(2, 2, lambda r, c: sp.Symbol(f"e{r}{c}", positive=True))
    A = act.of_exp(E)
    point = {E[r, c]: float(np.exp(Z[r, c])) for r in range(2) for c in range(2)}
    got = np.array(A.subs(point).evalf(), dtype=float)
    assert np.allclose(got, act.forward(Z[:2, :2]), rtol=1e-12, atol=1e-12)


def test_forward_is_stable_and_keeps_the_dtype() -> None:
    big = np.array([[-800.0, 800.0], [0.0, 30.0]])
    for name in ("sigmoid", "softmax", "tanh", "softplus"):
        out = ACTIVATIONS[name].forward(big)
        assert np.all(np.isfinite(out)), name
        assert ACTIVATIONS[name].forward(big.astype(np.float32)).dtype == np.float32


def test_outputs_outside_the_domain_are_refused_naming_the_entry() -> None:
    with pytest.raises(InvalidArgument, match=r"open interval \(-1, 1\)|−1, 1"):
        ACTIVATIONS["tanh"].check_outputs(np.array([[0.5, 1.0]]), "A", closed=False)
    with pytest.raises(InvalidArgument, match=r"A\[0, 1\]=-0.5"):
        ACTIVATIONS["exp"].backward(np.ones((1, 2)), np.array([[0.5, -0.5]]))
    with pytest.raises(InvalidArgument, match="at least 2 rows"):
        ACTIVATIONS["softmax"].forward(np.zeros((1, 3)))
    with pytest.raises(InvalidArgument, match="activation among"):
        get_activation("relu6")


def test_a_new_activation_is_one_definition() -> None:
    act = define_activation(
        "scaled_tanh_test",
        lambda z: 2 * ops.tanh(z),
        lambda a: 2 - a * a / 2,
        title="2 tanh z",
    )
    try:
        assert ACTIVATIONS["scaled_tanh_test"] is act
        assert np.allclose(act(Z), 2 * np.tanh(Z))
        assert check_vjp(act.forward, lambda v, z: act.backward(v, act(z)), Z).status == "pass"
        wrong = define_activation(
            "wrong_test", lambda z: 2 * ops.tanh(z), lambda a: 1 - a * a, register=False
        )
        assert check_vjp(wrong.forward, lambda v, z: wrong.backward(v, wrong(z)), Z).status == (
            "fail"
        )
        with pytest.raises(InvalidArgument, match="is registered"):
            define_activation("scaled_tanh_test", lambda z: z, lambda a: 1 + 0 * a)
    finally:
        del ACTIVATIONS["scaled_tanh_test"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "not an identifier"}, "identifier"),
        ({"rule": "tanh"}, "callables"),
        ({"domain": "simplex"}, "element-wise activation's domain"),
    ],
)
def test_bad_definitions_are_clear_errors(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"name": "x_test", "rule": ops.tanh, "slope": lambda a: 1 - a * a}
    args.update(kwargs)
    with pytest.raises(InvalidArgument, match=message):
        define_activation(args.pop("name"), args.pop("rule"), args.pop("slope"), **args)


def test_no_module_switches_on_an_activations_name() -> None:
    """Every module reads the record (issue 13): no comparison of an activation's name with a
    string literal, and no table keyed by the built-in activation names outside the records."""
    root = Path(__file__).resolve().parent.parent / "nnderiv"
    names = "|".join(REQUIRED)
    patterns = [
        re.compile(r"activation_name\s*[!=]="),
        re.compile(r"activation\.name\s*[!=]="),
        re.compile(rf"[!=]=\s*[\"']({names})[\"']"),
        # a table keyed by activation names (op names such as "exp" or "tanh" key the
        # printers' tables of functions too, so only the names that are not ops are looked for)
        re.compile(r"^\s*[\"'](softmax|identity)[\"']\s*:", re.MULTILINE),
    ]
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "activations.py":  # the records themselves
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(root)}:{line}: {match.group(0).strip()}")
    assert not offenders, offenders
