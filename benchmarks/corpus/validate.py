"""Validate the corpus's ground truth against mpmath; writes validation.json.

For every point that has an mpmath version of its loss (``case.mp``), the reference gradient is
an 120-digit central difference (``mpref.reference_gradient``). A point is dropped (with its
planted bugs) when torch's gradient misses the reference by more than ``1e-6·|ref_k| +
1e-30·max|ref|`` on some entry. Every buggy claim at a validated point must differ from the
reference by at least 1e-4 relative on some entry and by 100x torch's own error there.

Also: float32 points are compared with torch autograd of the same expression in float64.

    python benchmarks/corpus/validate.py [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import mpref  # noqa: E402
from cases import VALIDATION, build_all  # noqa: E402
from core import autograd  # noqa: E402

REL = 1e-6
FLOOR = 1e-30  # entries 30 decades below the largest are not judged


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    cases = build_all().cases
    old = json.loads(VALIDATION.read_text()) if VALIDATION.exists() else {}
    out: dict[str, dict] = {} if not args.only else dict(old)
    bases: dict[str, list] = {}
    for c in cases:
        bases.setdefault(c.base, []).append(c)
    problems = 0
    for base, group in bases.items():
        if args.only and args.only not in base:
            continue
        c0 = group[0]
        entry: dict = {"category": c0.category, "drop": False, "reason": ""}
        if c0.float32 and c0.expr is not None:
            g64 = autograd(c0.expr, c0.x.astype(np.float64))
            top = float(np.max(np.abs(g64)))
            err = np.abs(c0.torch_grad.astype(np.float64) - g64)
            entry["float32_vs_float64"] = float(np.max(err / (np.abs(g64) + 1e-3 * top)))
        if c0.mp is None:
            if "float32_vs_float64" in entry:
                out[base] = entry
            continue
        start = time.perf_counter()
        ref, ref_err = mpref.reference_gradient(c0.mp, c0.x.astype(np.float64))
        g = c0.torch_grad.astype(np.float64)
        top = float(np.max(np.abs(ref))) or 1.0
        tol = REL * np.abs(ref) + FLOOR * top
        err = np.abs(g - ref)
        worst = int(np.argmax(err / tol))
        entry.update(
            reference_self_error=ref_err,
            torch_max_rel_err=float(np.max(err / np.where(ref != 0, np.abs(ref), top))),
            torch_err_over_tol=float(err.reshape(-1)[worst] / tol.reshape(-1)[worst]),
        )
        if ref_err > 1e-9:
            entry.update(drop=True, reason=f"mpmath reference not converged ({ref_err:.1e})")
        elif not np.all(err <= tol):
            k = np.unravel_index(worst, g.shape)
            entry.update(
                drop=True,
                reason=(
                    f"torch inaccurate at {tuple(int(i) for i in k)}: torch {g[k]:.10e}, "
                    f"reference {ref[k]:.10e} (rel err {err[k] / max(abs(ref[k]), 1e-300):.1e})"
                ),
            )
        bugs = {}
        for c in group:
            if c.truth != "buggy":
                continue
            b = c.claim.astype(np.float64)
            d = np.abs(b - ref)
            genuine = (d > 1e-4 * np.abs(ref)) & (d > 100 * err) & (d > 0)
            bugs[c.name] = bool(genuine.any())
            if not genuine.any():
                problems += 1
                print(f"  NOT A GENUINE BUG: {c.name}: {c.bug}")
        entry["bugs_genuine"] = bugs
        out[base] = entry
        flag = "DROP " + entry["reason"] if entry["drop"] else "ok"
        print(
            f"{base[:60]:<60} {time.perf_counter() - start:6.1f}s  torch err/tol "
            f"{entry['torch_err_over_tol']:.2g}  {flag}",
            flush=True,
        )
    VALIDATION.write_text(json.dumps(out, indent=1, sort_keys=True))
    dropped = [b for b, e in out.items() if e.get("drop")]
    print(f"\n{len(out)} points recorded, {len(dropped)} dropped, {problems} non-genuine bugs")
    for b in dropped:
        print(f"  dropped: {b}: {out[b]['reason']}")


if __name__ == "__main__":
    main()
