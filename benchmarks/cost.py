"""What a check costs, as ratios measured in the same run (issue 8, point 9):

* wall time of a whole check of a 100×10,000 multi-label BCE, in units of one complex
  evaluation of the loss (the unit complex step pays per probe) — correct gradient, and one
  entry 1 % wrong;
* the checker's own overhead: the share of a check's time spent outside the loss, at 10⁵ and
  10⁶ entries;
* peak memory above the loss's own, in arrays the size of x (numpy allocations, tracemalloc).

Run from benchmarks/run.py (``make bench``) or alone.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from nnderiv import check_gradient
from nnderiv.formulas import sigmoid


def bce(Z: Any, Y: Any) -> Any:
    return np.sum(Y * np.log1p(np.exp(-Z)) + (1 - Y) * np.log1p(np.exp(Z))) / Z.shape[1]


def bce_grad(Z: Any, Y: Any) -> Any:
    return (sigmoid(Z) - Y) / Z.shape[1]


def one_wrong(Z: Any, Y: Any) -> Any:
    g = bce_grad(Z, Y)
    g[37, 4242 % Z.shape[1]] *= 1.01
    return g


class Timed:
    """The loss, timing its own calls: what is left of a check's time is the overhead."""

    def __init__(self, fun: Callable[..., Any]) -> None:
        self.fun, self.seconds, self.calls = fun, 0.0, 0

    def __call__(self, *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.fun(*args)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def _inputs(n: int, m: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=3, size=(n, m))
    return Z, (rng.uniform(size=Z.shape) > 0.5) * 1.0


def _median_seconds(call: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def wall_in_complex_evaluations() -> dict[str, Any]:
    Z, Y = _inputs(100, 10_000)
    Zc = Z + 1e-20j * np.ones_like(Z)
    unit = _median_seconds(lambda: bce(Zc, Y))
    out: dict[str, Any] = {"complex evaluation s": unit}
    for label, grad in (("correct", bce_grad), ("one entry 1 % wrong", one_wrong)):
        reports = []

        def run(grad: Any = grad, reports: list[Any] = reports) -> None:
            reports.append(check_gradient(bce, grad, Z, Y))

        seconds = _median_seconds(run, repeat=3)
        r = reports[-1]
        out[label] = {
            "seconds": seconds,
            "complex evaluations": seconds / unit,
            "status": r.status,
            "worst_index": r.worst_index,
            "evaluations": r.evaluations,
        }
    return out


def overhead() -> dict[str, Any]:
    out = {}
    for n, m in ((10, 10_000), (100, 10_000)):
        Z, Y = _inputs(n, m)
        shares = []
        for _ in range(3):
            loss = Timed(bce)
            start = time.perf_counter()
            check_gradient(loss, bce_grad, Z, Y)
            total = time.perf_counter() - start
            grad_s = _median_seconds(lambda Z=Z, Y=Y: bce_grad(Z, Y), repeat=3)
            shares.append((total - loss.seconds - grad_s) / total)
        out[f"{n * m:,} entries"] = statistics.median(shares)
    return out


def memory() -> dict[str, Any]:
    Z, Y = _inputs(100, 10_000)
    tracemalloc.start()
    try:
        Zc = Z.astype(np.complex128)
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        bce(Zc, Y)
        loss_peak = tracemalloc.get_traced_memory()[1] - base + Zc.nbytes
        del Zc
        out = {"loss's own peak (complex evaluation, input included)": loss_peak / Z.nbytes}
        for label, grad in (("correct", bce_grad), ("one entry 1 % wrong", one_wrong)):
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            check_gradient(bce, grad, Z, Y)
            peak = tracemalloc.get_traced_memory()[1] - base
            out[f"above the loss's own, {label}"] = (peak - loss_peak) / Z.nbytes
        return out
    finally:
        tracemalloc.stop()


def print_cost() -> None:
    w = wall_in_complex_evaluations()
    print("cost of a check, 100x10,000 multi-label BCE (issue 8 targets: ≤ 5 and ≤ 20):")
    print(f"  one complex evaluation of the loss: {w['complex evaluation s'] * 1e3:.1f} ms")
    for label in ("correct", "one entry 1 % wrong"):
        r = w[label]
        print(
            f"  {label:<22} {r['seconds']:.3f} s = {r['complex evaluations']:.1f} complex "
            f"evaluations ({r['evaluations']} calls of the loss), {r['status']}"
            + (f" at {r['worst_index']}" if r["worst_index"] else "")
        )
    print("checker's own share of the time (target ≤ 25 %):")
    for size, share in overhead().items():
        print(f"  {size:<18} {share:.0%}")
    print("peak memory, in arrays the size of x (target: ≤ 4 above the loss's own):")
    for label, arrays in memory().items():
        print(f"  {label:<56} {arrays:.1f}")


if __name__ == "__main__":
    print_cost()
