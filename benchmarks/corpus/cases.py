"""The blind corpus of scalar-loss gradient cases for nnderiv (built deterministically).

Every correct claim is torch autograd of torch's own expression at float64 (float32 for the
float32 cases), computed once here; every buggy claim is a planted mutation of it, torch
autograd of a genuinely different expression, or (at kinks) a hand-derived vector that is not a
subgradient. Hand-derived valid subgradients at kinks are "correct" cases too.

``build_cases()`` returns the list of ``core.Case``; the correct cases whose torch gradient was
found inaccurate against mpmath (``validate.py`` → ``validation.json``) are dropped, together
with their planted bugs, and listed by ``dropped_cases()``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import mpref as M
import numpy as np
import torch
import torch.nn.functional as F
from core import Case, Corpus, K, idx

HERE = Path(__file__).resolve().parent
VALIDATION = HERE / "validation.json"
INF = float("inf")

LA = torch.linalg


def sym(t: torch.Tensor) -> torch.Tensor:
    return (t + t.transpose(-1, -2)) / 2


def dot(k: K, a: torch.Tensor, flip: bool = False, perm: Any = None) -> torch.Tensor:
    """k · a, the constant in a's dtype (a may be real although x was complex)."""
    w = k(a)
    if flip:
        w = w.flip(0)
    if perm is not None:
        w = w[perm]
    return w @ a


