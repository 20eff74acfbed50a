"""Run in a fresh interpreter by benchmarks/run.py: cold timings of the symbolic witness."""

from __future__ import annotations

import json
import time

start = time.perf_counter()
from nnderiv.formulas import LOSSES  # noqa: E402
from nnderiv.symbolic import derive, prove_concrete  # noqa: E402

imported = time.perf_counter() - start
generic = {}
t0 = time.perf_counter()
for task in LOSSES:
    for wrt in "AZ":
        t = time.perf_counter()
        d = derive(task, wrt)
        generic[f"{task}/{wrt}"] = (round(time.perf_counter() - t, 3), d.proof.status)
generic_total = time.perf_counter() - t0
concrete = {}
for task, loss in LOSSES.items():
    shape = (1, 36) if loss.single_row else (6, 6)
    for wrt in "AZ":
        p = prove_concrete(task, wrt, shape)
        concrete[f"{task}/{wrt} {p.shape[0]}x{p.shape[1]}"] = (round(p.seconds, 3), p.status)
print(
    json.dumps(
        {
            "import_s": round(imported, 3),
            "generic_total_s": round(generic_total, 3),
            "generic": generic,
            "concrete": concrete,
        }
    )
)
