"""Diagnosis of a failed gradient check: the bugs people write.

Each hypothesis predicts the claimed gradient from the numeric one (or from ``x`` and the labels
among ``args``) and must hold on every checked entry:

* a constant ratio everywhere — a sign flip, a missing or extra ``1/m``, ``1/(n·m)`` for ``1/m``;
* a transposed layout (square ``x``);
* ``∂J/∂A`` returned where ``∂J/∂Z`` was meant (the sigmoid or softmax backward forgotten);
* the softmax–simplex shortcut ``(A − Y)/m`` with label columns that do not sum to 1;
* a softmax taken over the wrong axis;
* otherwise, a few wrong entries among correct ones are named, or the ratio range is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..formulas import sigmoid, softmax, softmax_backward

if TYPE_CHECKING:
    from .context import Context
    from .probe import Probe

__all__ = ["diagnose"]

REL = 1e-6  # relative slack for a hypothesis on top of the per-entry bound


def _table(ch: Context, singles: list[Probe]) -> tuple[npt.NDArray[np.intp], Any, Any, Any, Any]:
    ks = np.array([int(p.support[0]) for p in singles], dtype=np.intp)
    w = np.array([float(p.weights[0]) for p in singles])
    numeric = np.array([p.value for p in singles]) / w
    bound = np.array([p.allowed for p in singles]) / np.abs(w)
    bad = np.array([p.verdict == "disagree" for p in singles])
    return ks, ch.g[ks], numeric, bound, bad


def _holds(claimed: Any, predicted: Any, bound: Any) -> bool:
    return bool(
        np.all(
            np.abs(claimed - predicted) <= 2 * bound + REL * (np.abs(claimed) + np.abs(predicted))
        )
    )


def _name_ratio(r: float, shape: tuple[int, ...]) -> str:
    """Name a constant ratio claimed/numeric in both layouts: examples in columns (the layout
    of nnderiv.formulas, m = columns) and batch-first (PyTorch's, the batch in the rows)."""
    n, m = (shape[0], shape[-1]) if len(shape) >= 2 else (1, shape[-1])
    square = len(shape) >= 2 and n == m
    either = " (x is square: the batch may be either axis)" if square else ""
    named = [
        (-1.0, "a sign flip: claimed = −numeric everywhere"),
        (
            float(m),
            f"a missing 1/m: claimed = m × numeric everywhere (m = {m} columns: the mean over "
            f"the examples in columns, the layout of nnderiv.formulas){either}",
        ),
        (
            1.0 / m,
            f"an extra 1/m: claimed = numeric / m everywhere (m = {m} columns){either}",
        ),
        (-float(m), f"a sign flip and a missing 1/m: claimed = −m × numeric (m = {m} columns)"),
        (
            float(n) if n > 1 and not square else np.nan,
            f"a missing 1/batch: claimed = n × numeric everywhere (n = {n} rows: the mean over "
            "a batch in the rows, batch-first as in PyTorch — or a sum over rows counted twice)",
        ),
        (
            1.0 / n if n > 1 and not square else np.nan,
            f"an extra 1/batch over the rows, or 1/(n·m) used for 1/m: claimed = numeric / n "
            f"everywhere (n = {n} rows)",
        ),
        (
            -float(n) if n > 1 and not square else np.nan,
            f"a sign flip and a missing 1/batch: claimed = −n × numeric (n = {n} rows, "
            "batch-first)",
        ),
        (1.0 / (n * m), f"a mean over all n·m = {n * m} entries: claimed = numeric / (n·m)"),
    ]
    for value, text in named:
        if np.isfinite(value) and abs(r - value) <= 1e-6 * abs(value):
            return text
    return f"a constant factor: claimed = {r:.6g} × numeric everywhere"


def _labels(ch: Context) -> list[npt.NDArray[np.float64]]:
    out = []
    for arg in ch.ev.args:
        try:
            arr = np.asarray(arg, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if arr.shape == ch.x.shape and np.all(np.isfinite(arr)):
            out.append(arr)
    return out


def diagnose(ch: Context, singles: list[Probe]) -> str:
    """A sentence naming the most likely bug, from the single-entry checks of a failed check.

    A pattern is named only on evidence: entries whose numeric value is precise (not at a kink,
    error bound under 0.1 % of the value), and — for the activation and softmax patterns — an
    ``x`` that is not degenerate (its checked entries not all equal), since at such points many
    patterns coincide. Otherwise the wrong entries are listed."""
    table = _table(ch, singles)
    ks, claimed, numeric, bound, bad = table
    shape = ch.x.shape
    precise = (bound <= 1e-3 * np.maximum(np.abs(numeric), np.abs(claimed))) & np.array(
        [p.judgement.slopes is None for p in singles], dtype=bool
    )
    kinks = [p for p in singles if p.verdict == "disagree" and p.judgement.slopes is not None]
    if kinks:
        shown = ", ".join(str(ch.index(int(p.support[0]))) for p in kinks[:5])
        return (
            f"at kinks ({shown}) the claimed value lies outside the one-sided slopes: it is no "
            "subgradient there" + ("" if len(kinks) == int(bad.sum()) else "; other entries too")
        )
    ks, claimed, numeric, bound, bad = (
        ks[precise],
        claimed[precise],
        numeric[precise],
        bound[precise],
        bad[precise],
    )
    big = np.abs(numeric) > 4 * bound
    if big.sum() >= 2 and bad.all() and len(bad) >= 2:
        r = float(np.median(claimed[big] / numeric[big]))
        if _holds(claimed, r * numeric, bound * (1 + abs(r))):
            return _name_ratio(r, shape)
    xs = ch.x.ravel()[ks]
    varied = len(ks) >= 2 and float(np.ptp(xs)) > 0
    if ch.x.ndim == 2 and varied:
        transposed = _transposed(ch, ks, claimed, numeric, bound)
        if transposed:
            return transposed
        x = ch.x
        full = ch.g.reshape(shape)
        pos = np.unravel_index(ks, shape)
        a = sigmoid(x)
        if _holds((full * a * (1 - a))[pos], numeric, bound):
            return (
                "∂J/∂A returned where ∂J/∂Z was meant: multiplied by σ'(z) = a (1 − a) the claimed "
                "gradient matches (the sigmoid's derivative is missing)"
            )
        if shape[0] >= 2:
            A = softmax(x)
            if _holds(softmax_backward(full, A)[pos], numeric, bound):
                return (
                    "∂J/∂A returned where ∂J/∂Z was meant: pushed through the softmax backward "
                    "A ⊙ (dA − 1 1ᵀ(dA ⊙ A)) the claimed gradient matches"
                )
            for Y in _labels(ch) if shape[1] >= 2 else []:
                found = _softmax_label_bugs(x, Y, A, full, pos, numeric, bound)
                if found:
                    return found
    return _listing(ch, *table)


def _listing(ch: Context, ks: Any, claimed: Any, numeric: Any, bound: Any, bad: Any) -> str:
    """No pattern: name the wrong entries (all checked entries, precise or not)."""
    n_bad, n_all = int(bad.sum()), len(bad)
    if 0 < n_bad < n_all or (n_bad and ch.x.size > n_all):
        shown = ", ".join(str(ch.index(int(k))) for k in ks[bad][:5])
        rel = np.abs(claimed[bad] - numeric[bad]) / np.maximum(np.abs(numeric[bad]), 1e-300)
        where = (
            f"{n_bad} of {n_all} checked entries disagree"
            if ch.x.size <= n_all
            else f"{n_bad} localised wrong entr{'y' if n_bad == 1 else 'ies'} among {ch.x.size}"
        )
        return (
            f"{where} (at {shown}; relative error {rel.min():.2g}…{rel.max():.2g}); "
            "the other entries agree"
        )
    use = bad & (numeric != 0) if n_bad else numeric != 0
    ratios = claimed[use] / numeric[use]
    if ratios.size:
        rel = np.abs(ratios - 1)
        if f"{ratios.min():.3g}" == f"{ratios.max():.3g}":  # "from 1 to 1" says nothing
            return (
                "claimed and numeric disagree by a small relative amount "
                f"({rel.min():.2g}…{rel.max():.2g}, claimed / numeric = {ratios.mean():.6g}) "
                "that the estimates exclude"
            )
        return (
            "claimed and numeric disagree without a simple pattern "
            f"(claimed / numeric from {ratios.min():.3g} to {ratios.max():.3g})"
        )
    return "claimed and numeric disagree without a simple pattern"


def _transposed(ch: Context, ks: Any, claimed: Any, numeric: Any, bound: Any) -> str:
    if ch.x.shape[0] != ch.x.shape[1]:
        return ""
    by_k = {
        int(k): (float(c), float(nv), float(b))
        for k, c, nv, b in zip(ks, claimed, numeric, bound, strict=True)
    }
    pairs, mirrored = [], []
    for k, (c, _nv, b) in by_k.items():
        t = int(np.ravel_multi_index(ch.index(k)[::-1], ch.x.shape))
        if t in by_k and t != k:
            pairs.append((c, by_k[t][1], b + by_k[t][2]))
            mirrored.append((c, by_k[t][0], b + by_k[t][2]))
    if len(mirrored) >= 2 and _holds(*(np.array(col) for col in zip(*mirrored, strict=True))):
        return ""  # a symmetric claimed gradient: transposing it changes nothing
    if len(pairs) >= 2 and _holds(*(np.array(col) for col in zip(*pairs, strict=True))):
        return "a transposed layout: claimed[i, j] = numeric[j, i] (rows and columns swapped)"
    return ""


def _softmax_label_bugs(
    x: Any, Y: Any, A: Any, full: Any, pos: Any, numeric: Any, bound: Any
) -> str:
    m = x.shape[1]
    sums = Y.sum(axis=0)
    shortcut = (A - Y) / m
    off = np.flatnonzero(np.abs(sums - 1) > 1e-6)
    if (
        off.size
        and _holds(full[pos], shortcut[pos], 0 * bound)
        and _holds(((A * sums - Y) / m)[pos], numeric, bound)
    ):
        c = int(off[0])
        return (
            f"the softmax–simplex shortcut (A − Y)/m was used, but label column {c} sums to "
            f"{sums[c]:.6g}, not 1: for such labels ∂J/∂Z = (A ⊙ 1 1ᵀY − Y)/m"
        )
    e = np.exp(x - x.max(axis=1, keepdims=True))
    rows = e / e.sum(axis=1, keepdims=True)
    for guess in ((rows - Y) / m, (rows * sums - Y) / m):
        if _holds(full[pos], guess[pos], 0 * bound):
            return (
                "a softmax over the wrong axis: the claimed gradient uses a softmax over each "
                "row (axis=1), but the classes of an example are a column (axis 0)"
            )
    return ""
