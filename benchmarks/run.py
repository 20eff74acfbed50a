"""Benchmarks: ``make bench``. Prints tables; the numbers go in the README with the machine.

Each measurement that needs a cold start or a peak-memory reading runs in its own interpreter
(benchmarks/peak.py prints the peak RSS of the interpreter it runs in).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from nnderiv.formulas import LOSSES

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )


def child(argv: list[str]) -> tuple[str, float, float]:
    """Run ``argv`` (a script or ``-m module``) in a fresh interpreter under benchmarks/peak.py;
    return its stdout, wall seconds and its own peak RSS in MB."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / "peak.py"), *argv], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    peak = next(
        float(line.split("=", 1)[1])
        for line in proc.stderr.splitlines()
        if line.startswith("PEAK_RSS_MB=")
    )
    return proc.stdout, seconds, peak


def bench_symbolic() -> dict[str, Any]:
    out, wall, peak = child([str(HERE / "symbolic_job.py")])
    result: dict[str, Any] = json.loads(out)
    print("symbolic witness (fresh interpreter):")
    print(
        f"  six generic proofs (3 tasks × A, Z): {result['generic_total_s']:.2f} s "
        f"(import {result['import_s']:.2f} s; target < 10 s)"
    )
    for key, (sec, status) in result["generic"].items():
        print(f"    {key:<14} {sec:6.3f} s  {status}")
    print("  concrete-shape path at n·m = 36:")
    for key, (sec, status) in result["concrete"].items():
        print(f"    {key:<22} {sec:6.3f} s  {status}")
    print(f"  whole job: {wall:.2f} s wall, peak RSS {peak:.0f} MB")
    sc_out, sc_wall, sc_peak = child(["-m", "nnderiv", "selfcheck"])
    passed = sc_out.strip().splitlines()[-1]
    print(
        f"  nnderiv selfcheck: {sc_wall:.2f} s wall (target < 20 s), "
        f"peak RSS {sc_peak:.0f} MB (target < 500 MB): {passed}"
    )
    return result


def bench_formulas() -> None:
    rng = np.random.default_rng(0)
    n, m = 10, 10_000
    print(f"closed forms on {n}x{m} (float64), best of 5:")
    for name, loss in LOSSES.items():
        rows = 1 if loss.single_row else n
        Z = rng.normal(size=(rows, m))
        Y = np.eye(rows)[:, rng.integers(0, rows, m)] if name == "multiclass" else (Z > 0) * 1.0
        A = loss.activation(Z)
        calls = {
            "cost": lambda: loss.cost(A, Y),  # noqa: B023
            "grad_A": lambda: loss.grad_A(A, Y),  # noqa: B023
            "grad_Z": lambda: loss.grad_Z(A, Y),  # noqa: B023
            "cost_from_logits": lambda: loss.cost_from_logits(Z, Y),  # noqa: B023
        }
        for label, call in calls.items():
            best = min(_timed(call) for _ in range(5))
            print(f"  {name:<11} {label:<17} {best * 1e3:7.2f} ms")


def _timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def bench_peers() -> None:
    from peers import print_catalogue, print_timings, run_catalogue, timing_cases

    print_catalogue(run_catalogue())
    print()
    print_timings(timing_cases())


def main() -> None:
    import warnings

    warnings.simplefilter("ignore")  # the peers evaluate losses off their domain: NaN warnings
    print(f"machine: {machine()}\n")
    bench_peers()
    print()
    from cost import print_cost

    print_cost()
    print()
    bench_symbolic()
    print()
    from steps import print_steps

    print_steps()
    print()
    from adapters import print_adapters

    print_adapters()
    print()
    bench_formulas()


if __name__ == "__main__":
    main()
