"""Independent validation of every case in cases.py.

For each case the claimed gradient g = grad(x, *args) is compared with one-sided directional
derivatives of an independent high-precision (mpmath, 60 digits) version of the same mathematical
loss (case.ref), evaluated at the exact float values of x and args:
    Fp(d) = (F(x + h d) - F(x)) / h,   Fm(d) = (F(x) - F(x - h d)) / h,   h = 1e-30.
Smooth points: |g.d - (Fp+Fm)/2| must be within rounding.  Convex kinks: Fm <= g.d <= Fp
(g is a subgradient: g.d <= f'(x; d) for every tested d).  Generic (single-orientation) kinks:
g.d between Fp and Fm.  Directions: every coordinate (sampled for big x), 3 random +-1 vectors,
and the case's extra directions (e.g. tie groups for max-pooling).
A correct case must have no violation; a buggy case must have a violation far above the loss's own
precision (>= 1e-6 relative for float64 losses, >= 2.9e-3 for float32 ones), and for a case with a
bad_index, that coordinate must be wrong and every other tested coordinate right.
Also checks fun(x) against F(x) so that the reference really is the same loss.
The focal-loss closed form is additionally checked symbolically with sympy.
"""

import copy
import sys
import time

import mpmath as mp
import numpy as np

sys.path.insert(0, "/work/blind")
import mpops as M  # noqa: N812
from cases import CASES

H = mp.mpf("1e-30")


def flat_index(bi, shape):
    if bi is None:
        return None
    if isinstance(bi, tuple):
        return int(np.ravel_multi_index(bi, shape))
    return int(bi)


def validate(case, rng):
    x = case.x
    xf = x.astype(float) if x.dtype.kind in "iub" else x
    args = copy.deepcopy(case.args)
    g = np.asarray(case.grad(x.copy(), *copy.deepcopy(case.args)))
    out = {"name": case.name, "correct": case.correct, "problems": []}
    if g.shape != x.shape:
        out["shape_mismatch"] = True
        if case.correct:
            out["problems"].append(f"grad shape {g.shape} != x shape {x.shape}")
        out["max_rel_violation"] = float("inf")
        return out
    g = g.astype(np.float64)
    X = M.tomp(xf)
    ARGS = tuple(M.tomp(a) for a in args)
    F = lambda Z: case.ref(Z, *ARGS)  # noqa: E731
    F0 = F(X)
    fval = float(case.fun(x.copy(), *copy.deepcopy(case.args)))
    rel_f = abs(mp.mpf(fval) - F0) / max(abs(F0), mp.mpf("1e-300"))
    out["fun_vs_ref_rel"] = float(rel_f)
    ftol = 1e-5 if case.prec == "f32" else (1e-6 if case.category.startswith("2") else 1e-9)
    if case.ftol is not None:
        ftol = case.ftol
    if rel_f > ftol:
        out["problems"].append(f"fun(x) differs from reference by rel {float(rel_f):.2e}")

    n = x.size
    bad = flat_index(case.bad_index, x.shape)
    if n <= 200:
        coords = list(range(n))
    else:
        coords = list(rng.choice(n, size=20, replace=False))
        zeros = np.flatnonzero(xf.ravel() == 0)
        if zeros.size:
            coords += list(rng.choice(zeros, size=min(6, zeros.size), replace=False))
        if bad is not None:
            coords.append(bad)
        coords = sorted(set(int(c) for c in coords))
    dirs = []
    for c in coords:
        d = np.zeros(n)
        d[c] = 1.0
        dirs.append((f"e{c}", c, d))
    for k in range(3):
        dirs.append((f"rand{k}", None, rng.choice([-1.0, 1.0], size=n)))
    for k, d in enumerate(case.dirs):
        dirs.append((f"extra{k}", None, np.asarray(d, dtype=float).ravel()))

    rtol, atol = (2e-5, 1e-6) if case.prec == "f32" else (1e-9, 1e-12)
    if case.vatol is not None:
        atol = case.vatol
    gmax = float(np.max(np.abs(g))) if n else 0.0
    gflat = g.ravel()
    worst = 0.0
    bad_coords = []
    for label, c, d in dirs:
        Dm = d.reshape(x.shape)
        Fp = (F(X + H * Dm) - F0) / H
        Fm = (F0 - F(X - H * Dm)) / H
        gd = mp.fsum(
            mp.mpf(float(a)) * mp.mpf(float(b)) for a, b in zip(gflat, d, strict=False) if b != 0
        )
        scale = float(np.sum(np.abs(gflat * d)))
        tol = rtol * scale + atol * gmax * float(np.sum(np.abs(d)))
        if case.kink is None:
            viol = abs(gd - (Fp + Fm) / 2)
            if abs(Fp - Fm) > 1e-12 * (abs(Fp) + abs(Fm) + 1e-300) + 1e-20:
                out["problems"].append(f"{label}: one-sided derivatives differ at a 'smooth' point")
        elif case.kink == "convex":
            viol = max(0, Fm - gd, gd - Fp)
        else:
            viol = max(0, min(Fp, Fm) - gd, gd - max(Fp, Fm))
        viol = float(viol)
        denom = max(scale, float(abs(Fp + Fm)) / 2, 1e-300)
        rel = viol / denom
        is_bad = viol > tol
        if is_bad:
            worst = max(worst, rel)
            if c is not None:
                bad_coords.append(c)
        if case.correct and is_bad:
            out["problems"].append(f"{label}: violation {viol:.3e} (rel {rel:.2e}) > tol {tol:.2e}")
    out["max_rel_violation"] = worst
    out["n_bad_coords"] = len(bad_coords)
    if not case.correct:
        thr = 2.9e-3 if case.prec == "f32" else 1e-6
        if worst < thr:
            out["problems"].append(f"buggy case but max rel violation only {worst:.2e} < {thr}")
        if bad is not None:
            if bad not in bad_coords:
                out["problems"].append(f"bad_index {case.bad_index} not found wrong")
            if any(c != bad for c in bad_coords):
                out["problems"].append(f"other coordinates also wrong: {bad_coords[:5]}")
    return out


