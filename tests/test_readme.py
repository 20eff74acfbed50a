"""Every Python block of the README runs: blocks with ``>>>`` prompts as doctests, the others
as scripts (from the repository's root, in a fresh namespace)."""

from __future__ import annotations

import doctest
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{k}" for k in range(len(BLOCKS))])
def test_a_readme_block_runs(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for extra in ("torch", "jax"):
        if re.search(rf"^(import {extra}|from {extra}\b)", source, flags=re.M):
            pytest.importorskip(extra, reason=f"the README block needs {extra} (nnderiv[{extra}])")
    monkeypatch.chdir(ROOT)
    if ">>> " in source:
        test = doctest.DocTestParser().get_doctest(source, {}, "README", "README.md", 0)
        flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        runner = doctest.DocTestRunner(optionflags=flags)
        runner.run(test)
        assert runner.failures == 0, f"{runner.failures} failing example(s) in:\n{source}"
        assert runner.tries > 0
    else:
        exec(compile(source, "README.md", "exec"), {"__name__": "readme"})
    assert os.getcwd() == str(ROOT)
