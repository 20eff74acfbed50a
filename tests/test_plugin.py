"""The pytest plugin: the gradcheck fixture, the --nnderiv-* options, the header, the report."""

from __future__ import annotations

import subprocess
import sys

import pytest

# pytester runs in this process and restores sys.modules after each run; numpy's C extension
# cannot be imported twice, so load it (and what the inner tests use) here, once
import nnderiv.check
import nnderiv.strategies
import nnderiv.verify  # noqa: F401

LOSSES_PY = """
import numpy as np

def bce(Z, Y):
    return np.sum(Y * np.log1p(np.exp(-Z)) + (1 - Y) * np.log1p(np.exp(Z))) / Z.shape[1]

def bce_grad(Z, Y):
    return (1 / (1 + np.exp(-Z)) - Y) / Z.shape[1]

def bce_grad_no_mean(Z, Y):
    return 1 / (1 + np.exp(-Z)) - Y

Z = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.3]])
Y = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(mylosses=LOSSES_PY)
    pytester.syspathinsert()
    return pytester


def test_fixture_passes_a_correct_gradient(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_inner_ok="""
        from mylosses import bce, bce_grad, Z, Y

        def test_bce(gradcheck):
            report = gradcheck(bce, bce_grad, Z, Y)
            assert report.status == "pass"
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_failure_is_shown_as_nnderivs_report(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_inner_bad="""
        from mylosses import bce, bce_grad_no_mean, Z, Y

        def test_bce(gradcheck):
            gradcheck(bce, bce_grad_no_mean, Z, Y)
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*nnderiv: the claimed gradient disagrees with finite differences*",
            "*diagnosis: a missing 1/m*",
            "*index*claimed*numeric*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_header_shows_the_seed_and_options_apply(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_inner_opts="""
        def test_settings(gradcheck):
            assert gradcheck.seed == 7
            assert gradcheck.method == "central"
            assert gradcheck.max_examples == 12
        """
    )
    result = project.runpytest(
        "-p",
        "no:cacheprovider",
        "--nnderiv-seed=7",
        "--nnderiv-method=central",
        "--nnderiv-max-examples=12",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["nnderiv: seed=7, method=central, max-examples=12*"])


def test_default_header(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner_x="def test_x():\n    pass\n")
    result = project.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["nnderiv: seed=0, method=auto, max-examples=100*"])


def test_fixture_seed_and_method_reach_the_report(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_inner_seed="""
        from mylosses import bce, bce_grad, Z, Y

        def test_bce(gradcheck):
            report = gradcheck(bce, bce_grad, Z, Y)
            assert report.seed == 5
            assert report.engine == "central" and report.fallback is None
        """
    )
    result = project.runpytest(
        "-p", "no:cacheprovider", "--nnderiv-seed=5", "--nnderiv-method=central"
    )
    result.assert_outcomes(passed=1)


def test_verify_uses_max_examples_and_shrinks(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_inner_verify="""
        from nnderiv import strategies as nst
        from mylosses import bce, bce_grad, bce_grad_no_mean

        def test_good(gradcheck):
            result = gradcheck.verify(bce, bce_grad, nst.loss_inputs("multilabel", wrt="Z"))
            assert result.examples == 9

        def test_bad(gradcheck):
            gradcheck.verify(bce, bce_grad_no_mean, nst.loss_inputs("multilabel", wrt="Z"))
        """
    )
    result = project.runpytest("-p", "no:cacheprovider", "--nnderiv-max-examples=9")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*failing input:*", "*reproduce with verify_gradient(..., seed=0)*"]
    )


def test_bad_option_is_a_usage_error(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "no:cacheprovider", "--nnderiv-max-examples=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--nnderiv-max-examples must be >= 1*"])


def test_the_plugin_imports_almost_nothing() -> None:
    code = (
        "import sys, nnderiv.plugin\n"
        "heavy = [m for m in ('numpy', 'sympy', 'hypothesis', 'nnderiv.check', 'nnderiv.formulas')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_decorator_follows_the_session_seed(project: pytest.Pytester) -> None:
    """The decorator with no seed= used to draw a fresh random seed on every run under a header
    that said "reproduce with --nnderiv-seed=0"; now the session's seed rules."""
    project.makepyfile(
        test_inner_decorator="""
        from nnderiv import strategies as nst, verify_gradient
        from mylosses import bce, bce_grad_no_mean

        @verify_gradient(inputs=nst.loss_inputs("multilabel", wrt="Z"), max_examples=20)
        def test_bad():
            return bce, bce_grad_no_mean
        """
    )
    for seed in (0, 17):
        result = project.runpytest("-p", "no:cacheprovider", f"--nnderiv-seed={seed}")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([f"*reproduce with verify_gradient(..., seed={seed})*"])


def test_mostly_undecided_runs_are_listed_in_the_summary(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_inner_undecided="""
        import numpy as np
        from nnderiv import strategies as nst

        def coarse(x, y):
            return float((1e15 + np.sum(x**2)) - 1e15)

        def test_coarse(gradcheck):
            gradcheck.verify(coarse, lambda x, y: 2 * x, nst.loss_inputs("binary", wrt="Z"))
        """
    )
    result = project.runpytest("-p", "no:cacheprovider", "--nnderiv-max-examples=10")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*nnderiv: mostly undecided verifications*",
            "*test_coarse: * of 10 examples inconclusive (*% > 10%), seed 0",
        ]
    )
    quiet = project.runpytest(
        "-p", "no:cacheprovider", "--nnderiv-max-examples=10", "--nnderiv-max-inconclusive=1"
    )
    quiet.assert_outcomes(passed=1)
    assert "mostly undecided" not in quiet.stdout.str()
