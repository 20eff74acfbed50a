"""The command line: exit codes, formats, files, and no tracebacks on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nnderiv.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The CLI's exit code, stdout and stderr (argparse's own usage errors included)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_selfcheck_passes_and_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "selfcheck")
    assert code == 0
    from nnderiv.formulas import LOSSES

    total = 2 * len(LOSSES)
    assert f"{total} of {total} checks passed" in out
    for word in (*LOSSES, "proved", "gap/bound", "PASS"):
        assert word in out
    assert "FAIL" not in out


def test_selfcheck_fails_on_a_planted_bug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from nnderiv import formulas
    from nnderiv.symbolic import GRAPHS

    bad = dataclasses.replace(
        formulas.multilabel, grad_A_rule=lambda a, y, m, s: (1 - y) / (1 - a) - y / a
    )
    monkeypatch.setitem(formulas.LOSSES, "multilabel", bad)
    monkeypatch.setitem(GRAPHS, "multilabel", dataclasses.replace(GRAPHS["multilabel"], loss=bad))
    code, out, _ = run(capsys, "selfcheck")
    assert code == 1
    total = 2 * len(formulas.LOSSES)
    assert f"{total - 1} of {total} checks passed" in out
    assert "disproved" in out and "FAIL" in out


@pytest.mark.parametrize(
    ("fmt", "marker"), [("text", "∂J/∂u5 = 1"), ("latex", "\\begin{aligned}"), ("markdown", "$$")]
)
def test_derive_formats(capsys: pytest.CaptureFixture[str], fmt: str, marker: str) -> None:
    code, out, _ = run(capsys, "derive", "binary", "--wrt", "Z", "--format", fmt)
    assert code == 0
    assert marker in out


def test_derive_writes_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "d.md"
    code, out, _ = run(
        capsys, "derive", "multiclass", "--wrt", "Z", "--format", "markdown", "-o", str(target)
    )
    assert code == 0 and out == ""
    assert "proved" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["derive", "nope"], "binary, multiclass, multilabel"),
        (["derive", "binary", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["derive", "binary", "--wrt", "X"], "invalid choice: 'X'"),
        (["verify-steps", "binary", "/nonexistent/claims.json"], "Could not read the claims file"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def _claims(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_verify_steps_json_and_toml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = {"u4": "-1/m", "u3": "-(1-y[i])/m", "u2": "-y[i]/m"}
    code, out, _ = run(
        capsys, "verify-steps", "binary", _claims(tmp_path, "c.json", json.dumps(good))
    )
    assert code == 0 and "no wrong line" in out
    toml = 'u4 = "-1/m"\nu2 = "y[i]/m"\n'
    code, out, _ = run(capsys, "verify-steps", "binary", _claims(tmp_path, "c.toml", toml))
    assert code == 1
    assert "first wrong line: u2" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"u4": ', "to be JSON or TOML"),
        ('["-1/m"]', "to map node names to strings"),
        ('{"u7": "1"}', "but got 'u7'"),
        ("{\"u4\": \"__import__('os').system('touch PWNED')\"}", "Refused in the claim for u4"),
        ('{"u4": "-1/"}', "Could not parse the claim for u4"),
        ('{"u4": "1e400"}', "(not finite)"),
        ("{}", "Expected at least one claim"),
    ],
)
def test_verify_steps_bad_files_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    code, _, err = run(capsys, "verify-steps", "binary", _claims(tmp_path, "c.json", text))
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not Path("PWNED").exists()


EXAMPLE = str(Path(__file__).parent.parent / "examples" / "my_losses.py")


@pytest.mark.parametrize(
    ("grad", "code", "marker"),
    [("bce_grad", 0, "PASS"), ("bce_grad_buggy", 1, "a missing 1/m")],
)
def test_check_exit_codes(
    capsys: pytest.CaptureFixture[str], grad: str, code: int, marker: str
) -> None:
    got, out, _ = run(
        capsys,
        "check",
        f"{EXAMPLE}:bce",
        f"{EXAMPLE}:{grad}",
        "--task",
        "multilabel",
        "--shape",
        "3,5",
        "--seed",
        "2",
    )
    assert got == code
    assert marker in out and "seed 2" in out


def test_check_exit_3_when_inconclusive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    mod = tmp_path / "coarse.py"
    mod.write_text(
        "import numpy as np\n"
        "def f(z, y):\n    return float((1e13 + np.sum(z**2)) - 1e13)\n"
        "def g(z, y):\n    return 2 * z\n",
        encoding="utf-8",
    )
    got, out, _ = run(capsys, "check", f"{mod}:f", f"{mod}:g", "--task", "binary", "--shape", "1,2")
    assert got == 3
    assert "INCONCLUSIVE" in out


def test_check_negligible_decides_entries_the_loss_cannot_resolve(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mod = tmp_path / "saturated.py"
    mod.write_text(
        "import numpy as np\n"
        "def f(z, y):\n"
        "    if np.iscomplexobj(z):\n        raise TypeError('real input only')\n"
        "    return float(np.sum(np.logaddexp(0.0, -z)))\n"
        "def g(z, y):\n    return -1.0 / (1.0 + np.exp(z))\n",
        encoding="utf-8",
    )
    z = ["check", f"{mod}:f", f"{mod}:g", "--task", "binary", "--wrt", "Z", "--shape", "1,6"]
    assert run(capsys, *z, "--seed", "3")[0] in (0, 3)
    code, out, _ = run(capsys, *z, "--seed", "3", "--negligible", "1e-10")
    assert code == 0, out
    code, _, err = run(capsys, *z, "--negligible", "2")
    assert code == 2 and "expected a number in [0, 1)" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "nomodule_xyz:f", "nomodule_xyz:g", "--task", "binary"], "Could not import"),
        (["check", f"{EXAMPLE}:nope", f"{EXAMPLE}:bce_grad", "--task", "binary"], "has no 'nope'"),
        (["check", "bce", f"{EXAMPLE}:bce_grad", "--task", "binary"], "Expected MODULE:NAME"),
        (
            [
                "check",
                f"{EXAMPLE}:bce",
                f"{EXAMPLE}:bce_grad",
                "--task",
                "binary",
                "--shape",
                "2,4",
            ],
            "--shape 1,M for the binary task",
        ),
        (
            ["check", f"{EXAMPLE}:bce", f"{EXAMPLE}:bce_grad", "--task", "regression"],
            "invalid choice: 'regression'",
        ),
        (
            ["check", f"{EXAMPLE}:bce", f"{EXAMPLE}:bce_grad", "--task", "binary", "--shape", "x"],
            "expected N,M",
        ),
    ],
)
def test_check_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_a_claim_that_overflows_sympy_is_undecided_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = '{"u4": "exp(exp(exp(exp(exp(m)))))"}'
    code, out, err = run(capsys, "verify-steps", "binary", _claims(tmp_path, "c.json", text))
    assert code in (1, 3)
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    "argv",
    [["selfcheck", "--seed", "-1"], ["check", "a:b", "a:c", "--task", "binary", "--seed", "-5"]],
)
def test_negative_seed_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and "expected an integer >= 0" in err


def test_check_param_reaches_fun_and_grad(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mod = tmp_path / "focal.py"
    mod.write_text(
        "import numpy as np\n"
        "def f(z, y, gamma=0.0, scale=1):\n"
        "    return scale * float(np.sum(np.exp(gamma * z) * y))\n"
        "def g(z, y, gamma=0.0, scale=1):\n"
        "    return scale * gamma * np.exp(gamma * z) * y\n"
        "def g_ignores(z, y, gamma=0.0, scale=1):\n"
        "    return scale * 1.0 * np.exp(gamma * z) * y\n",
        encoding="utf-8",
    )
    argv = ["check", f"{mod}:f", f"{mod}:g", "--task", "binary", "--shape", "1,4"]
    code, out, _ = run(capsys, *argv, "--param", "gamma=2.5", "--param", "scale=3")
    assert code == 0, out
    bad = ["check", f"{mod}:f", f"{mod}:g_ignores", "--task", "binary", "--shape", "1,4"]
    assert run(capsys, *bad, "--param", "gamma=2.5")[0] == 1
    code, _, err = run(capsys, *argv, "--param", "2x=1")
    assert code == 2 and "NAME=VALUE" in err
