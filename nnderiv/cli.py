"""Command line: ``nnderiv check | derive | verify-steps | selfcheck``.

Exit codes: 0 success, 1 a check failed (a wrong line, an unproved result), 2 usage error,
3 inconclusive.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import __version__
from .errors import InvalidArgument, ProbeError
from .formulas import LOSSES, Loss


def sample_inputs(loss: Loss, wrt: str, shape: tuple[int, int], seed: int) -> tuple[Any, Any]:
    """A reproducible ``(x, Y)`` for ``loss``: probabilities (wrt A) or logits (wrt Z), labels."""
    rng = np.random.default_rng(seed)
    n, m = shape
    Z = rng.normal(scale=3.0, size=shape)
    if loss.labels in ("onehot", "simplex"):
        Y = np.eye(n)[:, rng.integers(0, n, size=m)]
        if loss.labels == "simplex":  # soft targets on the simplex
            Y = 0.7 * Y + 0.3 * rng.dirichlet(np.ones(n), size=m).T
    elif loss.labels == "real":
        Y = rng.normal(size=shape)
    elif loss.labels == "count":
        Y = rng.integers(0, 6, size=shape).astype(np.float64)
    else:
        Y = rng.integers(0, 2, size=shape).astype(np.float64)
    if wrt == "Z":
        return Z, Y
    domain = loss.activation.domain
    if domain in ("unit", "simplex"):
        x = np.clip(rng.uniform(size=shape), 1e-6, 1 - 1e-6)
    elif domain == "symmetric":
        x = rng.uniform(-0.95, 0.95, size=shape)
    elif domain == "positive":
        x = rng.uniform(0.1, 5.0, size=shape)
    else:
        x = rng.normal(scale=2.0, size=shape)
    return x, Y


def finite_difference_row(loss: Loss, wrt: str, seed: int = 0) -> dict[str, Any]:
    """Check one closed form entry by entry with :func:`check_gradient`; a table row."""
    from .check import check_gradient

    shape = (1, 6) if loss.single_row else (4, 6)
    x, Y = sample_inputs(loss, wrt, shape, seed)
    fun: Callable[..., Any]
    grad: Callable[..., Any]
    if wrt == "A":
        fun, grad, eq = loss.cost, loss.grad_A, loss.equations[1]
    else:
        fun, eq = loss.cost_from_logits, loss.equations[2]

        def grad(z: Any, y: Any) -> Any:
            return loss.grad_Z(loss.activation(z), y)

    start = time.perf_counter()
    report = check_gradient(fun, grad, x, Y, strategy="entrywise", seed=seed)
    worst = max(abs(e.claimed - e.numeric) / e.bound for e in report.entries)
    return {
        "loss": loss.name,
        "result": f"dJ/d{wrt}" + (f" eq. ({eq})" if eq is not None else ""),
        "shape": f"{shape[0]}x{shape[1]}",
        "worst gap / bound": f"{worst:.2g} {report.status}",
        "evaluations": str(report.evaluations),
        "time": f"{1e3 * (time.perf_counter() - start):.0f} ms",
        "ok": report.status == "pass",
    }


def print_table(rows: list[dict[str, Any]], out: Any = None) -> None:
    """Print rows of equal keys as an aligned text table (``ok`` shown as PASS/FAIL)."""
    out = out or sys.stdout
    cols = [k for k in rows[0] if k != "ok"] + ["verdict"]
    cells = [[str(r[c]) for c in cols[:-1]] + ["PASS" if r["ok"] else "FAIL"] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)), file=out)


def _timed(call: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = call()
    return out, time.perf_counter() - start


def selfcheck_rows(seed: int = 0, losses: list[Loss] | None = None) -> list[dict[str, Any]]:
    """Every registered loss (or ``losses``), wrt A and Z: symbolic proof, concrete proof,
    finite differences."""
    from .symbolic import derive, prove_concrete

    rows = []
    for loss in losses if losses is not None else list(LOSSES.values()):
        for wrt in "AZ":
            d, t_sym = _timed(lambda: derive(loss, wrt))  # noqa: B023
            shape = (1, 6) if loss.single_row else (3, 2)
            c, t_con = _timed(lambda: prove_concrete(loss, wrt, shape))  # noqa: B023
            fd = finite_difference_row(loss, wrt, seed)
            rows.append(
                {
                    "loss": loss.name,
                    "result": fd["result"],
                    "symbolic (n, m)": f"{d.proof.status} {1e3 * t_sym:.0f} ms",
                    "concrete": f"{c.status} {c.shape[0]}x{c.shape[1]} {1e3 * t_con:.0f} ms",
                    "finite differences": f"gap/bound {fd['worst gap / bound']}, "
                    f"{fd['evaluations']} evals {fd['time']}",
                    "ok": d.proved and c.proved and fd["ok"],
                }
            )
    return rows


def cmd_selfcheck(args: argparse.Namespace) -> int:
    losses = module_losses(args.module) if args.module else None
    rows, seconds = _timed(lambda: selfcheck_rows(args.seed, losses))
    where = f"every loss defined in {args.module}" if args.module else "every registered loss"
    print(f"nnderiv selfcheck: {where}, three witnesses\n")
    print_table(rows)
    failed = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} checks passed in {seconds:.1f} s")
    return 1 if failed else 0


def cmd_losses(args: argparse.Namespace) -> int:
    from .symbolic.listing import markdown_table, text_listing

    losses = module_losses(args.module) if args.module else list(LOSSES.values())
    print(markdown_table(losses) if args.format == "markdown" else text_listing(losses), end="")
    return 0


def _emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise InvalidArgument(f"Could not write -o {output!r}: {exc.strerror}") from None


def cmd_derive(args: argparse.Namespace) -> int:
    from .symbolic import derive

    d = derive(resolve_loss(args.task), args.wrt)
    text = {
        "text": d.to_text,
        "latex": d.to_latex,
        "markdown": d.to_markdown,
        "html": d.to_html,
    }[args.format]()
    _emit(text, args.output)
    if d.proved:
        return 0
    return 1 if d.proof.status == "disproved" else 3


def read_claims(path: str) -> dict[str, str]:
    """Claims from a JSON or TOML file (by extension; otherwise JSON, then TOML)."""
    import json
    import tomllib

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise InvalidArgument(f"Could not read the claims file {path!r}: {exc.strerror}") from None
    text = raw.decode("utf-8", errors="replace")
    errors = []
    loaders = [("TOML", tomllib.loads), ("JSON", json.loads)]
    if not path.lower().endswith(".toml"):
        loaders.reverse()
    for kind, load in loaders:
        try:
            data = load(text)
            break
        except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError
            errors.append(f"{kind}: {exc}")
    else:
        raise InvalidArgument(
            f"Expected the claims file {path!r} to be JSON or TOML but: " + "; ".join(errors)
        )
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InvalidArgument(
            f"Expected the claims file {path!r} to map node names to strings, "
            'e.g. {"u4": "-1/m"}, but got ' + repr(data)[:200]
        )
    return {str(k): v for k, v in data.items()}


def cmd_verify_steps(args: argparse.Namespace) -> int:
    from .symbolic import verify_steps
    from .symbolic.steps import DEFAULT_TIMEOUT

    timeout = DEFAULT_TIMEOUT if args.timeout is None else (args.timeout or None)
    report = verify_steps(resolve_loss(args.task), read_claims(args.claims), timeout=timeout)
    print(report)
    if report.ok:
        return 0
    if any(ln.status in ("wrong", "carried", "unjustified") for ln in report.lines):
        return 1
    return 3


def load_module(module_name: str, spec: str) -> Any:
    """A dotted module name or a path to a ``.py`` file, imported (``spec`` for messages)."""
    import importlib
    import importlib.util
    import os

    try:
        if module_name.endswith(".py") or os.sep in module_name:
            path = os.path.abspath(module_name)
            if not os.path.exists(path):
                raise InvalidArgument(f"No such file {module_name!r} in {spec!r}")
            loader_spec = importlib.util.spec_from_file_location(
                os.path.splitext(os.path.basename(path))[0], path
            )
            if loader_spec is None or loader_spec.loader is None:
                raise InvalidArgument(f"Cannot import {module_name!r} in {spec!r}")
            module = importlib.util.module_from_spec(loader_spec)
            loader_spec.loader.exec_module(module)
        else:
            sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except InvalidArgument:
        raise
    except Exception as exc:  # the user's module failed to import
        raise InvalidArgument(
            f"Could not import {module_name!r} for {spec!r}: {type(exc).__name__}: {exc}"
        ) from None
    return module


def load_callable(spec: str) -> Any:
    """``MODULE:NAME`` where MODULE is a dotted module name or a path to a ``.py`` file."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgument(f"Expected MODULE:NAME (e.g. mylosses.py:focal) but got {spec!r}")
    module = load_module(module_name, spec)
    if not hasattr(module, attr):
        names = ", ".join(
            n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))
        )
        raise InvalidArgument(f"{module_name!r} has no {attr!r}; callables there: {names}")
    return getattr(module, attr)


