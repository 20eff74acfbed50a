"""Your own loss through all three witnesses, from one definition each.

Two losses not built into nnderiv, each written once with ``nnderiv.ops``:

* ``logcosh``: ``log(cosh(a − y))`` on a linear output — smooth, like MSE near 0, like MAE far
  out; its gradient is ``tanh(a − y)/m``.
* ``pinball``: the quantile (pinball) loss ``max(τ (y − a), (τ − 1)(y − a))`` with a
  hyper-parameter ``τ`` — a kink at ``a = y``, where nnderiv takes a subgradient.

For each: the derivation (printed as text, LaTeX, Markdown and an HTML page), a proof of a
claimed closed form (and the disproof of a wrong one, with a counterexample), and the numeric
check of its closed forms by finite differences over drawn inputs.

Run: python examples/own_loss.py   (exit 0 when every witness agrees; ``--html DIR`` also
writes the derivation pages there). With the command line:
``nnderiv derive examples/own_loss.py:pinball --wrt Z`` and
``nnderiv selfcheck --module examples/own_loss.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nnderiv import ops, verify_gradient
from nnderiv import strategies as nst
from nnderiv.formulas import define_loss
from nnderiv.symbolic import derive, prove

logcosh = define_loss(
    "logcosh",
    lambda a, y: ops.log(ops.cosh(a - y)),
    "identity",
    labels="real",
    title="log-cosh loss log(cosh(a − y))",
)

pinball = define_loss(
    "pinball",
    lambda a, y, tau: ops.maximum(tau * (y - a), (tau - 1) * (y - a)),
    "identity",
    params={"tau": 0.9},
    labels="real",
    title="pinball (quantile) loss, quantile τ",
    kinks="a = y (a subgradient between τ − 1 and τ is taken there)",
)


def logcosh_grad(a: object, y: object, m: object, ysum: object) -> object:
    """The claimed closed form of ∂J/∂a: tanh(a − y)/m."""
    return ops.tanh(a - y) / m  # type: ignore[operator]


def pinball_grad(a: object, y: object, m: object, ysum: object, tau: object) -> object:
    """The claimed closed form: (1 − τ)/m above the target, −τ/m below it."""
    return ops.where(a > y, 1 - tau, -tau) / m  # type: ignore[operator]


def pinball_grad_wrong(a: object, y: object, m: object, ysum: object, tau: object) -> object:
    """A classic slip: the two slopes swapped."""
    return ops.where(a > y, tau, tau - 1) / m  # type: ignore[operator]


def main(argv: list[str]) -> int:
    html_dir = Path(argv[argv.index("--html") + 1]) if "--html" in argv else None
    ok = True
    for loss, claim in ((logcosh, logcosh_grad), (pinball, pinball_grad)):
        d = derive(loss, "A")
        print(d.to_text())
        for fmt in (d.to_latex(), d.to_markdown(), d.to_html()):
            assert fmt
        if html_dir is not None:
            html_dir.mkdir(parents=True, exist_ok=True)
            (html_dir / f"{loss.name}.html").write_text(d.to_html(), encoding="utf-8")
        proof = prove(loss, "A", claim)
        print(f"claimed {claim.__name__}: {proof.status} ({proof.detail})")
        ok = ok and d.proved and proof.proved
        # numeric witness: the loss's own closed forms against finite differences
        result = verify_gradient(
            loss.cost, loss.grad_A, nst.loss_inputs(loss, wrt="A"), max_examples=50, seed=0
        )
        print(f"finite differences: {result}\n")
        ok = ok and not result.mostly_undecided
    wrong = prove(pinball, "A", pinball_grad_wrong)
    print(f"claimed pinball_grad_wrong: {wrong.status} ({wrong.detail})")
    ok = ok and wrong.status == "disproved"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
