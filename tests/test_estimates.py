"""The error estimates themselves, on random analytic functions with known derivatives: the
true error lies within the band a verdict allows (K_ERROR estimates), and a correct gradient
never fails. `make soak` runs these under many seeds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nnderiv import check_gradient
from nnderiv.check import engines, tuning
from nnderiv.check.evaluate import Evaluator, measure_precision

# (φ, φ') pairs, each analytic; |u| stays below ~30, where exp cannot overflow in float32
PIECES: list[tuple[Callable[[Any], Any], Callable[[Any], Any]]] = [
    (np.sin, np.cos),
    (np.tanh, lambda u: 1 - np.tanh(u) ** 2),
    (np.exp, np.exp),
    (lambda u: np.log1p(u * u), lambda u: 2 * u / (1 + u * u)),
    (lambda u: u**3, lambda u: 3 * u**2),
]


@st.composite
def problems(draw: st.DrawFn) -> dict[str, Any]:
    """A function Σ c_k φ_k(a_k x_k + b_k) (+ an offset), its gradient, a point, a dtype."""
    n = draw(st.sampled_from([1, 2, 5, 40, 300]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    kinds = rng.integers(0, len(PIECES), size=n)
    a = rng.uniform(-1.0, 1.0, size=n) * draw(st.sampled_from([0.1, 1.0, 4.0]))
    b = rng.uniform(-2.0, 2.0, size=n)
    c = rng.normal(size=n) * draw(st.sampled_from([1e-3, 1.0, 1e3]))
    offset = draw(st.sampled_from([0.0, 10.0, 1e3 if dtype is np.float64 else 10.0]))
    x = (rng.uniform(-2.0, 2.0, size=n) * draw(st.sampled_from([0.3, 1.0, 3.0]))).astype(np.float32)

    def fun(v: Any) -> Any:
        u = a.astype(dtype) * v.astype(dtype) + b.astype(dtype)
        total = dtype(offset)
        for k, (phi, _) in enumerate(PIECES):
            mask = kinds == k
            if mask.any():
                total = total + np.sum(c[mask].astype(dtype) * phi(u[mask]))
        return total

    def grad(v: Any) -> Any:
        u = a * v + b
        out = np.zeros(n)
        for k, (_, dphi) in enumerate(PIECES):
            mask = kinds == k
            out[mask] = c[mask] * a[mask] * dphi(u[mask])
        return out

    return {"fun": fun, "grad": grad, "x": x.astype(np.float64), "rng": rng, "n": n}


@given(problems(), st.sampled_from(["entry", "random"]))
def test_the_true_error_lies_within_the_band_a_verdict_allows(
    problem: dict[str, Any], kind: str
) -> None:
    fun, grad, x, rng = problem["fun"], problem["grad"], problem["x"], problem["rng"]
    ev = Evaluator(fun, ())
    f0_raw = fun(x.copy())
    prec = measure_precision(ev, x, f0_raw, float(f0_raw), grad(x), rng)
    scale = engines.entry_scale(x)
    if kind == "entry":
        d = np.zeros_like(x)
        k = int(rng.integers(x.size))
        d[k] = scale[k]
    else:
        d = scale * rng.choice([-1.0, 1.0], size=x.size) * rng.uniform(0.5, 1.5, size=x.size)
    est = engines.central(ev, x, d, f0=float(f0_raw), prec=prec)
    true = float(grad(x) @ d)
    assert abs(est.value - true) <= tuning.K_ERROR * est.error, (est, true)


@given(problems())
def test_a_correct_gradient_of_a_random_analytic_function_never_fails(
    problem: dict[str, Any],
) -> None:
    report = check_gradient(problem["fun"], problem["grad"], problem["x"])
    assert report.status != "fail", str(report)


def test_the_band_is_not_vacuous() -> None:
    """The estimates are sharp enough to matter: a 1e-6 relative error along a smooth
    float64 direction exceeds the band."""
    x = np.array([0.3, -1.2, 2.0])
    d = engines.entry_scale(x) * np.array([1.0, -0.5, 0.8])
    fun = lambda v: float(np.sum(np.sin(v) * np.exp(v / 3)))  # noqa: E731
    ev = Evaluator(fun, ())
    prec = measure_precision(ev, x, fun(x), fun(x), np.cos(x), np.random.default_rng(0))
    est = engines.central(ev, x, d, f0=fun(x), prec=prec)
    true = float((np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3) @ d)
    assert tuning.K_ERROR * est.error < 1e-6 * abs(true)
    assert abs(est.value - true) <= tuning.K_ERROR * est.error