def resolve_loss(spec: str) -> Loss:
    """A registered loss's name, or ``MODULE:NAME`` naming a :class:`Loss` made with
    ``formulas.define_loss`` in a module or a ``.py`` file."""
    from .formulas import get_loss

    if ":" not in spec:
        return get_loss(spec)
    found = load_callable(spec)
    if not isinstance(found, Loss):
        raise InvalidArgument(
            f"Expected {spec!r} to name a loss made with nnderiv.formulas.define_loss but got "
            f"{type(found).__name__}"
        )
    return found


def module_losses(path: str) -> list[Loss]:
    """Every :class:`Loss` defined at the top level of a module (or ``.py`` file)."""
    module = load_module(path, path)
    found = [v for k, v in vars(module).items() if isinstance(v, Loss) and not k.startswith("_")]
    unique = list({id(v): v for v in found}.values())
    if not unique:
        raise InvalidArgument(
            f"Expected {path!r} to define losses with nnderiv.formulas.define_loss but found none"
        )
    return unique


def _shape(text: str) -> tuple[int, int]:
    try:
        n, m = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N,M (e.g. 4,8) but got {text!r}") from None
    if n < 1 or m < 1:
        raise argparse.ArgumentTypeError(f"expected N, M >= 1 but got {text!r}")
    return n, m


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0 but got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0 but got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1) but got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1) but got {text!r}")
    return value


