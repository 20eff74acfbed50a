"""The symbolic witness: sympy derives every gradient from the computation graphs of SPEC.md,
proves it equal to :mod:`nnderiv.formulas`, verifies hand-written derivations and prints them."""

from __future__ import annotations

from .concrete import ConcreteProof, prove_concrete
from .derive import Derivation, Proof, Step, derive
from .graphs import GRAPHS, Graph, Node, graph_for
from .prove import prove
from .steps import StepLine, StepReport, parse_claim, verify_steps

__all__ = [
    "GRAPHS",
    "ConcreteProof",
    "Derivation",
    "Graph",
    "Node",
    "Proof",
    "Step",
    "StepLine",
    "StepReport",
    "derive",
    "graph_for",
    "parse_claim",
    "prove",
    "prove_concrete",
    "verify_steps",
]
