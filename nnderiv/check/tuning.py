"""Every tuning constant of the checker, in one place, each with the reason for its value.

Nothing here is a tolerance a user would set: these shape *how* the checker measures (steps,
how many probes) and how much evidence a verdict needs. ``rtol``/``atol`` of
:func:`nnderiv.check_gradient` add tolerance on top of them.
"""

from __future__ import annotations

import numpy as np

EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)

# --- verdicts --------------------------------------------------------------------------------
# A discrepancy must exceed K_ERROR error estimates (plus the rounding floor) to count: the
# estimates are of the order of the true error, not bounds, and a factor 4 keeps the chance of
# a true error beyond it negligible (the property test of the estimates checks this).
K_ERROR = 4.0
# An estimate whose error exceeds this fraction of the probe's scale cannot fail anything: it
# could be wrong in its first digit.
RELIABLE = 0.1
# To *agree*, K_ERROR error estimates must fit within this fraction of the probe's scale. At
# 2.5e-3 an error of 0.3 % or more is never passed: it exceeds the allowed band and fails, or
# the estimate is too rough and the verdict is inconclusive.
PRECISE = 2.5e-3
# a derivative that moves f by less than √ε·|f| over a full-scale step is zero at the loss's
# own resolution: agreement with such a value is precise when K_ERROR error estimates stay
# below this fraction of that change (a relative precision would be meaningless at 0)
ZERO_FRACTION = 0.1

# --- rounding floor of the claimed gradient ---------------------------------------------------
# Each claimed entry may carry rounding amplified by cancellation in the user's formula
# (1 − a for a near 1, …) up to ε^(-1/4) times: a relative ε^(3/4) (1.8e-12 in float64).
CLAIMED_REL_POWER = 0.75
# plus an absolute 16 ε of a typical O(1) term, per unit of probe weight
CLAIMED_ABS_ULPS = 16.0
# over a probe of at least RANDOM_SIGN_MIN entries with random signs, those per-entry floors add
# up like a random walk: within HOEFFDING root-sum-squares except with probability
# 2·exp(−HOEFFDING²/2) ≈ 3e-8 (Hoeffding's inequality), not linearly
HOEFFDING = 6.0
RANDOM_SIGN_MIN = 16

# --- steps -----------------------------------------------------------------------------------
# the rounding part of a central estimate is ROUNDING_GAIN · σ / h for a noise σ of f: the
# Richardson combination R2 = (4 D(h/4) − D(h/2))/3 has a deviation of √130/3 ≈ 3.8 σ/h
ROUNDING_GAIN = 8.0
COMPLEX_STEP = 1e-20  # Im f(x + i h d)/h: any h far below |x| works; no cancellation
# a float32 (or float16) user's x is handed over in its own dtype: the complex-step jitter
# points are moved this much farther, so that they are different float32 points
NARROW_JITTER_WIDEN = 100.0
# central differences start at ε_f^(1/5) of the entry scale: with two Richardson levels the
# truncation error is O(h⁶) and the rounding O(ε/h), balanced near h = ε^(1/7); 1/5 errs to
# the larger step, which the refinement then shrinks where f curves sharply
CENTRAL_POWER = 0.2
ONE_SIDED_POWER = 1.0 / 3.0  # one-sided Richardson: O(h³) truncation against O(ε/h) rounding
SHRINK = 8.0  # a step at which f is non-finite shrinks by this factor …
BACK_OFF = 64.0  # … and the first finite one backs off this much more from the edge
MAX_SHRINKS = 26  # 8^26 ≈ 3e23: from any start step down to far below ε|x|
REFINE_FACTOR = 8.0  # a step refined down (sharp curvature) shrinks by this factor
GROW_FACTOR = 4.0  # a step refined up (rounding dominates) grows by this factor
# refinement stops once the error estimate is this small relative to the value (a probe that
# confirms complex step needs far less: CONFIRM_TARGET)
REFINE_TARGET = 1e-9
CONFIRM_TARGET = 1e-6
REFINE_ROUNDS = 4  # at most this many refinements per estimate …
# … except while a shrinking step keeps disagreeing with the larger one before it (outside the
# Taylor region): then up to this many, 8^16 ≈ 3e14 — from any start step down to the
# function's own scale (tanh(1e12 x) at x ≈ 1e-12, an eigenvalue gap of 1e-6) or to the
# resolution of x
SHRINK_ROUNDS = 16
# a shrinking step whose estimate gets worse while truncation still dominates has met a feature
# between the two scales (a valley the larger step straddled): up to this many such steps are
# looked past before the refinement stops
HUMPS = 3
# when rounding dominates the error estimate (float32 losses), the step may grow to this
# fraction of the entry scale — and never into a region where f stopped being finite. Larger
# steps leave the Taylor region of oscillating terms (sin(4x) at x ≈ 3) while Richardson's
# own estimate can still look small: the property test of the estimates fails at 16.
MAX_REL_STEP = 0.25
# a one-entry step of ε^(1/2)·scale probes whether f reads x in float32 (below float32's
# resolution, far above float64's)
INPUT_PRECISION_STEP = 2.0**-30