#: the default of verify_steps(timeout=…), repeated here so that the CLI starts without sympy
STEP_TIMEOUT = 4.0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds ≥ 0 but got {text!r}") from None
    if not (value >= 0.0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected seconds ≥ 0 but got {text!r}")
    return value


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check_gradient
    from .formulas import get_loss

    loss = get_loss(args.task)
    fun, grad = load_callable(args.fun), load_callable(args.grad)
    shape = args.shape or ((1, 8) if loss.single_row else (4, 8))
    if loss.single_row and shape[0] != 1:
        raise InvalidArgument(f"Expected --shape 1,M for the {loss.name} task but got {shape}")
    if shape[0] < loss.activation.min_rows:
        raise InvalidArgument(
            f"Expected at least {loss.activation.min_rows} rows for the {loss.name} task "
            f"({loss.activation.name} outputs) but got {shape}"
        )
    x, Y = sample_inputs(loss, args.wrt, shape, args.seed)
    kind = "logits" if args.wrt == "Z" else "probabilities"
    print(f"inputs: {args.wrt} of shape {shape} ({kind}), {loss.name} labels, seed {args.seed}")
    report = check_gradient(
        fun,
        grad,
        x,
        Y,
        method=args.method,
        strategy=args.strategy,
        seed=args.seed,
        negligible=args.negligible,
        kwargs=dict(args.param) if args.param else None,
    )
    print(report)
    return {"pass": 0, "fail": 1, "inconclusive": 3}[report.status]


def _param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE``: VALUE a number (int or float), true/false, or else a string."""
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE with NAME a Python identifier (e.g. gamma=2.0) but got {text!r}"
        )
    value: Any = raw
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnderiv", description="Prove the derivatives of neural-network cost functions right."
    )
    parser.add_argument("--version", action="version", version=f"nnderiv {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tasks = ", ".join(LOSSES)

    p = sub.add_parser("selfcheck", help="prove and check every registered loss three ways")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the finite-difference inputs")
    p.add_argument(
        "--module",
        metavar="MODULE",
        help="check the losses defined in MODULE (a .py path or a dotted module) instead",
    )
    p.set_defaults(func=cmd_selfcheck)

    p = sub.add_parser("check", help="check your own loss and gradient on drawn inputs")
    p.add_argument("fun", metavar="MODULE:FUN", help="the loss fun(x, Y) -> scalar")
    p.add_argument("grad", metavar="MODULE:GRAD", help="its claimed gradient grad(x, Y)")
    p.add_argument("--task", required=True, choices=list(LOSSES), help="what inputs to draw")
    p.add_argument("--wrt", choices=["A", "Z"], default="Z", help="x is A (probabilities) or Z")
    p.add_argument("--shape", type=_shape, metavar="N,M", help="default 1,8 (binary) or 4,8")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--method", choices=["auto", "complex", "central"], default="auto")
    p.add_argument("--strategy", choices=["auto", "entrywise", "probes"], default="auto")
    p.add_argument(
        "--negligible",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="entries the loss cannot resolve do not block a pass when their possible error is "
        "below F times the largest entry (default 0: nothing is negligible)",
    )
    p.add_argument(
        "--param",
        type=_param,
        action="append",
        metavar="NAME=VALUE",
        help="a keyword argument for fun and grad (repeatable): --param gamma=2.0",
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("derive", help="print the derivation of dJ/dA or dJ/dZ")
    p.add_argument("task", metavar="LOSS", help=f"one of {tasks}, or MODULE:NAME of your own")
    p.add_argument("--wrt", choices=["A", "Z"], default="A")
    p.add_argument("--format", choices=["text", "latex", "markdown", "html"], default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=cmd_derive)

    p = sub.add_parser("losses", help="list the losses: activation, parameters, closed forms")
    p.add_argument("--module", metavar="MODULE", help="list the losses defined in MODULE instead")
    p.add_argument(
        "--format", choices=["text", "markdown"], default="text", help="markdown: the README table"
    )
    p.set_defaults(func=cmd_losses)

    p = sub.add_parser("verify-steps", help="check a hand derivation line by line")
    p.add_argument("task", metavar="LOSS", help=f"one of {tasks}, or MODULE:NAME of your own")
    p.add_argument("claims", metavar="CLAIMS_FILE", help='JSON or TOML: {"u4": "-1/m", ...}')
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help=f"time budget per claimed line (default {STEP_TIMEOUT:g}; 0: no limit); "
        "a line over it is undecided with the reason 'time budget'",
    )
    p.set_defaults(func=cmd_verify_steps)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (InvalidArgument, ProbeError) as exc:
        print(f"nnderiv: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # never a traceback: one line, and how to get the details
        import os

        if os.environ.get("NNDERIV_TRACEBACK"):
            raise
        print(
            f"nnderiv: error: {type(exc).__name__}: {exc} "
            "(set NNDERIV_TRACEBACK=1 to see the traceback)",
            file=sys.stderr,
        )
        return 2
