"""Every entry point of issue 12 on its catalogue of correct and buggy cases
(tests/entry_catalogue.py): the verdict, and for a bug in one entry, the entries named."""

from __future__ import annotations

from typing import Any

import pytest
from entry_catalogue import EntryCase, entry_cases

from nnderiv import GradientReport

CASES = entry_cases()


def _status(result: Any) -> str:
    if isinstance(result, GradientReport):
        return result.status
    if isinstance(result, bool):
        return "pass" if result else "fail"
    assert isinstance(result, str), result
    return result


def _skip_without(case: EntryCase) -> None:
    if case.needs:
        pytest.importorskip(
            case.needs, reason=f"{case.entry} needs the optional extra {case.needs}"
        )


@pytest.mark.parametrize("case", CASES, ids=[f"{c.entry}: {c.name}" for c in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_entry_case_verdict(case: EntryCase, seed: int) -> None:
    _skip_without(case)
    result = case.call(seed)
    status = _status(result)
    assert status == ("pass" if case.correct else "fail"), result
    if isinstance(result, GradientReport) and not case.correct:
        if case.index is not None:
            assert result.worst_index == case.index, result
        if case.output_index is not None:
            assert result.output_index == case.output_index, result
        if case.diagnosis:
            assert case.diagnosis in result.diagnosis, result


def test_every_new_entry_point_has_correct_and_buggy_cases() -> None:
    entries = {c.entry for c in CASES if not c.needs}
    for entry in entries:
        verdicts = {c.correct for c in CASES if c.entry == entry}
        if entry not in ("torch.gradcheck", "torch.gradgradcheck"):
            assert verdicts == {True, False}, entry
    assert {
        "check_gradient[structured]",
        "check_gradient[kwargs]",
        "check_gradient[batch-first]",
        "check_vjp",
        "check_jvp",
        "check_hvp",
    } <= entries