def rot(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def spd(eigs: Any, rng: np.random.Generator) -> np.ndarray:
    q = rot(len(eigs), rng)
    a = (q * np.asarray(eigs, dtype=np.float64)) @ q.T
    return (a + a.T) / 2


def with_svals(s: Any, rng: np.random.Generator, m: int | None = None) -> np.ndarray:
    n = len(s)
    u = rot(m or n, rng)[:, :n]
    v = rot(n, rng)
    return (u * np.asarray(s, dtype=np.float64)) @ v.T


# 12 single-entry and global bugs, rotated through the families of a category
ROTATION: list[tuple[Any, ...]] = [
    ("scale", "random", 1.01),
    ("sign", "random"),
    ("zero", "random"),
    ("swap",),
    ("scale", "random", 1.1),
    ("noise", 1e-3),
    ("offset_last", 1e-3),
    ("sign", "smallest"),
    ("scale", "random", 2.0),
    ("all", 2.0, "whole gradient x2"),
    ("all", 0.5, "whole gradient x0.5"),
    ("scale", "largest", 1.01),
]


def rotation(k: int) -> tuple[Any, ...]:
    return ROTATION[k % len(ROTATION)]


# ============================================================================ 1. element-wise


def cat_elementwise(C: Corpus) -> None:
    cat = "01-elementwise"
    rng = np.random.default_rng(1001)

    def signed(lo: float, hi: float) -> Any:
        return lambda n: 10 ** rng.uniform(lo, hi, n) * rng.choice([-1.0, 1.0], n)

    def pos(lo: float, hi: float) -> Any:
        return lambda n: 10 ** rng.uniform(lo, hi, n)

    def log1p_x(n: int) -> np.ndarray:
        return rng.permutation(
            np.concatenate([[-0.999, -0.5, -1e-9], 10 ** rng.uniform(-10, 6, n - 3)])
        )

    def pw(p: float) -> Any:
        return lambda t: t**p

    s2 = 2 / math.sqrt(math.pi)
    # name, torch fn, mp fn, sampler, wrong-derivative (numpy, of x) and its description
    fams: list[tuple[str, Any, Any, Any, Any, str]] = [
        (
            "exp",
            torch.exp,
            M.exp,
            lambda n: rng.uniform(-20, 20, n),
            lambda x: x * np.exp(x - 1),
            "d/dx e^x taken as x e^(x-1) (power rule)",
        ),
        (
            "log",
            torch.log,
            M.log,
            pos(-8, 8),
            lambda x: 1 / (x * np.log(10)),
            "derivative of log10 instead of ln",
        ),
        ("log1p", torch.log1p, M.log1p, log1p_x, lambda x: 1 / x, "d/dx log1p(x) taken as 1/x"),
        (
            "expm1",
            torch.expm1,
            M.expm1,
            signed(-12, 1.3),
            lambda x: np.expm1(x),
            "returned expm1(x) itself instead of e^x",
        ),
        (
            "sqrt",
            torch.sqrt,
            M.sqrt,
            pos(-10, 10),
            lambda x: 1 / np.sqrt(x),
            "missing 1/2 in d/dx sqrt",
        ),
        (
            "tanh",
            torch.tanh,
            M.tanh,
            signed(-8, 1.2),
            lambda x: 1 - np.tanh(x),
            "1 - tanh instead of 1 - tanh^2",
        ),
        (
            "sigmoid",
            torch.sigmoid,
            M.sigmoid,
            signed(-8, 1.5),
            lambda x: 1 / (1 + np.exp(-x)),
            "sigma instead of sigma(1-sigma)",
        ),
        (
            "softplus",
            F.softplus,
            M.softplus,
            signed(-6, 1.6),
            lambda x: 1 / (1 + np.exp(x)),
            "sigma(-x) instead of sigma(x)",
        ),
        ("erf", torch.erf, M.erf, signed(-8, 0.7), lambda x: np.exp(-(x**2)), "missing 2/sqrt(pi)"),
        (
            "atan",
            torch.atan,
            M.atan,
            signed(-8, 8),
            lambda x: 1 / (1 + np.abs(x)),
            "1/(1+|x|) instead of 1/(1+x^2)",
        ),
        ("sin", torch.sin, M.sin, signed(-6, 3), lambda x: -np.cos(x), "d/dx sin taken as -cos"),
        (
            "reciprocal",
            torch.reciprocal,
            M.ew(lambda v: 1 / v),
            signed(-5, 5),
            lambda x: 1 / x**2,
            "sign of d/dx 1/x lost",
        ),
        ("pow2", pw(2.0), M.powv(2.0), signed(-6, 6), lambda x: x, "missing factor 2"),
        (
            "pow3",
            pw(3.0),
            M.powv(3.0),
            signed(-4, 4),
            lambda x: 3 * x**3,
            "p x^p instead of p x^(p-1)",
        ),
        (
            "pow2.7",
            pw(2.7),
            M.powv(2.7),
            pos(-6, 6),
            lambda x: 2.7 * x**2.7,
            "p x^p instead of p x^(p-1)",
        ),
        (
            "pow0.5",
            pw(0.5),
            M.powv(0.5),
            pos(-10, 10),
            lambda x: 0.5 * x**0.5,
            "p x^p instead of p x^(p-1)",
        ),
        (
            "pow-1.5",
            pw(-1.5),
            M.powv(-1.5),
            pos(-4, 4),
            lambda x: 1.5 * x**-2.5,
            "sign of the exponent lost",
        ),
        (
            "pow1/3",
            pw(1 / 3),
            M.powv(1 / 3),
            pos(-9, 9),
            lambda x: x ** (-2 / 3),
            "missing factor 1/3",
        ),
        (
            "pow-0.25",
            pw(-0.25),
            M.powv(-0.25),
            pos(-8, 8),
            lambda x: -0.25 * x**-0.25,
            "p x^p instead of p x^(p-1)",
        ),
        (
            "pow4",
            pw(4.0),
            M.powv(4.0),
            signed(-3, 3),
            lambda x: 4 * np.abs(x) ** 3,
            "|x|^3 instead of x^3",
        ),
    ]
    k = 0
    for i, (name, fn, mfn, sample, wrong, wdesc) in enumerate(fams):
        for shape in ((16,), (3, 5)) if i < 15 else ((16,),):
            n = int(np.prod(shape))
            x = sample(n).reshape(shape)
            w = rng.standard_normal(shape)
            wk = K(w)

            def expr(t: torch.Tensor, fn: Any = fn, wk: K = wk) -> torch.Tensor:
                return (wk(t) * fn(t)).sum()

            def mp(X: np.ndarray, mfn: Any = mfn, w: np.ndarray = w) -> Any:
                return M.fsum(M.c(w) * mfn(X))

            if len(shape) == 2:
                bugs: list[Any] = [("claim", w * wrong(x), wdesc, "wrong-derivative")]
            else:
                bugs = [rotation(k)]
                k += 1
            lo, hi = (math.floor(np.log10(v)) for v in (np.abs(x).min(), np.abs(x).max()))
            C.point(cat, f"{name} {shape} |x| in 1e{lo}..1e{hi}", x, expr, bugs, seed=10 + i, mp=mp)


# ============================================================================ 2. reductions


def cat_reductions(C: Corpus) -> None:
    cat = "02-reductions"
    rng = np.random.default_rng(2002)
    R = rng.standard_normal
    k = [0]

    def nxt() -> tuple[Any, ...]:
        k[0] += 1
        return rotation(k[0] + 3)

    def add(name: str, x: np.ndarray, expr: Any, extra: list[Any] | None = None) -> None:
        C.point(cat, name, x, expr, extra or [nxt()], seed=200 + k[0])

    w6, w4, w5, w7, w3 = (K(R(n)) for n in (6, 4, 5, 7, 3))
    add(
        "sum: sin(sum) + col/row sums",
        R((4, 6)),
        lambda t: (
            torch.sin(t.sum()) + (t.sum(0) ** 2 * w6(t)).sum() + (t.sum(1) ** 3 * w4(t)).sum()
        ),
    )
    add(
        "sum: sum of squares of row sums",
        3 * R((5, 3)),
        lambda t: (t.sum(1) ** 2).sum() + t.sum() ** 2 / 7,
        [("wrong", lambda t: (t.sum(1) ** 2).sum(), "omitted the (sum)^2/7 term", "omitted")],
    )
    add(
        "mean: log1p(row mean^2)",
        R((5, 4)),
        lambda t: (torch.log1p(t.mean(1) ** 2) * w5(t)).sum() + t.mean() ** 2,
    )
    add(
        "mean: mean of cubes",
        R((3, 7)) + 0.5,
        lambda t: (t**3).mean(),
        [("all", 21.0, "missing 1/m (x21, m = 21 entries)")],
    )
    add("logsumexp rows", 5 * R((5, 7)), lambda t: (torch.logsumexp(t, 1) * w5(t)).sum())
    add(
        "logsumexp cols wide",
        10 * R((6, 3)),
        lambda t: torch.logsumexp(t, 0) @ w3(t),
        [
            (
                "wrong",
                lambda t: torch.logsumexp(t, 1).sum(),
                "logsumexp over the wrong axis",
                "wrong-axis",
            )
        ],
    )
    c10 = K(R(10))
    add("norm1 squared", R(10), lambda t: LA.vector_norm(t - c10(t), 1) ** 2)
    add("norm2", R(10), lambda t: LA.vector_norm(t - c10(t)))
    add(
        "norm2 rows",
        R((4, 5)),
        lambda t: dot(w4, LA.vector_norm(t, dim=1)),
        [
            (
                "wrong",
                lambda t: (LA.vector_norm(t, dim=1) ** 2 / 2) @ w4(t),
                "x instead of x/|x| (forgot the division by the norm)",
                "omitted",
            )
        ],
    )
    add("norm inf + smooth", R(10), lambda t: LA.vector_norm(t - c10(t), INF) + 0.1 * (t**2).sum())
    A43 = K(R((4, 4)))
    add("frobenius of A@X", R((4, 3)), lambda t: LA.matrix_norm(A43(t) @ t))
    add(
        "frobenius squared",
        R((3, 3)),
        lambda t: LA.matrix_norm(t) ** 2 + t[0, 1] * t[1, 0],
        [("transpose",)],
    )
    add(
        "var rows",
        R((4, 6)),
        lambda t: dot(w4, torch.var(t, dim=1)),
        [
            (
                "wrong",
                lambda t: dot(w4, torch.var(t, dim=1, correction=0)),
                "biased (1/n) variance gradient for the unbiased variance",
                "wrong-correction",
            )
        ],
    )
    add("var all", 2 * R(12) + 1, lambda t: torch.var(t))
    add(
        "std + std cols", R((5, 4)), lambda t: torch.std(t) + dot(w4, torch.std(t, 0, correction=0))
    )
    add("std of exp", R(9), lambda t: torch.std(torch.exp(t)))
    xp = rng.uniform(0.5, 2.0, 8) * rng.choice([-1.0, 1.0], 8)
    add("prod", xp, lambda t: torch.prod(t))
    add("prod rows of 1+x^2", R((3, 4)), lambda t: torch.prod(1 + t**2, dim=1) @ w3(t))
    xz = R(7)
    xz[3] = 1e-3
    add("prod with an entry near 0", xz, lambda t: torch.prod(t) * 1e3)
    w10 = K(R(10))
    add(
        "cumsum squared",
        R(10),
        lambda t: (torch.cumsum(t, 0) ** 2 * w10(t)).sum(),
        [("wrong", lambda t: (t**2 * w10(t)).sum() + 0 * t.sum(), "cumsum dropped", "omitted")],
    )
    W35 = K(R((3, 5)))
    add("cumsum dim1", R((3, 5)), lambda t: (torch.exp(torch.cumsum(t, 1) / 3) * W35(t)).sum())
    add("cumprod", 1 + 0.3 * R(10), lambda t: torch.cumprod(t, 0) @ w10(t))
    add("cumprod rows", 1 + 0.2 * R((3, 5)), lambda t: (torch.cumprod(t, 1) * W35(t)).sum())
    add("max + min + smooth", R(12), lambda t: t.max() - 2 * t.min() + 0.05 * (t**2).sum())
    add("amax rows", R((4, 6)), lambda t: t.amax(1) @ w4(t) + 0.1 * (t**3).sum())
    add("min cols values", R((5, 6)), lambda t: t.min(0).values @ w6(t) + 0.01 * (t**2).sum())
    add("max of exp", R(8), lambda t: torch.exp(t).max() + torch.sin(t).sum())
    w9 = K(R(9))
    add(
        "sort values",
        R(9),
        lambda t: torch.sort(t).values @ w9(t),
        [
            (
                "wrong",
                lambda t: t @ w9(t),
                "weights applied in input order, not sorted order",
                "unsorted",
            )
        ],
    )
    W46 = K(R((4, 6)))
    add(
        "sort rows desc",
        R((4, 6)),
        lambda t: (torch.sort(t, dim=1, descending=True).values * W46(t)).sum(),
    )
    add("topk 3", R(11), lambda t: torch.topk(t, 3).values @ w3(t) + 0.1 * t.sum())
    add("topk rows", R((4, 8)), lambda t: (torch.topk(t, 2, dim=1).values ** 2).sum())
    add("median odd", R(11), lambda t: torch.median(t) + 0.05 * (t**2).sum())
    add("median rows", R((4, 7)), lambda t: torch.median(t, 1).values @ w4(t))
    add("amax then logsumexp", R((3, 5)), lambda t: torch.logsumexp(t.amax(0), 0))


# ============================================================================ 3. linear algebra


def cat_linalg(C: Corpus) -> None:
    cat = "03-linalg"
    rng = np.random.default_rng(3003)
    R = rng.standard_normal
    k = [0]

    def nxt() -> tuple[Any, ...]:
        k[0] += 1
        return rotation(k[0] + 5)

    def add(
        name: str,
        x: np.ndarray,
        expr: Any,
        mp: Any,
        bugs: list[Any] | None = None,
        rot_bug: bool = True,
        correct: bool = True,
    ) -> np.ndarray:
        b = bugs or ([nxt()] if rot_bug else [])
        return C.point(cat, name, x, expr, b, seed=300 + k[0], mp=mp, correct=correct)

    # --- logdet / slogdet / det
    X = spd(rng.uniform(0.5, 3, 5), rng)
    add(
        "logdet spd 5x5",
        X,
        torch.logdet,
        lambda Z: M.mpm.log(M.mpm.det(M.mat(Z))),
        [("claim", X, "returned X instead of inv(X)", "wrong-formula")],
    )
    G = R((5, 5)) + 2 * np.eye(5)
    add(
        "slogdet logabs general 5x5",
        G,
        lambda t: LA.slogdet(t)[1],
        lambda Z: M.mpm.log(abs(M.mpm.det(M.mat(Z)))),
        [("transpose",)],
    )
    Gs = with_svals([3, 2, 1, 0.5, 1e-6], rng)
    add(
        "slogdet logabs sigma_min=1e-6",
        Gs,
        lambda t: LA.slogdet(t)[1],
        lambda Z: M.mpm.log(abs(M.mpm.det(M.mat(Z)))),
        [("transpose",), ("scale", "smallest", 1.01)],
    )
    G4 = R((4, 4))
    add(
        "det 4x4",
        G4,
        LA.det,
        lambda Z: M.mpm.det(M.mat(Z)),
        [("transpose",), ("all", -1.0, "sign of the whole gradient flipped")],
    )
    Gd = with_svals([2, 1.5, 1, 1e-6], rng)
    add("det sigma_min=1e-6", Gd, LA.det, lambda Z: M.mpm.det(M.mat(Z)), [("transpose",)])
    add(
        "logdet sym(X) kappa=1e9",
        spd(np.logspace(0, -9, 5), rng),
        lambda t: torch.logdet(sym(t)),
        lambda Z: M.mpm.log(M.mpm.det(M.sym(Z))),
        [("scale", "smallest", 1.01)],
        rot_bug=False,
    )
    D = np.logspace(0, -9, 5)
    Sg = np.eye(5) + 0.1 * spd(rng.uniform(-1, 1, 5), rng)
    graded = np.sqrt(D)[:, None] * Sg * np.sqrt(D)[None, :]
    add(
        "logdet graded kappa=1e9",
        graded,
        torch.logdet,
        lambda Z: M.mpm.log(M.mpm.det(M.mat(Z))),
        [("sign", "smallest")],
        rot_bug=False,
    )

    # --- inverse / solve
    W4 = R((4, 4))
    Wk = K(W4)
    A = R((4, 4)) + 3 * np.eye(4)
    Ai = np.linalg.inv(A)
    add(
        "sum(W*inv(A)) 4x4",
        A,
        lambda t: (Wk(t) * LA.inv(t)).sum(),
        lambda Z: M.msum(M.mat(Z) ** -1, W4),
        [
            ("transpose",),
            ("claim", -Ai @ W4 @ Ai, "-inv W inv (transposes forgotten)", "wrong-formula"),
        ],
    )
    An = with_svals([2, 1, 0.7, 1e-6], rng)
    add(
        "sum(W*inv(A)) sigma_min=1e-6",
        An,
        lambda t: (Wk(t) * LA.inv(t)).sum(),
        lambda Z: M.msum(M.mat(Z) ** -1, W4),
        [("scale", "smallest", 1.01), ("transpose",)],
        rot_bug=False,
    )
    b5, c5 = R(5), R(5)
    bk, ck = K(b5), K(c5)
    A5 = R((5, 5)) + 3 * np.eye(5)

    def mp_bsolve(Z: np.ndarray, b: np.ndarray = b5, c: np.ndarray = c5) -> Any:
        s = M.mpm.lu_solve(M.mat(Z), M.mpm.matrix(M.c(c).tolist()))
        return M.mpm.fsum(M.c(b)[i] * s[i] for i in range(len(b)))

    add("b.solve(A,c) 5x5", A5, lambda t: bk(t) @ LA.solve(t, ck(t)), mp_bsolve, [("transpose",)])
    add(
        "b.solve(A,b) spd kappa=1e9",
        spd(np.logspace(0, -9, 5), rng),
        lambda t: bk(t) @ LA.solve(sym(t), bk(t)),
        lambda Z: mp_bsolve(np.asarray((M.sym(Z)).tolist(), dtype=object), b5, b5),
        [("scale", "random", 1.01)],
        rot_bug=False,
    )
    Bm = R((4, 3))
    A4 = R((4, 4)) + 2 * np.eye(4)
    A4k = K(A4)
    W43 = R((4, 3))
    W43k = K(W43)

    def mp_solveB(Z: np.ndarray) -> Any:
        S = M.mat(A4) ** -1 * M.mat(Z)
        return M.msum(S, W43)

    add(
        "sum(W*solve(A,B)) wrt B",
        Bm,
        lambda t: (W43k(t) * LA.solve(A4k(t), t)).sum(),
        mp_solveB,
        [
            (
                "wrong",
                lambda t: (W43k(t) * LA.solve(A4k(t).T, t)).sum(),
                "A^-1 W instead of A^-T W",
                "transposed-A",
            )
        ],
    )

    # --- cholesky
    Xc = spd(rng.uniform(0.5, 2, 4), rng)
    W44 = np.tril(R((4, 4)))
    W44k = K(W44)
    add(
        "sum(W*chol(sym X)) 4x4",
        Xc,
        lambda t: (W44k(t) * LA.cholesky(sym(t))).sum(),
        lambda Z: M.msum(M.mpm.cholesky(M.sym(Z)), W44),
    )
    Xr = R((4, 3))
    I4 = K(np.eye(4))

    def mp_halflogdet(Z: np.ndarray) -> Any:
        A = M.mat(Z)
        L = M.mpm.cholesky(A * A.T + M.mpm.eye(4))
        return M.mpm.fsum(M.mpm.log(L[i, i]) for i in range(4))

    add(
        "sum log diag chol(XX^T+I)",
        Xr,
        lambda t: torch.log(torch.diagonal(LA.cholesky(t @ t.T + I4(t)))).sum(),
        mp_halflogdet,
        [("all", 0.5, "factor 2 of d(XX^T) forgotten (x0.5)")],
    )
    add(
        "sum(W*chol(sym X)) kappa=1e9",
        spd(np.logspace(0, -9, 4), rng),
        lambda t: (W44k(t) * LA.cholesky(sym(t))).sum(),
        lambda Z: M.msum(M.mpm.cholesky(M.sym(Z)), W44),
        [("scale", "random", 1.1)],
        rot_bug=False,
    )

    # --- eigvalsh
    w5 = R(5)
    w5k = K(w5)

    def mp_eig(Z: np.ndarray, w: np.ndarray = w5) -> Any:
        return M.mpm.fsum(a * b for a, b in zip(M.c(w), M.eigvalsh(M.sym(Z)), strict=True))

    Xs = spd(R(5), rng)
    add(
        "w.eigvalsh(sym X) 5x5",
        Xs,
        lambda t: dot(w5k, LA.eigvalsh(sym(t))),
        mp_eig,
        [
            (
                "wrong",
                lambda t: dot(w5k, LA.eigvalsh(sym(t)), flip=True),
                "eigenvalue weights applied in reversed order",
                "reversed",
            )
        ],
    )
    X6 = spd(R(6) * 3, rng)
    add(
        "eigvalsh max 6x6",
        X6,
        lambda t: LA.eigvalsh(sym(t))[-1],
        lambda Z: M.eigvalsh(M.sym(Z))[-1],
    )
    wd = np.array([0.3, -1.2, 2.0, 0.7, 1.1])
    wdk = K(wd)
    wsw = K(wd[[0, 2, 1, 3, 4]])
    Xg = spd([-1.0, 0.5, 0.5 + 1e-6, 2.0, 3.0], rng)
    add(
        "w.eigvalsh gap 1e-6",
        Xg,
        lambda t: dot(wdk, LA.eigvalsh(sym(t))),
        lambda Z: mp_eig(Z, wd),
        [
            (
                "wrong",
                lambda t: dot(wsw, LA.eigvalsh(sym(t))),
                "weights of the near-degenerate pair swapped",
                "pair-swapped",
            ),
            ("scale", "random", 1.01),
            ("sign", "smallest"),
        ],
        rot_bug=False,
    )
    we = np.array([0.3, 1.5, 1.5, 0.7, 1.1])
    wek = K(we)
    add(
        "w.eigvalsh gap 1e-6 equal pair weights",
        Xg,
        lambda t: dot(wek, LA.eigvalsh(sym(t))),
        lambda Z: mp_eig(Z, we),
        [("scale", "typical", 1.01)],
        rot_bug=False,
    )
    Xt = spd([0.1, 0.2, 1.0, 2.0 - 1e-6, 2.0], rng)
    add(
        "lambda_max gap 1e-6",
        Xt,
        lambda t: LA.eigvalsh(sym(t))[-1],
        lambda Z: M.eigvalsh(M.sym(Z))[-1],
        [
            (
                "wrong",
                lambda t: LA.eigvalsh(sym(t))[-2],
                "gradient of the runner-up eigenvalue",
                "runner-up",
            ),
            ("noise", 1e-3),
        ],
        rot_bug=False,
    )

    # --- svdvals
    w3 = R(3)
    w3k = K(w3)

    def mp_sv(Z: np.ndarray, w: np.ndarray = w3) -> Any:
        return M.mpm.fsum(a * b for a, b in zip(M.c(w), M.svdvals(M.mat(Z)), strict=True))

    add(
        "w.svdvals 5x3",
        R((5, 3)),
        lambda t: dot(w3k, LA.svdvals(t)),
        mp_sv,
        [("wrong", lambda t: dot(w3k, LA.svdvals(t), flip=True), "weights reversed", "reversed")],
    )
    w4 = R(4)
    w4k = K(w4)
    Xsv = with_svals([3, 2, 1, 1e-6], rng)
    add(
        "w.svdvals sigma_min=1e-6",
        Xsv,
        lambda t: dot(w4k, LA.svdvals(t)),
        lambda Z: mp_sv(Z, w4),
        [("sign", "smallest"), ("scale", "typical", 1.01)],
        rot_bug=False,
    )
    Xsg = with_svals([3, 1 + 1e-6, 1, 0.2], rng)
    add(
        "w.svdvals gap 1e-6",
        Xsg,
        lambda t: dot(w4k, LA.svdvals(t)),
        lambda Z: mp_sv(Z, w4),
        [
            (
                "wrong",
                lambda t: dot(w4k, LA.svdvals(t), perm=[0, 2, 1, 3]),
                "weights of the near-degenerate pair swapped",
                "pair-swapped",
            )
        ],
        rot_bug=False,
    )
    add(
        "nuclear norm 4x4",
        R((4, 4)),
        lambda t: LA.matrix_norm(t, "nuc"),
        lambda Z: M.mpm.fsum(M.svdvals(M.mat(Z))),
    )
    add(
        "spectral norm 4x3",
        R((4, 3)),
        lambda t: LA.matrix_norm(t, 2),
        lambda Z: M.svdvals(M.mat(Z))[0],
    )

    # --- matrix_exp
    Me = 0.5 * R((4, 4))
    E = M.mpm.expm
    Wn = R((4, 4))
    Wnk = K(Wn)
    add(
        "sum(W*expm(M)) 4x4",
        Me,
        lambda t: (Wnk(t) * LA.matrix_exp(t)).sum(),
        lambda Z: M.msum(E(M.mat(Z)), Wn),
        [
            (
                "claim",
                Wn @ LA.matrix_exp(torch.from_numpy(Me)).numpy().T,
                "W expm(M)^T (valid only if M commutes with W)",
                "commuting-formula",
            )
        ],
    )
    Me2 = 0.3 * R((4, 4))
    add(
        "trace expm(M)",
        Me2,
        lambda t: torch.trace(LA.matrix_exp(t)),
        lambda Z: sum(E(M.mat(Z))[i, i] for i in range(4)),
        [("transpose",)],
    )
    Jd = np.array([[1.0, 1.0, 0.3], [0.0, 1.0 + 1e-6, -0.2], [0.0, 0.0, -0.5]])
    Qj = rot(3, rng)
    Mj = Qj @ Jd @ Qj.T
    W3 = R((3, 3))
    W3k = K(W3)
    add(
        "sum(W*expm(M)) near-defective",
        Mj,
        lambda t: (W3k(t) * LA.matrix_exp(t)).sum(),
        lambda Z: M.msum(E(M.mat(Z)), W3),
        [("transpose",), ("scale", "smallest", 1.1)],
        rot_bug=False,
    )

    # --- traces of products, quadratic forms
    B4, C4 = K(R((4, 4))), K(R((4, 4)))
    Bn, Cn = B4.a, C4.a

    def mp_tr(Z: np.ndarray) -> Any:
        X = M.mat(Z)
        P = X * M.mat(M.c(Bn)) * X.T * M.mat(M.c(Cn))
        return sum(P[i, i] for i in range(4))

    add(
        "trace(X B X^T C)",
        R((4, 4)),
        lambda t: torch.trace(t @ B4(t) @ t.T @ C4(t)),
        mp_tr,
        [
            (
                "wrong",
                lambda t: torch.trace(t @ B4(t) @ t.detach().T @ C4(t)),
                "second occurrence of X treated as constant",
                "omitted",
            )
        ],
    )
    Aq = R((6, 6))
    Aqk = K(Aq)
    xq = R(6)
    add(
        "x^T A x nonsymmetric A",
        xq,
        lambda t: t @ Aqk(t) @ t,
        lambda Z: M.mpm.fsum(Z[i] * Aq[i, j] * Z[j] for i in range(6) for j in range(6)),
        [("claim", 2 * Aq @ xq, "2 A x (assumes A symmetric)", "assumed-symmetric")],
    )
    bq = R(3)
    bqk = K(bq)
    S3 = spd(rng.uniform(1, 2, 3), rng)
    S3k = K(S3)
    add(
        "b^T X^T S X b",
        R((3, 3)),
        lambda t: bqk(t) @ t.T @ S3k(t) @ t @ bqk(t),
        lambda Z: (
            lambda v: M.mpm.fsum(v[i] * sum(S3[i, j] * v[j] for j in range(3)) for i in range(3))
        )(M.mat(Z) * M.mpm.matrix(bq.tolist())),
        [("all", 0.5, "factor 2 forgotten (x0.5)")],
    )
    Gq = with_svals([1.0, 1e-3, 1e-6], rng)
    add(
        "||X b||^2 X with sigma_min 1e-6",
        Gq,
        lambda t: ((t @ bqk(t)) ** 2).sum(),
        lambda Z: M.mpm.fsum(v**2 for v in (M.mat(Z) * M.mpm.matrix(bq.tolist()))),
        [("transpose",)],
    )

    # --- more everyday points (float64), to balance the category
    for j in range(3):
        Xj = R((3, 3)) + 2 * np.eye(3)
        Wj = R((3, 3))
        Wjk = K(Wj)
        add(
            f"sum(W*inv(A)) 3x3 #{j}",
            Xj,
            lambda t, Wjk=Wjk: (Wjk(t) * LA.inv(t)).sum(),
            lambda Z, Wj=Wj: M.msum(M.mat(Z) ** -1, Wj),
        )
        add(
            f"logabsdet 3x3 #{j}",
            Xj,
            lambda t: LA.slogdet(t)[1],
            lambda Z: M.mpm.log(abs(M.mpm.det(M.mat(Z)))),
            correct=False,
            rot_bug=True,
        )
        Sj = spd(rng.uniform(0.2, 2, 4), rng)
        wj = R(4)
        wjk = K(wj)
        add(
            f"w.eigvalsh 4x4 #{j}",
            Sj,
            lambda t, wjk=wjk: dot(wjk, LA.eigvalsh(sym(t))),
            lambda Z, wj=wj: M.mpm.fsum(
                a * b for a, b in zip(M.c(wj), M.eigvalsh(M.sym(Z)), strict=True)
            ),
        )


# ============================================================================ 4. indexing


def overwrite_claim(
    x: np.ndarray, src_idx: np.ndarray, contrib: np.ndarray, axis: int
) -> np.ndarray:
    """The classic scatter bug: ``grad[idx] = v`` (the last repeated index wins) instead of
    accumulating every occurrence."""
    g = np.zeros_like(x)
    if x.ndim == 1:
        for j, i in enumerate(src_idx):
            g[i] = contrib[j]
    else:
        for r in range(src_idx.shape[0]):
            for j in range(src_idx.shape[1]):
                if axis == 1:
                    g[r, src_idx[r, j]] = contrib[r, j]
                else:
                    g[src_idx[r, j], j] = contrib[r, j]
    return g


def cat_indexing(C: Corpus) -> None:
    cat = "04-indexing"
    rng = np.random.default_rng(4004)
    R = rng.standard_normal
    k = [0]

    def add(
        name: str, x: np.ndarray, expr: Any, bugs: list[Any] | None = None, rot_bug: bool = False
    ) -> np.ndarray:
        k[0] += 1
        b = ([rotation(k[0] + 1)] if rot_bug else []) + (bugs or [])
        return C.point(cat, name, x, expr, b, seed=400 + k[0])

    x = R((4, 6))
    Ig = rng.integers(0, 6, (4, 5))
    Ik = idx(Ig)
    W45 = R((4, 5))
    Wk = K(W45)
    sel = np.take_along_axis(x, Ig, 1)
    add(
        "gather dim1 repeated idx",
        x,
        lambda t: (torch.gather(t, 1, Ik) ** 2 * Wk(t)).sum(),
        [
            (
                "claim",
                overwrite_claim(x, Ig, 2 * sel * W45, 1),
                "grad[idx] = v: repeated indices overwrite instead of accumulating",
                "overwrite",
            )
        ],
    )
    x = R((5, 3))
    Ig0 = rng.integers(0, 5, (4, 3))
    Ik0 = idx(Ig0)
    add(
        "gather dim0 then exp",
        x,
        lambda t: torch.exp(torch.gather(t, 0, Ik0)).sum() * 0.5,
        rot_bug=True,
    )
    x = R(7)
    J = np.array([0, 3, 3, 6, 1, 3, 0, 5])
    Jk = idx(J)
    w8 = R(8)
    w8k = K(w8)
    add(
        "index_select repeated",
        x,
        lambda t: (torch.index_select(t, 0, Jk) ** 3 * w8k(t)).sum(),
        [
            (
                "claim",
                overwrite_claim(x, J, 3 * x[J] ** 2 * w8, 0),
                "grad[idx] = v: repeated indices overwrite instead of accumulating",
                "overwrite",
            )
        ],
    )
    x = R((3, 6))
    Jc = idx([5, 0, 2, 2])
    add(
        "index_select cols then logsumexp",
        x,
        lambda t: torch.logsumexp(torch.index_select(t, 1, Jc), 1).sum(),
        rot_bug=True,
    )
    x = R((4, 5))
    mask = torch.from_numpy(rng.uniform(size=(4, 5)) < 0.4)
    W = K(R((4, 5)))
    add(
        "masked_fill",
        x,
        lambda t: (t.masked_fill(mask, 0.0) ** 2 * W(t)).sum() + t.sum(),
        [
            (
                "wrong",
                lambda t: (t**2 * W(t)).sum() + t.sum(),
                "mask ignored in the backward pass",
                "mask-ignored",
            )
        ],
    )
    x = R((4, 5))
    add(
        "masked_select",
        x,
        lambda t: 0.5 * (torch.masked_select(t, mask) ** 2).sum() + torch.sin(t).sum(),
        rot_bug=True,
    )
    x = R((4, 5))
    add(
        "boolean index t[mask]",
        x,
        lambda t: torch.exp(t[mask]).sum() - (t[~mask] ** 3).sum(),
        [("scale", "random", 1.1)],
    )
    x = R((4, 5))
    add(
        "where constant mask",
        x,
        lambda t: (torch.where(mask, t**2, torch.sin(t)) * W(t)).sum(),
        [
            (
                "wrong",
                lambda t: (torch.where(~mask, t**2, torch.sin(t)) * W(t)).sum(),
                "branches of where swapped",
                "branches-swapped",
            )
        ],
    )
    x = R(12)
    x = np.where(np.abs(x) < 0.05, 0.5, x)
    add(
        "where on sign of x",
        x,
        lambda t: torch.where(t > 0, t**2, torch.exp(t) - 1).sum(),
        rot_bug=True,
    )
    x = R(9)
    Js = np.array([0, 1, 1, 4, 2, 4, 4, 0, 3])
    Jsk = idx(Js)
    Jsh = idx((Js + 1) % 5)
    w9k, v5k = K(R(9)), K(R(5))

    def scat(t: torch.Tensor, J: torch.Tensor = Jsk) -> torch.Tensor:
        out = t.new_zeros(5).scatter_add(0, J, t * w9k(t))
        return (out**2 * v5k(out)).sum()

    add(
        "scatter_add",
        x,
        scat,
        [
            (
                "wrong",
                lambda t: scat(t, Jsh),
                "gathered from the wrong bucket (index + 1)",
                "off-by-one",
            )
        ],
    )
    x = R((3, 4))
    Jm = idx(rng.integers(0, 2, (3, 4)))
    add(
        "scatter_add 2-D",
        x,
        lambda t: torch.exp(t.new_zeros(2, 4).scatter_add(0, Jm, t)).sum(),
        rot_bug=True,
    )
    x = R(10)
    w10 = K(R(10))
    add(
        "roll 1-D",
        x,
        lambda t: ((torch.roll(t, 3, 0) - t) ** 2 * w10(t)).sum(),
        [
            (
                "wrong",
                lambda t: ((torch.roll(t, -3, 0) - t) ** 2 * w10(t)).sum(),
                "roll shifted the other way",
                "wrong-direction",
            )
        ],
    )
    x = R((4, 5))
    add("roll 2-D", x, lambda t: (torch.roll(t, (1, -2), (0, 1)) * t * W(t)).sum(), rot_bug=True)
    x = R(8)
    w8b = K(R(8))
    add(
        "flip",
        x,
        lambda t: (torch.flip(t, [0]) * t * w8b(t)).sum() + (t**3).sum() / 3,
        [("wrong", lambda t: (t * t * w8b(t)).sum() + (t**3).sum() / 3, "flip omitted", "omitted")],
    )
    x = R((3, 4))
    W34 = K(R((3, 4)))
    add(
        "flip both dims",
        x,
        lambda t: (torch.sin(torch.flip(t, [0, 1])) * W34(t)).sum(),
        [
            (
                "wrong",
                lambda t: (torch.sin(torch.flip(t, [0])) * W34(t)).sum(),
                "flipped along one dim only",
                "one-dim",
            )
        ],
    )
    x = 1.5 * R(14)
    x = np.where(np.abs(np.abs(x) - 1) < 0.05, 0.5, x)
    w14 = K(R(14))
    add(
        "clamp(-1, 1)",
        x,
        lambda t: (torch.clamp(t, -1, 1) ** 2 * w14(t)).sum() + 0.1 * t.sum(),
        [
            (
                "wrong",
                lambda t: (t**2 * w14(t)).sum() + 0.1 * t.sum(),
                "clamp ignored in the backward pass",
                "clamp-ignored",
            )
        ],
    )
    x = R(10)
    x = np.where(np.abs(x - 0.1) < 0.05, 0.5, x)
    add("clamp min", x, lambda t: (torch.clamp(t, min=0.1) ** 1.5).sum(), rot_bug=True)
    x = R((4, 6))
    add(
        "strided slice",
        x,
        lambda t: (t[1:, ::2] ** 2).sum() * t[0, 1] + torch.tanh(t[:, -1]).sum(),
        [("scale", "typical", 1.1)],
    )
    x = R((4, 4))
    ri, ci = idx([0, 1, 1, 3, 3, 3]), idx([2, 2, 2, 0, 1, 0])
    add(
        "advanced index t[I, J] repeated",
        x,
        lambda t: torch.exp(t[ri, ci]).sum() + t[2, 3] ** 2,
        [("transpose",)],
    )


# ============================================================================ 5. network losses


def cat_losses(C: Corpus) -> None:
    cat = "05-losses"
    rng = np.random.default_rng(5005)
    R = rng.standard_normal
    k = [0]

    def add(
        name: str,
        x: np.ndarray,
        expr: Any,
        bugs: list[Any] | None = None,
        rot_bug: bool = False,
        mp: Any = None,
        correct: bool = True,
    ) -> np.ndarray:
        k[0] += 1
        b = ([rotation(k[0] + 7)] if rot_bug else []) + (bugs or [])
        return C.point(cat, name, x, expr, b, seed=500 + k[0], mp=mp, correct=correct)

    def labels(n: int, c: int) -> np.ndarray:
        return rng.integers(0, c, n)

    def mp_ce(y: np.ndarray) -> Any:
        def f(Z: np.ndarray) -> Any:
            ls = M.log_softmax(Z, 1)
            return -M.mpm.fsum(ls[i, int(y[i])] for i in range(len(y))) / len(y)

        return f

    # cross-entropy
    y = labels(6, 4)
    yk = idx(y)
    add(
        "cross_entropy 6x4",
        R((6, 4)),
        lambda t: F.cross_entropy(t, yk),
        [
            ("all", 6.0, "missing 1/m (x6)"),
            (
                "wrong",
                lambda t: F.nll_loss(F.log_softmax(t, 0), yk),
                "softmax over the batch axis",
                "wrong-axis",
            ),
        ],
    )
    y2 = labels(8, 5)
    y2k = idx(y2)
    add(
        "cross_entropy 8x5 scale 3",
        3 * R((8, 5)),
        lambda t: F.cross_entropy(t, y2k),
        [("scale", "typical", 1.01), ("swap",)],
    )
    Zs = 35 * R((5, 4))
    ys = np.array([int(np.argsort(r)[1]) for r in Zs])  # target: never the dominant class
    ysk = idx(ys)
    add(
        "cross_entropy saturated |z|>30, target not dominant",
        Zs,
        lambda t: F.cross_entropy(t, ysk),
        [("sign", "smallest"), ("scale", ("ratio", 1e-12), 1.01)],
        mp=mp_ce(ys),
    )
    Zd = 35 * R((5, 4))
    yd = np.argmax(Zd, 1)
    ydk = idx(yd)
    add(
        "cross_entropy saturated, target dominant",
        Zd,
        lambda t: F.cross_entropy(t, ydk),
        [("scale", "typical", 1.1)],
        mp=mp_ce(yd),
    )
    y3 = labels(6, 5)
    y3k = idx(y3)
    Z3 = 2 * R((6, 5))
    add(
        "cross_entropy label smoothing 0.1",
        Z3,
        lambda t: F.cross_entropy(t, y3k, label_smoothing=0.1),
        [("wrong", lambda t: F.cross_entropy(t, y3k), "label smoothing ignored", "no-smoothing")],
    )
    add(
        "cross_entropy label smoothing 0.3 saturated",
        40 * R((4, 5)),
        lambda t: F.cross_entropy(t, y3k[:4], label_smoothing=0.3),
        rot_bug=True,
    )
    cw = rng.uniform(0.2, 3, 5)
    cwk = K(cw)
    add(
        "cross_entropy class weights",
        Z3,
        lambda t: F.cross_entropy(t, y3k, weight=cwk(t)),
        [
            (
                "wrong",
                lambda t: F.cross_entropy(t, y3k, weight=cwk(t), reduction="sum") / 6,
                "divided by m instead of the sum of the weights",
                "wrong-normaliser",
            )
        ],
    )
    P = rng.dirichlet(np.ones(5), 6)
    Pk = K(P)
    add("cross_entropy soft targets", Z3, lambda t: F.cross_entropy(t, Pk(t)), [("noise", 1e-3)])
    # binary
    Yb = (rng.uniform(size=10) < 0.5) * 1.0
    Ybk = K(Yb)
    add(
        "bce_with_logits 10",
        2 * R(10),
        lambda t: F.binary_cross_entropy_with_logits(t, Ybk(t)),
        [("zero", "typical")],
    )
    Y63 = (rng.uniform(size=(6, 3)) < 0.4) * 1.0
    Y63k = K(Y63)
    pw = K(np.array([3.0, 0.5, 10.0]))
    add(
        "bce_with_logits pos_weight",
        1.5 * R((6, 3)),
        lambda t: F.binary_cross_entropy_with_logits(t, Y63k(t), pos_weight=pw(t)),
        [
            (
                "wrong",
                lambda t: F.binary_cross_entropy_with_logits(t, Y63k(t)),
                "pos_weight ignored",
                "no-pos-weight",
            )
        ],
    )
    Zb = 35 * R(12)
    Yb2 = (Zb < 0) * 1.0  # every example misclassified: gradient ~ +-1/m
    Yb2[:6] = (Zb[:6] > 0) * 1.0  # half correctly classified: gradient e^-|z|/m
    Yb2k = K(Yb2)
    add(
        "bce_with_logits saturated",
        Zb,
        lambda t: F.binary_cross_entropy_with_logits(t, Yb2k(t)),
        [("sign", "smallest")],
        mp=lambda Z: M.fsum(M.softplus(Z) - M.c(Yb2) * Z) / 12,
    )
    Zp = R(10)
    add(
        "binary_cross_entropy(sigmoid)",
        Zp,
        lambda t: F.binary_cross_entropy(torch.sigmoid(t), Ybk(t)),
        [("all", 10.0, "missing 1/m (x10)")],
    )
    # nll / kl
    add(
        "nll_loss(log_softmax)",
        Z3,
        lambda t: F.nll_loss(F.log_softmax(t, 1), y3k),
        [("wrong", lambda t: F.nll_loss(t, y3k), "log_softmax's normaliser omitted", "omitted")],
    )
    add(
        "kl_div batchmean",
        Z3,
        lambda t: F.kl_div(F.log_softmax(t, 1), Pk(t), reduction="batchmean"),
        [
            (
                "wrong",
                lambda t: F.kl_div(F.log_softmax(t, 1), Pk(t), reduction="sum") / t.numel(),
                "'mean' (1/(m n)) instead of 'batchmean' (1/m)",
                "mean-not-batchmean",
            )
        ],
    )
    add(
        "kl_div sum, sharp targets",
        4 * R((4, 5)),
        lambda t: F.kl_div(F.log_softmax(t, 1), Pk(t)[:4] ** 4, reduction="sum"),
        rot_bug=True,
    )
    # regression
    T20 = R(20)
    T20k = K(T20)
    add(
        "mse",
        R(20),
        lambda t: F.mse_loss(t, T20k(t)),
        [("all", 0.5, "factor 2 of the square forgotten")],
    )
    add("l1", R(20), lambda t: F.l1_loss(t, T20k(t)), [("sign", "random")])
    xs = T20 + rng.uniform(-1.5, 1.5, 20)
    add(
        "smooth_l1 beta=0.5",
        xs,
        lambda t: F.smooth_l1_loss(t, T20k(t), beta=0.5),
        [("wrong", lambda t: F.l1_loss(t, T20k(t)), "quadratic zone ignored (plain L1)", "l1")],
    )
    add(
        "huber delta=1.5",
        T20 + 3 * R(20),
        lambda t: F.huber_loss(t, T20k(t), delta=1.5),
        [("scale", "random", 1.1)],
    )
    T43 = K(R((4, 3)))
    add("mse 2-D sum", R((4, 3)), lambda t: F.mse_loss(t, T43(t), reduction="sum"), rot_bug=True)
    # margins
    ysgn = rng.choice([-1.0, 1.0], 16)
    zh = ysgn * rng.uniform(-1, 3, 16)
    zh = np.where(np.abs(ysgn * zh - 1) < 0.05, zh + 0.2 * ysgn, zh)
    ysgnk = K(ysgn)
    add(
        "hinge mean relu(1 - y z)",
        zh,
        lambda t: F.relu(1 - ysgnk(t) * t).mean(),
        [("wrong", lambda t: F.relu(-ysgnk(t) * t).mean(), "margin 1 forgotten", "no-margin")],
    )
    x12 = R((2, 12))
    yr = K(rng.choice([-1.0, 1.0], 12))
    d = yr.a * (x12[0] - x12[1])
    x12[0] += np.where(np.abs(-d + 0.3) < 0.05, 0.2, 0.0)
    add(
        "margin_ranking margin=0.3",
        x12,
        lambda t: F.margin_ranking_loss(t[0], t[1], yr(t[0]), margin=0.3),
        [("swap",)],
    )
    ym = labels(6, 4)
    add("multi_margin", R((6, 4)), lambda t: F.multi_margin_loss(t, idx(ym)), [("zero", "random")])
    B = R((6, 4))
    Bk = K(B)
    yc = np.array([1, -1, 1, -1, -1, 1], dtype=np.float64)
    ycK = K(yc)
    add(
        "cosine_embedding",
        B + 0.8 * R((6, 4)),
        lambda t: F.cosine_embedding_loss(t, Bk(t), ycK(t), margin=-0.5),
        [("noise", 1e-3)],
    )
    A3, P3, N3 = R((5, 4)), R((5, 4)), R((5, 4))
    P3k, N3k = K(P3), K(N3)
    add(
        "triplet margin",
        A3,
        lambda t: F.triplet_margin_loss(t, P3k(t), N3k(t), margin=5.0),
        rot_bug=True,
    )
    # focal
    Zf = 3 * R(12)
    Yf = (rng.uniform(size=12) < 0.3) * 1.0
    Yfk = K(Yf)

    def focal(t: torch.Tensor, detach: bool = False) -> torch.Tensor:
        p = torch.sigmoid(t)
        mod1, mod0 = (1 - p) ** 2, p**2
        if detach:
            mod1, mod0 = mod1.detach(), mod0.detach()
        y = Yfk(t)
        return -(
            0.25 * y * mod1 * F.logsigmoid(t) + 0.75 * (1 - y) * mod0 * F.logsigmoid(-t)
        ).mean()

    add(
        "focal binary gamma=2",
        Zf,
        focal,
        [
            (
                "wrong",
                lambda t: focal(t, True),
                "derivative of the modulating factor omitted",
                "omitted",
            )
        ],
    )
    yfm = labels(6, 5)
    yfmk = idx(yfm)

    def focal_mc(t: torch.Tensor) -> torch.Tensor:
        lp = F.log_softmax(t, 1).gather(1, yfmk[:, None])[:, 0]
        return -((1 - torch.exp(lp)) ** 1.5 * lp).mean()

    add("focal multiclass gamma=1.5", Z3, focal_mc, [("scale", "typical", 1.01)])
    add(
        "log(softmax) soft labels",
        Z3,
        lambda t: -(Pk(t) * torch.log(torch.softmax(t, 1))).sum(1).mean(),
        [
            (
                "wrong",
                lambda t: -(Pk(t) * torch.log(torch.softmax(t, 0))).sum(1).mean(),
                "softmax over the batch axis",
                "wrong-axis",
            )
        ],
    )
    # layer norm
    Xl = R((4, 6)) * 2 + 1
    gl, bl, Tl = K(rng.uniform(0.5, 1.5, 6)), K(R(6)), K(R((4, 6)))

    def ln_loss(t: torch.Tensor, detach: bool = False) -> torch.Tensor:
        if detach:
            mu = t.mean(1, keepdim=True)
            sd = torch.sqrt(t.var(1, correction=0, keepdim=True) + 1e-5).detach()
            h = (t - mu) / sd * gl(t) + bl(t)
        else:
            h = F.layer_norm(t, (6,), gl(t), bl(t))
        return ((h - Tl(t)) ** 2).mean()

    add(
        "layer_norm + mse",
        Xl,
        ln_loss,
        [("wrong", lambda t: ln_loss(t, True), "variance treated as a constant", "omitted")],
    )
    Wln = K(R((4, 6)))
    add(
        "layer_norm weighted sum",
        Xl,
        lambda t: (F.layer_norm(t, (6,)) * Wln(t)).sum(),
        [("offset_last", 1e-3)],
    )
    # tiny MLPs, loss w.r.t. the first weight matrix
    Xm = R((8, 4))
    ymk = idx(labels(8, 3))
    b1, W2, b2 = K(0.1 * R(4)), K(R((3, 4))), K(0.1 * R(3))

    def mlp_tanh(t: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(K(Xm)(t) @ t.T + b1(t))
        return F.cross_entropy(h @ W2(t).T + b2(t), ymk)

    add("mlp tanh loss wrt W1 (4x4)", R((4, 4)), mlp_tanh, [("transpose",)])
    Xr = R((10, 3))
    for _ in range(100):
        W1r = R((6, 3))
        pre = Xr @ W1r.T
        if np.min(np.abs(pre)) > 1e-2:
            break
    W2r = K(R((2, 6)))
    yr2 = K(R((10, 2)))

    def mlp_relu(t: torch.Tensor, ste: bool = False) -> torch.Tensor:
        pre = K(Xr)(t) @ t.T
        h = pre + (F.relu(pre) - pre).detach() if ste else F.relu(pre)
        return F.mse_loss(h @ W2r(t).T, yr2(t))

    add(
        "mlp relu mse wrt W1 (6x3)",
        W1r,
        mlp_relu,
        [
            (
                "wrong",
                lambda t: mlp_relu(t, True),
                "relu derivative forgotten (straight-through)",
                "relu-mask-forgotten",
            )
        ],
    )
    H = np.tanh(R((8, 5)))
    Hk = K(H)
    add(
        "output layer softmax CE wrt W2",
        R((3, 5)),
        lambda t: F.cross_entropy(Hk(t) @ t.T, ymk),
        [("all", 8.0, "missing 1/m (x8)")],
    )
    # other likelihoods
    Tg, Vg = K(R(10)), K(rng.uniform(0.5, 2, 10))
    add(
        "gaussian_nll",
        R(10),
        lambda t: F.gaussian_nll_loss(t, Tg(t), Vg(t)),
        [("scale", "random", 2.0)],
    )
    Tp = K(rng.poisson(3, 10).astype(float))
    add(
        "poisson_nll log_input",
        R(10),
        lambda t: F.poisson_nll_loss(t, Tp(t)),
        [
            (
                "wrong",
                lambda t: F.poisson_nll_loss(t, Tp(t), log_input=False, eps=1e-300),
                "log_input=False derivative (1 - y/x)",
                "wrong-parametrisation",
            )
        ],
    )
    add(
        "softplus(-y z) mean",
        R(10),
        lambda t: F.softplus(-ysgnk(t)[:10] * t).mean(),
        [("all", 2.0, "whole gradient x2")],
    )


# ============================================================================ 6. large inputs


def cat_large(C: Corpus) -> None:
    cat = "06-large"
    rng = np.random.default_rng(6006)
    R = rng.standard_normal
    k = [0]

    def add(name: str, x: np.ndarray, expr: Any, bugs: list[Any]) -> None:
        k[0] += 1
        C.point(cat, name, x, expr, bugs, seed=600 + k[0])

    Z = 3 * R((100, 100))
    Y = K((rng.uniform(size=Z.shape) < 0.5) * 1.0)
    add(
        "bce_with_logits 100x100",
        Z,
        lambda t: F.binary_cross_entropy_with_logits(t, Y(t)),
        [("scale", "typical", 1.01), ("sign", "random")],
    )
    Z2 = 3 * R(200_000)
    Y2 = K((rng.uniform(size=Z2.shape) < 0.5) * 1.0)
    add(
        "bce_with_logits 2e5",
        Z2,
        lambda t: F.binary_cross_entropy_with_logits(t, Y2(t)),
        [("zero", "typical"), ("scale", "random", 1.1), ("offset_last", 1e-3)],
    )
    w5 = K(R(50_000))
    add(
        "weighted softplus 5e4",
        4 * R(50_000),
        lambda t: (F.softplus(t) * w5(t)).sum(),
        [("swap",), ("noise", 1e-3)],
    )
    tgt = idx([int(rng.integers(0, 100_000))])
    add(
        "cross_entropy over 1e5 classes",
        2 * R((1, 100_000)),
        lambda t: F.cross_entropy(t, tgt),
        [("scale", "largest", 1.01), ("scale", "random", 1.1), ("swap", "any")],
    )
    yb = idx(rng.integers(0, 1000, 20))
    add(
        "cross_entropy batch 20x1000",
        2 * R((20, 1000)),
        lambda t: F.cross_entropy(t, yb),
        [("all", 20.0, "missing 1/m (x20)"), ("noise", 1e-3)],
    )
    add(
        "logsumexp 2e5",
        3 * R(200_000),
        lambda t: torch.logsumexp(t, 0),
        [("scale", "largest", 1.01), ("sign", "random")],
    )
    add(
        "log cosh 1e5",
        5 * R(100_000),
        lambda t: torch.log(torch.cosh(t)).mean(),
        [("scale", "random", 1.01), ("all", 0.5, "whole gradient x0.5")],
    )
    T = K(R(20_000))
    add(
        "huber 2e4", 2 * R(20_000), lambda t: F.huber_loss(t, T(t), delta=0.7), [("zero", "random")]
    )
    T2 = K(R(200_000))
    add("mse 2e5", R(200_000), lambda t: F.mse_loss(t, T2(t)), [("scale", "random", 1.01)])
    Wt = K(R((100, 1000)))
    add(
        "weighted tanh 100x1000",
        2 * R((100, 1000)),
        lambda t: (torch.tanh(t) * Wt(t)).sum(),
        [("sign", "smallest"), ("offset_last", 1e-3)],
    )
    add(
        "sum exp 2e4 x in (-10, 10)",
        rng.uniform(-10, 10, 20_000),
        lambda t: torch.exp(t).sum(),
        [("scale", ("ratio", 1e-8), 1.01)],
    )
    Pk = K(rng.dirichlet(np.ones(50_000)))
    add(
        "kl_div softmax 5e4",
        R(50_000),
        lambda t: F.kl_div(F.log_softmax(t, 0), Pk(t), reduction="sum"),
        [("scale", "typical", 1.1)],
    )


# ============================================================================ 7. scale-spanning


def cat_scales(C: Corpus) -> None:
    cat = "07-scale-spanning"
    rng = np.random.default_rng(7007)
    R = rng.standard_normal
    k = [0]

    def add(
        name: str, x: np.ndarray, expr: Any, bugs: list[Any], mp: Any, correct: bool = True
    ) -> None:
        k[0] += 1
        C.point(cat, name, x, expr, bugs, seed=700 + k[0], mp=mp, correct=correct)

    small = [
        ("scale", ("ratio", 1e-10), 1.01),
        ("scale", ("ratio", 1e-12), 1.01),
        ("scale", ("ratio", 1e-14), 1.01),
        ("sign", "smallest"),
        ("scale", ("ratio", 1e-12), 1e4),
    ]
    c = rng.permutation(10 ** np.linspace(-8, 8, 24))
    ck = K(c)
    xq = R(24)
    add(
        "sum c x^2, c in 1e-8..1e8",
        xq,
        lambda t: (ck(t) * t**2).sum(),
        small,
        lambda Z: M.fsum(M.c(c) * Z**2),
    )
    c2 = 10 ** rng.uniform(-8, 8, (6, 6))
    c2k = K(c2)
    add(
        "sum c x^2 6x6 random scales",
        R((6, 6)),
        lambda t: (c2k(t) * t**2).sum(),
        [("scale", ("ratio", 1e-11), 1.01), ("zero", ("ratio", 1e-13)), ("scale", "largest", 1.01)],
        lambda Z: M.fsum(M.c(c2) * Z**2),
    )
    xe = rng.permutation(np.linspace(-25, 8, 24) + 0.1 * R(24))
    add(
        "sum exp(x), x in -25..8",
        xe,
        lambda t: torch.exp(t).sum(),
        small,
        lambda Z: M.fsum(M.exp(Z)),
    )
    we = R((4, 6))
    wek = K(we)
    add(
        "sum w exp(x) 4x6 x in -20..10",
        rng.uniform(-20, 10, (4, 6)),
        lambda t: (wek(t) * torch.exp(t)).sum(),
        [("scale", ("ratio", 1e-13), 1.01), ("sign", "smallest")],
        lambda Z: M.fsum(M.c(we) * M.exp(Z)),
    )
    zs = -np.sort(rng.uniform(0, 36, 16))
    zs[0] = 0.0
    zs = rng.permutation(zs)
    add(
        "logsumexp saturated softmax",
        zs,
        lambda t: torch.logsumexp(t, 0),
        small,
        lambda Z: M.logsumexp(Z)[()],
    )
    Zc = np.stack([rng.permutation(-np.sort(rng.uniform(0, 35, 8))) for _ in range(4)])
    yc = np.array([int(np.argsort(r)[-3]) for r in Zc])  # a middle class: p_target ~ e^-few
    yck = idx(yc)

    def mp_ce(Z: np.ndarray) -> Any:
        ls = M.log_softmax(Z, 1)
        return -M.mpm.fsum(ls[i, int(yc[i])] for i in range(4)) / 4

    add(
        "cross_entropy saturated 4x8",
        Zc,
        lambda t: F.cross_entropy(t, yck),
        [("scale", ("ratio", 1e-12), 1.01), ("sign", "smallest"), ("scale", ("ratio", 1e-10), 1e4)],
        mp_ce,
    )
    zl = rng.uniform(-5, 35, 20)
    add(
        "sum logsigmoid(z), z in -5..35",
        zl,
        lambda t: F.logsigmoid(t).sum(),
        [("scale", ("ratio", 1e-11), 1.01), ("scale", ("ratio", 1e-13), 1e4), ("sign", "smallest")],
        lambda Z: M.fsum(M.logsigmoid(Z)),
    )
    xl = 10 ** rng.uniform(-4, 4, 16)
    cl = 10 ** rng.uniform(-6, 6, 16)
    clk = K(cl)
    add(
        "sum c log x, c/x spanning 1e20",
        xl,
        lambda t: (clk(t) * torch.log(t)).sum(),
        [("sign", "smallest"), ("scale", ("ratio", 1e-14), 1.01)],
        lambda Z: M.fsum(M.c(cl) * M.log(Z)),
    )
    c4 = 10 ** rng.uniform(-6, 6, 12)
    c4k = K(c4)
    add(
        "sum c x^4",
        R(12),
        lambda t: (c4k(t) * t**4).sum(),
        [("scale", ("ratio", 1e-12), 1.01), ("scale", "random", 1.01)],
        lambda Z: M.fsum(M.c(c4) * Z**4),
    )
    xm = R(10)
    add(
        "1e8 x0^2 + 1e-8 sum sin",
        xm,
        lambda t: 1e8 * t[0] ** 2 + 1e-8 * torch.sin(t[1:]).sum(),
        [("scale", "smallest", 1.01), ("sign", ("ratio", 1e-16)), ("zero", "smallest")],
        lambda Z: M.mpm.mpf(1e8) * Z[0] ** 2 + M.mpm.mpf(1e-8) * M.fsum(M.sin(Z[1:])),
    )
    # a second correct point of each of three families (different draws)
    c5 = rng.permutation(10 ** np.linspace(-7, 7, 15))
    c5k = K(c5)
    add(
        "sum c x^2, c in 1e-7..1e7 (b)",
        R(15),
        lambda t: (c5k(t) * t**2).sum(),
        [("scale", ("ratio", 1e-13), 0.99)],
        lambda Z: M.fsum(M.c(c5) * Z**2),
    )
    zs2 = rng.permutation(np.concatenate([[0.0], -rng.uniform(0, 33, 11)]))
    add(
        "logsumexp saturated softmax (b)",
        zs2,
        lambda t: torch.logsumexp(t, 0),
        [("scale", ("ratio", 1e-11), 1.1)],
        lambda Z: M.logsumexp(Z)[()],
    )
    xe2 = rng.uniform(-28, 3, 14)
    add(
        "sum exp(x), x in -28..3 (b)",
        xe2,
        lambda t: torch.exp(t).sum(),
        [("zero", "smallest")],
        lambda Z: M.fsum(M.exp(Z)),
    )


# ============================================================================ 8. near ties


def near_tie(x: np.ndarray, i: int, j: int, gap: float) -> np.ndarray:
    """Put x[i] exactly `gap` (as float64 allows) above x[j]."""
    x = x.copy()
    x[i] = x[j] + gap
    return x


def cat_near(C: Corpus) -> None:
    cat = "08-near-ties-sharp"
    rng = np.random.default_rng(8008)
    R = rng.standard_normal
    k = [0]

    def add(name: str, x: np.ndarray, expr: Any, bugs: list[Any], mp: Any) -> np.ndarray:
        k[0] += 1
        return C.point(cat, name, x, expr, bugs, seed=800 + k[0], mp=mp)

    def moved(g: np.ndarray, src: int, dst: int, frac: float = 1.0) -> np.ndarray:
        b = g.copy().reshape(-1)
        b[dst] += frac
        b[src] -= frac
        return b.reshape(g.shape)

    def mp_max_smooth(Z: np.ndarray) -> Any:
        return max(Z.ravel()) + M.mpm.mpf(0.05) * M.fsum(Z**2)

    for gap, tag in ((6e-4, "6e-4"), (1e-7, "1e-7"), (1e-9, "1e-9")):
        x = R(20)
        order = np.argsort(x)
        i, j = int(order[-1]), int(order[-2])
        x = near_tie(x, i, j, gap)
        g = add(
            f"max, runner-up {tag} below",
            x,
            lambda t: t.max() + 0.05 * (t**2).sum(),
            [],
            mp_max_smooth,
        )
        C.point(
            cat,
            f"max, runner-up {tag} below (bugs)",
            x,
            lambda t: t.max() + 0.05 * (t**2).sum(),
            [
                ("claim", moved(g, i, j), "max's weight given to the runner-up", "runner-up"),
                (
                    "claim",
                    moved(g, i, j, 0.5),
                    "0.5/0.5 split as at a tie (there is none)",
                    "split",
                ),
            ],
            correct=False,
            mp=mp_max_smooth,
            seed=880 + k[0],
        )
    X = R((4, 6))
    for r in range(4):
        o = np.argsort(X[r])
        X[r] = near_tie(X[r], int(o[-1]), int(o[-2]), 6e-4 if r % 2 else 1e-7)
    w4 = rng.uniform(0.5, 2, 4)
    w4k = K(w4)
    add(
        "amax rows, gaps 6e-4 / 1e-7",
        X,
        lambda t: dot(w4k, t.amax(1)) + 0.1 * (t**3).sum(),
        [("scale", "largest", 1.01)],
        lambda Z: (
            M.fsum(M.c(w4) * np.array([max(r) for r in Z], dtype=object))
            + M.mpm.mpf(0.1) * M.fsum(Z**3)
        ),
    )
    x = R(9)
    o = np.argsort(x)
    a, b = int(o[4]), int(o[3])
    x = near_tie(x, a, b, 1e-7)
    ws = np.arange(1.0, 10.0)
    wsk = K(ws)
    gs = add(
        "sort, near-tie 1e-7",
        x,
        lambda t: dot(wsk, torch.sort(t).values),
        [],
        lambda Z: M.fsum(M.c(ws) * np.array(sorted(Z), dtype=object)),
    )
    sw = gs.copy()
    sw[a], sw[b] = gs[b], gs[a]
    C.point(
        cat,
        "sort, near-tie 1e-7 (bug)",
        x,
        lambda t: dot(wsk, torch.sort(t).values),
        [("claim", sw, "sorted order of the near-tied pair swapped", "order-swapped")],
        correct=False,
        mp=lambda Z: M.fsum(M.c(ws) * np.array(sorted(Z), dtype=object)),
    )
    x = R(10)
    o = np.argsort(x)
    a, b = int(o[-3]), int(o[-4])
    x = near_tie(x, a, b, 1e-7)
    gt = add(
        "topk 3, 3rd/4th gap 1e-7",
        x,
        lambda t: torch.topk(t, 3).values.sum(),
        [],
        lambda Z: M.fsum(sorted(Z)[-3:]),
    )
    C.point(
        cat,
        "topk 3, 3rd/4th gap 1e-7 (bug)",
        x,
        lambda t: torch.topk(t, 3).values.sum(),
        [("claim", moved(gt, a, b), "the 4th largest counted instead of the 3rd", "wrong-k")],
        correct=False,
        mp=lambda Z: M.fsum(sorted(Z)[-3:]),
    )
    x = R(11)
    o = np.argsort(x)
    a, b = int(o[5]), int(o[6])
    x = near_tie(x, b, a, 1e-7)
    gm = add("median, near-tie 1e-7", x, lambda t: torch.median(t), [], lambda Z: sorted(Z)[5])
    C.point(
        cat,
        "median, near-tie 1e-7 (bug)",
        x,
        lambda t: torch.median(t),
        [("claim", moved(gm, a, b, 0.5), "0.5/0.5 split between near-tied entries", "split")],
        correct=False,
        mp=lambda Z: sorted(Z)[5],
    )
    x = R(8)
    o = np.argsort(np.abs(x))
    a, b = int(o[-1]), int(o[-2])
    x[a] = -np.sign(x[b]) * (abs(x[b]) + 1e-7)
    gi = add(
        "norm inf, |x| near-tie 1e-7",
        x,
        lambda t: LA.vector_norm(t, INF),
        [],
        lambda Z: max(abs(v) for v in Z),
    )
    bb = gi.copy()
    bb[b] = np.sign(x[b])
    C.point(
        cat,
        "norm inf, |x| near-tie 1e-7 (bug)",
        x,
        lambda t: LA.vector_norm(t, INF),
        [("claim", bb, "full weight to both near-tied entries", "both")],
        correct=False,
        mp=lambda Z: max(abs(v) for v in Z),
    )
    # sharp curvature
    for r, shape in enumerate(((10,), (3, 4))):
        x = 10 ** rng.uniform(-10, -8, shape) * rng.choice([-1.0, 1.0], shape)
        w = R(shape)
        wk = K(w)
        bugs = (
            [("scale", "random", 1.01), ("all", 1e-8, "chain-rule factor 1e8 forgotten")]
            if r == 0
            else [("sign", "typical")]
        )
        add(
            f"tanh(1e8 x) near 0 {shape}",
            x,
            lambda t, wk=wk: (wk(t) * torch.tanh(1e8 * t)).sum(),
            bugs,
            lambda Z, w=w: M.fsum(M.c(w) * M.tanh(M.mpm.mpf(1e8) * Z)),
        )
    xb = 1e3 * rng.uniform(1, 2, 10)
    ab = xb + rng.uniform(-1e-4, 1e-4, 10)
    abk = K(ab)
    wb = R(10)
    wbk = K(wb)
    add(
        "tanh((x - a)/1e-4), x ~ 1e3",
        xb,
        lambda t: (wbk(t) * torch.tanh((t - abk(t)) / 1e-4)).sum(),
        [("scale", "typical", 1.1), ("all", 1e-4, "1/width factor forgotten")],
        lambda Z: M.fsum(M.c(wb) * M.tanh((Z - M.c(ab)) / M.mpm.mpf(1e-4))),
    )
    ag = xb + rng.uniform(-1.5e-4, 1.5e-4, 10)
    agk = K(ag)
    add(
        "gaussian bumps width 1e-4, x ~ 1e3",
        xb,
        lambda t: torch.exp(-(((t - agk(t)) / 1e-4) ** 2)).sum(),
        [("sign", "random")],
        lambda Z: M.fsum(M.exp(-(((Z - M.c(ag)) / M.mpm.mpf(1e-4)) ** 2))),
    )
    add(
        "sin(1e4 x), x ~ 1e3",
        xb,
        lambda t: torch.sin(1e4 * t).sum() / 1e4,
        [("scale", "random", 1.01)],
        lambda Z: M.fsum(M.sin(M.mpm.mpf(1e4) * Z)) / M.mpm.mpf(1e4),
    )
    add(
        "log(1 + ((x-a)/1e-4)^2), x ~ 1e3",
        xb,
        lambda t: torch.log1p(((t - agk(t)) / 1e-4) ** 2).sum(),
        [("zero", "typical")],
        lambda Z: M.fsum(M.log1p(((Z - M.c(ag)) / M.mpm.mpf(1e-4)) ** 2)),
    )
    xs = 1e-6 * R(8)
    add(
        "softplus(1e6 x)/1e6 near 0",
        xs,
        lambda t: (F.softplus(1e6 * t) / 1e6).sum(),
        [("scale", "random", 1.1)],
        lambda Z: M.fsum(M.softplus(M.mpm.mpf(1e6) * Z)) / M.mpm.mpf(1e6),
    )
    # 1e-9 from a kink
    x = R(10)
    x[[1, 4]] = -1e-9
    x[[2, 7]] = 1e-9
    w = R(10)
    wk = K(w)

    def mp_relu(Z: np.ndarray) -> Any:
        return M.fsum(M.c(w) * M.relu(Z)) + M.fsum(Z**2) / 2

    gr = add(
        "relu at +-1e-9", x, lambda t: (wk(t) * F.relu(t)).sum() + (t**2).sum() / 2, [], mp_relu
    )
    b1 = gr.copy()
    b1[1] += w[1]
    b2 = gr.copy()
    b2[7] -= w[7]
    C.point(
        cat,
        "relu at +-1e-9 (bugs)",
        x,
        lambda t: (wk(t) * F.relu(t)).sum() + (t**2).sum() / 2,
        [
            ("claim", b1, "slope of the other side at x=-1e-9 (relu'=1)", "other-side"),
            ("claim", b2, "slope of the other side at x=+1e-9 (relu'=0)", "other-side"),
        ],
        correct=False,
        mp=mp_relu,
    )
    xa = R(8)
    xa[[0, 5]] = [1e-9, -1e-9]
    wa = np.abs(R(8)) + 0.5
    wak = K(wa)
    ga = add(
        "abs at +-1e-9",
        xa,
        lambda t: (wak(t) * torch.abs(t)).sum() + torch.sin(t).sum(),
        [],
        lambda Z: M.fsum(M.c(wa) * M.absv(Z)) + M.fsum(M.sin(Z)),
    )
    ba = ga.copy()
    ba[0] -= 2 * wa[0]
    C.point(
        cat,
        "abs at +-1e-9 (bug)",
        xa,
        lambda t: (wak(t) * torch.abs(t)).sum() + torch.sin(t).sum(),
        [("claim", ba, "sign(x) flipped at x=1e-9", "sign")],
        correct=False,
        mp=lambda Z: M.fsum(M.c(wa) * M.absv(Z)) + M.fsum(M.sin(Z)),
    )
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, 1.0])
    z = np.array([1 - 1e-9, -(1 + 1e-9), 1 + 1e-9, -0.3, 2.0, 0.2])
    yk = K(y)
    gh = add(
        "hinge, margin 1 +- 1e-9",
        z,
        lambda t: F.relu(1 - yk(t) * t).sum(),
        [],
        lambda Z: M.fsum(M.relu(1 - M.c(y) * Z)),
    )
    bh = gh.copy()
    bh[0] = 0.0
    C.point(
        cat,
        "hinge, margin 1 +- 1e-9 (bug)",
        z,
        lambda t: F.relu(1 - yk(t) * t).sum(),
        [("claim", bh, "zero slope at y z = 1 - 1e-9 (still inside the margin)", "other-side")],
        correct=False,
        mp=lambda Z: M.fsum(M.relu(1 - M.c(y) * Z)),
    )
    xc = np.array([1 - 1e-9, 1 + 1e-9, -1 + 1e-9, 0.3, -2.0])
    wc = R(5)
    wck = K(wc)
    clampmp = M.ew(lambda v: min(max(v, -1), 1))
    add(
        "clamp(-1,1) at 1e-9 from the edges",
        xc,
        lambda t: (wck(t) * torch.clamp(t, -1, 1)).sum(),
        [
            (
                "claim",
                wc * (np.abs(xc) <= 1 + 1e-6),
                "slope 1 given just outside the clamp range",
                "other-side",
            )
        ],
        lambda Z: M.fsum(M.c(wc) * clampmp(Z)),
    )


