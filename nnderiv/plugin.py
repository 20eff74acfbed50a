"""pytest plugin (entry point ``pytest11``): the ``gradcheck`` fixture and ``--nnderiv-*``.

It imports nothing of nnderiv (nor numpy, sympy, hypothesis) at load time: the fixture and the
report hook import lazily, so a test run that never uses ``gradcheck`` pays nothing.

Options: ``--nnderiv-seed`` (default 0), ``--nnderiv-max-examples`` (default 100),
``--nnderiv-max-inconclusive`` (default 0.1), ``--nnderiv-method`` (``auto``, ``complex``,
``central``). The seed is printed in the report header and rules every route (the fixture,
``verify_gradient`` and its decorator when given no seed), so a run can be reproduced; a failing
check is shown as nnderiv's report; verifications with too many inconclusive examples are
listed in the terminal summary.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

_SETTINGS = pytest.StashKey[dict[str, Any]]()
_OUTER = pytest.StashKey[dict[str, Any]]()

#: this session's options, read by ``verify_gradient`` when it is given no seed (the decorator
#: form included), so that one ``--nnderiv-seed`` rules every route
SESSION: dict[str, Any] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nnderiv", "nnderiv gradient checks")
    group.addoption(
        "--nnderiv-seed",
        type=int,
        default=0,
        metavar="S",
        help="seed of nnderiv's random probes and drawn inputs (default 0)",
    )
    group.addoption(
        "--nnderiv-max-examples",
        type=int,
        default=100,
        metavar="N",
        help="inputs drawn by gradcheck.verify (default 100)",
    )
    group.addoption(
        "--nnderiv-max-inconclusive",
        type=float,
        default=0.1,
        metavar="F",
        help="share of inconclusive examples above which a verification warns and is listed "
        "in the summary (default 0.1)",
    )
    group.addoption(
        "--nnderiv-method",
        choices=["auto", "complex", "central"],
        default="auto",
        help="finite-difference engine of the gradcheck fixture (default auto)",
    )


def pytest_configure(config: pytest.Config) -> None:
    max_examples = config.getoption("--nnderiv-max-examples")
    if max_examples is not None and max_examples < 1:
        raise pytest.UsageError(f"--nnderiv-max-examples must be >= 1, got {max_examples}")
    share = config.getoption("--nnderiv-max-inconclusive")
    if share is not None and not 0.0 <= share <= 1.0:
        raise pytest.UsageError(f"--nnderiv-max-inconclusive must be in [0, 1], got {share}")
    config.stash[_SETTINGS] = {
        "seed": config.getoption("--nnderiv-seed"),
        "max_examples": max_examples,
        "method": config.getoption("--nnderiv-method"),
        "max_inconclusive": share,
    }
    outer: dict[str, Any] = dict(SESSION)  # a session inside a session (pytester) restores it
    config.stash[_OUTER] = outer
    settings: dict[str, Any] = config.stash[_SETTINGS]
    SESSION.clear()
    SESSION.update(settings, undecided=[])


def pytest_unconfigure(config: pytest.Config) -> None:
    SESSION.clear()
    outer: dict[str, Any] = config.stash.get(_OUTER, {})
    SESSION.update(outer)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Verifications whose examples were mostly inconclusive: listed, never silent."""
    runs = list(SESSION.get("undecided", []))
    if not runs:
        return
    terminalreporter.section("nnderiv: mostly undecided verifications")
    for where, result in runs:
        terminalreporter.write_line(
            f"{where}: {len(result.inconclusive)} of {result.examples} examples inconclusive "
            f"({result.inconclusive_share:.0%} > {result.max_inconclusive:.0%}), seed "
            f"{result.seed}"
        )


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[_SETTINGS]
    return (
        f"nnderiv: seed={s['seed']}, method={s['method']}, max-examples={s['max_examples']}, "
        f"max-inconclusive={s['max_inconclusive']:g} (reproduce with --nnderiv-seed={s['seed']})"
    )


class GradCheck:
    """The ``gradcheck`` fixture: ``gradcheck(fun, grad, x, *args)`` is ``assert_gradient``
    with the session's seed and method; ``gradcheck.verify(fun, grad, inputs)`` is
    ``verify_gradient`` with its seed and max examples."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.seed: int = settings["seed"]
        self.method: str = settings["method"]
        self.max_examples: int = settings["max_examples"]

    def __call__(self, fun: Any, grad: Any, x: Any, *args: Any, **options: Any) -> Any:
        from nnderiv import assert_gradient

        options.setdefault("seed", self.seed)
        options.setdefault("method", self.method)
        return assert_gradient(fun, grad, x, *args, **options)

    def verify(self, fun: Any, grad: Any, inputs: Any, **options: Any) -> Any:
        from nnderiv import verify_gradient

        options.setdefault("seed", self.seed)
        options.setdefault("method", self.method)
        options.setdefault("max_examples", self.max_examples)
        return verify_gradient(fun, grad, inputs, **options)


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest) -> GradCheck:
    """Check a claimed gradient with nnderiv: ``gradcheck(fun, grad, x, *args)``."""
    return GradCheck(request.config.stash[_SETTINGS])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    errors = sys.modules.get("nnderiv.errors")  # only if nnderiv was used at all
    if errors is None or call.excinfo is None or not report.failed:
        return
    exc = call.excinfo.value
    if isinstance(exc, errors.GradientMismatch):
        where = item.location
        report.longrepr = (
            f"nnderiv: the claimed gradient disagrees with finite differences\n\n{exc}\n\n"
            f"{where[0]}:{(where[1] or 0) + 1}: in {where[2]}"
        )
