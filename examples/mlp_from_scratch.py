"""An L-layer MLP written from scratch in numpy, in the column layout of ``nnderiv.formulas``
(one column per example), with its backward pass written by hand over a dict of parameters
``{W1, b1, …, WL, bL}`` — checked in one call, and once more with a bug planted in one bias.

Run: python examples/mlp_from_scratch.py   (prints both reports; exits 0 when the correct
backward pass passes and the planted bug is found at b2[1, 0])
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

import numpy as np

from nnderiv import check_gradient
from nnderiv.formulas import LOSSES

LOSS = LOSSES["multiclass"]  # softmax output, categorical cross-entropy (SPEC.md §2)


def init(sizes: list[int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    params = {}
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
        params[f"W{layer}"] = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
        params[f"b{layer}"] = 0.1 * rng.normal(size=(n_out, 1))
    return params


def forward(params: dict[str, np.ndarray], X: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """tanh hidden layers, a linear last layer; returns the logits Z_L and the cache."""
    layers = len(params) // 2
    A, cache = X, []
    for layer in range(1, layers + 1):
        Z = params[f"W{layer}"] @ A + params[f"b{layer}"]
        cache.append((A, Z))
        A = np.tanh(Z) if layer < layers else Z
    return A, cache


def cost(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    Z, _ = forward(params, X)
    return float(LOSS.cost_from_logits(Z, Y))


def backward(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    layers = len(params) // 2
    Z, cache = forward(params, X)
    dZ = LOSS.grad_Z(LOSS.activation(Z), Y)  # (1/m)(A − Y): equation (6), one-hot labels
    grads: dict[str, Any] = {}
    for layer in range(layers, 0, -1):
        A_prev, _ = cache[layer - 1]
        grads[f"W{layer}"] = dZ @ A_prev.T
        grads[f"b{layer}"] = dZ.sum(axis=1, keepdims=True)
        if layer > 1:
            _, Z_prev = cache[layer - 2]
            dZ = (params[f"W{layer}"].T @ dZ) * (1 - np.tanh(Z_prev) ** 2)
    return grads


def backward_with_a_bug(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> Any:
    grads = backward(params, X, Y)
    grads["b2"] = grads["b2"].copy()
    grads["b2"][1, 0] *= 1.05  # the planted bug: one bias entry of layer 2 is 5 % off
    return grads


def main() -> int:
    rng = np.random.default_rng(0)
    sizes = [4, 6, 5, 3]  # three layers: 4 inputs, hidden 6 and 5, 3 classes
    params = init(sizes, rng)
    X = rng.normal(size=(sizes[0], 8))
    Y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], size=8)]  # one-hot columns
    good = check_gradient(cost, backward, params, X, Y)
    print(good, end="\n\n")
    bad = check_gradient(cost, backward_with_a_bug, params, X, Y)
    print(bad)
    return 0 if good.status == "pass" and bad.worst_index == ("b2", (1, 0)) else 1


if __name__ == "__main__":
    sys.exit(main())