# ============================================================================ 9. exact kinks


def cat_kinks(C: Corpus) -> None:
    cat = "09-kinks-ties"
    rng = np.random.default_rng(9009)
    R = rng.standard_normal

    def trio(
        name: str,
        x: np.ndarray,
        expr: Any,
        valid: list[tuple[np.ndarray, str]],
        invalid: list[tuple[np.ndarray, str]],
        check_torch: Any = None,
    ) -> np.ndarray:
        """torch's own claim (checked to be a valid subgradient by ``check_torch``), more valid
        subgradients, and claims that are none."""
        from core import autograd

        g = autograd(expr, x)
        if check_torch is not None:
            assert check_torch(g), name
        C.claim(cat, f"{name} [torch]", x, expr, g, "correct", "torch's subgradient")
        for j, (v, d) in enumerate(valid):
            C.claim(cat, f"{name} [valid {j}]", x, expr, v, "correct", f"valid subgradient: {d}")
        for j, (v, d) in enumerate(invalid):
            C.claim(cat, f"{name} [bug {j}]", x, expr, v, "buggy", d)
        return g

    # relu at exactly 0 (separable: each kink's subdifferential is w_k [0, 1])
    x = R(10)
    Z = [1, 4, 6, 8]
    x[Z] = 0.0
    w = R(10)
    c = R(10)
    wk, ck = K(w), K(c)
    s = x - c
    e = lambda t, wk=wk, ck=ck: (wk(t) * F.relu(t)).sum() + ((t - ck(t)) ** 2).sum() / 2
    base = s + w * (x > 0)
    v1 = base.copy()
    v1[Z] += 0.5 * w[Z]
    v2 = base.copy()
    v2[Z] += w[Z]
    b1 = base.copy()
    b1[Z[0]] += 1.5 * w[Z[0]]
    b2 = base.copy()
    b2[Z] -= 0.5 * w[Z]
    trio(
        "relu at 0",
        x,
        e,
        [(v1, "relu'(0) = 1/2"), (v2, "relu'(0) = 1 (right slope)")],
        [
            (b1, "relu'(0) = 1.5 at one kink: outside [0, 1]"),
            (b2, "relu'(0) = -1/2 at every kink: outside [0, 1]"),
        ],
        lambda g: np.allclose(g, base, rtol=0, atol=1e-15),
    )
    # L1 penalty at zeros (lasso)
    A = R((12, 8))
    bv = R(12)
    x = R(8)
    Z = [0, 3, 5]
    x[Z] = 0.0
    Ak, bk = K(A), K(bv)
    lam = 0.7
    e = lambda t: ((Ak(t) @ t - bk(t)) ** 2).sum() / 2 + lam * torch.abs(t).sum()
    s = A.T @ (A @ x - bv)
    base = s + lam * np.sign(x)
    u = np.zeros(8)
    u[Z] = [0.3, -1.0, 1.0]
    b1 = base.copy()
    b1[Z[1]] += 1.2 * lam
    b2 = s.copy()  # the L1 term forgotten on the non-zero entries too
    trio(
        "lasso abs at 0",
        x,
        e,
        [
            (base + lam * u, "sign(0) taken in {0.3, -1, 1}"),
            (
                base + lam * (np.arange(8) >= 0) * np.isin(np.arange(8), Z),
                "sign(0) := 1 convention",
            ),
        ],
        [
            (b1, "sign(0) = 1.2 at one zero: outside [-1, 1]"),
            (b2, "L1 term forgotten (wrong on every non-zero entry)"),
        ],
        lambda g: np.allclose(g, base, rtol=1e-12, atol=1e-13),
    )
    # max with two exactly equal entries
    x = R(8)
    i, j = 2, 5
    x[i] = x[j] = x.max() + 0.5
    e = lambda t: t.max() + 0.1 * (t**2).sum()
    s = 0.2 * x

    def at(ws: dict[int, float], base: np.ndarray = s) -> np.ndarray:
        v = base.copy()
        for kk, val in ws.items():
            v[kk] += val
        return v

    trio(
        "max, two equal maxima",
        x,
        e,
        [(at({i: 1.0}), "all weight on the first"), (at({i: 0.25, j: 0.75}), "0.25/0.75")],
        [
            (at({i: 1.0, j: 1.0}), "full weight to every tied maximum (weights sum to 2)"),
            (at({i: 0.7, j: 0.7}), "weights sum to 1.4"),
            (at({i: 1.2, j: -0.2}), "weight 1.2/-0.2: one-sided slope outside [0, 1]"),
        ],
        lambda g: np.allclose(g, at({i: 0.5, j: 0.5}), atol=1e-15),
    )
    # three exactly equal maxima, through amax
    x = R(9)
    T = [0, 4, 7]
    x[T] = x.max() + 0.25
    e = lambda t: t.amax() + torch.sin(t).sum()
    s = np.cos(x)
    trio(
        "amax, three equal maxima",
        x,
        e,
        [(at({0: 0.5, 4: 0.5}, s), "0.5/0.5/0")],
        [
            (at({0: 1.0, 4: 1.0, 7: 1.0}, s), "full weight to every tied maximum (sum 3)"),
            (at({0: 0.5, 4: 0.5, 7: 0.5}, s), "weights sum to 1.5"),
        ],
        lambda g: np.allclose(g, at({0: 1 / 3, 4: 1 / 3, 7: 1 / 3}, s), atol=1e-15),
    )
    # amax per row, ties in every row
    X = R((3, 5))
    pairs = [(0, 3), (1, 2), (0, 4)]
    for r, (a, b) in enumerate(pairs):
        X[r, a] = X[r, b] = X[r].max() + 0.1
    wr = rng.uniform(0.5, 2, 3)
    wrk = K(wr)
    e = lambda t: dot(wrk, t.amax(1)) + (t**2).sum() / 2
    base = X.copy()
    first = base.copy()
    both = base.copy()
    for r, (a, b) in enumerate(pairs):
        first[r, a] += wr[r]
        both[r, a] += wr[r]
        if r == 1:
            both[r, b] += wr[r]
        else:
            both[r, a] -= wr[r] / 2
            both[r, b] += wr[r] / 2
    trio(
        "amax rows, a tie in every row",
        X,
        e,
        [(first, "all weight on the first of each tie")],
        [(both, "row 1 gives full weight to both tied entries")],
    )
    # torch.max(dim) picks one index: a vertex of the subdifferential
    e = lambda t: dot(wrk, t.max(1).values) + (t**2).sum() / 2
    trio("max(dim=1).values, ties", X, e, [], [])
    # norm at 0
    x = np.zeros(6)
    c = R(6)
    ck = K(c)
    e = lambda t, ck=ck: LA.vector_norm(t) + ((t - ck(t)) ** 2).sum() / 2
    s = -c
    trio(
        "norm2 at 0",
        x,
        e,
        [
            (s + np.array([0.6, 0.8, 0, 0, 0, 0]), "a unit vector u"),
            (s + 0.5 * np.array([1, -1, 1, -1, 1, -1]) / np.sqrt(6), "|u| = 1/2"),
        ],
        [
            (s + np.ones(6), "u = all ones (|u| = sqrt 6)"),
            (s + np.array([1.5, 0, 0, 0, 0, 0]), "u = 1.5 e_0 (outside the unit ball)"),
            (s + np.array([1.0, 1.0, 0, 0, 0, 0]), "u = e_0 + e_1 (|u| = sqrt 2)"),
        ],
        lambda g: np.allclose(g, s, atol=1e-15),
    )
    # group lasso: one group at 0
    x = R(9)
    x[3:6] = 0.0
    c = R(9)
    ck = K(c)
    e = lambda t, ck=ck: (
        sum(LA.vector_norm(t[3 * q : 3 * q + 3]) for q in range(3)) + ((t - ck(t)) ** 2).sum() / 2
    )
    g = x - c
    for q in (0, 2):
        g[3 * q : 3 * q + 3] += x[3 * q : 3 * q + 3] / np.linalg.norm(x[3 * q : 3 * q + 3])
    gv = g.copy()
    gv[3:6] += np.array([0.0, 0.6, -0.8])
    gb = g.copy()
    gb[3:6] += np.array([1.0, 1.0, 1.0])
    trio(
        "group lasso, a group at 0",
        x,
        e,
        [(gv, "unit vector on the zero group")],
        [(gb, "all ones on the zero group (|u| = sqrt 3)")],
        lambda g2: np.allclose(g2, g, rtol=1e-12, atol=1e-14),
    )
    # max of linear functions at an exact tie (dyadic numbers: exact in float64)
    a = np.array([1.0, 2.0, -1.0, 0.5])
    cc = np.array([-2.0, 0.5, 3.0, 1.0])
    x = np.array([0.5, 0.25, -1.0, 2.0])
    b0 = 0.0
    d0 = float(a @ x - cc @ x)
    ak, cck = K(a), K(cc)
    e = lambda t: torch.maximum(t @ ak(t) + b0, t @ cck(t) + d0) + (t**2).sum() / 8
    t0 = torch.from_numpy(x)
    assert float(t0 @ torch.from_numpy(a)) == float(t0 @ torch.from_numpy(cc) + d0)
    s = x / 4
    trio(
        "max of two linear functions at a tie",
        x,
        e,
        [
            (s + a, "gradient of the first piece"),
            (s + cc, "gradient of the second piece"),
            (s + 0.25 * a + 0.75 * cc, "0.25/0.75 combination"),
        ],
        [
            (s + a + cc, "full weight to both pieces"),
            (s + 1.3 * a - 0.3 * cc, "1.3/-0.3: outside the segment"),
            (s + 0.6 * a + 0.6 * cc, "weights sum to 1.2"),
        ],
        lambda g: np.allclose(g, s + 0.5 * a + 0.5 * cc, atol=1e-15),
    )
    a3 = np.array([1.0, 1.0])
    c3 = np.array([2.0, 0.0])
    e3 = np.array([0.0, 3.0])
    x = np.array([1.0, 1.0])  # pieces: x0+x1 = 2, 2 x0 = 2, 3 x1 - 1 = 2
    A3 = K(np.stack([a3, c3, e3]))
    off = K(np.array([0.0, 0.0, -1.0]))
    e = lambda t: (A3(t) @ t + off(t)).amax()
    trio(
        "max of three linear functions at a triple tie",
        x,
        e,
        [(c3, "vertex: the second piece"), ((a3 + e3) / 2, "midpoint of two pieces")],
        [
            (a3 + c3 + e3, "full weight to every piece"),
            (0.5 * (a3 + c3 + e3), "weights sum to 1.5"),
        ],
        lambda g: np.allclose(g, (a3 + c3 + e3) / 3, atol=1e-15),
    )
    # hinge at exactly the margin
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    z = np.array([1.0, -1.0, 0.5, 0.25, 2.0, -3.0])
    yk = K(y)
    e = lambda t: F.relu(1 - yk(t) * t).mean()
    base = np.where(y * z < 1, -y / 6, 0.0)
    full = base.copy()
    full[:2] = -y[:2] / 6
    bad = base.copy()
    bad[:2] = y[:2] / 6
    trio(
        "hinge at y z = 1 exactly",
        z,
        e,
        [(full, "full slope -y/m at the kinks")],
        [(bad, "slope +y/m at the kinks: outside [-y/m, 0]")],
        lambda g: np.allclose(g, base, atol=1e-16),
    )
    # clamp at its bounds
    x = np.array([1.0, -1.0, 0.25, 2.0, -0.5, 1.0])
    w = R(6)
    wk = K(w)
    e = lambda t: (wk(t) * torch.clamp(t, -1, 1)).sum()
    inside = (np.abs(x) < 1) * w
    edge = np.abs(x) == 1
    trio(
        "clamp at its bounds",
        x,
        e,
        [(inside, "zero slope at the bounds")],
        [(inside + 2 * w * edge, "slope 2w at the bounds: outside [0, w]")],
        lambda g: np.allclose(g, inside + w * edge, atol=1e-16),
    )
    # l1 loss with exact zero residuals
    T = R(8)
    x = T + R(8)
    x[[2, 6]] = T[[2, 6]]
    Tk = K(T)
    e = lambda t: F.l1_loss(t, Tk(t))
    base = np.sign(x - T) / 8
    v = base.copy()
    v[2] = -1 / 8
    bb = base.copy()
    bb[6] = 2 / 8
    trio(
        "l1_loss with exact zero residuals",
        x,
        e,
        [(v, "sign(0) = -1 at one residual")],
        [(bb, "sign(0) = 2 at one residual")],
        lambda g: np.allclose(g, base, atol=1e-16),
    )
    # max_pool1d with tied windows
    x = np.array([1.0, 1.0, 0.5, 2.0, -1.0, -1.0, 3.0, 0.0])
    e = lambda t: F.max_pool1d(t.view(1, 1, -1), 2).sum()
    trio(
        "max_pool1d, tied windows",
        x,
        e,
        [(np.array([0.5, 0.5, 0, 1, 0.5, 0.5, 1, 0]), "tied windows split 0.5/0.5")],
        [(np.array([1.0, 1, 0, 1, 1, 1, 1, 0]), "full weight to both entries of tied windows")],
    )
    # sort with an exact tie
    x = np.array([0.3, 1.5, -0.2, 1.5, 0.9])
    ws = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    wsk = K(ws)
    e = lambda t: dot(wsk, torch.sort(t).values)
    g = autograd_claim(e, x)
    av = g.copy()
    av[[1, 3]] = 4.5
    bb = g.copy()
    bb[[1, 3]] = 5.0
    trio(
        "sort with an exact tie",
        x,
        e,
        [(av, "tied pair averaged (4.5 each)")],
        [(bb, "both tied entries given the larger weight 5")],
        lambda g2: sorted(g2[[1, 3]].tolist()) == [4.0, 5.0],
    )
    # median at a tie (odd count: median = the smaller of the tied pair locally)
    x = np.array([0.1, 2.0, -1.0, 2.0, 3.5])
    e = lambda t: torch.median(t) + 0.5 * t.sum()
    trio(
        "median at an exact tie",
        x,
        e,
        [(0.5 + np.array([0, 1.0, 0, 0, 0]), "all weight on one tied entry")],
        [(0.5 + np.array([0, 1.0, 0, 1.0, 0]), "full weight to both tied entries")],
        lambda g2: np.isclose(g2[1] + g2[3], 2.0) and min(g2[1], g2[3]) >= 0.5,
    )
    # inf norm at a tie of |x|
    x = np.array([0.5, -2.0, 1.0, 2.0, 0.0])
    e = lambda t: LA.vector_norm(t, INF)
    trio(
        "norm inf at a tie of |x|",
        x,
        e,
        [(np.array([0, -1.0, 0, 0, 0]), "all on one entry")],
        [(np.array([0, -1.0, 0, 1.0, 0]), "full weight to both tied entries")],
        lambda g2: np.allclose(g2, [0, -0.5, 0, 0.5, 0]),
    )
    # l1 norm of x - c at exact zeros
    c = R(7)
    x = c + R(7)
    x[[0, 4]] = c[[0, 4]]
    ck = K(c)
    e = lambda t: LA.vector_norm(t - ck(t), 1) + (t**2).sum()
    base = np.sign(x - c) + 2 * x
    bb = base.copy()
    bb[4] += 1.5
    trio(
        "norm1 at exact zeros",
        x,
        e,
        [
            (
                base + np.isin(np.arange(7), [0, 4]) * np.array([0.9, 0, 0, 0, -0.4, 0, 0]),
                "sign(0) in {0.9, -0.4}",
            )
        ],
        [(bb, "sign(0) = 1.5 at one zero")],
        lambda g2: np.allclose(g2, base, atol=1e-15),
    )


