"""The shared catalogue (tests/catalogue.py) through nnderiv and its peers, in one run.

Peers, each wrapped the way a user checks a hand-written gradient with it:

* ``torch.autograd.gradcheck`` (default and ``fast_mode=True``): a ``torch.autograd.Function``
  whose forward calls the numpy loss and whose backward returns the claimed gradient; default
  ``eps=1e-6, atol=1e-5, rtol=1e-3``;
* ``jax.test_util.check_grads(order=1, modes=["rev"])``: a ``jax.custom_vjp`` function whose
  forward and backward call the numpy loss and gradient through ``jax.pure_callback``;
* ``scipy.optimize.check_grad``: it returns ‖claimed − forward differences‖₂; a check "fails"
  when that exceeds ``1e-5 · max(1, ‖claimed‖₂)`` (scipy gives no verdict of its own).

A peer that is not installed is skipped. Each row counts calls of the loss.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from catalogue import Case, buggy_cases, correct_cases

from nnderiv import check_gradient

SCIPY_RTOL = 1e-5


@dataclass
class Outcome:
    flagged: bool | None  # True: the tool reported a mismatch; None: it crashed or was skipped
    seconds: float
    evaluations: int
    detail: str = ""
    undecided: bool = False  # nnderiv said "inconclusive": neither a pass nor a fail


class Counted:
    def __init__(self, fun: Callable[..., Any]) -> None:
        self.fun, self.calls = fun, 0

    def __call__(self, *a: Any) -> Any:
        self.calls += 1
        return self.fun(*a)


def run_nnderiv(case: Case) -> Outcome:
    fun = Counted(case.fun)
    start = time.perf_counter()
    report = check_gradient(fun, case.grad, case.x, *case.args)
    seconds = time.perf_counter() - start
    undecided = report.status == "inconclusive"
    return Outcome(report.status == "fail", seconds, fun.calls, report.status, undecided)


def _torch_function(case: Case, fun: Counted) -> Any:
    import torch

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            value = fun(x.detach().numpy(), *case.args)
            return torch.tensor(float(np.real(value)), dtype=torch.float64)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            (x,) = ctx.saved_tensors
            g = np.asarray(case.grad(x.detach().numpy(), *case.args), dtype=np.float64)
            return grad_output * torch.from_numpy(g.copy())

    return Wrapped.apply


def run_torch(case: Case, fast: bool) -> Outcome:
    try:
        import torch
    except ImportError:
        return Outcome(None, 0.0, 0, "torch not installed")
    fun = Counted(case.fun)
    f = _torch_function(case, fun)
    x = torch.tensor(np.asarray(case.x, dtype=np.float64), requires_grad=True)
    start = time.perf_counter()
    try:
        ok = torch.autograd.gradcheck(f, (x,), fast_mode=fast, raise_exception=False)
        flagged: bool | None = not ok
        detail = "" if ok else "mismatch"
    except Exception as exc:  # a crash inside the check counts as flagged, with its reason
        flagged, detail = True, f"raised {type(exc).__name__}"
    return Outcome(flagged, time.perf_counter() - start, fun.calls, detail)


def jax_function(
    fun: Callable[[Any], Any], grad: Callable[[Any], Any], shape: tuple[int, ...]
) -> Any:
    """A ``jax.custom_vjp`` function whose forward and backward call the numpy loss and the
    claimed gradient through ``jax.pure_callback`` (x64 must be enabled by the caller)."""
    import jax
    import jax.numpy as jnp

    def value_np(x: Any) -> Any:
        try:
            value = fun(np.asarray(x, dtype=np.float64))
        except Exception:  # off the loss's domain: what jax would see is a NaN
            return np.asarray(np.nan)
        return np.asarray(np.real(value), np.float64)

    def grad_np(x: Any) -> Any:
        return np.asarray(grad(np.asarray(x, dtype=np.float64)), np.float64)

    @jax.custom_vjp
    def f(x: Any) -> Any:
        return jax.pure_callback(value_np, jax.ShapeDtypeStruct((), jnp.float64), x)

    def f_fwd(x: Any) -> Any:
        return f(x), x

    def f_bwd(x: Any, ct: Any) -> Any:
        g = jax.pure_callback(grad_np, jax.ShapeDtypeStruct(shape, jnp.float64), x)
        return (ct * g,)

    f.defvjp(f_fwd, f_bwd)
    return f


def run_jax(case: Case) -> Outcome:
    try:
        import jax
        import jax.numpy as jnp
        from jax.test_util import check_grads
    except ImportError:
        return Outcome(None, 0.0, 0, "jax not installed")
    jax.config.update("jax_enable_x64", True)
    fun = Counted(case.fun)
    shape = np.shape(case.x)

    f = jax_function(lambda x: fun(x, *case.args), lambda x: case.grad(x, *case.args), shape)
    x = jnp.asarray(case.x, dtype=jnp.float64)
    start = time.perf_counter()
    try:
        check_grads(f, (x,), order=1, modes=["rev"])
        flagged: bool | None = False
        detail = ""
    except AssertionError:
        flagged, detail = True, "mismatch"
    except Exception as exc:
        flagged, detail = True, f"raised {type(exc).__name__}"
    return Outcome(flagged, time.perf_counter() - start, fun.calls, detail)


def run_scipy(case: Case) -> Outcome:
    try:
        from scipy.optimize import check_grad
    except ImportError:
        return Outcome(None, 0.0, 0, "scipy not installed")
    fun = Counted(case.fun)
    shape = np.shape(case.x)
    x0 = np.asarray(case.x, dtype=np.float64).ravel()

    def f(v: Any) -> float:
        return float(np.real(fun(v.reshape(shape), *case.args)))

    def g(v: Any) -> Any:
        return np.asarray(case.grad(v.reshape(shape), *case.args), dtype=np.float64).ravel()

    start = time.perf_counter()
    try:
        with np.errstate(all="ignore"):
            err = check_grad(f, g, x0)
    except Exception as exc:  # scipy does not catch a loss that raises off its domain
        return Outcome(True, time.perf_counter() - start, fun.calls, f"raised {type(exc).__name__}")
    norm = float(np.linalg.norm(g(x0)))
    flagged = not (err <= SCIPY_RTOL * max(1.0, norm))  # NaN counts as flagged
    return Outcome(flagged, time.perf_counter() - start, fun.calls, f"‖diff‖={err:.2g}")


TOOLS: dict[str, Callable[[Case], Outcome]] = {
    "nnderiv": run_nnderiv,
    "torch gradcheck": lambda c: run_torch(c, fast=False),
    "torch gradcheck fast": lambda c: run_torch(c, fast=True),
    "jax check_grads": run_jax,
    "scipy check_grad": run_scipy,
}


def run_catalogue(tools: dict[str, Callable[[Case], Outcome]] = TOOLS) -> dict[str, Any]:
    """Every case through every tool; returns per-tool totals and per-case outcomes."""
    cases = [(c, True) for c in correct_cases()] + [(c, False) for c in buggy_cases()]
    table: dict[str, Any] = {}
    for name, tool in tools.items():
        rows = []
        for case, correct in cases:
            out = tool(case)
            rows.append((case.name, correct, out))
        if all(out.flagged is None for _, _, out in rows):
            table[name] = None
            continue
        bugs = [o for _, correct, o in rows if not correct]
        goods = [o for _, correct, o in rows if correct]
        table[name] = {
            "caught": sum(1 for o in bugs if o.flagged),
            "bugs": len(bugs),
            "undecided": sum(1 for _, _, o in rows if o.undecided),
            "false_alarms": sum(1 for o in goods if o.flagged),
            "correct": len(goods),
            "seconds": sum(o.seconds for _, _, o in rows),
            "evaluations": sum(o.evaluations for _, _, o in rows),
            "rows": rows,
        }
    return table


def print_catalogue(table: dict[str, Any]) -> None:
    print("the shared catalogue (tests/catalogue.py) through every tool:")
    print(
        f"  {'tool':<22}{'bugs caught':>13}{'false alarms':>14}{'undecided':>11}{'time':>10}"
        f"{'evaluations':>13}"
    )
    for name, t in table.items():
        if t is None:
            print(f"  {name:<22}  (not installed: skipped)")
            continue
        print(
            f"  {name:<22}{t['caught']:>7} / {t['bugs']:<3}"
            f"{t['false_alarms']:>8} / {t['correct']:<3}{t['undecided']:>9}"
            f"{t['seconds']:>9.2f}s{t['evaluations']:>13}"
        )
    print(
        "\n  per case (✗ = the verdict is wrong: a bug passed or a false alarm; "
        "? = inconclusive, with the reason in the report):"
    )
    names = [n for n, t in table.items() if t is not None]
    first = next(t for t in table.values() if t is not None)
    print("  " + f"{'case':<58}" + "".join(f"{n[:14]:>16}" for n in names))
    for k, (case_name, correct, _) in enumerate(first["rows"]):
        cells = []
        for n in names:
            out = table[n]["rows"][k][2]
            wrong = bool(out.flagged) == correct and not out.undecided
            mark = "?" if out.undecided else ("✗" if wrong else "✓")
            said = "undec" if out.undecided else ("flag" if out.flagged else "pass")
            cells.append(f"{mark} {said} {out.evaluations:>6}")
        kind = "ok " if correct else "bug"
        print(f"  {kind} {case_name[:54]:<54}" + "".join(f"{c:>16}" for c in cells))


def timing_cases() -> dict[str, Any]:
    """The targets of the issue: 10x1000 with one wrong entry (nnderiv vs torch default), and
    100x10,000 inputs (nnderiv alone: torch's default mode would need 2·10⁶ loss calls)."""
    from catalogue import _bce_logits_grad, _one_wrong, bce_logits

    out: dict[str, Any] = {}
    bug = next(c for c in buggy_cases() if c.name.startswith("one wrong entry (1 %)"))
    nd = run_nnderiv(bug)
    out["10x1000 one wrong entry: nnderiv"] = nd
    th = run_torch(bug, fast=False)
    out["10x1000 one wrong entry: torch gradcheck"] = th
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=3, size=(100, 10_000))
    Y = (rng.uniform(size=Z.shape) > 0.5) * 1.0
    good = Case("100x10000 correct", bce_logits, _bce_logits_grad, Z, (Y,))
    out["100x10,000 correct: nnderiv"] = run_nnderiv(good)
    wrong = Case(
        "100x10000 one wrong",
        bce_logits,
        _one_wrong(_bce_logits_grad, (42, 4242), 1.01),
        Z,
        (Y,),
        False,
    )
    out["100x10,000 one wrong entry (1 %): nnderiv"] = run_nnderiv(wrong)
    return out


def print_timings(out: dict[str, Any]) -> None:
    print("targets:")
    for name, o in out.items():
        verdict = "skipped" if o.flagged is None else ("flagged" if o.flagged else "passed")
        print(
            f"  {name:<48} {o.seconds:8.3f} s  {o.evaluations:>7} evaluations  {verdict} {o.detail}"
        )
    nd = out["10x1000 one wrong entry: nnderiv"]
    th = out["10x1000 one wrong entry: torch gradcheck"]
    if th.flagged is not None and nd.seconds > 0:
        print(
            f"  nnderiv is {th.seconds / nd.seconds:.0f}x faster than torch gradcheck "
            "(default mode) "
            "on the 10x1000 case"
        )
