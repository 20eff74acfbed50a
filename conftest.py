"""Hypothesis profiles. The default is deterministic (``derandomize=True``, no example
database): ``make test`` gives the same verdicts on every machine and every run. A random run
is asked for with ``HYPOTHESIS_PROFILE=random`` (``make soak`` sweeps seeds that way)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "deterministic",
    derandomize=True,
    deadline=None,
    database=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "random",
    deadline=None,
    database=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

pytest_plugins = ["pytester"]
