"""``verify_steps`` under load: the issue's costly claims and random claims of the grammar.

Run by ``make bench`` (benchmarks/run.py) or alone: ``python benchmarks/steps.py``. Every claimed
line must be answered within its budget (``DEFAULT_TIMEOUT`` seconds, plus the fork and the
reverse accumulation); the table shows the slowest.
"""

from __future__ import annotations

import random
import time

from nnderiv import InvalidArgument
from nnderiv.symbolic import verify_steps
from nnderiv.symbolic.steps import DEFAULT_TIMEOUT

COSTLY = [
    ("multiclass", "(a[j,i]+y[j,i]+m+n+1)**20"),
    ("binary", "log(" * 10 + "m" + ")" * 10),
    ("binary", "exp(" * 30 + "m" + ")" * 30),
    ("binary", "(1+a[i])**64/(1-a[i])**64"),
    ("binary", " + ".join(f"1/(a[i]+{k})" for k in range(1, 41))),
    ("binary", "((1+a[i])**8-(1-a[i])**8)**8/((1+y[i])**8+m)**8"),
    # right, but sympy would expand two degree-24 polynomials in five symbols for minutes
    (
        "binary",
        "-1/m + (a[i]+y[i]+m+n+1)**12*(a[i]-y[i])**12"
        " - (a[i]**2+a[i]*m+a[i]*n+a[i]-y[i]**2-y[i]*m-y[i]*n-y[i])**12",
    ),
]

ATOMS = ["m", "n", "a[i]", "y[i]", "1", "2", "0.5", "10**-30", "(1-a[i])", "(1-y[i])"]


def random_claim(rng: random.Random, depth: int = 0) -> str:
    if depth > 4 or rng.random() < 0.3:
        return rng.choice(ATOMS)
    kind = rng.random()
    if kind < 0.6:
        op = rng.choice(["+", "-", "*", "/"])
        return f"({random_claim(rng, depth + 1)}){op}({random_claim(rng, depth + 1)})"
    if kind < 0.75:
        return f"({random_claim(rng, depth + 1)})**{rng.choice([2, 3, -1, 20, 64])}"
    return f"{rng.choice(['log', 'exp'])}({random_claim(rng, depth + 1)})"


def _line(task: str, claim: str, node: str = "u0") -> tuple[float, str]:
    start = time.perf_counter()
    try:
        report = verify_steps(task, {node: claim})
    except InvalidArgument:
        return time.perf_counter() - start, "refused"
    line = next(ln for ln in report.lines if ln.node == node)
    return time.perf_counter() - start, line.status


def print_steps(random_claims: int = 300) -> None:
    print(f"verify_steps: one claimed line each (budget {DEFAULT_TIMEOUT:g} s per line)")
    for task, claim in COSTLY:
        top = "u4" if claim.startswith("-1/m") else "u0"
        seconds, status = _line(task, claim, top)
        shown = claim if len(claim) <= 48 else claim[:45] + "…"
        print(f"  {shown:<48} {seconds:6.2f} s  {status}")
    rng = random.Random(0)
    times: list[float] = []
    statuses: dict[str, int] = {}
    for _ in range(random_claims):
        seconds, status = _line("binary", random_claim(rng))
        times.append(seconds)
        statuses[status] = statuses.get(status, 0) + 1
    times.sort()
    print(
        f"  {random_claims} random claims: median {times[len(times) // 2] * 1e3:.0f} ms, "
        f"slowest {times[-1]:.2f} s; " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )


if __name__ == "__main__":
    print_steps()
