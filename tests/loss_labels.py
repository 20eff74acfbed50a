"""Labels of a loss's kind, for the tests that run every registered loss."""

from __future__ import annotations

from typing import Any

import numpy as np


def labels_for(loss: Any, shape: tuple[int, int], rng: np.random.Generator) -> Any:
    """One-hot or soft simplex columns, reals, counts, or 0/1 labels, by ``loss.labels``."""
    n, m = shape
    if loss.labels == "onehot":
        return np.eye(n)[:, rng.integers(0, n, m)]
    if loss.labels == "simplex":
        return rng.dirichlet(np.ones(n), size=m).T
    if loss.labels == "real":
        return rng.normal(size=shape)
    if loss.labels == "count":
        return rng.integers(0, 5, size=shape) * 1.0
    return (rng.uniform(size=shape) > 0.5) * 1.0
