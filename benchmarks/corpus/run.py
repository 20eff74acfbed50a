"""Run the blind corpus through nnderiv (several seeds) and its peers; print and save the results.

    .venv/bin/python benchmarks/corpus/run.py [--only SUBSTRING] [--category CAT] [--no-peers]
                                              [--seeds 0,1,2] [--timeout 60]

Tools:

* nnderiv: ``check_gradient(fun, grad, x, seed=s)``, status "pass" / "fail" / "inconclusive";
  a case that takes longer than ``--timeout`` seconds (default 60) is stopped and reported as a
  problem (status "timeout"); one that raises is reported as a problem (status "error").
* torch gradcheck: ``torch.autograd.gradcheck`` with its default tolerances (eps=1e-6,
  atol=1e-5, rtol=1e-3) through a ``torch.autograd.Function`` whose forward calls ``fun`` and
  whose backward returns the claimed gradient; ``raise_exception=False``. The default (slow)
  mode needs 2 loss calls per entry, so inputs above ``TORCH_SLOW_MAX`` entries run with
  ``fast_mode=True`` (marked "fast" in results.json).
* jax check_grads: ``jax.test_util.check_grads(order=1, modes=["rev"])`` on a ``jax.custom_vjp``
  function whose forward and backward call the numpy loss / claimed gradient through
  ``jax.pure_callback`` (x64 enabled); its defaults (eps=1e-4, tolerances for float64).

A peer that raises counts as having flagged the case (its reason is kept), as in
benchmarks/peers.py.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # benchmarks/peers.py: the jax wrapper

from cases import build_cases, dropped_cases  # noqa: E402
from core import Case  # noqa: E402

from nnderiv import check_gradient  # noqa: E402

TORCH_SLOW_MAX = 20_000
RESULTS = HERE / "results.json"


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout


def timed(fn: Any, limit: float) -> tuple[Any, float, BaseException | None]:
    """fn() under a wall-clock limit (SIGALRM); returns (value, seconds, exception)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    try:
        return fn(), time.perf_counter() - start, None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return None, time.perf_counter() - start, exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class Counted:
    def __init__(self, fun: Any) -> None:
        self.fun, self.calls = fun, 0

    def __call__(self, *a: Any) -> Any:
        self.calls += 1
        return self.fun(*a)


# ---------------------------------------------------------------------------- the tools


def run_nnderiv(case: Case, seed: int, limit: float) -> dict[str, Any]:
    report, seconds, exc = timed(
        lambda: check_gradient(case.fun, case.grad, case.x, seed=seed), limit
    )
    if exc is not None:
        status = "timeout" if isinstance(exc, Timeout) else "error"
        detail = f"took > {limit:g} s" if status == "timeout" else f"{type(exc).__name__}: {exc}"
        return {"status": status, "seconds": seconds, "detail": detail[:2000], "report": ""}
    return {
        "status": report.status,
        "seconds": seconds,
        "evaluations": int(getattr(report, "evaluations", 0) or 0),
        "engine": str(getattr(report, "engine", "")),
        "report": str(report),
    }


def run_torch(case: Case, limit: float) -> dict[str, Any]:
    import torch

    fun = Counted(case.fun)

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            value = fun(x.detach().numpy())
            return torch.tensor(float(np.real(value)), dtype=torch.float64)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            (x,) = ctx.saved_tensors
            g = np.asarray(case.grad(x.detach().numpy()), dtype=np.float64)
            return grad_output * torch.from_numpy(g.copy())

    fast = case.size > TORCH_SLOW_MAX
    x = torch.tensor(np.asarray(case.x, dtype=np.float64), requires_grad=True)
    ok, seconds, exc = timed(
        lambda: torch.autograd.gradcheck(
            Wrapped.apply, (x,), fast_mode=fast, raise_exception=False
        ),
        limit,
    )
    out = {"mode": "fast" if fast else "default", "seconds": seconds, "evaluations": fun.calls}
    if exc is not None:
        out.update(
            flagged=True,
            detail=f"raised {type(exc).__name__}: {str(exc)[:200]}",
            timeout=isinstance(exc, Timeout),
        )
    else:
        out.update(flagged=not ok, detail="" if ok else "mismatch")
    return out


def run_jax(case: Case, limit: float) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads
    from peers import jax_function  # the catalogue benchmark's wrapper, one for both

    jax.config.update("jax_enable_x64", True)
    fun = Counted(case.fun)
    shape = np.shape(case.x)

    f = jax_function(fun, case.grad, shape)
    x = jnp.asarray(np.asarray(case.x, dtype=np.float64))
    _, seconds, exc = timed(lambda: check_grads(f, (x,), order=1, modes=["rev"]), limit)
    out: dict[str, Any] = {"seconds": seconds, "evaluations": fun.calls}
    if exc is None:
        out.update(flagged=False, detail="")
    elif isinstance(exc, AssertionError):
        out.update(flagged=True, detail="mismatch")
    else:
        out.update(
            flagged=True,
            detail=f"raised {type(exc).__name__}: {str(exc)[:200]}",
            timeout=isinstance(exc, Timeout),
        )
    return out


