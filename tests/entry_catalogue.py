"""Correct and buggy cases for each entry point of issue 12 beyond the scalar numpy loss:
structured ``x`` and keyword arguments of ``check_gradient``, ``check_vjp``, ``check_jvp``
(small and above 4,096 entries), ``check_hvp``, and the torch and jax adapters.

Each case is ``call(seed)`` returning a :class:`GradientReport` (or a bool, for the drop-in
``gradcheck``/``gradgradcheck``, or ``None``/raise for jax's ``check_grads``), with the verdict
it must give and, for a bug in one entry, the entries the report must name. Cases needing an
optional extra say so in ``needs``; the test skips them, with a reason, where it is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from nnderiv import check_gradient, check_hvp, check_jvp, check_vjp
from nnderiv.formulas import LOSSES, sigmoid, sigmoid_backward, softmax, softmax_backward


@dataclass(frozen=True)
class EntryCase:
    entry: str  # the entry point, e.g. "check_vjp" or "torch.gradgradcheck"
    name: str
    call: Callable[[int], Any]  # seed -> report (or bool / None for the drop-ins)
    correct: bool
    index: Any = None  # the worst_index a failing report must name
    output_index: Any = None  # the output_index a failing report must name
    diagnosis: str = ""  # a phrase the diagnosis must contain
    needs: str = ""  # "torch" or "jax": an optional extra


RNG = np.random.default_rng(1212)


def _entry_off(g: Any, index: tuple[int, ...], factor: float) -> Any:
    g = np.array(g, dtype=float)
    g[index] *= factor
    return g


# -- structured x and keyword arguments ----------------------------------------------------

MULTI = LOSSES["multiclass"]


def _mlp_params(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "W1": rng.normal(size=(5, 3)) / 2,
        "b1": 0.1 * rng.normal(size=(5, 1)),
        "W2": rng.normal(size=(4, 5)) / 2,
        "b2": 0.1 * rng.normal(size=(4, 1)),
    }


def _mlp_cost(p: Any, X: Any, Y: Any) -> Any:
    Z2 = p["W2"] @ np.tanh(p["W1"] @ X + p["b1"]) + p["b2"]
    return MULTI.cost_from_logits(Z2, Y)


def _mlp_grads(p: Any, X: Any, Y: Any, bug: str = "") -> dict[str, Any]:
    H = np.tanh(p["W1"] @ X + p["b1"])
    dZ2 = MULTI.grad_Z(softmax(p["W2"] @ H + p["b2"]), Y)
    dZ1 = (p["W2"].T @ dZ2) * (1 - H**2)
    g = {
        "W1": dZ1 @ X.T,
        "b1": dZ1.sum(axis=1, keepdims=True),
        "W2": dZ2 @ H.T,
        "b2": dZ2.sum(axis=1, keepdims=True),
    }
    if bug == "b2 entry":
        g["b2"] = _entry_off(g["b2"], (1, 0), 1.01)
    if bug == "b1 mean":  # the bias gradient averaged once more over the batch
        g["b1"] = dZ1.mean(axis=1, keepdims=True)
    if bug == "W1 no tanh'":
        g["W1"] = (p["W2"].T @ dZ2) @ X.T
    return g


def _nested_cost(p: Any, x: Any) -> Any:
    h = np.tanh(p["enc"]["W"] @ x)
    return float(np.sum((p["dec"]["W"] @ h - x) ** 2) / 2)


def _nested_grads(p: Any, x: Any, bug: bool = False) -> Any:
    h = np.tanh(p["enc"]["W"] @ x)
    r = p["dec"]["W"] @ h - x
    dW = np.outer(r, h)
    if bug:
        dW = _entry_off(dW, (2, 1), 1.003)
    dh = p["dec"]["W"].T @ r * (1 - h**2)
    return {"enc": {"W": np.outer(dh, x)}, "dec": {"W": dW}}


def _focal(z: Any, y: Any, *, gamma: float) -> Any:
    a = 1 / (1 + np.exp(-z))
    pt = np.where(y > 0.5, a, 1 - a)
    return -np.sum((1 - pt) ** gamma * np.log(pt)) / z.shape[1]


def _focal_grad(z: Any, y: Any, *, gamma: float, fixed_gamma: float | None = None) -> Any:
    g_ = gamma if fixed_gamma is None else fixed_gamma
    a = sigmoid(z)
    s = np.where(y > 0.5, 1.0, -1.0)
    pt = np.where(y > 0.5, a, 1 - a)
    dpt = s * a * (1 - a)
    d = g_ * (1 - pt) ** (g_ - 1) * np.log(pt) - (1 - pt) ** g_ / pt
    return d * dpt / z.shape[1]


def _batch_first_mse(pred: Any, target: Any) -> Any:
    return float(np.mean(np.sum((pred - target) ** 2, axis=1)) / 2)


def structured_cases() -> list[EntryCase]:
    rng = np.random.default_rng(31)
    p = _mlp_params(rng)
    X = rng.normal(size=(3, 7))
    Y = np.eye(4)[:, rng.integers(0, 4, 7)]
    out = [
        EntryCase(
            "check_gradient[structured]",
            "two-layer MLP over a dict {W1, b1, W2, b2}",
            lambda s: check_gradient(_mlp_cost, _mlp_grads, p, X, Y, seed=s),
            True,
        ),
        EntryCase(
            "check_gradient[structured]",
            "two-layer MLP, one entry of b2's gradient 1 % off",
            lambda s: check_gradient(
                _mlp_cost, partial(_mlp_grads, bug="b2 entry"), p, X, Y, seed=s
            ),
            False,
            index=("b2", (1, 0)),
        ),
        EntryCase(
            "check_gradient[structured]",
            "two-layer MLP, b1's gradient averaged over the batch",
            lambda s: check_gradient(
                _mlp_cost, partial(_mlp_grads, bug="b1 mean"), p, X, Y, seed=s
            ),
            False,
        ),
        EntryCase(
            "check_gradient[structured]",
            "two-layer MLP, W1's gradient without tanh'",
            lambda s: check_gradient(
                _mlp_cost, partial(_mlp_grads, bug="W1 no tanh'"), p, X, Y, seed=s
            ),
            False,
        ),
        EntryCase(
            "check_gradient[structured]",
            "wrt=['W2', 'b2']: a wrong W1 gradient is not checked",
            lambda s: check_gradient(
                _mlp_cost,
                partial(_mlp_grads, bug="W1 no tanh'"),
                p,
                X,
                Y,
                wrt=["W2", "b2"],
                seed=s,
            ),
            True,
        ),
    ]
    q = {"enc": {"W": rng.normal(size=(3, 4)) / 2}, "dec": {"W": rng.normal(size=(4, 3)) / 2}}
    x = rng.normal(size=4)
    out += [
        EntryCase(
            "check_gradient[structured]",
            "nested dict autoencoder",
            lambda s: check_gradient(_nested_cost, _nested_grads, q, x, seed=s),
            True,
        ),
        EntryCase(
            "check_gradient[structured]",
            "nested dict autoencoder, one decoder entry 0.3 % off",
            lambda s: check_gradient(_nested_cost, partial(_nested_grads, bug=True), q, x, seed=s),
            False,
            index=(("dec", "W"), (2, 1)),
        ),
    ]
    W32 = rng.normal(size=(3, 3)).astype(np.float32)
    b = rng.normal(size=3)
    A = rng.normal(size=(3, 6))
    t = rng.normal(size=(3, 6))

    def lin(wb: Any, A: Any, t: Any) -> Any:
        W, b = wb
        return np.sum(np.tanh(W @ A + b[:, None]) * t)

    def lin_grad(wb: Any, A: Any, t: Any, transposed: bool = False) -> Any:
        W, b = wb
        d = t * (1 - np.tanh(W @ A + b[:, None]) ** 2)
        gW = d @ A.T
        return (gW.T if transposed else gW, d.sum(axis=1))

    out += [
        EntryCase(
            "check_gradient[structured]",
            "tuple (W float32, b float64)",
            lambda s: check_gradient(lin, lin_grad, (W32, b), A, t, seed=s),
            True,
        ),
        EntryCase(
            "check_gradient[structured]",
            "tuple (W, b), W's gradient transposed (square, not symmetric)",
            lambda s: check_gradient(
                lin, partial(lin_grad, transposed=True), (W32, b), A, t, seed=s
            ),
            False,
        ),
    ]
    Zf = rng.normal(scale=2, size=(1, 9))
    Yf = (rng.uniform(size=(1, 9)) > 0.5) * 1.0
    out += [
        EntryCase(
            "check_gradient[kwargs]",
            "focal loss with gamma=2 passed as a keyword",
            lambda s: check_gradient(_focal, _focal_grad, Zf, Yf, kwargs={"gamma": 2.0}, seed=s),
            True,
        ),
        EntryCase(
            "check_gradient[kwargs]",
            "focal loss whose gradient ignores gamma (always 1)",
            lambda s: check_gradient(
                _focal,
                lambda z, y, *, gamma: _focal_grad(z, y, gamma=gamma, fixed_gamma=1.0),
                Zf,
                Yf,
                kwargs={"gamma": 2.0},
                seed=s,
            ),
            False,
        ),
    ]
    P = rng.normal(size=(6, 3))
    T = rng.normal(size=(6, 3))
    out += [
        EntryCase(
            "check_gradient[batch-first]",
            "MSE averaged over a batch in the rows",
            lambda s: check_gradient(
                _batch_first_mse, lambda p_, t_: (p_ - t_) / p_.shape[0], P, T, seed=s
            ),
            True,
        ),
        EntryCase(
            "check_gradient[batch-first]",
            "MSE over a batch in the rows, 1/batch missing",
            lambda s: check_gradient(_batch_first_mse, lambda p_, t_: p_ - t_, P, T, seed=s),
            False,
            diagnosis="missing 1/batch",
        ),
    ]
    return out


# -- vector outputs and second order ---------------------------------------------------------


def _layernorm(x: Any) -> Any:
    mu = x.mean(axis=0, keepdims=True)
    sd = np.sqrt(((x - mu) ** 2).mean(axis=0, keepdims=True) + 1e-5)
    return (x - mu) / sd


def _layernorm_vjp(v: Any, x: Any, drop_mean_term: bool = False) -> Any:
    n = x.shape[0]
    mu = x.mean(axis=0, keepdims=True)
    sd = np.sqrt(((x - mu) ** 2).mean(axis=0, keepdims=True) + 1e-5)
    xh = (x - mu) / sd
    mean_v = 0.0 if drop_mean_term else v.mean(axis=0, keepdims=True)
    return (v - mean_v - xh * (v * xh).sum(axis=0, keepdims=True) / n) / sd


def product_cases() -> list[EntryCase]:
    rng = np.random.default_rng(47)
    Z = rng.normal(scale=3, size=(4, 5))
    Zl = rng.normal(scale=2, size=(6, 3)) + 5
    M = rng.normal(size=(4, 4))
    xs = rng.normal(size=4)
    big = rng.normal(size=(70, 70))
    out = [
        EntryCase(
            "check_vjp",
            "formulas.sigmoid_backward",
            lambda s: check_vjp(sigmoid, lambda v, z: sigmoid_backward(v, sigmoid(z)), Z, seed=s),
            True,
        ),
        EntryCase(
            "check_vjp",
            "formulas.softmax_backward",
            lambda s: check_vjp(softmax, lambda v, z: softmax_backward(v, softmax(z)), Z, seed=s),
            True,
        ),
        EntryCase(
            "check_vjp",
            "softmax backward without the column sum",
            lambda s: check_vjp(softmax, lambda v, z: softmax(z) * v, Z, seed=s),
            False,
        ),
        EntryCase(
            "check_vjp",
            "layer normalisation over the rows",
            lambda s: check_vjp(_layernorm, _layernorm_vjp, Zl, seed=s),
            True,
        ),
        EntryCase(
            "check_vjp",
            "layer normalisation without the mean term",
            lambda s: check_vjp(
                _layernorm, partial(_layernorm_vjp, drop_mean_term=True), Zl, seed=s
            ),
            False,
        ),
        EntryCase(
            "check_vjp",
            "tanh backward, one entry 0.5 % off",
            lambda s: check_vjp(
                np.tanh,
                lambda v, z: _entry_off(v * (1 - np.tanh(z) ** 2), (2, 3), 1.005),
                Z,
                seed=s,
            ),
            False,
            index=(2, 3),
            output_index=(2, 3),
        ),
        EntryCase(
            "check_jvp",
            "softmax jvp",
            lambda s: check_jvp(
                softmax,
                lambda t, z: softmax(z) * (t - np.sum(softmax(z) * t, axis=0, keepdims=True)),
                Z,
                seed=s,
            ),
            True,
        ),
        EntryCase(
            "check_jvp",
            "matrix product M tanh(x)",
            lambda s: check_jvp(
                lambda x: M @ np.tanh(x), lambda t, x: M @ (t * (1 - np.tanh(x) ** 2)), xs, seed=s
            ),
            True,
        ),
        EntryCase(
            "check_jvp",
            "matrix product: the jvp applies M's transpose (square, not symmetric)",
            lambda s: check_jvp(
                lambda x: M @ np.tanh(x), lambda t, x: M.T @ (t * (1 - np.tanh(x) ** 2)), xs, seed=s
            ),
            False,
        ),
        EntryCase(
            "check_jvp",
            "a 70x70 tanh (4,900 entries: random tangents)",
            lambda s: check_jvp(np.tanh, lambda t, x: t * (1 - np.tanh(x) ** 2), big, seed=s),
            True,
        ),
        EntryCase(
            "check_jvp",
            "a 70x70 tanh, one entry 1e-4 off",
            lambda s: check_jvp(
                np.tanh,
                lambda t, x: _entry_off(t * (1 - np.tanh(x) ** 2), (61, 8), 1 + 1e-4),
                big,
                seed=s,
            ),
            False,
            index=(61, 8),
            output_index=(61, 8),
        ),
    ]
    xh = np.array([0.3, -1.2, 2.0, 0.7])

    def grad(x: Any) -> Any:  # of f(x) = sum(exp(x)) + x0 x1 x2 x3 + sin(x2) x1
        p = np.prod(x)
        g = np.exp(x) + p / x
        g[1] += np.sin(x[2])
        g[2] += np.cos(x[2]) * x[1]
        return g

    def hess(x: Any) -> Any:
        n = x.size
        H = np.diag(np.exp(x))
        for i in range(n):
            for j in range(n):
                if i != j:
                    H[i, j] += np.prod([x[k] for k in range(n) if k not in (i, j)])
        H[1, 2] += np.cos(x[2])
        H[2, 1] += np.cos(x[2])
        H[2, 2] += -np.sin(x[2]) * x[1]
        return H

    Zc = rng.normal(size=(3, 4))
    Yc = np.eye(3)[:, rng.integers(0, 3, 4)]

    def ce_grad(z: Any, y: Any) -> Any:
        return (softmax(z) - y) / z.shape[1]

    def ce_hvp(v: Any, z: Any, y: Any, diag_only: bool = False) -> Any:
        a = softmax(z)
        cross = 0.0 if diag_only else a * np.sum(a * v, axis=0, keepdims=True)
        return (a * v - cross) / z.shape[1]

    out += [
        EntryCase(
            "check_hvp",
            "a polynomial-exponential with every cross term",
            lambda s: check_hvp(grad, lambda v, x: hess(x) @ v, xh, seed=s),
            True,
        ),
        EntryCase(
            "check_hvp",
            "the same, H[1, 2] missing (not symmetric)",
            lambda s: check_hvp(
                grad,
                lambda v, x: hess(x) @ v - np.array([0.0, np.cos(x[2]) * v[2], 0.0, 0.0]),
                xh,
                seed=s,
            ),
            False,
            index=(2,),
            output_index=(1,),
        ),
        EntryCase(
            "check_hvp",
            "softmax cross-entropy Hessian (diag(a) - a a^T)/m",
            lambda s: check_hvp(ce_grad, ce_hvp, Zc, Yc, seed=s),
            True,
        ),
        EntryCase(
            "check_hvp",
            "softmax cross-entropy Hessian, diagonal only",
            lambda s: check_hvp(ce_grad, partial(ce_hvp, diag_only=True), Zc, Yc, seed=s),
            False,
        ),
    ]
    return out


# -- torch and jax adapters ------------------------------------------------------------------


def torch_cases() -> list[EntryCase]:
    try:
        import torch
    except ImportError:
        return [EntryCase("torch.check", "torch adapter", lambda s: None, True, needs="torch")]
    import nnderiv.torch as nt

    class Sigmoid(torch.autograd.Function):
        off = 1.0

        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            y = torch.sigmoid(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (y,) = ctx.saved_tensors
            out = g * y * (1 - y)
            if Sigmoid.off != 1.0:
                out = out.clone()
                out[1, 2] = out[1, 2] * Sigmoid.off
            return out

    def sigmoid_with(off: float) -> Any:
        def fn(x: Any) -> Any:
            Sigmoid.off = off
            return Sigmoid.apply(x)

        return fn

    class Cube(torch.autograd.Function):
        detach = False

        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return g * 3 * x * (x.detach() if Cube.detach else x)

    def cube_with(detach: bool) -> Any:
        def fn(x: Any) -> Any:
            Cube.detach = detach
            return Cube.apply(x)

        return fn

    class Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, X: Any, W: Any, b: Any) -> Any:
            ctx.save_for_backward(X, W)
            return X @ W.T + b

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            X, W = ctx.saved_tensors
            return g @ W, g.T @ X, g.mean(dim=0)  # bias: mean instead of sum

    gen = torch.Generator().manual_seed(7)
    x = torch.randn(3, 4, generator=gen, dtype=torch.float64).requires_grad_(True)
    x32 = x.detach().to(torch.float32).requires_grad_(True)
    X = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    W = torch.randn(2, 3, generator=gen, dtype=torch.float64).requires_grad_(True)
    b = torch.randn(2, generator=gen, dtype=torch.float64).requires_grad_(True)

    def layer(X: Any, W: Any, b: Any) -> Any:
        return torch.tanh(X @ W.T + b)

    return [
        EntryCase(
            "torch.check",
            "custom sigmoid Function",
            lambda s: nt.check(sigmoid_with(1.0), x, seed=s),
            True,
            needs="torch",
        ),
        EntryCase(
            "torch.check",
            "custom sigmoid Function, one entry 1 % off",
            lambda s: nt.check(sigmoid_with(1.01), x, seed=s),
            False,
            index=("inputs[0]", (1, 2)),
            output_index=(1, 2),
            needs="torch",
        ),
        EntryCase(
            "torch.check",
            "custom sigmoid Function on float32 inputs at their own precision",
            lambda s: nt.check(sigmoid_with(1.0), x32, dtype="own", seed=s),
            True,
            needs="torch",
        ),
        EntryCase(
            "torch.check",
            "tanh layer, X not requiring grad",
            lambda s: nt.check(layer, X, W, b, seed=s),
            True,
            needs="torch",
        ),
        EntryCase(
            "torch.gradcheck",
            "custom Linear, bias gradient a mean over the batch",
            lambda s: nt.gradcheck(Linear.apply, (X, W, b), raise_exception=False),
            False,
            needs="torch",
        ),
        EntryCase(
            "torch.gradgradcheck",
            "custom cube Function, double backward through the saved input",
            lambda s: nt.gradgradcheck(cube_with(False), (x,), raise_exception=False),
            True,
            needs="torch",
        ),
        EntryCase(
            "torch.gradgradcheck",
            "custom cube Function, a saved input detached",
            lambda s: nt.gradgradcheck(cube_with(True), (x,), raise_exception=False),
            False,
            needs="torch",
        ),
    ]


def jax_cases() -> list[EntryCase]:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return [EntryCase("jax.check_grads", "jax adapter", lambda s: None, True, needs="jax")]
    import nnderiv.jax as nj

    def tanh_vjp(factor: float, stop: bool = False) -> Any:
        @jax.custom_vjp
        def f(x: Any) -> Any:
            return jnp.tanh(x)

        def fwd(x: Any) -> Any:
            return jnp.tanh(x), x

        def bwd(x: Any, g: Any) -> Any:
            x = jax.lax.stop_gradient(x) if stop else x
            return (g * (1 - jnp.tanh(x) ** 2) * factor,)

        f.defvjp(fwd, bwd)
        return f

    def exp_jvp(factor: float) -> Any:
        @jax.custom_jvp
        def f(x: Any) -> Any:
            return jnp.exp(x)

        @f.defjvp
        def f_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            return jnp.exp(x), jnp.exp(x) * t * factor

        return f

    xj = np.array([0.3, 1.2, -0.7, 2.0])

    def layer(p: Any, x: Any) -> Any:
        return jnp.tanh(p["w"] @ x + p["b"])

    params = {"w": np.linspace(-1, 1, 8).reshape(2, 4), "b": np.array([0.1, -0.3])}

    def status(call: Callable[[], None]) -> str:
        try:
            call()
        except AssertionError:
            return "fail"
        return "pass"

    return [
        EntryCase(
            "jax.check_grads",
            "tanh custom_vjp, order 2, rev",
            lambda s: status(lambda: nj.check_grads(tanh_vjp(1.0), (xj,), 2, ("rev",), seed=s)),
            True,
            needs="jax",
        ),
        EntryCase(
            "jax.check_grads",
            "tanh custom_vjp 0.1 % off",
            lambda s: status(lambda: nj.check_grads(tanh_vjp(1.001), (xj,), 1, ("rev",), seed=s)),
            False,
            needs="jax",
        ),
        EntryCase(
            "jax.check_grads",
            "tanh custom_vjp, residual stopped: wrong at order 2",
            lambda s: status(
                lambda: nj.check_grads(tanh_vjp(1.0, stop=True), (xj,), 2, ("rev",), seed=s)
            ),
            False,
            needs="jax",
        ),
        EntryCase(
            "jax.check_grads",
            "exp custom_jvp, fwd and rev, order 2",
            lambda s: status(lambda: nj.check_grads(exp_jvp(1.0), (xj,), 2, seed=s)),
            True,
            needs="jax",
        ),
        EntryCase(
            "jax.check_grads",
            "exp custom_jvp 2 % off in forward mode",
            lambda s: status(lambda: nj.check_grads(exp_jvp(1.02), (xj,), 1, ("fwd",), seed=s)),
            False,
            needs="jax",
        ),
        EntryCase(
            "jax.check",
            "pytree of parameters, fwd",
            lambda s: nj.check(layer, (params, xj), "fwd", seed=s),
            True,
            needs="jax",
        ),
    ]


def entry_cases() -> list[EntryCase]:
    return structured_cases() + product_cases() + torch_cases() + jax_cases()
