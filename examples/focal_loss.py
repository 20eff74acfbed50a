"""Validate a custom focal loss with nnderiv: one point, then 200 drawn inputs.

Run: python examples/focal_loss.py
"""

from __future__ import annotations

import numpy as np

from nnderiv import check_gradient, verify_gradient
from nnderiv import strategies as nst


def focal(Z: np.ndarray, Y: np.ndarray, gamma: float = 2.0) -> float:
    """Binary focal loss −(1/m) Σ (1 − p_t)^γ log p_t with p_t = y σ(z) + (1 − y) σ(−z).

    σ(−z) is computed as 1/(1 + e^z), not 1 − σ(z), so nothing cancels at large |z|."""
    s_pos, s_neg = 1 / (1 + np.exp(-Z)), 1 / (1 + np.exp(Z))
    pt = Y * s_pos + (1 - Y) * s_neg
    return -np.sum((Y * s_neg + (1 - Y) * s_pos) ** gamma * np.log(pt)) / Z.shape[1]


def focal_grad(Z: np.ndarray, Y: np.ndarray, gamma: float = 2.0) -> np.ndarray:
    s_pos, s_neg = 1 / (1 + np.exp(-Z)), 1 / (1 + np.exp(Z))
    pt = Y * s_pos + (1 - Y) * s_neg
    q = Y * s_neg + (1 - Y) * s_pos  # 1 − p_t
    dJ_dpt = gamma * q ** (gamma - 1) * np.log(pt) - q**gamma / pt
    return dJ_dpt * (2 * Y - 1) * s_pos * s_neg / Z.shape[1]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=4, size=(1, 12))
    Y = (rng.uniform(size=(1, 12)) > 0.5) * 1.0
    print(check_gradient(focal, focal_grad, Z, Y))
    print()
    print(
        verify_gradient(
            focal, focal_grad, nst.loss_inputs("binary", wrt="Z"), max_examples=200, seed=0
        )
    )
