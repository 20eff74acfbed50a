"""A blind set of 65 hand derivations (162 claimed lines) written by someone who had not read
the tests, with the labels they derived by hand: kept as regression tests (issue 10)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from nnderiv.symbolic import verify_steps

_SPEC = importlib.util.spec_from_file_location(
    "nnderiv_blind_steps", Path(__file__).parent / "blind_steps" / "cases.py"
)
assert _SPEC is not None and _SPEC.loader is not None
_MODULE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MODULE)
CASES: list[dict[str, Any]] = _MODULE.CASES


def test_the_blind_set_is_large_enough() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_a_blind_derivation_is_labelled_as_its_author_expects(case: dict[str, Any]) -> None:
    report = verify_steps(case["task"], case["claims"])
    got = {ln.node: ln.status for ln in report.lines if ln.claimed is not None}
    assert got == case["expected"], str(report)
