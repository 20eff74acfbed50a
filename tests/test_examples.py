"""The runnable examples in examples/ do what the README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, cwd=EXAMPLES, timeout=300
    )


def test_focal_loss_example_passes() -> None:
    out = run("focal_loss.py")
    assert out.returncode == 0, out.stderr
    assert "PASS" in out.stdout
    assert "200 examples, 200 decided (all passed), 0 inconclusive" in out.stdout


def test_planted_bug_example_shrinks_to_three_rows() -> None:
    out = run("planted_bug.py")
    assert out.returncode == 1, out.stderr
    assert "(shape (3, 1))" in out.stdout
    assert "at (2, 0)" in out.stdout


def test_fixture_example_runs_under_pytest() -> None:
    out = run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_with_fixture.py",
        "--nnderiv-max-examples=20",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout


def test_mlp_from_scratch_passes_and_names_the_planted_bias_bug() -> None:
    out = run("mlp_from_scratch.py")
    assert out.returncode == 0, out.stdout + out.stderr
    first, second = out.stdout.split("\n\n", 1)
    assert ": PASS" in first
    assert ": FAIL" in second and "at b2[1, 0]" in second
