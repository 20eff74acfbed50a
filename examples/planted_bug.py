"""A loss whose gradient is wrong only when there are at least 3 classes: verify_gradient finds
it and hypothesis shrinks the input to the smallest one that still fails (3 rows).

Run: python examples/planted_bug.py   (prints the failure report; exits 1)
"""

from __future__ import annotations

import sys

import numpy as np

from nnderiv import GradientMismatch, verify_gradient
from nnderiv import strategies as nst


def softmax_ce(Z: np.ndarray, Y: np.ndarray) -> float:
    shifted = Z - Z.max(axis=0, keepdims=True)
    log_softmax = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    return -np.sum(Y * log_softmax) / Z.shape[1]


def softmax_ce_grad(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    A = e / e.sum(axis=0, keepdims=True)
    G = (A * Y.sum(axis=0, keepdims=True) - Y) / Z.shape[1]
    G[2:] *= 1.01  # the planted bug: rows from the third class on are 1 % off
    return G


if __name__ == "__main__":
    try:
        verify_gradient(
            softmax_ce,
            softmax_ce_grad,
            nst.loss_inputs("multiclass", wrt="Z"),
            max_examples=100,
            seed=0,
        )
    except GradientMismatch as failure:
        print(failure)
        sys.exit(1)
    print("no failure found")
