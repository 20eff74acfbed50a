"""Command line: ``nnderiv selfcheck``.

Exit codes: 0 success, 1 a check failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import __version__, numeric
from .errors import InvalidArgument
from .formulas import LOSSES, Loss


def sample_inputs(loss: Loss, wrt: str, shape: tuple[int, int], seed: int) -> tuple[Any, Any]:
    """A reproducible ``(x, Y)`` for ``loss``: probabilities (wrt A) or logits (wrt Z), labels."""
    rng = np.random.default_rng(seed)
    n, m = shape
    Z = rng.normal(scale=3.0, size=shape)
    if loss.activation_name == "softmax":
        Y = np.eye(n)[:, rng.integers(0, n, size=m)]
    else:
        Y = rng.integers(0, 2, size=shape).astype(np.float64)
    x = Z if wrt == "Z" else np.clip(rng.uniform(size=shape), 1e-6, 1 - 1e-6)
    return x, Y


def finite_difference_row(loss: Loss, wrt: str, seed: int = 0) -> dict[str, Any]:
    """Check one closed form entry by entry against central differences; a table row."""
    shape = (1, 6) if loss.single_row else (4, 6)
    x, Y = sample_inputs(loss, wrt, shape, seed)
    if wrt == "A":
        fun, claimed, eq = (lambda a: loss.cost(a, Y)), loss.grad_A(x, Y), loss.equations[1]
    else:
        fun = lambda z: loss.cost_from_logits(z, Y)  # noqa: E731
        claimed, eq = loss.grad_Z(loss.activation(x), Y), loss.equations[2]
    start = time.perf_counter()
    ev = numeric.Evaluator(fun, (), x)
    scale = numeric.entry_scale(x)
    worst = 0.0
    for k in range(x.size):
        d = np.zeros_like(x)
        d.flat[k] = scale.flat[k]
        est = numeric.central(ev, x, d)
        gap = abs(float(claimed.flat[k]) * scale.flat[k] - est.value)
        worst = max(worst, gap / (8 * est.error + 1e-300))
    return {
        "loss": loss.name,
        "result": f"dJ/d{wrt} eq. ({eq})",
        "shape": f"{shape[0]}x{shape[1]}",
        "worst gap / bound": f"{worst:.2g}",
        "evaluations": str(ev.evaluations),
        "time": f"{1e3 * (time.perf_counter() - start):.0f} ms",
        "ok": worst <= 1.0,
    }


def print_table(rows: list[dict[str, Any]], out: Any = None) -> None:
    """Print rows of equal keys as an aligned text table (``ok`` shown as PASS/FAIL)."""
    out = out or sys.stdout
    cols = [k for k in rows[0] if k != "ok"] + ["verdict"]
    cells = [[str(r[c]) for c in cols[:-1]] + ["PASS" if r["ok"] else "FAIL"] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)), file=out)


def cmd_selfcheck(args: argparse.Namespace) -> int:
    rows = [finite_difference_row(loss, wrt, args.seed) for loss in LOSSES.values() for wrt in "AZ"]
    print_table(rows)
    failed = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} checks passed")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnderiv", description="Prove the derivatives of neural-network cost functions right."
    )
    parser.add_argument("--version", action="version", version=f"nnderiv {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("selfcheck", help="check every registered loss three ways")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_selfcheck)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InvalidArgument as exc:
        print(f"nnderiv: error: {exc}", file=sys.stderr)
        return 2
