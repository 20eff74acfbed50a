"""``prove(loss, wrt, claimed)``: is a user's closed form of a gradient right?

The claim is an element-wise rule ``claimed(a, y, m, ysum, **params)`` written with
:mod:`nnderiv.ops` (``n=`` too if it takes it) — the form of ``formulas``' own rules — or a
string in the claims' grammar over ``a[j,i]``, ``y[j,i]``, ``m``, ``n`` and the hyper-parameters
by name. It is compared with the derivation: proved equal, or disproved with a counterexample
(a point where they differ, in exact arithmetic), or unknown with the reason.

Example::

    >>> from nnderiv.symbolic import prove
    >>> prove("binary", "Z", lambda a, y, m, ysum: (a - y) / m).status
    'proved'
    >>> prove("binary", "Z", "(a[i] - y[i])").status
    'disproved'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from ..errors import InvalidArgument
from ..formulas import Loss
from ..formulas.losses import call_rule
from .derive import Proof, decide_zero, derive, on_simplex_labels, ranges_for
from .graphs import a, exact, graph_for, m, n, parameters, y
from .steps import parse_claim

__all__ = ["prove"]


def prove(
    loss: str | Loss,
    wrt: str,
    claimed: str | Callable[..., Any],
    *,
    timeout: float | None = None,
    seed: int = 0,
) -> Proof:
    """Prove or disprove ``claimed`` as ``∂J/∂A`` (``wrt="A"``) or ``∂J/∂Z`` of ``loss`` at one
    entry. For a softmax loss whose ``∂J/∂Z`` shortcut needs label columns summing to 1, a claim
    equal only under that condition is proved with ``proof.condition`` saying so."""
    graph = graph_for(loss)
    if wrt not in ("A", "Z"):
        raise InvalidArgument(f"Expected wrt='A' or wrt='Z' but got wrt={wrt!r}")
    node = f"∂J/∂{wrt}"
    if isinstance(claimed, str):
        expr = parse_claim(claimed, graph, node)
    elif callable(claimed):
        try:
            value = call_rule(
                claimed,
                graph.entry(a),
                graph.entry(y),
                m,
                graph.column_sum(y),
                n=n,
                params=parameters(graph.loss),
            )
        except TypeError as exc:
            raise InvalidArgument(
                f"Expected claimed(a, y, m, ysum, **params) written with nnderiv.ops but calling "
                f"it on sympy entries raised: {exc}"
            ) from None
        try:
            expr = exact(value)
        except (sp.SympifyError, TypeError) as exc:
            raise InvalidArgument(
                f"Expected claimed(...) to return an expression but got {value!r}: {exc}"
            ) from None
    else:
        raise InvalidArgument(
            f"Expected claimed to be a string or a callable rule but got {type(claimed).__name__}"
        )
    d = derive(graph.loss, wrt)
    truth = d.general_result if d.general_result is not None else d.result
    ranges = ranges_for(graph.loss)
    proof = decide_zero(expr - truth, timeout=timeout, defined=truth, ranges=ranges, seed=seed)
    if proof.status == "disproved" and on_simplex_labels(graph.loss):
        simplex = {graph.column_sum(y): sp.Integer(1)}
        on = decide_zero((expr - truth).xreplace(simplex), timeout=timeout, ranges=ranges)
        if on.proved:
            return Proof(
                "proved",
                on.residual,
                f"{on.detail}; for labels off the simplex it differs ({proof.detail})",
                condition="Σ_p y_pi = 1 for every column i",
            )
    return proof