def sympy_focal_check():
    import sympy as sp

    z, _y, g = sp.symbols("z y gamma", real=True)
    p = 1 / (1 + sp.exp(-z))
    msgs = []
    for yv in (0, 1):
        pt = p if yv == 1 else 1 - p
        FL = -((1 - pt) ** g) * sp.log(pt)
        d = sp.diff(FL, z)
        claimed = (2 * yv - 1) * (g * pt * (1 - pt) ** g * sp.log(pt) - (1 - pt) ** (g + 1))
        simp = sp.simplify((d - claimed).subs(g, 2))
        if simp != 0:
            msgs.append(f"focal y={yv}: gamma=2 difference does not simplify to 0: {simp}")
        for zv in (-12, -3, sp.Rational(-1, 2), sp.Rational(7, 10), 8, 12, 25):
            for gv in (0, 1, 2, sp.Rational(7, 2)):
                a = sp.N(d.subs({z: zv, g: gv}), 50)
                b = sp.N(claimed.subs({z: zv, g: gv}), 50)
                if abs(a - b) > 1e-40 * (abs(a) + 1e-300):
                    msgs.append(f"focal y={yv} z={zv} gamma={gv}: {a} vs {b}")
    return msgs


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    only = sys.argv[1:]
    rng = np.random.default_rng(2024)
    t0 = time.time()
    fmsgs = sympy_focal_check()
    print("sympy focal closed form:", fmsgs if fmsgs else "OK")
    nprob = 0
    for case in CASES:
        if only and not any(o in case.name for o in only):
            continue
        t = time.time()
        try:
            r = validate(case, rng)
        except Exception as e:  # a reference bug
            r = {
                "problems": [f"validation crashed: {type(e).__name__}: {e}"],
                "max_rel_violation": float("nan"),
                "fun_vs_ref_rel": float("nan"),
            }
        status = "OK" if not r["problems"] else "PROBLEM"
        nprob += status != "OK"
        print(
            f"{status:7s} {'correct' if case.correct else 'buggy  '} {case.name:55s} "
            f"maxrelviol={r.get('max_rel_violation', 0):9.2e} "
            f"fun/ref={r.get('fun_vs_ref_rel', float('nan')):8.1e} "
            f"{time.time() - t:5.1f}s"
        )
        for p in r["problems"][:6]:
            print("        ", p)
    print(f"\n{nprob} case(s) with problems; {time.time() - t0:.0f}s")
