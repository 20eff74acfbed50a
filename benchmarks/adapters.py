"""nnderiv's torch and jax adapters against torch.autograd.gradcheck / gradgradcheck and
jax.test_util.check_grads, on multi-input, vector-output and second-order cases (correct and
buggy), float64 and float32, in one run: bugs caught, false alarms, undecided, time.

Run by ``make bench`` or alone: ``python benchmarks/adapters.py``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Case:
    name: str
    buggy: bool
    order: int
    make: Callable[[Any], tuple[Callable[..., Any], tuple[Any, ...]]]  # dtype -> (fn, inputs)
    modes: tuple[str, ...] = ("rev",)  # jax: the modes checked (order 2 with both: fwd-over-rev)


def torch_cases() -> list[Case]:
    import torch

    def sig_fn(scale_entry: float, detach: bool = False) -> Any:
        class Sig(torch.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                y = torch.sigmoid(x)
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                (y,) = ctx.saved_tensors
                y = y.detach() if detach else y
                out = g * y * (1 - y)
                if scale_entry != 1.0:
                    out = out.clone()
                    out[0, 1] = out[0, 1] * scale_entry
                return out

        return Sig.apply

    def softmax_fn(err: float) -> Any:
        class Soft(torch.autograd.Function):
            @staticmethod
            def forward(ctx: Any, z: Any) -> Any:
                a = torch.softmax(z, dim=0)
                ctx.save_for_backward(a)
                return a

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                (a,) = ctx.saved_tensors
                return a * (g - (g * a).sum(dim=0, keepdim=True) * (1 + err))

        return Soft.apply

    def linear_fn(bias_err: float) -> Any:
        class Linear(torch.autograd.Function):
            @staticmethod
            def forward(ctx: Any, X: Any, W: Any, b: Any) -> Any:
                ctx.save_for_backward(X, W)
                return X @ W.T + b

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                X, W = ctx.saved_tensors
                return g @ W, g.T @ X, g.sum(dim=0) * (1 + bias_err)

        return Linear.apply

    def two_outputs_fn(err: float) -> Any:
        class Two(torch.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                ctx.save_for_backward(x)
                return torch.sin(x), x * x

            @staticmethod
            def backward(ctx: Any, g1: Any, g2: Any) -> Any:
                (x,) = ctx.saved_tensors
                d2 = 2 * x * g2
                if err:
                    d2 = d2.clone()
                    d2[1, 0] = d2[1, 0] * (1 + err)
                return torch.cos(x) * g1 + d2

        return Two.apply

    def inputs(*shapes: tuple[int, ...], seed: int = 0) -> Callable[[Any], tuple[Any, ...]]:
        def build(dtype: Any) -> tuple[Any, ...]:
            gen = torch.Generator().manual_seed(seed)
            return tuple(
                torch.randn(*s, generator=gen, dtype=dtype).requires_grad_(True) for s in shapes
            )

        return build

    def case(name: str, buggy: bool, order: int, fn: Any, build: Any) -> Case:
        return Case(name, buggy, order, lambda dtype, fn=fn, build=build: (fn, build(dtype)))

    return [
        case("sigmoid Function, right", False, 1, sig_fn(1.0), inputs((3, 4))),
        case("sigmoid Function, one entry 1 % off", True, 1, sig_fn(1.01), inputs((3, 4))),
        case("sigmoid Function, one entry 1e-4 off", True, 1, sig_fn(1 + 1e-4), inputs((3, 4))),
        case("softmax Function (vector output), right", False, 1, softmax_fn(0.0), inputs((4, 3))),
        case("softmax Function, column sum 0.5 % off", True, 1, softmax_fn(5e-3), inputs((4, 3))),
        case(
            "linear layer (3 inputs), right",
            False,
            1,
            linear_fn(0.0),
            inputs((5, 3), (2, 3), (2,)),
        ),
        case(
            "linear layer, bias gradient 1 % off",
            True,
            1,
            linear_fn(0.01),
            inputs((5, 3), (2, 3), (2,)),
        ),
        case("two outputs (sin x, x²), right", False, 1, two_outputs_fn(0.0), inputs((3, 4))),
        case(
            "two outputs, one entry of the second's backward 1e-3 off",
            True,
            1,
            two_outputs_fn(1e-3),
            inputs((3, 4)),
        ),
        case("double backward of sigmoid, right", False, 2, sig_fn(1.0), inputs((2, 3))),
        case(
            "double backward of sigmoid, residual detached",
            True,
            2,
            sig_fn(1.0, detach=True),
            inputs((2, 3)),
        ),
    ]


def run_torch() -> list[str]:
    import torch

    import nnderiv.torch as nt

    rows = []
    for dtype in (torch.float64, torch.float32):
        for c in torch_cases():
            fn, ins = c.make(dtype)
            for tool, call in (
                (
                    "torch",
                    lambda fn=fn, ins=ins, c=c: (
                        torch.autograd.gradcheck if c.order == 1 else torch.autograd.gradgradcheck
                    )(fn, ins, raise_exception=False),
                ),
                (
                    "nnderiv",
                    lambda fn=fn, ins=ins, c=c: (
                        nt.gradcheck if c.order == 1 else nt.gradgradcheck
                    )(fn, ins, raise_exception=False),
                ),
            ):
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        ok = bool(call())
                        outcome = "pass" if ok else "fail"
                    except Exception as exc:
                        outcome = f"error {type(exc).__name__}"
                seconds = time.perf_counter() - start
                rows.append((str(dtype).split(".")[-1], c.name, c.buggy, tool, outcome, seconds))
    return _summarise(rows)


def jax_cases() -> list[Case]:
    import jax
    import jax.numpy as jnp
    import numpy as np

    def custom(factor: float, stop: bool = False) -> Any:
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

    def two_inputs(err: float) -> Any:
        @jax.custom_vjp
        def f(w: Any, x: Any) -> Any:
            return jnp.sin(w * x)

        def fwd(w: Any, x: Any) -> Any:
            return jnp.sin(w * x), (w, x)

        def bwd(res: Any, g: Any) -> Any:
            w, x = res
            c = jnp.cos(w * x) * g
            return (c * x * (1 + err), c * w)

        f.defvjp(fwd, bwd)
        return f

    def custom_jvp(factor: float, stop: bool = False, entry: int | None = None) -> Any:
        @jax.custom_jvp
        def f(x: Any) -> Any:
            return jnp.exp(jnp.sin(x))

        @f.defjvp
        def f_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            xs = jax.lax.stop_gradient(x) if stop else x
            d = jnp.exp(jnp.sin(xs)) * jnp.cos(xs) * t
            if entry is None:
                d = d * factor
            else:
                d = d.reshape(-1).at[entry].multiply(factor).reshape(d.shape)
            return f(x), d

        return f

    x = np.array([0.3, 1.2, -0.7, 2.0])
    big = np.random.default_rng(3).normal(size=(70, 70))  # 4,900 entries
    both = ("fwd", "rev")
    return [
        Case("tanh custom_vjp, right", False, 1, lambda dt: (custom(1.0), (x.astype(dt),))),
        Case("tanh custom_vjp, 1 % off", True, 1, lambda dt: (custom(1.01), (x.astype(dt),))),
        Case("tanh custom_vjp, 1e-4 off", True, 1, lambda dt: (custom(1 + 1e-4), (x.astype(dt),))),
        Case(
            "two inputs, right",
            False,
            1,
            lambda dt: (two_inputs(0.0), (x.astype(dt), x[::-1].astype(dt))),
        ),
        Case(
            "two inputs, ∂/∂w 1 % off",
            True,
            1,
            lambda dt: (two_inputs(0.01), (x.astype(dt), x[::-1].astype(dt))),
        ),
        Case("second order, right", False, 2, lambda dt: (custom(1.0), (x.astype(dt),))),
        Case(
            "second order, residual stopped",
            True,
            2,
            lambda dt: (custom(1.0, stop=True), (x.astype(dt),)),
        ),
        Case(
            "custom_jvp, fwd+rev, right",
            False,
            1,
            lambda dt: (custom_jvp(1.0), (x.astype(dt),)),
            both,
        ),
        Case(
            "custom_jvp 1e-4 off, fwd+rev",
            True,
            1,
            lambda dt: (custom_jvp(1 + 1e-4), (x.astype(dt),)),
            both,
        ),
        Case(
            "custom_jvp, order 2 fwd-over-rev, right",
            False,
            2,
            lambda dt: (custom_jvp(1.0), (x.astype(dt),)),
            both,
        ),
        Case(
            "custom_jvp, primal stopped in the tangent: order 2 fwd-over-rev",
            True,
            2,
            lambda dt: (custom_jvp(1.0, stop=True), (x.astype(dt),)),
            both,
        ),
        Case(
            "custom_jvp on 70x70, fwd+rev, right",
            False,
            1,
            lambda dt: (custom_jvp(1.0), (big.astype(dt),)),
            both,
        ),
        Case(
            "custom_jvp on 70x70, one entry 1e-3 off",
            True,
            1,
            lambda dt: (custom_jvp(1 + 1e-3, entry=1234), (big.astype(dt),)),
            both,
        ),
    ]


def run_jax() -> list[str]:
    import numpy as np
    from jax.test_util import check_grads as jax_check_grads

    import nnderiv.jax as nj

    rows = []
    for dt in (np.float64, np.float32):
        for c in jax_cases():
            fn, args = c.make(dt)
            for tool, checker in (("jax", jax_check_grads), ("nnderiv", nj.check_grads)):
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        checker(fn, args, order=c.order, modes=c.modes)
                        outcome = "pass"
                    except AssertionError:
                        outcome = "fail"
                    except Exception as exc:
                        outcome = f"error {type(exc).__name__}"
                seconds = time.perf_counter() - start
                rows.append((np.dtype(dt).name, c.name, c.buggy, tool, outcome, seconds))
    return _summarise(rows)


def _summarise(rows: list[tuple[str, str, bool, str, str, float]]) -> list[str]:
    out = []
    tools = sorted({r[3] for r in rows})
    for tool in tools:
        mine = [r for r in rows if r[3] == tool]
        caught = sum(1 for r in mine if r[2] and r[4] == "fail")
        bugs = sum(1 for r in mine if r[2])
        alarms = sum(1 for r in mine if not r[2] and r[4] != "pass")
        right = sum(1 for r in mine if not r[2])
        missed = [f"{r[0]} {r[1]}" for r in mine if r[2] and r[4] == "pass"]
        false = [f"{r[0]} {r[1]} ({r[4]})" for r in mine if not r[2] and r[4] != "pass"]
        total = sum(r[5] for r in mine)
        out.append(
            f"  {tool:<8} bugs caught {caught}/{bugs}, false alarms {alarms}/{right}, "
            f"time {total:.2f} s"
        )
        out += [f"      missed: {m}" for m in missed]
        out += [f"      false alarm: {m}" for m in false]
    return out


def print_adapters() -> None:
    try:
        import torch  # noqa: F401

        print("torch adapter vs torch.autograd.gradcheck / gradgradcheck (float64 and float32):")
        print("\n".join(run_torch()))
    except ImportError:
        print("torch not installed: adapter benchmark skipped")
    try:
        import jax  # noqa: F401

        print(
            "jax adapter vs jax.test_util.check_grads (rev, or fwd+rev; orders 1 and 2; "
            "float64 and float32 args):"
        )
        print("\n".join(run_jax()))
    except ImportError:
        print("jax not installed: adapter benchmark skipped")


if __name__ == "__main__":
    print_adapters()