# --- complex step -----------------------------------------------------------------------------
# jitter points: relative real shifts of x at which complex step is repeated to measure the
# rounding of the computed function (1e-8 moves every intermediate by many ulps, but the
# derivative itself by far less than the jitter it measures)
JITTER_SHIFTS = (-2e-8, -1e-8, 1e-8, 2e-8)
# a jitter spread above JITTER_CURVATURE_ULPS·4ε of the estimate is measured again at shifts
# JITTER_FINER times smaller; a fall by more than JITTER_CURVATURE_FALL means the spread was
# the derivative's curvature (an ill-conditioned loss), and the finer spread is kept
JITTER_CURVATURE_ULPS = 64.0
JITTER_FINER = 1e-2
JITTER_CURVATURE_FALL = 16.0
# a disagreement below this relative size may be the claimed gradient's own rounding (its
# formula cancels, like 3a − 3 for a near 1): then that rounding is measured by evaluating
# grad at x ± GRAD_JITTER·s and x ± 2·GRAD_JITTER·s, and counted in the floor
ROUNDING_SUSPECT = 1e-6
ROUNDING_SUSPECT_ULPS = 64.0
GRAD_JITTER = 1e-8
# an ill-conditioned loss is the exact loss of an input moved by ~BACKWARD_ULPS·ε|x| (backward
# stability): a disagreement below ROUNDING_SUSPECT is explained when the derivative, measured
# at x ± CONDITIONING_SHIFT·(random signs) and scaled to that move, shifts that much
CONDITIONING_SHIFT = 1e-9
# a real-difference step must move each entry by at least this many units of the resolution at
# which the loss reads x (float32's ε|x| for a float32 x), or its estimate says nothing
RESOLUTION_ULPS = 2.0
BACKWARD_ULPS = 4.0
CONDITIONING_DIRECTIONS = 2
CONDITIONING_SEED = 20260914
# a rounding quantised coarser than that jitter moves (3a − 3 with a within 1e-9 of 1: a stays
# the same float under a 1e-8 jitter) is measured again at this wider jitter, where the claimed
# gradient's own change is removed to second order by Richardson: (4·m(δ) − m(2δ))/3 of the
# symmetric means m about grad(x)
GRAD_JITTER_WIDE = 1e-5
# at a kink found by central differences, the probe is repeated at steps this much smaller:
# a point just off the kink (by 1e-9 of the scale and more) is differentiable and seen so
OFF_KINK_FACTORS = (64.0, 4096.0, 4096.0**2)
# a loss that looks noisy is re-measured at spacings 256, 256² and 256³ times below the step:
# real rounding noise stays, a feature below the step scale (tanh(1e12 x)) resolves
NOISE_PROBE_LEVELS = 3
# a stencil "noise" of this fraction of |f| or more is a feature, not rounding (sin(1e4 x) at
# x ≈ 1e3 sampled at steps ≫ its period); naive cancellation reaches ~1e-6 of |f|
FEATURE_NOISE = 1e-3
# below the first level, the collapse counts only where f moved over the samples by this many
# times the noise measured there (a smooth curve, not the piecewise-flat rounding of a loss)
SMOOTH_SIGNAL = 1000.0
CONFIRM_TRIES = 6  # real-arithmetic probes tried to confirm complex step before giving up on it
# before complex step is declared broken by a disagreeing central estimate, central differences
# are repeated at steps this much smaller: a function whose own scale is far below the first
# steps (an oscillation, a narrow bump) sides with complex step there; abs or a norm never does
FINER_STEP = 4096.0 * 4096.0
# a loss whose measured noise exceeds this many ε|f| was computed with cancellation
NOISY_ULPS = 64.0