# ---------------------------------------------------------------------------- tallies


def verdict_of(tool_out: dict[str, Any], nnderiv: bool) -> str:
    """'pass' / 'fail' / 'undecided' / 'problem' (nnderiv timeout or error)."""
    if nnderiv:
        s = tool_out["status"]
        return {"pass": "pass", "fail": "fail", "inconclusive": "undecided"}.get(s, "problem")
    return "fail" if tool_out["flagged"] else "pass"


def tally(rows: list[tuple[Case, dict[str, Any]]], nnderiv: bool) -> dict[str, Any]:
    t: Counter[str] = Counter()
    secs = 0.0
    for case, out in rows:
        v = verdict_of(out, nnderiv)
        secs += out["seconds"]
        if case.truth == "correct":
            t[
                {
                    "pass": "ok_pass",
                    "fail": "false_alarm",
                    "undecided": "ok_undecided",
                    "problem": "ok_problem",
                }[v]
            ] += 1
        else:
            t[
                {
                    "pass": "missed",
                    "fail": "caught",
                    "undecided": "bug_undecided",
                    "problem": "bug_problem",
                }[v]
            ] += 1
    n_ok = sum(1 for c, _ in rows if c.truth == "correct")
    return {**t, "n_correct": n_ok, "n_buggy": len(rows) - n_ok, "seconds": secs}


def fmt_row(name: str, t: dict[str, Any]) -> str:
    def frac(k: str, n: str) -> str:
        return f"{t.get(k, 0)}/{t[n]}"

    und_ok = t.get("ok_undecided", 0) + t.get("ok_problem", 0)
    und_bug = t.get("bug_undecided", 0) + t.get("bug_problem", 0)
    return (
        f"  {name:<26}{frac('ok_pass', 'n_correct'):>10}{frac('false_alarm', 'n_correct'):>10}"
        f"{und_ok:>8}   {frac('caught', 'n_buggy'):>10}{frac('missed', 'n_buggy'):>10}"
        f"{und_bug:>8}{t['seconds']:>10.1f}s"
    )


HEADER = (
    f"  {'tool':<26}{'pass':>10}{'false al.':>10}{'undec.':>8}   {'caught':>10}{'missed':>10}"
    f"{'undec.':>8}{'time':>11}\n  {'':<26}{'--- correct cases ---':>28}   "
    f"{'--- buggy cases ---':>28}"
)


def excerpt(report: str, n: int = 3) -> list[str]:
    lines = report.splitlines()
    out = lines[:n]
    extra = [ln for ln in lines[n:] if ln.strip().startswith("diagnosis:")]
    table = [i for i, ln in enumerate(lines) if ln.strip().startswith("index ")]
    if table and table[0] + 1 < len(lines):
        extra += [lines[table[0]], lines[table[0] + 1]]
    return out + extra


