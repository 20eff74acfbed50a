"""The loss registry in words and matrix notation: ``nnderiv losses`` and the README's table.

Each row is printed from the records themselves — the loss's rule ``ℓ`` and its closed forms
run on matrix placeholders — so the listing cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..formulas import Loss
from ..formulas.losses import call_rule
from .vec import Vec, parameter_names

__all__ = ["loss_row", "markdown_table", "text_listing"]

_LABELS = {
    "binary": "y ∈ [0, 1]",
    "onehot": "one-hot (or soft) columns",
    "simplex": "soft targets, columns summing to 1",
    "real": "any real y",
    "count": "counts y ≥ 0",
}
_DOMAINS = {
    "unit": "(0, 1)",
    "simplex": "columns on the simplex",
    "real": "ℝ",
    "positive": "(0, ∞)",
    "symmetric": "(−1, 1)",
}


def _placeholders(loss: Loss) -> tuple[Vec, Vec, Vec, Vec, Vec, dict[str, Vec]]:
    A, Y = Vec("A", "A"), Vec("Y", "Y")
    ysum = Vec("1 1ᵀY", "\\mathbf{1}\\mathbf{1}^{\\top} Y")
    m, n = Vec("m", "m", matrix=False), Vec("n", "n", matrix=False)
    params = {k: Vec(t, x, matrix=False) for k, (t, x) in parameter_names(loss).items()}
    return A, Y, ysum, m, n, params


def _form(loss: Loss, which: str) -> str:
    A, Y, ysum, m, n, params = _placeholders(loss)
    if which == "rule":
        out: Any = call_rule(loss.rule, A, Y, n=n, params=params)
        return str(out.text)
    rule = getattr(loss, which)
    if rule is None:
        return ""
    out = call_rule(rule, A, Y, m, ysum, n=n, params=params)
    return str(out.text)


def loss_row(loss: Loss) -> dict[str, str]:
    """One loss in words: name, activation, hyper-parameters, labels, ℓ and its gradients."""
    grad_A = _form(loss, "grad_A_rule") or "derived: (1/m) ∂ℓ/∂a (sympy)"
    grad_Z = _form(loss, "grad_Z_rule") or f"∂J/∂A through the {loss.activation.name}"
    if loss.requires_simplex:
        grad_Z += " (label columns summing to 1)"
        general = _form(loss, "grad_Z_general_rule")
        if general:
            grad_Z += f"; any labels: {general}"
    eqs = [str(e) for e in loss.equations if e is not None]
    params = ", ".join(
        f"{parameter_names(loss)[k][0]} = {k}={v}"
        if parameter_names(loss)[k][0] != k
        else f"{k}={v}"
        for k, v in loss.params.items()
    )
    return {
        "loss": loss.name,
        "activation": f"{loss.activation.name}, A in {_DOMAINS[loss.activation.domain]}",
        "parameters": params or "—",
        "labels": _LABELS[loss.labels],
        "ℓ(a, y)": _form(loss, "rule"),
        "∂J/∂A": grad_A,
        "∂J/∂Z": grad_Z,
        "from logits": "stable" if loss.stable is not None else "at g(Z)",
        "equations": ", ".join(f"({e})" for e in eqs) or "—",
        "title": loss.title,
        "kinks": loss.kinks,
    }


def text_listing(losses: Iterable[Loss]) -> str:
    """The listing ``nnderiv losses`` prints: one block per loss (element-wise ⊙ ⊘ notation,
    ``J = (1/m) Σ ℓ`` summed over units and examples)."""
    out = []
    for loss in losses:
        r = loss_row(loss)
        eq = f"; SPEC.md equations {r['equations']}" if r["equations"] != "—" else ""
        out.append(f"{r['loss']} — {r['title']}{eq}")
        out.append(f"  activation  {r['activation']}; labels: {r['labels']}")
        if r["parameters"] != "—":
            out.append(f"  parameters  {r['parameters']}")
        out.append(f"  ℓ(a, y)     {r['ℓ(a, y)']}")
        out.append(f"  ∂J/∂A       {r['∂J/∂A']}")
        out.append(f"  ∂J/∂Z       {r['∂J/∂Z']}")
        out.append(f"  from logits {r['from logits']}")
        if r["kinks"]:
            out.append(f"  kinks       {r['kinks']}")
        out.append("")
    return "\n".join(out)


def markdown_table(losses: Iterable[Loss]) -> str:
    """The README's table of every loss, generated from the registry."""
    cols = ["loss", "activation", "parameters", "labels", "ℓ(a, y)", "∂J/∂A", "∂J/∂Z"]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for loss in losses:
        r = loss_row(loss)
        cells = [f"`{r['loss']}`", *(r[c].replace("|", "\\|") for c in cols[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