def autograd_claim(expr: Any, x: np.ndarray) -> np.ndarray:
    from core import autograd

    return autograd(expr, x)


# ============================================================================ 10. float32


def cat_float32(C: Corpus) -> None:
    cat = "10-float32"
    rng = np.random.default_rng(1010)

    def R(*shape: Any) -> np.ndarray:
        return rng.standard_normal(*shape).astype(np.float32)

    k = [0]

    def add(name: str, x: np.ndarray, expr: Any, bugs: list[Any]) -> None:
        k[0] += 1
        assert x.dtype == np.float32
        C.point(cat, name + " [f32]", x, expr, bugs, seed=1000 + k[0])

    w = K(R(50))
    add(
        "weighted tanh 50",
        2 * R(50),
        lambda t: (w(t) * torch.tanh(t)).sum(),
        [("scale", "random", 1.1), ("sign", "random")],
    )
    y = idx(rng.integers(0, 5, 8))
    add(
        "cross_entropy 8x5",
        2 * R((8, 5)),
        lambda t: F.cross_entropy(t, y),
        [("all", 8.0, "missing 1/m (x8)"), ("scale", "typical", 1.01)],
    )
    Y = K((rng.uniform(size=20) < 0.5) * 1.0)
    add(
        "bce_with_logits 20",
        3 * R(20),
        lambda t: F.binary_cross_entropy_with_logits(t, Y(t)),
        [("zero", "typical"), ("swap",)],
    )
    Xm = K(R((6, 4)))
    W2 = K(R((3, 4)))
    ym = idx(rng.integers(0, 3, 6))
    add(
        "mlp tanh wrt W1 4x4",
        R((4, 4)),
        lambda t: F.cross_entropy(torch.tanh(Xm(t) @ t.T) @ W2(t).T, ym),
        [("transpose",)],
    )
    add(
        "logsumexp 30",
        3 * R(30),
        lambda t: torch.logsumexp(t, 0),
        [("scale", "largest", 1.01), ("noise", 1e-3)],
    )
    Tl = K(R((4, 6)))
    add(
        "layer_norm + mse",
        2 * R((4, 6)) + 1,
        lambda t: ((F.layer_norm(t, (6,)) - Tl(t)) ** 2).mean(),
        [("scale", "random", 2.0)],
    )
    T = K(R(40))
    add("mse 40", R(40), lambda t: F.mse_loss(t, T(t)), [("all", 0.5, "factor 2 forgotten")])
    S = spd(rng.uniform(0.5, 2, 4), rng).astype(np.float32)
    S = (S + S.T) / 2
    add("logdet spd 4x4", S, lambda t: torch.logdet(sym(t)), [("scale", "typical", 1.1)])
    Yl = K((rng.uniform(size=10_000) < 0.5) * 1.0)
    add(
        "bce_with_logits 1e4",
        3 * R(10_000),
        lambda t: F.binary_cross_entropy_with_logits(t, Yl(t)),
        [("scale", "typical", 1.1), ("scale", "random", 2.0)],
    )
    add(
        "sum exp, x in -10..10",
        rng.uniform(-10, 10, 20).astype(np.float32),
        lambda t: torch.exp(t).sum(),
        [("sign", "smallest")],
    )


