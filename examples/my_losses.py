"""Losses a user might write, for ``nnderiv check`` (see the README)."""

from __future__ import annotations

import numpy as np


def bce(Z: np.ndarray, Y: np.ndarray) -> float:
    """Binary cross-entropy from logits, written with log1p(exp(·))."""
    return np.sum(Y * np.log1p(np.exp(-Z)) + (1 - Y) * np.log1p(np.exp(Z))) / Z.shape[1]


def bce_grad(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return (1 / (1 + np.exp(-Z)) - Y) / Z.shape[1]


def bce_grad_buggy(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-Z)) - Y  # forgot the 1/m