# --- search ----------------------------------------------------------------------------------
# agreeing random probes must exclude an error this large (relative) in every single entry
# for a pass; a float32 loss over many entries may not resolve one entry that finely, and
# then the check is inconclusive and says how finely it did resolve them
ENTRY_RESOLUTION = 1e-2
# equalised probes weight no entry beyond what an entry this far below the largest would get
# (1e-30: far below anything a float64 gradient step could see)
EQUALISE_FLOOR = 1e-30
# entries left unresolved by the random probes get this many equalised probes of their own
# (one fewer with complex step), per band of BAND_DECADES decades of |g_k| (at most MAX_BANDS)
EQUALISED_PROBES = 2
BAND_DECADES = 4.0
MAX_BANDS = 6
# an entry within this many absolute rounding floors (16 ε of a typical entry) of 0 sits at the
# claimed gradient's own rounding level: it is resolved to 1 % of that level, not of itself
ROUNDING_LEVEL = 1e5
ENTRYWISE_MAX = 256  # x.size up to which strategy="auto" checks entry by entry
RANDOM_PROBES = 3  # random signed probes over all entries (large x)
MAX_KINK_LEAVES = 8  # bisections that may end on a kink before localisation stops
KINK_ENTRYWISE_MAX = 4096  # suspected kinked entries checked one by one, at most
# random probe weights are damped only for entries whose |g_k s_k| exceeds this multiple of
# the 90th percentile: such an outlier's rounding would hide the others; any smaller damping
# would hide an error in the largest ordinary entries behind the noise of a float32 loss
DAMP_ABOVE = 1e3
QUANTILE_SAMPLE = 4096  # entries sampled for the typical sizes (median, 90th percentile)
SPOT_CHECKS = 0  # single entries drawn on a large pass: decoration only, not evidence
SPOT_CHECKS_FAIL = 4  # single entries for the diagnosis when the wrong ones are not all found
RATIO_MIN_SUPPORT = 8  # above this many entries, try localising one wrong entry by ratio
RATIO_CANDIDATES = 2  # entries whose weight ratio comes closest, checked one by one
TIE_GROUPS = 16  # groups of tied entries probed jointly (the largest first)
# kinks judged jointly: directions ±g and this many random ones over the entries whose single
# probes found a kink (at most JOINT_KINK_MAX of them): a vector can be a subgradient entry by
# entry and not jointly (‖x‖₂ at 0, max of linear pieces)
JOINT_KINK_RANDOM = 2
JOINT_KINK_MAX = 4096
# … and, for up to JOINT_VERTEX_MAX kinked entries, the claim against the hull of the vertices
# of the subdifferential found along ±e_k (each vertex: the active piece's gradient, from
# one-sided slopes along e_k + η e_j): catches a max whose weights sum to 1.5
JOINT_VERTEX_MAX = 8
VERTEX_ETA = 1e-3
HULL_ITERATIONS = 500
HULL_SLACK = 1e-6
