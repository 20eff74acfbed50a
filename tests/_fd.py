"""Test-local finite-difference helper (issue 2); replaced by check_gradient later."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nnderiv import numeric


def assert_matches_finite_differences(
    fun: Callable[[np.ndarray], Any], claimed: np.ndarray, x: np.ndarray
) -> None:
    ev = numeric.Evaluator(fun, (), x.astype(np.float64))
    x64 = x.astype(np.float64)
    scale = numeric.entry_scale(x64)
    eps = float(np.finfo(claimed.dtype).eps)
    # rounding floor: the claimed entries are computed from rounded inputs (a − y with a ≈ 1)
    floor_all = 16 * eps * (float(np.abs(claimed).max()) + max(1.0, abs(float(fun(x64)))) / x.size)
    for k in range(x.size):
        d = np.zeros_like(x64)
        d.flat[k] = scale.flat[k]
        est = numeric.central(ev, x64, d)
        c = float(claimed.flat[k]) * scale.flat[k]
        floor = (16 * eps * abs(c) + floor_all) * scale.flat[k]
        assert abs(c - est.value) <= 8 * est.error + floor, (
            f"entry {np.unravel_index(k, x.shape)}: claimed {c / scale.flat[k]!r} "
            f"numeric {est.value / scale.flat[k]!r} ± {est.error / scale.flat[k]:.2g}"
        )
