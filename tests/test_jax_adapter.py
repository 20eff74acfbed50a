"""nnderiv.jax: jax.jvp / jax.vjp, custom rules included, checked by nnderiv (issue 12)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX not installed (pip install 'nnderiv[jax]')")
jnp = pytest.importorskip("jax.numpy", reason="JAX not installed")

from nnderiv import InvalidArgument  # noqa: E402
from nnderiv.jax import JaxGradcheckError, check, check_grads  # noqa: E402

X = np.array([0.3, 1.2, -0.7])
Y = np.array([2.0, -0.5, 1.5])


def _custom_sin(factor: float, *, stop: bool = False) -> Any:
    @jax.custom_vjp
    def f(x: Any) -> Any:
        return jnp.sin(x)

    def fwd(x: Any) -> Any:
        return jnp.sin(x), x

    def bwd(x: Any, g: Any) -> Any:
        x = jax.lax.stop_gradient(x) if stop else x
        return (g * jnp.cos(x) * factor,)

    f.defvjp(fwd, bwd)
    return f


def test_plain_jax_passes_both_modes_to_second_order() -> None:
    check_grads(lambda x, y: jnp.sin(x) * y**2, (X, Y), order=2)


def test_the_global_x64_setting_is_left_alone() -> None:
    before = jax.config.jax_enable_x64
    check_grads(lambda x: jnp.tanh(x), (X,), order=1)
    assert jax.config.jax_enable_x64 == before


def test_a_wrong_custom_vjp_rule_fails_and_fwd_is_skipped_with_a_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_grads(_custom_sin(1.0), (X,), order=1)
        with pytest.raises(JaxGradcheckError, match=r"1\.01 × numeric"):
            check_grads(_custom_sin(1.01), (X,), order=1)
    assert any("no forward mode" in str(w.message) for w in caught)


def test_a_custom_vjp_wrong_only_at_second_order() -> None:
    f = _custom_sin(1.0, stop=True)  # first order right, its derivative lost
    check_grads(f, (X,), order=1, modes=("rev",))
    with pytest.raises(JaxGradcheckError):
        check_grads(f, (X,), order=2, modes=("rev",))


def test_a_wrong_custom_jvp_rule_fails_in_forward_mode() -> None:
    @jax.custom_jvp
    def f(x: Any) -> Any:
        return jnp.exp(x)

    @f.defjvp
    def f_jvp(primals: Any, tangents: Any) -> Any:
        (x,), (t,) = primals, tangents
        return jnp.exp(x), jnp.exp(x) * t * 1.02

    with pytest.raises(JaxGradcheckError):
        check_grads(f, (X,), order=1, modes=("fwd",))
    report = check(f, (X,), "fwd")
    assert report.status == "fail" and report.worst_index is not None


def test_pytree_arguments() -> None:
    params = {"w": np.ones((2, 3)), "b": np.zeros(2)}

    def layer(p: Any, x: Any) -> Any:
        return jnp.tanh(p["w"] @ x + p["b"])

    check_grads(layer, (params, X), order=1)


def test_bad_calls_are_clear_errors() -> None:
    with pytest.raises(InvalidArgument, match="order >= 1"):
        check_grads(jnp.sin, (X,), order=0)
    with pytest.raises(InvalidArgument, match="modes"):
        check_grads(jnp.sin, (X,), modes=("sideways",))
    with pytest.raises(InvalidArgument, match="tuple of arguments"):
        check_grads(jnp.sin, X)


def test_pytree_leaves_and_outputs_are_named_by_their_key_paths() -> None:
    @jax.custom_vjp
    def layer(p: Any, x: Any) -> Any:
        return {"h": jnp.tanh(p["w"] @ x + p["b"]), "s": jnp.sum(x)}

    def fwd(p: Any, x: Any) -> Any:
        return layer(p, x), (p, x)

    def bwd(res: Any, g: Any) -> Any:
        p, x = res
        d = g["h"] * (1 - jnp.tanh(p["w"] @ x + p["b"]) ** 2)
        db = d.at[1].multiply(1.03)  # one entry of the bias gradient 3 % off
        return {"b": db, "w": jnp.outer(d, x)}, p["w"].T @ d + g["s"]

    layer.defvjp(fwd, bwd)
    params = {"w": np.linspace(-1, 1, 6).reshape(2, 3), "b": np.array([0.1, -0.2])}
    x = np.array([0.5, -0.3, 0.8])
    report = check(layer, (params, x), "rev")
    assert report.status == "fail"
    assert report.worst_index == ("args[0]['b']", (1,))
    assert "args[0]['b'][1]" in str(report)
    assert report.output_index == ("out['h']", (1,))


def test_integer_arguments_are_held_fixed() -> None:
    labels = np.array([0, 2, 1])

    def nll(logits: Any, y: Any) -> Any:
        logp = jax.nn.log_softmax(logits, axis=1)
        return -jnp.mean(logp[jnp.arange(3), y])

    logits = np.linspace(-2, 2, 9).reshape(3, 3)
    check_grads(nll, (logits, labels), order=2)
    report = check(nll, (logits, labels), "fwd")
    assert report.status == "pass" and "args[1]" not in report.layout