def build_all() -> Corpus:
    C = Corpus()
    cat_elementwise(C)
    cat_reductions(C)
    cat_linalg(C)
    cat_indexing(C)
    cat_losses(C)
    cat_large(C)
    cat_scales(C)
    cat_near(C)
    cat_kinks(C)
    cat_float32(C)
    C.check_closures()
    return C


def dropped_cases() -> dict[str, str]:
    """{base point name: reason} for the points validate.py found torch inaccurate at."""
    if not VALIDATION.exists():
        return {}
    data = json.loads(VALIDATION.read_text())
    return {name: v["reason"] for name, v in data.items() if v.get("drop")}


def build_cases(validated: bool = True) -> list[Case]:
    cases = build_all().cases
    if not validated:
        return cases
    if not VALIDATION.exists():
        raise SystemExit(f"{VALIDATION} missing: run `python benchmarks/corpus/validate.py` first")
    drop = dropped_cases()
    return [c for c in cases if c.base not in drop]


if __name__ == "__main__":
    from collections import Counter

    cs = build_all().cases
    cnt = Counter((c.category, c.truth) for c in cs)
    for cat in sorted({c.category for c in cs}):
        print(f"{cat:<20} correct {cnt[(cat, 'correct')]:>4}  buggy {cnt[(cat, 'buggy')]:>4}")
    print("total", len(cs))
