"""Benchmarks: ``make bench``. Prints a table; numbers go in the README with the machine."""

from __future__ import annotations

import platform
import time

import numpy as np

from nnderiv.formulas import LOSSES


def bench_formulas() -> None:
    rng = np.random.default_rng(0)
    n, m = 10, 10_000
    print(f"closed forms on {n}x{m} (float64), best of 5:")
    for name, loss in LOSSES.items():
        rows = 1 if loss.single_row else n
        Z = rng.normal(size=(rows, m))
        Y = np.eye(rows)[:, rng.integers(0, rows, m)] if name == "multiclass" else (Z > 0) * 1.0
        A = loss.activation(Z)
        for label, call in (
            ("cost", lambda: loss.cost(A, Y)),
            ("grad_A", lambda: loss.grad_A(A, Y)),
            ("grad_Z", lambda: loss.grad_Z(A, Y)),
            ("cost_from_logits", lambda: loss.cost_from_logits(Z, Y)),
        ):
            best = min(_timed(call) for _ in range(5))
            print(f"  {name:<11} {label:<17} {best * 1e3:7.2f} ms")


def _timed(call: object) -> float:
    start = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}"
    )
    bench_formulas()


if __name__ == "__main__":
    main()
