"""The HTML page of a derivation (issue 13): self-contained, script-free MathML, rendered by a
real headless browser (Debian's chromium) whose layout shows the math was typeset."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from nnderiv.symbolic import derive

CASES = [("binary", "Z"), ("multiclass", "Z"), ("focal", "A"), ("huber", "Z"), ("kl_div", "Z")]

_MEASURE = """<script>
window.addEventListener('load', () => {
  const out = [];
  for (const m of document.querySelectorAll('math')) {
    const r = m.getBoundingClientRect();
    const fr = [...m.querySelectorAll('mfrac')].map(f => f.getBoundingClientRect().height);
    out.push({w: r.width, h: r.height, frac: fr.length ? Math.max(...fr) : 0});
  }
  const pre = document.createElement('pre');
  pre.id = 'nnderiv-measure';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.parametrize(("task", "wrt"), CASES)
def test_the_page_is_self_contained_mathml(task: str, wrt: str) -> None:
    page = derive(task, wrt).to_html()
    assert page.startswith("<!DOCTYPE html>") and "<math" in page
    assert "<script" not in page.lower() and "http" not in page.lower()  # no scripts, no network
    assert page.count("<math") >= 8
    # well-formed enough: every math element closed
    assert page.count("<math") == page.count("</math>")
    assert "proved" in page


@pytest.mark.parametrize(("task", "wrt"), CASES)
def test_a_headless_browser_typesets_the_math(task: str, wrt: str, tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("no chromium found (apt install chromium): the rendering test needs a browser")
    page = derive(task, wrt).to_html()
    probe = tmp_path / "page.html"
    probe.write_text(page.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    out = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'<pre id="nnderiv-measure">(.*?)</pre>', out.stdout, re.S)
    assert found, out.stderr[-2000:]
    sizes = json.loads(found.group(1))
    assert len(sizes) == page.count("<math")
    assert all(s["w"] > 0 and s["h"] > 0 for s in sizes), sizes
    plain = [s["h"] for s in sizes if s["frac"] == 0]
    fractions = [s["frac"] for s in sizes if s["frac"] > 0]
    assert plain and fractions
    # a typeset fraction stacks numerator over denominator: taller than a line without one
    # (an unsupported <mfrac> would lay its children out side by side, one line high)
    assert min(fractions) > 1.4 * min(plain), (min(fractions), min(plain))
