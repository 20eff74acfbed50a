"""Blind test cases for nnderiv.check_gradient.

Each Case has: name, fun, grad, x, args, correct, bad_index (when exactly one entry is wrong)
plus validation metadata used only by validate.py:
  ref    -- an independent mpmath (high precision) version of the same mathematical loss,
            taking object arrays of mpf (see mpops.py);
  kink   -- None (fun is differentiable at x), "convex" (x sits on kinks of a function that is
            locally smooth + convex there: a valid claim must satisfy -f'(x;-d) <= g.d <= f'(x;d)),
            "generic" (kinks of one orientation: claim must lie between the one-sided derivatives);
  prec   -- "f64" or "f32" (precision the loss is computed in);
  dirs   -- extra directions (arrays shaped like x) the validator must test (e.g. tie pairs);
  exception_ok -- a raised error is an acceptable answer (grad of the wrong shape).
  ftol, vatol  -- validation tolerances where the naive float code is itself imprecise.
No file of nnderiv was read to write these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mpops as M  # noqa: N812
import numpy as np


@dataclass
class Case:
    name: str
    category: str
    fun: Callable
    grad: Callable
    x: np.ndarray
    args: tuple = ()
    correct: bool = True
    bad_index: Any = None
    note: str = ""
    ref: Callable | None = None
    kink: str | None = None
    prec: str = "f64"
    dirs: list = field(default_factory=list)
    exception_ok: bool = False
    ftol: float | None = None  # validation: allowed rel. gap fun(x) vs reference (naive code)
    vatol: float | None = None  # validation: abs. tolerance on g.d, relative to max|g|


CASES: list[Case] = []


def add(**kw):
    CASES.append(Case(**kw))


def dyadic(rng, shape, bits=3, lim=3.0):
    k = 2**bits
    return rng.integers(-int(lim * k), int(lim * k) + 1, size=shape).astype(float) / k


# generic bug wrappers (numeric bugs) ------------------------------------------------------
def scaled(g, s):
    def h(*a):
        return np.asarray(g(*a)) * s

    return h


def one_off(g, idx, rel):
    def h(*a):
        out = np.array(g(*a), copy=True)
        out[idx] = out[idx] * (1 + rel)
        return out

    return h


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# =========================================================================================
# 1. Non-smooth regularisers / activations at points with exact zeros / ties
# =========================================================================================
C1 = "1-nonsmooth"


# ---- L1-regularised least squares (lasso) ------------------------------------------------
def lasso_loss(w, A, b, lam):
    r = A @ w - b
    return 0.5 * np.mean(r**2) + lam * np.sum(np.abs(w))


def lasso_grad(w, A, b, lam):
    r = A @ w - b
    return A.T @ r / A.shape[0] + lam * np.sign(w)


def lasso_grad_forgot_l1(w, A, b, lam):
    r = A @ w - b
    return A.T @ r / A.shape[0]


def lasso_grad_sign(w, A, b, lam):
    r = A @ w - b
    return A.T @ r / A.shape[0] - lam * np.sign(w)


def lasso_grad_half(w, A, b, lam):
    r = A @ w - b
    return A.T @ r / A.shape[0] + 0.5 * lam * np.sign(w)


def lasso_grad_active_set(w, A, b, lam):
    # "only the active set moves": zeroes the gradient of every zero weight
    r = A @ w - b
    g = A.T @ r / A.shape[0] + lam * np.sign(w)
    g[w == 0] = 0.0
    return g


def lasso_ref(W, A, b, lam):
    r = A @ W - b
    return np.sum(r**2) / (2 * len(r)) + lam * np.sum(M.fabs(W))


def _mask_single_instance(A, w, b):
    """lam and A such that exactly one zero weight has |smooth grad| = 3 lam, others < lam."""
    A = A.copy()
    r = A @ w - b
    s = A.T @ r / A.shape[0]
    zi = np.flatnonzero(w == 0)
    order = zi[np.argsort(-np.abs(s[zi]))]
    j, second = order[0], abs(s[order[1]])
    lam = 1.25 * second
    A[:, j] *= 3 * lam / abs(s[j])
    return A, lam, int(j)


rng = np.random.default_rng(1)
A_l = rng.normal(size=(15, 20))
b_l = rng.normal(size=15)
w_l = rng.normal(size=20)
w_l[[1, 4, 5, 9, 12, 13, 17, 19]] = 0.0
w_l[13] = -0.0
for nm, g, ok in [
    ("lasso20_correct", lasso_grad, True),
    ("lasso20_forgot_l1", lasso_grad_forgot_l1, False),
    ("lasso20_l1_sign_flipped", lasso_grad_sign, False),
    ("lasso20_l1_half_scale", lasso_grad_half, False),
]:
    add(
        name=nm,
        category=C1,
        fun=lasso_loss,
        grad=g,
        x=w_l.copy(),
        args=(A_l, b_l, 0.1),
        correct=ok,
        ref=lasso_ref,
        kink="convex",
    )
A_m, lam_m, j_m = _mask_single_instance(A_l, w_l, b_l)
add(
    name="lasso20_active_set_mask_one_zero_wrong",
    category=C1,
    fun=lasso_loss,
    grad=lasso_grad_active_set,
    x=w_l.copy(),
    args=(A_m, b_l, lam_m),
    correct=False,
    bad_index=j_m,
    ref=lasso_ref,
    kink="convex",
    note="claims 0 at a zero weight whose smooth gradient is 3*lam: outside the subdifferential",
)
add(
    name="lasso20_active_set_instance_correct",
    category=C1,
    fun=lasso_loss,
    grad=lasso_grad,
    x=w_l.copy(),
    args=(A_m, b_l, lam_m),
    correct=True,
    ref=lasso_ref,
    kink="convex",
)

# ---- large lasso: 10,000 weights, 80 % exact zeros ---------------------------------------
rng = np.random.default_rng(2)
A_L = rng.normal(size=(40, 10000)) / np.sqrt(40)
b_L = rng.normal(size=40)
w_L = np.zeros(10000)
nzL = rng.choice(10000, size=2000, replace=False)
w_L[nzL] = rng.normal(size=2000)
_sL = A_L.T @ (A_L @ w_L - b_L) / 40
lam_L = float(np.median(np.abs(_sL)))
_gL = lasso_grad(w_L, A_L, b_L, lam_L)
_nzg = np.abs(_gL[nzL])
j_L = int(nzL[np.argsort(_nzg)[len(_nzg) // 2]])  # a nonzero weight with a median-size gradient
add(
    name="lasso10k_correct",
    category=C1,
    fun=lasso_loss,
    grad=lasso_grad,
    x=w_L.copy(),
    args=(A_L, b_L, lam_L),
    correct=True,
    ref=lasso_ref,
    kink="convex",
)
add(
    name="lasso10k_one_entry_10pct",
    category=C1,
    fun=lasso_loss,
    grad=one_off(lasso_grad, j_L, 0.10),
    x=w_L.copy(),
    args=(A_L, b_L, lam_L),
    correct=False,
    bad_index=j_L,
    ref=lasso_ref,
    kink="convex",
)
add(
    name="lasso10k_forgot_l1",
    category=C1,
    fun=lasso_loss,
    grad=lasso_grad_forgot_l1,
    x=w_L.copy(),
    args=(A_L, b_L, lam_L),
    correct=False,
    ref=lasso_ref,
    kink="convex",
)
A_Lm, lam_Lm, j_Lm = _mask_single_instance(A_L, w_L, b_L)
add(
    name="lasso10k_active_set_mask_one_zero_wrong",
    category=C1,
    fun=lasso_loss,
    grad=lasso_grad_active_set,
    x=w_L.copy(),
    args=(A_Lm, b_L, lam_Lm),
    correct=False,
    bad_index=j_Lm,
    ref=lasso_ref,
    kink="convex",
)


# ---- total-variation denoising (1-D) -----------------------------------------------------
def tv_loss(x, y, lam):
    return 0.5 * np.sum((x - y) ** 2) + lam * np.sum(np.abs(np.diff(x)))


def tv_grad(x, y, lam):
    s = np.sign(np.diff(x))
    g = x - y
    g[:-1] -= lam * s
    g[1:] += lam * s
    return g


def tv_grad_forgot(x, y, lam):
    return x - y


def tv_grad_flipped(x, y, lam):
    s = np.sign(np.diff(x))
    g = x - y
    g[:-1] += lam * s
    g[1:] -= lam * s
    return g


def tv_ref(X, y, lam):
    return np.sum((X - y) ** 2) / 2 + lam * np.sum(M.fabs(np.diff(X)))


rng = np.random.default_rng(3)
x_tv = np.concatenate(
    [
        np.full(5, 0.5),
        np.full(4, 1.25),
        rng.normal(size=6),
        np.full(6, -0.75),
        [0.1, 0.1],
        rng.normal(size=4),
        [2.0, 2.0, 2.0],
    ]
)
y_tv = x_tv + 0.3 * rng.normal(size=x_tv.size)


def tv_grad_half(x, y, lam):
    return tv_grad(x, y, 0.5 * lam)


for nm, g, ok in [
    ("tv1d_correct", tv_grad, True),
    ("tv1d_forgot_tv", tv_grad_forgot, False),
    ("tv1d_sign_flipped", tv_grad_flipped, False),
    ("tv1d_half_lambda", tv_grad_half, False),
]:
    add(
        name=nm,
        category=C1,
        fun=tv_loss,
        grad=g,
        x=x_tv.copy(),
        args=(y_tv, 0.3),
        correct=ok,
        ref=tv_ref,
        kink="convex",
    )


# ---- total-variation (2-D, anisotropic) --------------------------------------------------
def tv2d_loss(u, f, lam):
    return 0.5 * np.sum((u - f) ** 2) + lam * (
        np.sum(np.abs(np.diff(u, axis=0))) + np.sum(np.abs(np.diff(u, axis=1)))
    )


def tv2d_grad(u, f, lam):
    g = u - f
    sv = np.sign(np.diff(u, axis=0))
    sh = np.sign(np.diff(u, axis=1))
    g[:-1, :] -= lam * sv
    g[1:, :] += lam * sv
    g[:, :-1] -= lam * sh
    g[:, 1:] += lam * sh
    return g


def tv2d_grad_vertical_only(u, f, lam):
    g = u - f
    sv = np.sign(np.diff(u, axis=0))
    g[:-1, :] -= lam * sv
    g[1:, :] += lam * sv
    return g


def tv2d_ref(U, f, lam):
    return np.sum((U - f) ** 2) / 2 + lam * (
        np.sum(M.fabs(np.diff(U, axis=0))) + np.sum(M.fabs(np.diff(U, axis=1)))
    )


rng = np.random.default_rng(31)
img = np.zeros((8, 8))
img[2:6, 2:6] = 1.0
img[0:2, :] = 0.5
img[7, 5] = -0.3
img[6, 1] = 0.8
noisy = img + 0.2 * rng.normal(size=img.shape)
add(
    name="tv2d_correct",
    category=C1,
    fun=tv2d_loss,
    grad=tv2d_grad,
    x=img.copy(),
    args=(noisy, 0.15),
    correct=True,
    ref=tv2d_ref,
    kink="convex",
)
add(
    name="tv2d_forgot_horizontal_term",
    category=C1,
    fun=tv2d_loss,
    grad=tv2d_grad_vertical_only,
    x=img.copy(),
    args=(noisy, 0.15),
    correct=False,
    ref=tv2d_ref,
    kink="convex",
)


# ---- group lasso ---------------------------------------------------------------------------
def gl_loss(w, A, b, lam, gs):
    r = A @ w - b
    W = w.reshape(-1, gs)
    return 0.5 * np.mean(r**2) + lam * np.sum(np.linalg.norm(W, axis=1))


def gl_grad_loop(w, A, b, lam, gs):
    r = A @ w - b
    g = A.T @ r / A.shape[0]
    for k in range(0, w.size, gs):
        n = np.linalg.norm(w[k : k + gs])
        if n > 0:
            g[k : k + gs] += lam * w[k : k + gs] / n
    return g


def gl_grad_divide(w, A, b, lam, gs):
    r = A @ w - b
    W = w.reshape(-1, gs)
    nrm = np.linalg.norm(W, axis=1, keepdims=True)
    G = np.divide(W, nrm, out=np.zeros_like(W), where=nrm > 0)
    return A.T @ r / A.shape[0] + lam * G.ravel()


def gl_grad_forgot(w, A, b, lam, gs):
    r = A @ w - b
    return A.T @ r / A.shape[0]


def gl_grad_sq(w, A, b, lam, gs):
    r = A @ w - b
    W = w.reshape(-1, gs)
    nrm = np.linalg.norm(W, axis=1, keepdims=True)
    G = np.divide(W, nrm**2, out=np.zeros_like(W), where=nrm > 0)
    return A.T @ r / A.shape[0] + lam * G.ravel()


def gl_grad_sign(w, A, b, lam, gs):
    r = A @ w - b
    return A.T @ r / A.shape[0] - (gl_grad_divide(w, A, b, lam, gs) - A.T @ r / A.shape[0])


def gl_ref(W, A, b, lam, gs):
    r = A @ W - b
    G = W.reshape(-1, gs)
    return np.sum(r**2) / (2 * len(r)) + lam * np.sum(M.sqrt(np.sum(G**2, axis=1)))


rng = np.random.default_rng(4)
A_g = rng.normal(size=(25, 40))
b_g = rng.normal(size=25)
w_g = rng.normal(size=40)
for gi in [1, 4, 5, 8]:
    w_g[4 * gi : 4 * gi + 4] = 0.0
for nm, g, ok in [
    ("group_lasso_correct_loop", gl_grad_loop, True),
    ("group_lasso_correct_divide", gl_grad_divide, True),
    ("group_lasso_forgot_norm_term", gl_grad_forgot, False),
    ("group_lasso_divides_by_norm_squared", gl_grad_sq, False),
    ("group_lasso_norm_term_sign_flipped", gl_grad_sign, False),
]:
    add(
        name=nm,
        category=C1,
        fun=gl_loss,
        grad=g,
        x=w_g.copy(),
        args=(A_g, b_g, 0.2, 4),
        correct=ok,
        ref=gl_ref,
        kink="convex",
    )


# ---- sparse logistic regression (labels +-1) + L1 ------------------------------------------
def slog_loss(w, X, y, lam):
    return np.mean(np.log1p(np.exp(-y * (X @ w)))) + lam * np.sum(np.abs(w))


def slog_grad(w, X, y, lam):
    t = y * (X @ w)
    return -X.T @ (y / (1 + np.exp(t))) / X.shape[0] + lam * np.sign(w)


def slog_grad_forgot_l1(w, X, y, lam):
    t = y * (X @ w)
    return -X.T @ (y / (1 + np.exp(t))) / X.shape[0]


def slog_grad_no_mean(w, X, y, lam):
    t = y * (X @ w)
    return -X.T @ (y / (1 + np.exp(t))) + lam * np.sign(w)


def slog_ref(W, X, y, lam):
    return np.sum(M.log(1 + M.exp(-y * (X @ W)))) / X.shape[0] + lam * np.sum(M.fabs(W))


rng = np.random.default_rng(5)
X_s = rng.normal(size=(30, 12))
y_s = np.where(rng.random(30) < 0.5, -1.0, 1.0)
w_s = rng.normal(size=12)
w_s[[0, 3, 4, 8, 11]] = 0.0
for nm, g, ok in [
    ("sparse_logreg_l1_correct", slog_grad, True),
    ("sparse_logreg_l1_forgot_l1", slog_grad_forgot_l1, False),
    ("sparse_logreg_l1_missing_1_over_m", slog_grad_no_mean, False),
]:
    add(
        name=nm,
        category=C1,
        fun=slog_loss,
        grad=g,
        x=w_s.copy(),
        args=(X_s, y_s, 0.05),
        correct=ok,
        ref=slog_ref,
        kink="convex",
    )


# ---- elastic net ---------------------------------------------------------------------------
def enet_loss(w, A, b, l1, l2):
    r = A @ w - b
    return 0.5 * np.mean(r**2) + l1 * np.sum(np.abs(w)) + 0.5 * l2 * np.sum(w**2)


def enet_grad(w, A, b, l1, l2):
    r = A @ w - b
    return A.T @ r / len(b) + l1 * np.sign(w) + l2 * w


def enet_grad_ridge_x2(w, A, b, l1, l2):
    r = A @ w - b
    return A.T @ r / len(b) + l1 * np.sign(w) + 2 * l2 * w


def enet_grad_forgot_l1(w, A, b, l1, l2):
    r = A @ w - b
    return A.T @ r / len(b) + l2 * w


def enet_ref(W, A, b, l1, l2):
    r = A @ W - b
    return np.sum(r**2) / (2 * len(r)) + l1 * np.sum(M.fabs(W)) + l2 * np.sum(W**2) / 2


rng = np.random.default_rng(6)
A_e = rng.normal(size=(20, 15))
b_e = rng.normal(size=20)
w_e = rng.normal(size=15)
w_e[[2, 3, 7, 9, 10, 14]] = 0.0
for nm, g, ok in [
    ("elastic_net_correct", enet_grad, True),
    ("elastic_net_ridge_term_doubled", enet_grad_ridge_x2, False),
    ("elastic_net_forgot_l1", enet_grad_forgot_l1, False),
]:
    add(
        name=nm,
        category=C1,
        fun=enet_loss,
        grad=g,
        x=w_e.copy(),
        args=(A_e, b_e, 0.1, 0.5),
        correct=ok,
        ref=enet_ref,
        kink="convex",
    )


# ---- hinge loss on scores, some margins exactly 1 -----------------------------------------
def hinge_loss(z, y):
    return np.mean(np.maximum(0, 1 - y * z))


def hinge_grad(z, y):
    return np.where(y * z < 1, -y, 0.0) / z.size


def hinge_grad_half_at_kink(z, y):
    m = y * z
    coef = np.where(m < 1, 1.0, np.where(m == 1, 0.5, 0.0))
    return -y * coef / z.size


def hinge_grad_no_mean(z, y):
    return np.where(y * z < 1, -y, 0.0)


def hinge_grad_sign(z, y):
    return np.where(y * z < 1, y, 0.0) / z.size


def hinge_ref(Z, y):
    return np.sum(M.relu(1 - y * Z)) / Z.size


y_h = np.array([[1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, 1]], dtype=float)
marg = np.array([[1, 1, 0.5, 2, 1, -0.3, 1.5, 1, 0.25, 3, -1, 1]])
z_h = y_h * marg
for nm, g, ok in [
    ("hinge_scores_correct", hinge_grad, True),
    ("hinge_scores_correct_half_at_kink", hinge_grad_half_at_kink, True),
    ("hinge_scores_missing_1_over_m", hinge_grad_no_mean, False),
    ("hinge_scores_sign_flipped", hinge_grad_sign, False),
]:
    add(
        name=nm,
        category=C1,
        fun=hinge_loss,
        grad=g,
        x=z_h.copy(),
        args=(y_h,),
        correct=ok,
        ref=hinge_ref,
        kink="convex",
    )


# ---- linear SVM in the weights, four margins exactly 1 -------------------------------------
def svm_loss(w, X, y, lam):
    return np.mean(np.maximum(0, 1 - y * (X @ w))) + 0.5 * lam * (w @ w)


def svm_grad(w, X, y, lam):
    act = (y * (X @ w) < 1).astype(float)
    return -X.T @ (y * act) / X.shape[0] + lam * w


def svm_grad_forgot_reg(w, X, y, lam):
    act = (y * (X @ w) < 1).astype(float)
    return -X.T @ (y * act) / X.shape[0]


def svm_grad_inverted_mask(w, X, y, lam):
    act = (y * (X @ w) > 1).astype(float)
    return -X.T @ (y * act) / X.shape[0] + lam * w


def svm_ref(W, X, y, lam):
    return np.sum(M.relu(1 - y * (X @ W))) / X.shape[0] + lam * np.sum(W * W) / 2


rng = np.random.default_rng(7)
w_v = dyadic(rng, 6)
w_v[0] = 1.0
X_v = dyadic(rng, (16, 6))
y_v = np.where(rng.random(16) < 0.5, -1.0, 1.0)
for i in [0, 3, 7, 11]:
    X_v[i, 0] = y_v[i] - X_v[i, 1:] @ w_v[1:]
assert np.all((y_v * (X_v @ w_v))[[0, 3, 7, 11]] == 1.0)
for nm, g, ok in [
    ("linear_svm_exact_margins_correct", svm_grad, True),
    ("linear_svm_forgot_regulariser", svm_grad_forgot_reg, False),
    ("linear_svm_inverted_mask", svm_grad_inverted_mask, False),
]:
    add(
        name=nm,
        category=C1,
        fun=svm_loss,
        grad=g,
        x=w_v.copy(),
        args=(X_v, y_v, 0.1),
        correct=ok,
        ref=svm_ref,
        kink="convex",
    )


# ---- multiclass SVM (Weston-Watkins / cs231n) on scores with zero margins -----------------
def msvm_loss(S, y):
    m = S.shape[1]
    cols = np.arange(m)
    correct = S[y, cols]
    margins = np.maximum(0, S - correct + 1)
    margins[y, cols] = 0
    return np.sum(margins) / m


def msvm_grad(S, y):
    m = S.shape[1]
    cols = np.arange(m)
    margins = np.maximum(0, S - S[y, cols] + 1)
    margins[y, cols] = 0
    mask = (margins > 0).astype(float)
    mask[y, cols] = -mask.sum(axis=0)
    return mask / m


def msvm_grad_ge(S, y):
    m = S.shape[1]
    cols = np.arange(m)
    mask = (S - S[y, cols] + 1 >= 0).astype(float)
    mask[y, cols] = 0
    mask[y, cols] = -mask.sum(axis=0)
    return mask / m


def msvm_grad_forgot_correct_class(S, y):
    m = S.shape[1]
    cols = np.arange(m)
    margins = np.maximum(0, S - S[y, cols] + 1)
    margins[y, cols] = 0
    mask = (margins > 0).astype(float)
    return mask / m


def msvm_ref(S, y):
    m = S.shape[1]
    cols = np.arange(m)
    margins = M.maximum(0, S - S[y, cols] + 1)
    margins[y, cols] = 0
    return np.sum(margins) / m


rng = np.random.default_rng(8)
S_c = dyadic(rng, (4, 10), bits=2)
y_c = rng.integers(0, 4, size=10)
for col, js in [(0, 1), (3, 1), (6, 2), (9, 1)]:
    others = [j for j in range(4) if j != y_c[col]][:js]
    for j in others:
        S_c[j, col] = S_c[y_c[col], col] - 1.0
for nm, g, ok in [
    ("multiclass_svm_zero_margins_correct", msvm_grad, True),
    ("multiclass_svm_zero_margins_correct_ge", msvm_grad_ge, True),
    ("multiclass_svm_forgot_correct_class_row", msvm_grad_forgot_correct_class, False),
]:
    add(
        name=nm,
        category=C1,
        fun=msvm_loss,
        grad=g,
        x=S_c.copy(),
        args=(y_c,),
        correct=ok,
        ref=msvm_ref,
        kink="convex",
    )


# ---- ReLU with exact zeros -----------------------------------------------------------------
def relu_pen_loss(z, v, u):
    return np.sum(v * np.maximum(z, 0)) + 0.5 * np.sum((z - u) ** 2)


def relu_pen_grad(z, v, u):
    return v * (z > 0) + (z - u)


def relu_pen_grad_ge(z, v, u):
    return v * (z >= 0) + (z - u)


def relu_pen_grad_nomask(z, v, u):
    return v + (z - u)


def relu_pen_ref(Z, v, u):
    return np.sum(v * M.relu(Z)) + np.sum((Z - u) ** 2) / 2


rng = np.random.default_rng(9)
z_r = rng.normal(size=(3, 6))
z_r.flat[[1, 4, 8, 13, 17]] = 0.0
v_r = rng.uniform(0.5, 1.5, size=(3, 6))
u_r = rng.normal(size=(3, 6))
for nm, g, ok in [
    ("relu_penalty_zeros_correct", relu_pen_grad, True),
    ("relu_penalty_zeros_correct_relu_prime_1", relu_pen_grad_ge, True),
    ("relu_penalty_forgot_mask", relu_pen_grad_nomask, False),
]:
    add(
        name=nm,
        category=C1,
        fun=relu_pen_loss,
        grad=g,
        x=z_r.copy(),
        args=(v_r, u_r),
        correct=ok,
        ref=relu_pen_ref,
        kink="convex",
    )


def relu_reg_loss(z, t):
    return 0.5 * np.sum((np.maximum(z, 0) - t) ** 2)


def relu_reg_grad(z, t):
    return (np.maximum(z, 0) - t) * (z > 0)


def relu_reg_grad_nomask(z, t):
    return np.maximum(z, 0) - t


def relu_reg_ref(Z, t):
    return np.sum((M.relu(Z) - t) ** 2) / 2


t_r = np.abs(rng.normal(size=(3, 6))) + 0.2  # positive targets: kinks at 0 are all concave
for nm, g, ok in [
    ("relu_regression_zeros_concave_correct", relu_reg_grad, True),
    ("relu_regression_forgot_mask", relu_reg_grad_nomask, False),
]:
    add(
        name=nm,
        category=C1,
        fun=relu_reg_loss,
        grad=g,
        x=z_r.copy(),
        args=(t_r,),
        correct=ok,
        ref=relu_reg_ref,
        kink="generic",
    )


# ---- small ReLU MLP, gradient w.r.t. the first-layer weights, 2 pre-activations exactly 0 --
def mlp_relu_loss(W1, X, b1, v, b2, t):
    H = W1 @ X + b1
    out = v @ np.maximum(H, 0) + b2
    return 0.5 * np.mean((out - t) ** 2)


def mlp_relu_grad(W1, X, b1, v, b2, t):
    H = W1 @ X + b1
    out = v @ np.maximum(H, 0) + b2
    r = out - t
    dA = np.outer(v, r) / X.shape[1]
    dH = dA * (H > 0)
    return dH @ X.T


def mlp_relu_grad_nomask(W1, X, b1, v, b2, t):
    H = W1 @ X + b1
    out = v @ np.maximum(H, 0) + b2
    r = out - t
    return (np.outer(v, r) / X.shape[1]) @ X.T


def mlp_relu_grad_no_mean(W1, X, b1, v, b2, t):
    H = W1 @ X + b1
    out = v @ np.maximum(H, 0) + b2
    r = out - t
    return (np.outer(v, r) * (H > 0)) @ X.T


def mlp_relu_ref(W1, X, b1, v, b2, t):
    out = v @ M.relu(W1 @ X + b1) + b2
    return np.sum((out - t) ** 2) / (2 * X.shape[1])


rng = np.random.default_rng(10)
X_n = dyadic(rng, (3, 8), bits=2)
W1_n = dyadic(rng, (5, 3), bits=2, lim=2)
b1_n = dyadic(rng, (5, 1), bits=2, lim=1)
v_n = dyadic(rng, 5, bits=2, lim=2)
v_n[v_n == 0] = 0.75
zero_pairs = [(1, 2), (3, 5)]
for k, n in zero_pairs:
    b1_n[k, 0] = -(W1_n[k] @ X_n[:, n])
H_n = W1_n @ X_n + b1_n
o_n = v_n @ np.maximum(H_n, 0) + 0.25
r_n = rng.normal(size=8)
for k, n in zero_pairs:
    r_n[n] = np.sign(v_n[k]) * (abs(r_n[n]) + 0.5)  # kink coefficient v_k r_n > 0: convex
t_n = o_n - r_n
args_n = (X_n, b1_n, v_n, 0.25, t_n)
for nm, g, ok in [
    ("relu_mlp_zero_preacts_correct", mlp_relu_grad, True),
    ("relu_mlp_forgot_relu_mask", mlp_relu_grad_nomask, False),
    ("relu_mlp_missing_1_over_m", mlp_relu_grad_no_mean, False),
]:
    add(
        name=nm,
        category=C1,
        fun=mlp_relu_loss,
        grad=g,
        x=W1_n.copy(),
        args=args_n,
        correct=ok,
        ref=mlp_relu_ref,
        kink="convex",
    )


# ---- np.clip at both ends ----------------------------------------------------------------
def clip_loss(x, t):
    return 0.5 * np.sum((np.clip(x, -1.0, 1.0) - t) ** 2)


def clip_grad(x, t):
    return (np.clip(x, -1.0, 1.0) - t) * ((x > -1.0) & (x < 1.0))


def clip_grad_nomask(x, t):
    return np.clip(x, -1.0, 1.0) - t


def clip_ref(X, t):
    return np.sum((M.clip(X, -1, 1) - t) ** 2) / 2


x_cl = np.array([-1.0, 1.0, 0.3, -2.5, 1.75, -1.0, 0.9, 1.0, -0.2, 3.0, -1.4, 0.0])
t_cl = np.array([-1.5, 1.5, 0.1, 0.4, -0.3, -2.0, -0.5, 1.25, 0.6, 0.2, 0.3, -0.7])
for nm, g, ok in [
    ("clip_at_bounds_correct", clip_grad, True),
    ("clip_treated_as_identity", clip_grad_nomask, False),
]:
    add(
        name=nm,
        category=C1,
        fun=clip_loss,
        grad=g,
        x=x_cl.copy(),
        args=(t_cl,),
        correct=ok,
        ref=clip_ref,
        kink="convex",
    )


# ---- np.where (leaky ReLU) with exact zeros --------------------------------------------------
def leaky_loss(x, c, u):
    return np.sum(c * np.where(x > 0, x, 0.1 * x)) + 0.5 * np.sum((x - u) ** 2)


def leaky_grad(x, c, u):
    return c * np.where(x > 0, 1.0, 0.1) + (x - u)


def leaky_grad_forgot_branch(x, c, u):
    return c + (x - u)


def leaky_ref(X, c, u):
    return np.sum(c * M.where(X > 0, X, X / 10)) + np.sum((X - u) ** 2) / 2


rng = np.random.default_rng(12)
x_lk = rng.normal(size=10)
x_lk[[2, 5, 7]] = 0.0
c_lk = rng.uniform(0.5, 2.0, size=10)
u_lk = rng.normal(size=10)
for nm, g, ok in [
    ("leaky_where_zeros_correct", leaky_grad, True),
    ("leaky_where_forgot_negative_branch", leaky_grad_forgot_branch, False),
]:
    add(
        name=nm,
        category=C1,
        fun=leaky_loss,
        grad=g,
        x=x_lk.copy(),
        args=(c_lk, u_lk),
        correct=ok,
        ref=leaky_ref,
        kink="convex",
    )


# ---- np.minimum: truncated quadratic, one residual exactly at the threshold -----------------
def trunc_loss(x, t):
    return np.sum(np.minimum((x - t) ** 2, 1.0))


def trunc_grad(x, t):
    r = x - t
    return np.where(r**2 < 1.0, 2 * r, 0.0)


def trunc_grad_no_truncation(x, t):
    return 2 * (x - t)


def trunc_ref(X, t):
    return np.sum(M.minimum((X - t) ** 2, 1))


t_tq = np.array([0.25, -0.5, 1.0, 0.75, 2.0, -1.25, 0.0, 0.5])
x_tq = t_tq + np.array([0.5, -0.25, 2.5, 1.0, -3.0, 0.125, 0.75, -1.75])  # entry 3: |r| == 1
for nm, g, ok in [
    ("truncated_quadratic_minimum_correct", trunc_grad, True),
    ("truncated_quadratic_forgot_truncation", trunc_grad_no_truncation, False),
]:
    add(
        name=nm,
        category=C1,
        fun=trunc_loss,
        grad=g,
        x=x_tq.copy(),
        args=(t_tq,),
        correct=ok,
        ref=trunc_ref,
        kink="generic",
    )


# ---- 2x2 max-pooling with ties -----------------------------------------------------------
def maxpool_loss(x, wout):
    p = x.reshape(2, 2, 4, 2).max(axis=(1, 3))
    return np.sum(wout * p) + 0.05 * np.sum(x**2)


def maxpool_grad_argmax(x, wout):
    g = 0.1 * x.copy()
    for i in range(2):
        for j in range(4):
            win = x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            a, b = np.unravel_index(np.argmax(win), win.shape)
            g[2 * i + a, 2 * j + b] += wout[i, j]
    return g


def maxpool_grad_split(x, wout):
    g = 0.1 * x.copy()
    for i in range(2):
        for j in range(4):
            win = x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            mask = win == win.max()
            g[2 * i : 2 * i + 2, 2 * j : 2 * j + 2] += wout[i, j] * mask / mask.sum()
    return g


def maxpool_grad_all_ties(x, wout):
    g = 0.1 * x.copy()
    for i in range(2):
        for j in range(4):
            win = x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            g[2 * i : 2 * i + 2, 2 * j : 2 * j + 2] += wout[i, j] * (win == win.max())
    return g


def maxpool_ref(X, wout):
    tot = np.sum(X**2) / 20
    for i in range(2):
        for j in range(4):
            win = list(X[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].ravel())
            tot += wout[i, j] * max(win)
    return tot


rng = np.random.default_rng(13)
x_mp = np.round(rng.normal(size=(4, 8)), 2)
x_mp[0, 0] = x_mp[1, 1] = 2.0
x_mp[0, 1] = 1.0
x_mp[1, 0] = -0.5  # window (0,0): tie of two
x_mp[2, 4] = x_mp[2, 5] = x_mp[3, 5] = 1.5
x_mp[3, 4] = 0.2  # window (1,2): tie of three
x_mp[0:2, 6:8] = 0.7  # window (0,3): all four equal
wout_mp = rng.uniform(0.5, 1.5, size=(2, 4))
dirs_mp = []
for i, j in [(0, 0), (1, 2), (0, 3)]:
    win = x_mp[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
    d = np.zeros_like(x_mp)
    d[2 * i : 2 * i + 2, 2 * j : 2 * j + 2] = win == win.max()
    dirs_mp.append(d)
for nm, g, ok in [
    ("maxpool_ties_correct_argmax", maxpool_grad_argmax, True),
    ("maxpool_ties_correct_split", maxpool_grad_split, True),
    ("maxpool_ties_full_weight_to_every_tie", maxpool_grad_all_ties, False),
]:
    add(
        name=nm,
        category=C1,
        fun=maxpool_loss,
        grad=g,
        x=x_mp.copy(),
        args=(wout_mp,),
        correct=ok,
        ref=maxpool_ref,
        kink="convex",
        dirs=dirs_mp,
    )


# =========================================================================================
# 2. Naive but correct code with cancellation (sigmoid saturating)
# =========================================================================================
C2 = "2-cancellation"


def bce_naive(z, y):
    a = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))


def bce_naive_grad(z, y):
    a = 1 / (1 + np.exp(-z))
    return (a - y) / z.size


def bce_naive_grad_label_smoothing(z, y):
    # gradient written for label-smoothed targets, loss not smoothed (eps = 2e-3)
    ys = y * (1 - 2e-3) + 1e-3
    a = 1 / (1 + np.exp(-z))
    return (a - ys) / z.size


def bce_ref(Z, Y):
    a = M.sigmoid(Z)
    return -np.sum(Y * M.log(a) + (1 - Y) * M.log(1 - a)) / Z.size


z_b = np.array([[10.0, 15.0, 20.0, 25.0, -15.0, 10.0, 15.0, 20.0, 25.0, -15.0]])
y_b = np.array([[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]])
add(
    name="bce_naive_saturated_correct",
    category=C2,
    fun=bce_naive,
    grad=bce_naive_grad,
    x=z_b.copy(),
    args=(y_b,),
    correct=True,
    ref=bce_ref,
)
add(
    name="bce_naive_saturated_label_smoothing_mismatch",
    category=C2,
    fun=bce_naive,
    grad=bce_naive_grad_label_smoothing,
    x=z_b.copy(),
    args=(y_b,),
    correct=False,
    ref=bce_ref,
)
add(
    name="bce_naive_saturated_one_entry_5e-3",
    category=C2,
    fun=bce_naive,
    grad=one_off(bce_naive_grad, (0, 3), 5e-3),
    x=z_b.copy(),
    args=(y_b,),
    correct=False,
    bad_index=(0, 3),
    ref=bce_ref,
)
add(
    name="bce_naive_saturated_scale_1e-2",
    category=C2,
    fun=bce_naive,
    grad=scaled(bce_naive_grad, 1.01),
    x=z_b.copy(),
    args=(y_b,),
    correct=False,
    ref=bce_ref,
)
z_bt = np.array([[10.0, 12.0, 15.0, 20.0, 25.0, -10.0, -15.0, -20.0]])
y_bt = np.array([[1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]])
add(
    name="bce_naive_all_well_classified_correct",
    category=C2,
    fun=bce_naive,
    grad=bce_naive_grad,
    x=z_bt.copy(),
    args=(y_bt,),
    correct=True,
    ref=bce_ref,
    vatol=1e-10,
    note="(a - y)/m at z=25 has abs. rounding ~1e-17, i.e. 1e-12 of max|g|: still correct",
)
add(
    name="bce_naive_all_well_classified_scale_1e-3",
    category=C2,
    fun=bce_naive,
    grad=scaled(bce_naive_grad, 1.001),
    x=z_bt.copy(),
    args=(y_bt,),
    correct=False,
    ref=bce_ref,
)


# ---- focal loss, gamma = 2 ------------------------------------------------------------------
def focal_loss(z, y, gamma=2.0):
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y == 1, p, 1 - p)
    return -np.mean((1 - pt) ** gamma * np.log(pt))


def focal_grad(z, y, gamma=2.0):
    # dFL/dz = (2y-1) [gamma pt (1-pt)^gamma log pt - (1-pt)^(gamma+1)] / m
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y == 1, p, 1 - p)
    s = 2 * y - 1
    return s * (gamma * pt * (1 - pt) ** gamma * np.log(pt) - (1 - pt) ** (gamma + 1)) / z.size


def focal_grad_const_modulator(z, y, gamma=2.0):
    # treats (1-pt)^gamma as a constant
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y == 1, p, 1 - p)
    return -(2 * y - 1) * (1 - pt) ** gamma * (1 - pt) / z.size


def focal_ref(Z, Y, gamma=2.0):
    p = M.sigmoid(Z)
    pt = M.where(Y == 1, p, 1 - p)
    return -np.sum((1 - pt) ** int(gamma) * M.log(pt)) / Z.size


z_f = np.array([[8.0, 9.0, 10.0, 11.0, 12.0, -8.0, -9.0, -10.0, -11.0, -12.0]])
y_f = np.array([[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]])
add(
    name="focal_g2_mixed_correct",
    category=C2,
    fun=focal_loss,
    grad=focal_grad,
    x=z_f.copy(),
    args=(y_f,),
    correct=True,
    ref=focal_ref,
)
add(
    name="focal_g2_mixed_constant_modulator",
    category=C2,
    fun=focal_loss,
    grad=focal_grad_const_modulator,
    x=z_f.copy(),
    args=(y_f,),
    correct=False,
    ref=focal_ref,
)
add(
    name="focal_g2_mixed_one_entry_2e-3",
    category=C2,
    fun=focal_loss,
    grad=one_off(focal_grad, (0, 4), 2e-3),
    x=z_f.copy(),
    args=(y_f,),
    correct=False,
    bad_index=(0, 4),
    ref=focal_ref,
)
add(
    name="focal_g2_mixed_scale_1e-3",
    category=C2,
    fun=focal_loss,
    grad=scaled(focal_grad, 1.001),
    x=z_f.copy(),
    args=(y_f,),
    correct=False,
    ref=focal_ref,
)
z_fw = np.array([[8.0, 9.0, 10.0, 11.0, 12.0, -8.0, -10.0, -12.0]])
y_fw = np.array([[1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]])
add(
    name="focal_g2_well_classified_correct",
    category=C2,
    fun=focal_loss,
    grad=focal_grad,
    x=z_fw.copy(),
    args=(y_fw,),
    correct=True,
    ref=focal_ref,
)
add(
    name="focal_g2_well_classified_constant_modulator",
    category=C2,
    fun=focal_loss,
    grad=focal_grad_const_modulator,
    x=z_fw.copy(),
    args=(y_fw,),
    correct=False,
    ref=focal_ref,
)


def focal_alpha_loss(z, y, alpha=0.25, gamma=2.0):
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y == 1, p, 1 - p)
    at = np.where(y == 1, alpha, 1 - alpha)
    return -np.mean(at * (1 - pt) ** gamma * np.log(pt))


def focal_alpha_grad(z, y, alpha=0.25, gamma=2.0):
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y == 1, p, 1 - p)
    at = np.where(y == 1, alpha, 1 - alpha)
    return (
        at
        * (2 * y - 1)
        * (gamma * pt * (1 - pt) ** gamma * np.log(pt) - (1 - pt) ** (gamma + 1))
        / z.size
    )


def focal_alpha_grad_swapped(z, y, alpha=0.25, gamma=2.0):
    return focal_alpha_grad(z, y, 1 - alpha, gamma)


def focal_alpha_ref(Z, Y, alpha=0.25, gamma=2.0):
    p = M.sigmoid(Z)
    pt = M.where(Y == 1, p, 1 - p)
    at = M.where(Y == 1, alpha, 1 - alpha)
    return -np.sum(at * (1 - pt) ** int(gamma) * M.log(pt)) / Z.size


z_fa = np.array([[0.5, -2.0, 3.0, 8.0, -9.0, 1.5, -0.3, 10.0]])
y_fa = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]])
add(
    name="focal_alpha_correct",
    category=C2,
    fun=focal_alpha_loss,
    grad=focal_alpha_grad,
    x=z_fa.copy(),
    args=(y_fa,),
    correct=True,
    ref=focal_alpha_ref,
)
add(
    name="focal_alpha_swapped",
    category=C2,
    fun=focal_alpha_loss,
    grad=focal_alpha_grad_swapped,
    x=z_fa.copy(),
    args=(y_fa,),
    correct=False,
    ref=focal_alpha_ref,
)


# ---- naive softmax cross-entropy (no max shift), big logit gaps ---------------------------
def softmax_ce_naive(Z, Y):
    P = np.exp(Z) / np.sum(np.exp(Z), axis=0, keepdims=True)
    return -np.sum(Y * np.log(P)) / Z.shape[1]


def softmax_ce_naive_grad(Z, Y):
    P = np.exp(Z) / np.sum(np.exp(Z), axis=0, keepdims=True)
    return (P - Y) / Z.shape[1]


def softmax_ce_naive_grad_ls(Z, Y):
    P = np.exp(Z) / np.sum(np.exp(Z), axis=0, keepdims=True)
    Ys = 0.999 * Y + 0.001 / Z.shape[0]
    return (P - Ys) / Z.shape[1]


def softmax_ce_ref(Z, Y):
    E = M.exp(Z)
    P = E / np.sum(E, axis=0, keepdims=True)
    return -np.sum(Y * M.log(P)) / Z.shape[1]


Z_sn = np.array(
    [
        [30.0, 2.0, -5.0, 1.0, 25.0, 0.0],
        [5.0, 28.0, 0.0, 20.0, 0.5, 1.0],
        [-3.0, 1.0, 22.0, 3.0, 1.0, 18.0],
        [0.0, 4.0, 1.0, -2.0, 2.0, 2.0],
    ]
)
Y_sn = np.zeros((4, 6))
Y_sn[[0, 1, 2, 0, 1, 3], range(6)] = 1.0  # columns 3, 4, 5 misclassified
add(
    name="softmax_ce_naive_big_logits_correct",
    category=C2,
    fun=softmax_ce_naive,
    grad=softmax_ce_naive_grad,
    x=Z_sn.copy(),
    args=(Y_sn,),
    correct=True,
    ref=softmax_ce_ref,
)
add(
    name="softmax_ce_naive_big_logits_one_entry_5e-3",
    category=C2,
    fun=softmax_ce_naive,
    grad=one_off(softmax_ce_naive_grad, (1, 3), 5e-3),
    x=Z_sn.copy(),
    args=(Y_sn,),
    correct=False,
    bad_index=(1, 3),
    ref=softmax_ce_ref,
)
add(
    name="softmax_ce_naive_big_logits_label_smoothing_mismatch",
    category=C2,
    fun=softmax_ce_naive,
    grad=softmax_ce_naive_grad_ls,
    x=Z_sn.copy(),
    args=(Y_sn,),
    correct=False,
    ref=softmax_ce_ref,
)


# ---- naive softplus -------------------------------------------------------------------------
def softplus_naive(z):
    return np.sum(np.log(1 + np.exp(z)))


def softplus_naive_grad(z):
    return 1 / (1 + np.exp(-z))


def softplus_ref(Z):
    return np.sum(M.softplus(Z))


z_sp = np.array([-30.0, -20.0, -10.0, 0.5, 10.0, 20.0, 30.0])
add(
    name="softplus_naive_correct",
    category=C2,
    fun=softplus_naive,
    grad=softplus_naive_grad,
    x=z_sp.copy(),
    correct=True,
    ref=softplus_ref,
)
add(
    name="softplus_naive_one_entry_1e-2",
    category=C2,
    fun=softplus_naive,
    grad=one_off(softplus_naive_grad, 5, 1e-2),
    x=z_sp.copy(),
    correct=False,
    bad_index=5,
    ref=softplus_ref,
)
add(
    name="softplus_naive_scale_2e-3",
    category=C2,
    fun=softplus_naive,
    grad=scaled(softplus_naive_grad, 1.002),
    x=z_sp.copy(),
    correct=False,
    ref=softplus_ref,
)


# =========================================================================================
# 3. float32 losses
# =========================================================================================
C3 = "3-float32"


def bce_logits_f32(Z, Y):
    Z = Z.astype(np.float32)
    Y = Y.astype(np.float32)
    m = Z.shape[1]
    return np.sum(np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))) / np.float32(m)


def bce_logits_f32_grad(Z, Y):
    Z = Z.astype(np.float32)
    Y = Y.astype(np.float32)
    return (1 / (1 + np.exp(-Z)) - Y) / np.float32(Z.shape[1])


def bce_logits_ref(Z, Y):
    return np.sum(M.softplus(Z) - Y * Z) / Z.shape[1]


def _argmax_abs(g):
    return tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(g)), g.shape))


def _median_abs_index(g):
    flat = np.argsort(np.abs(g).ravel())
    return tuple(int(i) for i in np.unravel_index(flat[(3 * flat.size) // 4], g.shape))


for shape, seed in [((4, 8), 20), ((10, 1000), 21)]:
    rng = np.random.default_rng(seed)
    Zf = rng.normal(0, 2, size=shape)
    Yf = (rng.random(shape) < 0.5).astype(float)
    tag = f"{shape[0]}x{shape[1]}"
    g0 = bce_logits_f32_grad(Zf, Yf)
    idx = _median_abs_index(g0)
    add(
        name=f"bce_logits_f32_{tag}_correct",
        category=C3,
        fun=bce_logits_f32,
        grad=bce_logits_f32_grad,
        x=Zf,
        args=(Yf,),
        correct=True,
        ref=bce_logits_ref,
        prec="f32",
    )
    add(
        name=f"bce_logits_f32_{tag}_all_0.3pct",
        category=C3,
        fun=bce_logits_f32,
        grad=scaled(bce_logits_f32_grad, 1.003),
        x=Zf,
        args=(Yf,),
        correct=False,
        ref=bce_logits_ref,
        prec="f32",
    )
    if shape == (4, 8):
        add(
            name=f"bce_logits_f32_{tag}_one_entry_1pct",
            category=C3,
            fun=bce_logits_f32,
            grad=one_off(bce_logits_f32_grad, idx, 0.01),
            x=Zf,
            args=(Yf,),
            correct=False,
            bad_index=idx,
            ref=bce_logits_ref,
            prec="f32",
        )
    add(
        name=f"bce_logits_f32_{tag}_one_entry_5pct",
        category=C3,
        fun=bce_logits_f32,
        grad=one_off(bce_logits_f32_grad, idx, 0.05),
        x=Zf,
        args=(Yf,),
        correct=False,
        bad_index=idx,
        ref=bce_logits_ref,
        prec="f32",
    )


def softmax_ce_f32(Z, Y):
    Z = np.asarray(Z, dtype=np.float32)
    Zs = Z - Z.max(axis=0, keepdims=True)
    logp = Zs - np.log(np.sum(np.exp(Zs), axis=0, keepdims=True))
    return -np.sum(Y * logp) / Z.shape[1]


def softmax_ce_f32_grad(Z, Y):
    Z = np.asarray(Z, dtype=np.float32)
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return (E / E.sum(axis=0, keepdims=True) - Y) / Z.shape[1]


def softmax_ce_stable_ref(Z, Y):
    E = M.exp(Z)
    return -np.sum(Y * (Z - M.log(np.sum(E, axis=0, keepdims=True)))) / Z.shape[1]


for shape, seed, bugs in [
    ((10, 1000), 22, [("all", 0.01), ("one", 0.05)]),
    ((5, 16), 23, [("all", 0.003), ("one", 0.01)]),
]:
    rng = np.random.default_rng(seed)
    Zs_ = rng.normal(0, 1.5, size=shape).astype(np.float32)
    Ys_ = np.zeros(shape, dtype=np.float32)
    Ys_[rng.integers(0, shape[0], size=shape[1]), np.arange(shape[1])] = 1
    tag = f"{shape[0]}x{shape[1]}"
    add(
        name=f"softmax_ce_f32_{tag}_correct",
        category=C3,
        fun=softmax_ce_f32,
        grad=softmax_ce_f32_grad,
        x=Zs_,
        args=(Ys_,),
        correct=True,
        ref=softmax_ce_stable_ref,
        prec="f32",
    )
    idx = _argmax_abs(softmax_ce_f32_grad(Zs_, Ys_))
    for kind, rel in bugs:
        if kind == "all":
            add(
                name=f"softmax_ce_f32_{tag}_all_{rel * 100:g}pct",
                category=C3,
                fun=softmax_ce_f32,
                grad=scaled(softmax_ce_f32_grad, 1 + rel),
                x=Zs_,
                args=(Ys_,),
                correct=False,
                ref=softmax_ce_stable_ref,
                prec="f32",
            )
        else:
            add(
                name=f"softmax_ce_f32_{tag}_one_entry_{rel * 100:g}pct",
                category=C3,
                fun=softmax_ce_f32,
                grad=one_off(softmax_ce_f32_grad, idx, rel),
                x=Zs_,
                args=(Ys_,),
                correct=False,
                bad_index=idx,
                ref=softmax_ce_stable_ref,
                prec="f32",
            )


def bce_prob_f32(A, Y):
    return -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))


def bce_prob_f32_grad(A, Y):
    return ((1 - Y) / (1 - A) - Y / A) / A.size


def bce_prob_ref(A, Y):
    return -np.sum(Y * M.log(A) + (1 - Y) * M.log(1 - A)) / A.size


rng = np.random.default_rng(24)
A_p32 = rng.uniform(0.05, 0.95, size=(4, 8)).astype(np.float32)
Y_p32 = (rng.random((4, 8)) < 0.5).astype(np.float32)
idx = _median_abs_index(bce_prob_f32_grad(A_p32, Y_p32))
add(
    name="bce_prob_f32_4x8_correct",
    category=C3,
    fun=bce_prob_f32,
    grad=bce_prob_f32_grad,
    x=A_p32,
    args=(Y_p32,),
    correct=True,
    ref=bce_prob_ref,
    prec="f32",
)
add(
    name="bce_prob_f32_4x8_all_1pct",
    category=C3,
    fun=bce_prob_f32,
    grad=scaled(bce_prob_f32_grad, 1.01),
    x=A_p32,
    args=(Y_p32,),
    correct=False,
    ref=bce_prob_ref,
    prec="f32",
)
add(
    name="bce_prob_f32_4x8_one_entry_5pct",
    category=C3,
    fun=bce_prob_f32,
    grad=one_off(bce_prob_f32_grad, idx, 0.05),
    x=A_p32,
    args=(Y_p32,),
    correct=False,
    bad_index=idx,
    ref=bce_prob_ref,
    prec="f32",
)


def mse_f32_pyfloat(P, T):
    return float(np.mean((P - T) ** 2))


def mse_f32_cast(P, T):
    P = P.astype(np.float32)
    return np.mean((P - T.astype(np.float32)) ** 2)


def mse_grad(P, T):
    return 2 * (P - T) / P.size


def mse_ref(P, T):
    return np.sum((P - T) ** 2) / P.size


rng = np.random.default_rng(25)
P8 = rng.normal(size=(8, 8)).astype(np.float32)
T8 = rng.normal(size=(8, 8)).astype(np.float32)
add(
    name="mse_f32_8x8_returns_pyfloat_correct",
    category=C3,
    fun=mse_f32_pyfloat,
    grad=mse_grad,
    x=P8,
    args=(T8,),
    correct=True,
    ref=mse_ref,
    prec="f32",
)
add(
    name="mse_f32_8x8_returns_pyfloat_all_0.3pct",
    category=C3,
    fun=mse_f32_pyfloat,
    grad=scaled(mse_grad, 1.003),
    x=P8,
    args=(T8,),
    correct=False,
    ref=mse_ref,
    prec="f32",
)
PL = rng.normal(size=(10, 1000))
TL = rng.normal(size=(10, 1000))
add(
    name="mse_f32_10x1000_cast_inside_correct",
    category=C3,
    fun=mse_f32_cast,
    grad=mse_grad,
    x=PL,
    args=(TL,),
    correct=True,
    ref=mse_ref,
    prec="f32",
)
add(
    name="mse_f32_10x1000_cast_inside_all_1pct",
    category=C3,
    fun=mse_f32_cast,
    grad=scaled(mse_grad, 1.01),
    x=PL,
    args=(TL,),
    correct=False,
    ref=mse_ref,
    prec="f32",
)


def tanh_mlp_f32(W1, X, v, t):
    W1 = W1.astype(np.float32)
    out = v @ np.tanh(W1 @ X)
    return np.mean((out - t) ** 2)


def tanh_mlp_f32_grad(W1, X, v, t):
    W1 = W1.astype(np.float32)
    Hh = np.tanh(W1 @ X)
    r = v @ Hh - t
    dH = np.outer(v, 2 * r / X.shape[1]) * (1 - Hh**2)
    return dH @ X.T


def tanh_mlp_f32_grad_no_tanh_prime(W1, X, v, t):
    W1 = W1.astype(np.float32)
    Hh = np.tanh(W1 @ X)
    r = v @ Hh - t
    return np.outer(v, 2 * r / X.shape[1]) @ X.T


def tanh_mlp_ref(W1, X, v, t):
    out = v @ M.tanh(W1 @ X)
    return np.sum((out - t) ** 2) / X.shape[1]


rng = np.random.default_rng(26)
W1_t = rng.normal(0, 0.5, size=(4, 8))
X_t = rng.normal(size=(8, 16)).astype(np.float32)
v_t = rng.normal(size=4).astype(np.float32)
t_t = rng.normal(size=16).astype(np.float32)
idx = _median_abs_index(tanh_mlp_f32_grad(W1_t, X_t, v_t, t_t))
add(
    name="tanh_mlp_f32_correct",
    category=C3,
    fun=tanh_mlp_f32,
    grad=tanh_mlp_f32_grad,
    x=W1_t,
    args=(X_t, v_t, t_t),
    correct=True,
    ref=tanh_mlp_ref,
    prec="f32",
)
add(
    name="tanh_mlp_f32_one_entry_5pct",
    category=C3,
    fun=tanh_mlp_f32,
    grad=one_off(tanh_mlp_f32_grad, idx, 0.05),
    x=W1_t,
    args=(X_t, v_t, t_t),
    correct=False,
    bad_index=idx,
    ref=tanh_mlp_ref,
    prec="f32",
)
add(
    name="tanh_mlp_f32_forgot_tanh_derivative",
    category=C3,
    fun=tanh_mlp_f32,
    grad=tanh_mlp_f32_grad_no_tanh_prime,
    x=W1_t,
    args=(X_t, v_t, t_t),
    correct=False,
    ref=tanh_mlp_ref,
    prec="f32",
)


# =========================================================================================
# 4. Domain edges
# =========================================================================================
C4 = "4-domain-edge"


def bce_prob_strict(A, Y):
    if np.iscomplexobj(A):
        raise TypeError("bce_prob_strict: probabilities must be real")
    A = np.asarray(A, dtype=float)
    if np.any((A <= 0) | (A >= 1)):
        raise ValueError("probabilities must lie in the open interval (0, 1)")
    m = A.shape[1]
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)


def bce_prob_grad(A, Y):
    return ((1 - Y) / (1 - A) - Y / A) / A.shape[1]


def bce_prob_grad_sign(A, Y):
    return (Y / A - (1 - Y) / (1 - A)) / A.shape[1]


def bce_prob_grad_swapped_labels(A, Y):
    return (Y / (1 - A) - (1 - Y) / A) / A.shape[1]


def bce_prob_m_ref(A, Y):
    return -np.sum(Y * M.log(A) + (1 - Y) * M.log(1 - A)) / A.shape[1]


A6 = np.array([[1 - 1e-6, 1e-6]])
A9 = np.array([[1 - 1e-9, 1e-9]])
Y01 = np.array([[0.0, 1.0]])
add(
    name="bce_prob_strict_edge_1e-6_correct",
    category=C4,
    fun=bce_prob_strict,
    grad=bce_prob_grad,
    x=A6.copy(),
    args=(Y01,),
    correct=True,
    ref=bce_prob_m_ref,
)
add(
    name="bce_prob_strict_edge_1e-6_sign_flipped",
    category=C4,
    fun=bce_prob_strict,
    grad=bce_prob_grad_sign,
    x=A6.copy(),
    args=(Y01,),
    correct=False,
    ref=bce_prob_m_ref,
)
add(
    name="bce_prob_strict_edge_1e-9_correct",
    category=C4,
    fun=bce_prob_strict,
    grad=bce_prob_grad,
    x=A9.copy(),
    args=(Y01,),
    correct=True,
    ref=bce_prob_m_ref,
)
add(
    name="bce_prob_strict_edge_1e-9_one_entry_1e-3",
    category=C4,
    fun=bce_prob_strict,
    grad=one_off(bce_prob_grad, (0, 0), 1e-3),
    x=A9.copy(),
    args=(Y01,),
    correct=False,
    bad_index=(0, 0),
    ref=bce_prob_m_ref,
)
Y9_mixed = np.array([[1.0, 0.0]])  # the confident-and-right direction: tiny gradients
add(
    name="bce_prob_strict_edge_1e-9_confident_right_correct",
    category=C4,
    fun=bce_prob_strict,
    grad=bce_prob_grad,
    x=A9.copy(),
    args=(Y9_mixed,),
    correct=True,
    ref=bce_prob_m_ref,
    ftol=1e-6,
)


def bce_prob_safe_cast(A, Y):
    A = A.astype(float, casting="safe")  # complex -> TypeError
    if np.any((A <= 0) | (A >= 1)):
        raise ValueError("A outside (0, 1)")
    return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / A.shape[1]


rng = np.random.default_rng(40)
A35 = rng.uniform(0.1, 0.9, size=(3, 5))
A35[0, 0], A35[1, 2], A35[2, 4], A35[2, 1] = 1e-7, 1 - 1e-7, 1 - 1e-7, 1e-7
Y35 = (rng.random((3, 5)) < 0.5).astype(float)
Y35[0, 0], Y35[1, 2], Y35[2, 4], Y35[2, 1] = 1.0, 0.0, 1.0, 0.0
add(
    name="bce_prob_safe_cast_3x5_edges_correct",
    category=C4,
    fun=bce_prob_safe_cast,
    grad=bce_prob_grad,
    x=A35.copy(),
    args=(Y35,),
    correct=True,
    ref=bce_prob_m_ref,
)
add(
    name="bce_prob_safe_cast_3x5_edges_swapped_labels",
    category=C4,
    fun=bce_prob_safe_cast,
    grad=bce_prob_grad_swapped_labels,
    x=A35.copy(),
    args=(Y35,),
    correct=False,
    ref=bce_prob_m_ref,
)


def bce_prob_mathloop(A, Y):
    tot = 0.0
    for a, y in zip(A.ravel(), Y.ravel(), strict=False):
        tot -= y * math.log(a) + (1 - y) * math.log(1 - a)
    return tot / A.shape[1]


def bce_prob_asarray(A, Y):
    A = np.asarray(A, dtype=float)
    return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / A.shape[1]


A23 = np.array([[1e-6, 0.3, 1 - 1e-6], [0.5, 1 - 1e-6, 2e-6]])
Y23 = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
add(
    name="bce_prob_math_log_loop_edges_correct",
    category=C4,
    fun=bce_prob_mathloop,
    grad=bce_prob_grad,
    x=A23.copy(),
    args=(Y23,),
    correct=True,
    ref=bce_prob_m_ref,
)
add(
    name="bce_prob_asarray_float_edges_correct",
    category=C4,
    fun=bce_prob_asarray,
    grad=bce_prob_grad,
    x=A23.copy(),
    args=(Y23,),
    correct=True,
    ref=bce_prob_m_ref,
)
add(
    name="bce_prob_asarray_float_edges_sign_flipped",
    category=C4,
    fun=bce_prob_asarray,
    grad=bce_prob_grad_sign,
    x=A23.copy(),
    args=(Y23,),
    correct=False,
    ref=bce_prob_m_ref,
)


# ---- log barriers -----------------------------------------------------------------------------
def box_barrier(x, c, mu):
    return 0.5 * np.sum((x - c) ** 2) - mu * np.sum(np.log(x) + np.log(1 - x))


def box_barrier_grad(x, c, mu):
    return x - c - mu / x + mu / (1 - x)


def box_barrier_grad_sign(x, c, mu):
    return x - c + mu / x - mu / (1 - x)


def box_barrier_grad_no_mu(x, c, mu):
    return x - c - 1 / x + 1 / (1 - x)


def box_barrier_ref(X, c, mu):
    return np.sum((X - c) ** 2) / 2 - mu * np.sum(M.log(X) + M.log(1 - X))


x_bb = np.array([1e-8, 1 - 1e-8, 0.3, 2e-6, 0.7, 1 - 3e-7])
c_bb = np.array([-0.5, 1.5, 0.2, 0.1, 0.9, 0.4])
for nm, g, ok in [
    ("box_log_barrier_near_boundary_correct", box_barrier_grad, True),
    ("box_log_barrier_sign_flipped", box_barrier_grad_sign, False),
    ("box_log_barrier_forgot_mu", box_barrier_grad_no_mu, False),
]:
    add(
        name=nm,
        category=C4,
        fun=box_barrier,
        grad=g,
        x=x_bb.copy(),
        args=(c_bb, 1e-3),
        correct=ok,
        ref=box_barrier_ref,
    )


def lin_barrier(x, c, A, b, mu):
    return c @ x - mu * np.sum(np.log(b - A @ x))


def lin_barrier_grad(x, c, A, b, mu):
    return c + mu * A.T @ (1 / (b - A @ x))


def lin_barrier_grad_sign(x, c, A, b, mu):
    return c - mu * A.T @ (1 / (b - A @ x))


def lin_barrier_ref(X, c, A, b, mu):
    return np.sum(c * X) - mu * np.sum(M.log(b - A @ X))


rng = np.random.default_rng(41)
A_lb = dyadic(rng, (6, 4), bits=3, lim=2)
x_lb = dyadic(rng, 4, bits=3, lim=1)
b_lb = A_lb @ x_lb + np.array([1e-8, 1e-6, 0.5, 1.0, 3e-8, 0.25])
c_lb = rng.normal(size=4)
for nm, g, ok in [
    ("linear_log_barrier_slack_1e-8_correct", lin_barrier_grad, True),
    ("linear_log_barrier_sign_flipped", lin_barrier_grad_sign, False),
]:
    add(
        name=nm,
        category=C4,
        fun=lin_barrier,
        grad=g,
        x=x_lb.copy(),
        args=(c_lb, A_lb, b_lb, 1e-3),
        correct=ok,
        ref=lin_barrier_ref,
    )


def sqrt_loss(x):
    return np.sum(np.sqrt(x)) + 0.5 * np.sum(x**2)


def sqrt_grad(x):
    return 0.5 / np.sqrt(x) + x


def sqrt_grad_bug(x):
    return 1 / np.sqrt(x) + x


def sqrt_ref(X):
    return np.sum(M.sqrt(X)) + np.sum(X**2) / 2


x_sq = np.array([1e-12, 1e-8, 1e-4, 0.5, 2.0])
add(
    name="sqrt_near_zero_correct",
    category=C4,
    fun=sqrt_loss,
    grad=sqrt_grad,
    x=x_sq.copy(),
    correct=True,
    ref=sqrt_ref,
)
add(
    name="sqrt_near_zero_forgot_half",
    category=C4,
    fun=sqrt_loss,
    grad=sqrt_grad_bug,
    x=x_sq.copy(),
    correct=False,
    ref=sqrt_ref,
)


def negentropy(p):
    return np.sum(p * np.log(p))


def negentropy_grad(p):
    return np.log(p) + 1


def negentropy_grad_bug(p):
    return np.log(p)


def negentropy_ref(P):
    return np.sum(P * M.log(P))


p_en = np.array([1e-12, 1e-9, 1e-3, 0.3, 0.7])
add(
    name="negentropy_tiny_p_correct",
    category=C4,
    fun=negentropy,
    grad=negentropy_grad,
    x=p_en.copy(),
    correct=True,
    ref=negentropy_ref,
)
add(
    name="negentropy_tiny_p_forgot_plus_one",
    category=C4,
    fun=negentropy,
    grad=negentropy_grad_bug,
    x=p_en.copy(),
    correct=False,
    ref=negentropy_ref,
)


def kl_q(q, p):
    return np.sum(p * np.log(p / q))


def kl_q_grad(q, p):
    return -p / q


def kl_q_grad_sign(q, p):
    return p / q


def kl_q_ref(Q, p):
    return np.sum(p * M.log(p / Q))


p_kl = np.array([0.2, 0.3, 0.499, 1e-3])
q_kl = np.array([1e-10, 0.4, 0.4999999999, 0.1])
add(
    name="kl_wrt_q_tiny_q_correct",
    category=C4,
    fun=kl_q,
    grad=kl_q_grad,
    x=q_kl.copy(),
    args=(p_kl,),
    correct=True,
    ref=kl_q_ref,
)
add(
    name="kl_wrt_q_tiny_q_sign_flipped",
    category=C4,
    fun=kl_q,
    grad=kl_q_grad_sign,
    x=q_kl.copy(),
    args=(p_kl,),
    correct=False,
    ref=kl_q_ref,
)


# =========================================================================================
# 5. Losses that mutate their input
# =========================================================================================
C5 = "5-mutating"


def centered_energy(x):
    x -= x.mean()
    x *= 2
    return np.sum(x**2)


def centered_energy_grad(x):
    return 8 * (x - x.mean())


def centered_energy_grad_no_center(x):
    return 8 * x


def centered_energy_grad_factor4(x):
    return 4 * (x - x.mean())


def centered_energy_grad_inplace(x):
    x -= x.mean()
    x *= 8
    return x


def centered_energy_ref(X):
    c = X - np.sum(X) / X.size
    return 4 * np.sum(c**2)


rng = np.random.default_rng(50)
x_ce = rng.normal(1.0, 1.0, size=(3, 4))
for nm, g, ok in [
    ("mutating_center_double_correct", centered_energy_grad, True),
    ("mutating_center_double_forgot_centering", centered_energy_grad_no_center, False),
    ("mutating_center_double_factor_4", centered_energy_grad_factor4, False),
    ("mutating_center_double_grad_also_mutates_correct", centered_energy_grad_inplace, True),
]:
    add(
        name=nm,
        category=C5,
        fun=centered_energy,
        grad=g,
        x=x_ce.copy(),
        correct=ok,
        ref=centered_energy_ref,
    )


def normalized_dot(x, c):
    x /= np.linalg.norm(x)
    return float(c @ x)


def normalized_dot_grad(x, c):
    n = np.linalg.norm(x)
    u = x / n
    return (c - (c @ u) * u) / n


def normalized_dot_grad_bug(x, c):
    return c / np.linalg.norm(x)


def normalized_dot_ref(X, c):
    return np.sum(c * X) / M.sqrt(np.sum(X**2))


rng = np.random.default_rng(51)
x_nd = rng.normal(size=6)
c_nd = rng.normal(size=6)
add(
    name="mutating_normalize_dot_correct",
    category=C5,
    fun=normalized_dot,
    grad=normalized_dot_grad,
    x=x_nd.copy(),
    args=(c_nd,),
    correct=True,
    ref=normalized_dot_ref,
)
add(
    name="mutating_normalize_dot_forgot_projection",
    category=C5,
    fun=normalized_dot,
    grad=normalized_dot_grad_bug,
    x=x_nd.copy(),
    args=(c_nd,),
    correct=False,
    ref=normalized_dot_ref,
)


def inplace_relu_loss(x, w):
    x[x < 0] = 0
    return 0.5 * np.sum(x**2) + np.sum(w * x)


def inplace_relu_grad(x, w):
    return (x + w) * (x > 0)


def inplace_relu_grad_nomask(x, w):
    return x + w


def inplace_relu_ref(X, w):
    R = M.relu(X)
    return np.sum(R**2) / 2 + np.sum(w * R)


rng = np.random.default_rng(52)
x_ir = rng.normal(size=10)
x_ir[[1, 6, 8]] = 0.0
w_ir = rng.uniform(0.2, 1.0, size=10)
add(
    name="mutating_inplace_relu_zeros_correct",
    category=C5,
    fun=inplace_relu_loss,
    grad=inplace_relu_grad,
    x=x_ir.copy(),
    args=(w_ir,),
    correct=True,
    ref=inplace_relu_ref,
    kink="convex",
)
add(
    name="mutating_inplace_relu_forgot_mask",
    category=C5,
    fun=inplace_relu_loss,
    grad=inplace_relu_grad_nomask,
    x=x_ir.copy(),
    args=(w_ir,),
    correct=False,
    ref=inplace_relu_ref,
    kink="convex",
)


def inplace_clip_loss(x, w):
    np.clip(x, -1, 1, out=x)
    return np.sum(w * x**2)


def inplace_clip_grad(x, w):
    return 2 * w * x * (np.abs(x) < 1)


def inplace_clip_grad_bug(x, w):
    return 2 * w * x


def inplace_clip_ref(X, w):
    return np.sum(w * M.clip(X, -1, 1) ** 2)


x_ic = np.array([0.3, -1.7, 2.2, -0.4, 0.95, 1.3, -0.05, -2.0])
w_ic = np.array([1.0, 0.5, 2.0, 1.5, 0.3, 1.0, 0.8, 1.2])
add(
    name="mutating_inplace_clip_correct",
    category=C5,
    fun=inplace_clip_loss,
    grad=inplace_clip_grad,
    x=x_ic.copy(),
    args=(w_ic,),
    correct=True,
    ref=inplace_clip_ref,
)
add(
    name="mutating_inplace_clip_forgot_mask",
    category=C5,
    fun=inplace_clip_loss,
    grad=inplace_clip_grad_bug,
    x=x_ic.copy(),
    args=(w_ic,),
    correct=False,
    ref=inplace_clip_ref,
)


def shift_log_loss(x):
    x += 1.0
    return np.sum(np.log(x))


def shift_log_grad(x):
    return 1 / (x + 1)


def shift_log_grad_bug(x):
    return 1 / x


def shift_log_ref(X):
    return np.sum(M.log(X + 1))


x_sl = np.array([0.1, 0.5, 1.0, 2.5, 3.0])
add(
    name="mutating_shift_then_log_correct",
    category=C5,
    fun=shift_log_loss,
    grad=shift_log_grad,
    x=x_sl.copy(),
    correct=True,
    ref=shift_log_ref,
)
add(
    name="mutating_shift_then_log_forgot_shift",
    category=C5,
    fun=shift_log_loss,
    grad=shift_log_grad_bug,
    x=x_sl.copy(),
    correct=False,
    ref=shift_log_ref,
)


def owl_loss(x, w):
    x.sort()
    return np.sum(w * x)


def owl_grad(x, w):
    g = np.empty_like(x)
    g[np.argsort(x)] = w
    return g


def owl_grad_unsorted(x, w):
    return w.copy()


def owl_ref(X, w):
    return np.sum(w * np.array(sorted(X), dtype=object))


x_ow = np.array([0.7, -1.2, 2.5, 0.1, -0.4, 1.6])
w_ow = np.array([3.0, 2.5, 2.0, 1.5, 1.0, 0.5])
add(
    name="mutating_sort_weighted_correct",
    category=C5,
    fun=owl_loss,
    grad=owl_grad,
    x=x_ow.copy(),
    args=(w_ow,),
    correct=True,
    ref=owl_ref,
)
add(
    name="mutating_sort_weighted_ignores_sort",
    category=C5,
    fun=owl_loss,
    grad=owl_grad_unsorted,
    x=x_ow.copy(),
    args=(w_ow,),
    correct=False,
    ref=owl_ref,
)


# =========================================================================================
# 6. Ordinary smooth controls
# =========================================================================================
C6 = "6-smooth-control"


def softmax_ce(Z, Y):
    Zs = Z - Z.max(axis=0, keepdims=True)
    P = np.exp(Zs) / np.exp(Zs).sum(axis=0, keepdims=True)
    return -np.sum(Y * np.log(P)) / Z.shape[1]


def _softmax(Z, axis=0):
    E = np.exp(Z - Z.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def softmax_ce_grad(Z, Y):
    return (_softmax(Z) - Y) / Z.shape[1]


def softmax_ce_grad_no_mean(Z, Y):
    return _softmax(Z) - Y


def softmax_ce_grad_sign(Z, Y):
    return (Y - _softmax(Z)) / Z.shape[1]


def softmax_ce_grad_dA(Z, Y):
    return -Y / _softmax(Z) / Z.shape[1]


def softmax_ce_grad_wrong_axis(Z, Y):
    return (_softmax(Z, axis=1) - Y) / Z.shape[1]


def softmax_ce_grad_transposed(Z, Y):
    return ((_softmax(Z) - Y) / Z.shape[1]).T


rng = np.random.default_rng(60)
Z57 = rng.normal(size=(5, 7))
Y57 = np.zeros((5, 7))
Y57[rng.integers(0, 5, size=7), np.arange(7)] = 1
Z66 = rng.normal(size=(6, 6))
Y66 = np.zeros((6, 6))
Y66[rng.integers(0, 6, size=6), np.arange(6)] = 1
for nm, g, ok, bi in [
    ("softmax_ce_correct", softmax_ce_grad, True, None),
    ("softmax_ce_missing_1_over_m", softmax_ce_grad_no_mean, False, None),
    ("softmax_ce_sign_flipped", softmax_ce_grad_sign, False, None),
    ("softmax_ce_dJdA_given_for_dJdZ", softmax_ce_grad_dA, False, None),
    ("softmax_ce_softmax_over_wrong_axis", softmax_ce_grad_wrong_axis, False, None),
]:
    add(
        name=nm,
        category=C6,
        fun=softmax_ce,
        grad=g,
        x=Z57.copy(),
        args=(Y57,),
        correct=ok,
        bad_index=bi,
        ref=softmax_ce_ref,
    )


def _softmax_ce_one_off(Z, Y):
    g = softmax_ce_grad(Z, Y)
    g[2, 3] += 0.05
    return g


add(
    name="softmax_ce_one_entry_plus_0.05",
    category=C6,
    fun=softmax_ce,
    grad=_softmax_ce_one_off,
    x=Z57.copy(),
    args=(Y57,),
    correct=False,
    bad_index=(2, 3),
    ref=softmax_ce_ref,
)
add(
    name="softmax_ce_square_transposed_layout",
    category=C6,
    fun=softmax_ce,
    grad=softmax_ce_grad_transposed,
    x=Z66.copy(),
    args=(Y66,),
    correct=False,
    ref=softmax_ce_ref,
)
add(
    name="softmax_ce_grad_wrong_shape_transposed",
    category=C6,
    fun=softmax_ce,
    grad=softmax_ce_grad_transposed,
    x=Z57.copy(),
    args=(Y57,),
    correct=False,
    ref=softmax_ce_ref,
    exception_ok=True,
    note="grad returns shape (7, 5) for x of shape (5, 7): a clear error is acceptable",
)


def mse(P, T):
    return np.array(np.mean((P - T) ** 2))  # 0-d array, as some users return


def mse_grad_no_mean(P, T):
    return 2 * (P - T)


def mse_grad_factor1(P, T):
    return (P - T) / P.size


rng = np.random.default_rng(61)
P45 = rng.normal(size=(4, 5))
T45 = rng.normal(size=(4, 5))
for nm, g, ok in [
    ("mse_0d_array_correct", mse_grad, True),
    ("mse_missing_1_over_n", mse_grad_no_mean, False),
    ("mse_missing_factor_2", mse_grad_factor1, False),
]:
    add(name=nm, category=C6, fun=mse, grad=g, x=P45.copy(), args=(T45,), correct=ok, ref=mse_ref)


def logcosh(x, t):
    return np.sum(np.log(np.cosh(x - t)))


def logcosh_grad(x, t):
    return np.tanh(x - t)


def logcosh_grad_bug(x, t):
    return np.sinh(x - t)


def logcosh_ref(X, t):
    return np.sum(M.log(M.cosh(X - t)))


x_lc = rng.normal(size=(3, 3))
t_lc = rng.normal(size=(3, 3))
add(
    name="logcosh_correct",
    category=C6,
    fun=logcosh,
    grad=logcosh_grad,
    x=x_lc.copy(),
    args=(t_lc,),
    correct=True,
    ref=logcosh_ref,
)
add(
    name="logcosh_sinh_instead_of_tanh",
    category=C6,
    fun=logcosh,
    grad=logcosh_grad_bug,
    x=x_lc.copy(),
    args=(t_lc,),
    correct=False,
    ref=logcosh_ref,
)


def huber(x, t, delta=1.0):
    r = x - t
    return np.sum(np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)))


def huber_grad(x, t, delta=1.0):
    r = x - t
    return np.where(np.abs(r) <= delta, r, delta * np.sign(r))


def huber_grad_bug(x, t, delta=1.0):
    return x - t


def huber_ref(X, t, delta=1.0):
    R = X - t
    return np.sum(M.where(M.fabs(R) <= delta, R**2 / 2, delta * (M.fabs(R) - delta / 2)))


t_hu = np.zeros(8)
x_hu = np.array([0.3, -0.7, 1.5, -2.4, 0.05, 3.1, -1.3, 0.6])
add(
    name="huber_away_from_kink_correct",
    category=C6,
    fun=huber,
    grad=huber_grad,
    x=x_hu.copy(),
    args=(t_hu,),
    correct=True,
    ref=huber_ref,
)
add(
    name="huber_forgot_linear_region",
    category=C6,
    fun=huber,
    grad=huber_grad_bug,
    x=x_hu.copy(),
    args=(t_hu,),
    correct=False,
    ref=huber_ref,
)


def quad_form(x, A, b):
    return 0.5 * x @ A @ x + b @ x


def quad_form_grad(x, A, b):
    return 0.5 * (A + A.T) @ x + b


def quad_form_grad_bug(x, A, b):
    return A @ x + b


def quad_form_ref(X, A, b):
    return np.sum(X * (A @ X)) / 2 + np.sum(b * X)


rng = np.random.default_rng(62)
A_q = rng.normal(size=(6, 6))
b_q = rng.normal(size=6)
x_q = rng.normal(size=6)
add(
    name="quadratic_form_nonsymmetric_correct",
    category=C6,
    fun=quad_form,
    grad=quad_form_grad,
    x=x_q.copy(),
    args=(A_q, b_q),
    correct=True,
    ref=quad_form_ref,
)
add(
    name="quadratic_form_nonsymmetric_assumes_symmetric",
    category=C6,
    fun=quad_form,
    grad=quad_form_grad_bug,
    x=x_q.copy(),
    args=(A_q, b_q),
    correct=False,
    ref=quad_form_ref,
)


def bce_logits(z, y):
    return np.mean(np.logaddexp(0, z) - y * z)


def bce_logits_grad(z, y):
    return (sigmoid(z) - y) / z.size


def bce_logits_grad_dA(z, y):
    a = sigmoid(z)
    return ((1 - y) / (1 - a) - y / a) / z.size


z_bl = rng.normal(0, 2, size=(1, 8))
y_bl = (rng.random((1, 8)) < 0.5).astype(float)
add(
    name="bce_logits_correct",
    category=C6,
    fun=bce_logits,
    grad=bce_logits_grad,
    x=z_bl.copy(),
    args=(y_bl,),
    correct=True,
    ref=bce_logits_ref,
)
add(
    name="bce_logits_dJdA_given_for_dJdZ",
    category=C6,
    fun=bce_logits,
    grad=bce_logits_grad_dA,
    x=z_bl.copy(),
    args=(y_bl,),
    correct=False,
    ref=bce_logits_ref,
)


def logreg_loss(W, X, Y):
    Z = W @ X
    return np.sum(np.logaddexp(0, Z) - Y * Z) / X.shape[1]


def logreg_grad(W, X, Y):
    return (sigmoid(W @ X) - Y) @ X.T / X.shape[1]


def logreg_grad_no_mean(W, X, Y):
    return (sigmoid(W @ X) - Y) @ X.T


def logreg_ref(W, X, Y):
    Z = W @ X
    return np.sum(M.softplus(Z) - Y * Z) / X.shape[1]


W_lr = rng.normal(size=(1, 5))
X_lr = rng.normal(size=(5, 20))
Y_lr = (rng.random((1, 20)) < 0.5).astype(float)
add(
    name="logreg_weights_correct",
    category=C6,
    fun=logreg_loss,
    grad=logreg_grad,
    x=W_lr.copy(),
    args=(X_lr, Y_lr),
    correct=True,
    ref=logreg_ref,
)
add(
    name="logreg_weights_missing_1_over_m",
    category=C6,
    fun=logreg_loss,
    grad=logreg_grad_no_mean,
    x=W_lr.copy(),
    args=(X_lr, Y_lr),
    correct=False,
    ref=logreg_ref,
)


def quad_diag(x, d, c):
    return 0.5 * np.sum(d * (x - c) ** 2)


def quad_diag_grad(x, d, c):
    return d * (x - c)


def quad_diag_ref(X, d, c):
    return np.sum(d * (X - c) ** 2) / 2


rng = np.random.default_rng(63)
x_qd = rng.normal(size=10)
d_qd = rng.uniform(0.5, 2, size=10)
c_qd = rng.normal(size=10)
add(
    name="quadratic_diag_correct",
    category=C6,
    fun=quad_diag,
    grad=quad_diag_grad,
    x=x_qd.copy(),
    args=(d_qd, c_qd),
    correct=True,
    ref=quad_diag_ref,
)
j_qd = int(np.argmax(np.abs(quad_diag_grad(x_qd, d_qd, c_qd))))
add(
    name="quadratic_diag_one_entry_1e-5",
    category=C6,
    fun=quad_diag,
    grad=one_off(quad_diag_grad, j_qd, 1e-5),
    x=x_qd.copy(),
    args=(d_qd, c_qd),
    correct=False,
    bad_index=j_qd,
    ref=quad_diag_ref,
    note="float64 loss, ~1e-16 precision: 1e-5 is a bug",
)
add(
    name="quadratic_diag_scale_1e-4",
    category=C6,
    fun=quad_diag,
    grad=scaled(quad_diag_grad, 1 + 1e-4),
    x=x_qd.copy(),
    args=(d_qd, c_qd),
    correct=False,
    ref=quad_diag_ref,
)


def mlp2_loss(W1, X, W2, Y):
    A1 = sigmoid(W1 @ X)
    Z2 = W2 @ A1
    Z2 = Z2 - Z2.max(axis=0, keepdims=True)
    logp = Z2 - np.log(np.exp(Z2).sum(axis=0, keepdims=True))
    return -np.sum(Y * logp) / X.shape[1]


def mlp2_grad(W1, X, W2, Y):
    A1 = sigmoid(W1 @ X)
    dZ2 = (_softmax(W2 @ A1) - Y) / X.shape[1]
    dA1 = W2.T @ dZ2
    dZ1 = dA1 * A1 * (1 - A1)
    return dZ1 @ X.T


def mlp2_grad_no_sigmoid_prime(W1, X, W2, Y):
    A1 = sigmoid(W1 @ X)
    dZ2 = (_softmax(W2 @ A1) - Y) / X.shape[1]
    return (W2.T @ dZ2) @ X.T


def mlp2_ref(W1, X, W2, Y):
    A1 = M.sigmoid(W1 @ X)
    Z2 = W2 @ A1
    return -np.sum(Y * (Z2 - M.log(np.sum(M.exp(Z2), axis=0, keepdims=True)))) / X.shape[1]


rng = np.random.default_rng(64)
W1_2 = rng.normal(size=(4, 3))
X_2 = rng.normal(size=(3, 10))
W2_2 = rng.normal(size=(3, 4))
Y_2 = np.zeros((3, 10))
Y_2[rng.integers(0, 3, size=10), np.arange(10)] = 1
add(
    name="mlp_sigmoid_softmax_correct",
    category=C6,
    fun=mlp2_loss,
    grad=mlp2_grad,
    x=W1_2.copy(),
    args=(X_2, W2_2, Y_2),
    correct=True,
    ref=mlp2_ref,
)
add(
    name="mlp_sigmoid_softmax_forgot_sigmoid_derivative",
    category=C6,
    fun=mlp2_loss,
    grad=mlp2_grad_no_sigmoid_prime,
    x=W1_2.copy(),
    args=(X_2, W2_2, Y_2),
    correct=False,
    ref=mlp2_ref,
)


# =========================================================================================
# Extra cases (mostly correct ones, to balance the set), spread over the categories
# =========================================================================================

# -- 1: more non-smooth points ------------------------------------------------------------
rng = np.random.default_rng(70)
A_50 = rng.normal(size=(30, 50))
b_50 = rng.normal(size=30)
w_50 = rng.normal(size=50)
w_50[rng.choice(50, size=30, replace=False)] = 0.0
add(
    name="lasso50_60pct_zeros_correct",
    category=C1,
    fun=lasso_loss,
    grad=lasso_grad,
    x=w_50.copy(),
    args=(A_50, b_50, 0.3),
    correct=True,
    ref=lasso_ref,
    kink="convex",
)

rng = np.random.default_rng(71)
levels = rng.normal(size=60)
x_tvL = np.repeat(levels, rng.integers(20, 50, size=60))[:2000].copy()
x_tvL[::7] += 0.01 * rng.normal(size=x_tvL[::7].size)
y_tvL = x_tvL + 0.3 * rng.normal(size=x_tvL.size)
add(
    name="tv1d_2000_many_equal_neighbours_correct",
    category=C1,
    fun=tv_loss,
    grad=tv_grad,
    x=x_tvL.copy(),
    args=(y_tvL, 0.2),
    correct=True,
    ref=tv_ref,
    kink="convex",
)
add(
    name="tv1d_2000_many_equal_neighbours_forgot_tv",
    category=C1,
    fun=tv_loss,
    grad=tv_grad_forgot,
    x=x_tvL.copy(),
    args=(y_tvL, 0.2),
    correct=False,
    ref=tv_ref,
    kink="convex",
)

rng = np.random.default_rng(72)
y_hL = np.where(rng.random((1, 5000)) < 0.5, -1.0, 1.0)
mL = np.round(rng.normal(1.0, 1.0, size=(1, 5000)), 2)
mL[rng.random((1, 5000)) < 0.3] = 1.0  # 30 % of margins exactly 1
z_hL = y_hL * mL
_ghL = hinge_grad(z_hL, y_hL)
j_hL = tuple(int(i) for i in np.argwhere(_ghL != 0)[17])
add(
    name="hinge_scores_5000_exact_margins_correct",
    category=C1,
    fun=hinge_loss,
    grad=hinge_grad,
    x=z_hL.copy(),
    args=(y_hL,),
    correct=True,
    ref=hinge_ref,
    kink="convex",
)
add(
    name="hinge_scores_5000_one_entry_50pct",
    category=C1,
    fun=hinge_loss,
    grad=one_off(hinge_grad, j_hL, 0.5),
    x=z_hL.copy(),
    args=(y_hL,),
    correct=False,
    bad_index=j_hL,
    ref=hinge_ref,
    kink="convex",
)

rng = np.random.default_rng(73)
A_gL = rng.normal(size=(60, 1000)) / np.sqrt(60)
b_gL = rng.normal(size=60)
w_gL = rng.normal(size=1000)
for gi in rng.choice(250, size=100, replace=False):
    w_gL[4 * gi : 4 * gi + 4] = 0.0
add(
    name="group_lasso_1000_correct",
    category=C1,
    fun=gl_loss,
    grad=gl_grad_divide,
    x=w_gL.copy(),
    args=(A_gL, b_gL, 0.05, 4),
    correct=True,
    ref=gl_ref,
    kink="convex",
)

rng = np.random.default_rng(74)
A_eL = rng.normal(size=(50, 5000)) / np.sqrt(50)
b_eL = rng.normal(size=50)
w_eL = np.where(rng.random(5000) < 0.7, 0.0, rng.normal(size=5000))
add(
    name="elastic_net_5000_correct",
    category=C1,
    fun=enet_loss,
    grad=enet_grad,
    x=w_eL.copy(),
    args=(A_eL, b_eL, 0.02, 0.1),
    correct=True,
    ref=enet_ref,
    kink="convex",
)


x_hk = np.array([1.0, -1.0, 0.5, 2.0, -0.25, 1.0])  # |r| == delta exactly: C1 there
add(
    name="huber_exactly_at_delta_correct",
    category=C1,
    fun=huber,
    grad=huber_grad,
    x=x_hk.copy(),
    args=(np.zeros(6),),
    correct=True,
    ref=huber_ref,
)


def abs_cubed(x, c):
    return np.sum(np.abs(x) ** 3) + c @ x


def abs_cubed_grad(x, c):
    return 3 * x * np.abs(x) + c


def abs_cubed_ref(X, c):
    return np.sum(M.fabs(X) ** 3) + np.sum(c * X)


x_ac = np.array([0.0, 0.5, -1.25, 0.0, 2.0, -0.0])
c_ac = np.array([0.3, -0.2, 0.1, 0.7, -0.5, 0.25])
add(
    name="abs_cubed_at_zero_correct",
    category=C1,
    fun=abs_cubed,
    grad=abs_cubed_grad,
    x=x_ac.copy(),
    args=(c_ac,),
    correct=True,
    ref=abs_cubed_ref,
)


def relu_sq(x, c):
    return 0.5 * np.sum(np.maximum(x, 0) ** 2) + c @ x


def relu_sq_grad(x, c):
    return np.maximum(x, 0) + c


def relu_sq_ref(X, c):
    return np.sum(M.relu(X) ** 2) / 2 + np.sum(c * X)


add(
    name="relu_squared_at_zero_correct",
    category=C1,
    fun=relu_sq,
    grad=relu_sq_grad,
    x=x_ac.copy(),
    args=(c_ac,),
    correct=True,
    ref=relu_sq_ref,
)


def smooth_l1(x, eps):
    return np.sum(np.sqrt(x**2 + eps))


def smooth_l1_grad(x, eps):
    return x / np.sqrt(x**2 + eps)


def smooth_l1_ref(X, eps):
    return np.sum(M.sqrt(X**2 + eps))


x_s1 = np.array([0.0, 1e-5, -3e-4, 0.2, -1.0, 0.0])
add(
    name="smooth_l1_sqrt_eps_at_zero_correct",
    category=C1,
    fun=smooth_l1,
    grad=smooth_l1_grad,
    x=x_s1.copy(),
    args=(1e-8,),
    correct=True,
    ref=smooth_l1_ref,
)


def lasso_f32(w, A, b, lam):
    w = w.astype(np.float32)
    r = A @ w - b
    return np.float32(0.5) * np.mean(r**2) + np.float32(lam) * np.sum(np.abs(w))


rng = np.random.default_rng(75)
A_l32 = rng.normal(size=(12, 16)).astype(np.float32)
b_l32 = rng.normal(size=12).astype(np.float32)
w_l32 = rng.normal(size=16)
w_l32[[0, 2, 3, 7, 11, 12]] = 0.0
add(
    name="lasso_f32_zeros_correct",
    category=C3,
    fun=lasso_f32,
    grad=lasso_grad,
    x=w_l32.copy(),
    args=(A_l32, b_l32, 0.1),
    correct=True,
    ref=lasso_ref,
    kink="convex",
    prec="f32",
)
add(
    name="lasso_f32_zeros_forgot_l1",
    category=C3,
    fun=lasso_f32,
    grad=lasso_grad_forgot_l1,
    x=w_l32.copy(),
    args=(A_l32, b_l32, 0.1),
    correct=False,
    ref=lasso_ref,
    kink="convex",
    prec="f32",
)


def hinge_f32(z, y):
    z = z.astype(np.float32)
    return np.mean(np.maximum(np.float32(0), np.float32(1) - y * z))


add(
    name="hinge_f32_exact_margins_correct",
    category=C3,
    fun=hinge_f32,
    grad=hinge_grad,
    x=z_h.astype(np.float32),
    args=(y_h.astype(np.float32),),
    correct=True,
    ref=hinge_ref,
    kink="convex",
    prec="f32",
)

rng = np.random.default_rng(76)
Z48 = rng.normal(size=(4, 8)).astype(np.float32)
Y48 = np.zeros((4, 8), dtype=np.float32)
Y48[rng.integers(0, 4, size=8), np.arange(8)] = 1


def softmax_ce_grad64(Z, Y):
    return softmax_ce_grad(np.asarray(Z, dtype=float), np.asarray(Y, dtype=float))


add(
    name="softmax_ce_f32_4x8_grad_in_float64_correct",
    category=C3,
    fun=softmax_ce_f32,
    grad=softmax_ce_grad64,
    x=Z48,
    args=(Y48,),
    correct=True,
    ref=softmax_ce_stable_ref,
    prec="f32",
)
rng = np.random.default_rng(77)
Z1k = rng.normal(0, 3, size=(1, 1000))
Y1k = (rng.random((1, 1000)) < 0.5).astype(float)
add(
    name="bce_logits_f32_1x1000_correct",
    category=C3,
    fun=bce_logits_f32,
    grad=bce_logits_f32_grad,
    x=Z1k,
    args=(Y1k,),
    correct=True,
    ref=bce_logits_ref,
    prec="f32",
)

# -- 2: more saturated focal loss ------------------------------------------------------------
z_fs = np.array([[20.0, 25.0, -20.0, 15.0, 9.0]])
y_fs = np.array([[0.0, 0.0, 1.0, 1.0, 0.0]])
add(
    name="focal_g2_very_saturated_correct",
    category=C2,
    fun=focal_loss,
    grad=focal_grad,
    x=z_fs.copy(),
    args=(y_fs,),
    correct=True,
    ref=focal_ref,
)

# -- 6: input shapes / dtypes users pass -------------------------------------------------------


def half_sq(x):
    return 0.5 * np.sum(x**2)


def half_sq_grad(x):
    return x


def half_sq_ref(X):
    return np.sum(X**2) / 2


add(
    name="integer_dtype_x_quadratic_correct",
    category=C6,
    fun=half_sq,
    grad=half_sq_grad,
    x=np.array([1, -2, 3, 0, 5]),
    correct=True,
    ref=half_sq_ref,
    note="x is an int64 array",
)
add(
    name="single_entry_x_correct",
    category=C6,
    fun=lambda x: float((x[0] - 3.0) ** 2),
    grad=lambda x: 2 * (x - 3.0),
    x=np.array([1.5]),
    correct=True,
    ref=lambda X: (X[0] - 3) ** 2,
)


def tensor_loss(x, w):
    return np.sum(w * np.tanh(x)) + 0.1 * np.sum(x**2)


def tensor_grad(x, w):
    return w * (1 - np.tanh(x) ** 2) + 0.2 * x


def tensor_ref(X, w):
    return np.sum(w * M.tanh(X)) + np.sum(X**2) / 10


rng = np.random.default_rng(78)
x_t3 = rng.normal(size=(2, 3, 4))
w_t3 = rng.normal(size=(2, 3, 4))
add(
    name="tensor3d_tanh_correct",
    category=C6,
    fun=tensor_loss,
    grad=tensor_grad,
    x=x_t3.copy(),
    args=(w_t3,),
    correct=True,
    ref=tensor_ref,
)
add(
    name="tensor3d_tanh_one_entry_sign",
    category=C6,
    fun=tensor_loss,
    grad=one_off(tensor_grad, (1, 2, 3), -2.0),
    x=x_t3.copy(),
    args=(w_t3,),
    correct=False,
    bad_index=(1, 2, 3),
    ref=tensor_ref,
)


def resid_norm(x, A, b):
    return np.linalg.norm(A @ x - b)


def resid_norm_grad(x, A, b):
    r = A @ x - b
    return A.T @ r / np.linalg.norm(r)


def resid_norm_ref(X, A, b):
    r = A @ X - b
    return M.sqrt(np.sum(r**2))


rng = np.random.default_rng(79)
A_rn = rng.normal(size=(7, 4))
b_rn = rng.normal(size=7)
x_rn = rng.normal(size=4)
add(
    name="residual_norm_not_squared_correct",
    category=C6,
    fun=resid_norm,
    grad=resid_norm_grad,
    x=x_rn.copy(),
    args=(A_rn, b_rn),
    correct=True,
    ref=resid_norm_ref,
)


def cos_loss(x, c):
    return 1 - x @ c / (np.linalg.norm(x) * np.linalg.norm(c))


def cos_grad(x, c):
    nx, nc = np.linalg.norm(x), np.linalg.norm(c)
    return -(c / (nx * nc) - (x @ c) * x / (nx**3 * nc))


def cos_ref(X, c):
    return 1 - np.sum(X * c) / (M.sqrt(np.sum(X**2)) * M.sqrt(np.sum(c**2)))


x_cs = rng.normal(size=5)
c_cs = rng.normal(size=5)
add(
    name="cosine_similarity_loss_correct",
    category=C6,
    fun=cos_loss,
    grad=cos_grad,
    x=x_cs.copy(),
    args=(c_cs,),
    correct=True,
    ref=cos_ref,
)


_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "duplicate case names"

if __name__ == "__main__":
    n_ok = sum(c.correct for c in CASES)
    print(f"{len(CASES)} cases: {n_ok} correct, {len(CASES) - n_ok} buggy")
    from collections import Counter

    print(Counter(c.category for c in CASES))
