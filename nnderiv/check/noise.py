"""Measuring the noise of a loss: how much its computed values scatter around the smooth
function, from the samples an engine already took, or at tiny steps where only noise remains.

Example::

    >>> fourth_difference_noise({k: 0.0 for k in (-4, -2, -1, 0, 1, 2, 4)})
    0.0
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

from .evaluate import Evaluator

__all__ = [
    "binary_grid",
    "fourth_difference_noise",
    "noise_probe",
    "one_sided_noise",
    "quantum",
    "smallest_gap",
]

FloatArray = npt.NDArray[np.float64]


def binary_grid(v: dict[int, float], resolution: float) -> float:
    """The spacing of a coarse binary grid the samples all lie on, or 0.

    ``(1e15 + s) − 1e15`` returns multiples of 0.125: every sample is an integer multiple of one
    power of two above the loss's own resolution ε|f|. The largest such power not above the
    smallest gap between samples is the grid, and the noise is taken to be that large. (A
    smooth loss's samples are multiples of no power of two above about their own ulp.)"""
    q = smallest_gap(v)
    if q <= 2.0 * resolution:
        return 0.0
    p = 2.0 ** math.floor(math.log2(q))
    values = set(v.values())
    while p > 2.0 * resolution:
        if all(float(val / p).is_integer() for val in values):
            return p
        p /= 2.0
    return 0.0


def smallest_gap(v: dict[int, float]) -> float:
    """The smallest non-zero difference between the sampled values (0 when all are equal)."""
    distinct = sorted(set(v.values()))
    return min((b - a for a, b in itertools.pairwise(distinct)), default=0.0)


def quantum(v: dict[int, float]) -> float:
    """The resolution of a loss that is quantised at this scale, or 0.

    Along one side, f at 0, h/4, h/2, h takes four different values unless the loss is flat
    there or rounds its changes to a coarse grid. Repeated values are compared exactly on
    purpose: then every change seen on that side may be rounding, so the largest step between
    neighbouring samples is taken as the noise level (0 when flat)."""
    q = 0.0
    for side in (-1, 1):
        seq = [v[0], v[side], v[2 * side], v[4 * side]]
        if len(set(seq)) < len(seq):
            q = max(q, *(abs(b - a) for a, b in itertools.pairwise(seq)))
    return q


def one_sided_noise(v: dict[int, float], side: int) -> float:
    """Noise from the one-sided samples at 0, h/4, h/2, h: ``f(h) − 6f(h/2) + 8f(h/4) − 3f(0)``
    vanishes for a cubic; for independent rounding errors σ it has deviation √110 σ."""
    s = side
    return abs(v[4 * s] - 6 * v[2 * s] + 8 * v[s] - 3 * v[0]) / math.sqrt(110.0)


def fourth_difference_noise(v: dict[int, float]) -> float:
    """Noise in ``f`` from the 7 central samples at 0, ±h/4, ±h/2, ±h.

    Two combinations cancel a polynomial to high order and keep the rounding: of the even
    parts, ``a − b/16`` (``a``, ``b`` the 4th differences at spacings h/4 and h/2; exact for
    degree 5, deviation ≈ √70 σ for rounding errors of size σ); of the odd parts,
    ``16 o₁ − 10 o₂ + o₄`` (exact for degree 4, deviation ≈ 13.4 σ). Their root mean square
    estimates σ; a sharply curved function near a domain edge is not mistaken for noise.
    """
    a = v[-2] - 4 * v[-1] + 6 * v[0] - 4 * v[1] + v[2]
    b = v[-4] - 4 * v[-2] + 6 * v[0] - 4 * v[2] + v[4]
    o1, o2, o4 = ((v[k] - v[-k]) / 2 for k in (1, 2, 4))
    s_even = abs(a - b / 16) / math.sqrt(70.0)
    s_odd = abs(16 * o1 - 10 * o2 + o4) / math.sqrt(178.5)
    return math.sqrt((s_even**2 + s_odd**2) / 2)


def noise_probe(ev: Evaluator, x: FloatArray, d: FloatArray, f0: float, delta: float) -> float:
    """See :func:`noise_and_span`: the noise only."""
    return noise_and_span(ev, x, d, f0, delta)[0]


def noise_and_span(
    ev: Evaluator, x: FloatArray, d: FloatArray, f0: float, delta: float
) -> tuple[float, float]:
    """Noise of ``f`` from its 4th differences at a tiny spacing ``delta``: samples at
    ``x + j δ d`` for j = −3…3. Polynomials up to degree 3 cancel (so even the steep
    curvature next to a singularity does not count as noise); independent rounding errors of
    size σ give each 4th difference a deviation of √70 σ. Also returns the span
    ``|f(x + 3δ d) − f(x − 3δ d)|``: how far f moved over the samples."""
    f = {0: f0}
    for j in (-3, -2, -1, 1, 2, 3):
        f[j] = ev(x + (j * delta) * d, fresh=True)
    if not all(math.isfinite(val) for val in f.values()):
        return 0.0, 0.0
    fourths = [f[c - 2] - 4 * f[c - 1] + 6 * f[c] - 4 * f[c + 1] + f[c + 2] for c in (-1, 0, 1)]
    return math.sqrt(sum(q * q for q in fourths) / 3) / math.sqrt(70.0), abs(f[3] - f[-3])