# ---------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    ap.add_argument("--category", default="", help="run only categories containing this")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--timeout", type=float, default=60.0, help="per case and tool, seconds")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")

    start = time.perf_counter()
    cases = [c for c in build_cases() if args.only in c.name and args.category in c.category]
    print(
        f"{len(cases)} cases ({sum(c.truth == 'correct' for c in cases)} correct, "
        f"{sum(c.truth == 'buggy' for c in cases)} buggy), built in "
        f"{time.perf_counter() - start:.1f} s; seeds {seeds}; peers "
        f"{'off' if args.no_peers else 'on'}",
        flush=True,
    )

    results: dict[str, dict[str, Any]] = {}
    for i, case in enumerate(cases):
        r: dict[str, Any] = {
            "category": case.category,
            "truth": case.truth,
            "bug": case.bug,
            "note": case.note,
            "float32": case.float32,
            "size": case.size,
            "validated": case.validate,
            "nnderiv": {},
        }
        for s in seeds:
            r["nnderiv"][str(s)] = run_nnderiv(case, s, args.timeout)
        if not args.no_peers:
            r["torch"] = run_torch(case, args.timeout * 4)
            r["jax"] = run_jax(case, args.timeout)
        results[case.name] = r
        if (i + 1) % 50 == 0:
            print(
                f"  ... {i + 1}/{len(cases)} cases, {time.perf_counter() - start:.0f} s", flush=True
            )
    wall = time.perf_counter() - start
    by_name = {c.name: c for c in cases}

    # ---- summary table
    print(
        "\nSUMMARY (correct cases: pass / false alarm / undecided; buggy cases: caught / missed "
        "/ undecided)"
    )
    print(HEADER)
    summary: dict[str, Any] = {}
    for s in seeds:
        rows = [(by_name[n], r["nnderiv"][str(s)]) for n, r in results.items()]
        summary[f"nnderiv seed {s}"] = t = tally(rows, True)
        print(fmt_row(f"nnderiv seed {s}", t))
    if not args.no_peers:
        for tool, label in (("torch", "torch gradcheck"), ("jax", "jax check_grads")):
            rows = [(by_name[n], r[tool]) for n, r in results.items()]
            summary[label] = t = tally(rows, False)
            print(fmt_row(label, t))
        nfast = sum(1 for r in results.values() if r["torch"]["mode"] == "fast")
        print(
            f"  (torch gradcheck ran with fast_mode=True on the {nfast} inputs above "
            f"{TORCH_SLOW_MAX} entries)"
        )

    # ---- per category
    print("\nPER CATEGORY (correct: pass/false alarm/undecided | buggy: caught/missed/undecided)")
    cats = sorted({c.category for c in cases})
    tools = [("nnderiv s" + str(s), lambda r, s=s: r["nnderiv"][str(s)], True) for s in seeds]
    if not args.no_peers:
        tools += [("torch", lambda r: r["torch"], False), ("jax", lambda r: r["jax"], False)]
    print(f"  {'category':<20}{'n ok/bug':>9}  " + "".join(f"{n:>22}" for n, _, _ in tools))
    per_cat: dict[str, Any] = {}
    for cat in cats:
        names = [n for n, r in results.items() if r["category"] == cat]
        cells = []
        per_cat[cat] = {}
        for tname, get, is_nd in tools:
            t = tally([(by_name[n], get(results[n])) for n in names], is_nd)
            per_cat[cat][tname] = t
            cells.append(
                f"{t.get('ok_pass', 0)}/{t.get('false_alarm', 0)}/"
                f"{t.get('ok_undecided', 0) + t.get('ok_problem', 0)} | "
                f"{t.get('caught', 0)}/{t.get('missed', 0)}/"
                f"{t.get('bug_undecided', 0) + t.get('bug_problem', 0)}"
            )
        n_ok = sum(1 for n in names if results[n]["truth"] == "correct")
        print(f"  {cat:<20}{n_ok:>4}/{len(names) - n_ok:<4}  " + "".join(f"{c:>22}" for c in cells))

    # ---- every wrong nnderiv verdict
    print("\nNNDERIV WRONG VERDICTS (correct -> fail, buggy -> pass), per seed:")
    wrong = []
    for n, r in results.items():
        for s, o in r["nnderiv"].items():
            v = verdict_of(o, True)
            if (r["truth"] == "correct" and v == "fail") or (r["truth"] == "buggy" and v == "pass"):
                wrong.append((n, s))
    if not wrong:
        print("  none")
    grouped: dict[str, list[str]] = defaultdict(list)
    for n, s in wrong:
        grouped[n].append(s)
    for n, ss in grouped.items():
        r = results[n]
        kind = "FALSE ALARM" if r["truth"] == "correct" else "MISSED BUG"
        print(f"\n  [{kind}] {n}   ({r['category']}; seeds {','.join(ss)})")
        if r["bug"]:
            print(f"    bug: {r['bug']}")
        elif r["note"]:
            print(f"    note: {r['note']}")
        shown: set[str] = set()
        for s in ss:
            ex = "\n".join(excerpt(r["nnderiv"][s]["report"]))
            if ex in shown:
                print(f"    seed {s}: (same report lines as above)")
                continue
            shown.add(ex)
            print(f"    seed {s}:")
            for ln in ex.splitlines():
                print("      " + ln[:220])

    # ---- inconclusive and problems
    print("\nNNDERIV INCONCLUSIVE (any seed), by category:")
    for cat in cats:
        items = []
        for n, r in results.items():
            if r["category"] != cat:
                continue
            ss = [s for s, o in r["nnderiv"].items() if o["status"] == "inconclusive"]
            if ss:
                items.append(
                    f"{'ok ' if r['truth'] == 'correct' else 'bug'} {n} (seeds {','.join(ss)})"
                )
        if items:
            print(f"  {cat}: {len(items)}")
            for it in items:
                print(f"    {it}")
    print("\nPROBLEMS (nnderiv timeout/error; peer timeouts):")
    nprob = 0
    for n, r in results.items():
        for s, o in r["nnderiv"].items():
            if o["status"] in ("timeout", "error"):
                nprob += 1
                print(f"  nnderiv seed {s} {o['status']}: {n}: {o['detail'][:300]}")
        for tool in ("torch", "jax"):
            if tool in r and r[tool].get("timeout"):
                nprob += 1
                print(f"  {tool} timeout: {n}")
    if not nprob:
        print("  none")
    drops = dropped_cases()
    if drops:
        print("\nDROPPED POINTS (torch inaccurate against mpmath; validate.py):")
        for b, why in drops.items():
            print(f"  {b}: {why}")
    print(f"\nwall time {wall:.0f} s")

    RESULTS.parent.mkdir(exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "seeds": seeds,
                "peers": not args.no_peers,
                "wall_seconds": wall,
                "torch_slow_max": TORCH_SLOW_MAX,
                "summary": summary,
                "per_category": per_cat,
                "nnderiv_wrong": [{"case": n, "seed": s} for n, s in wrong],
                "dropped": drops,
                "cases": results,
            },
            indent=1,
            default=str,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
