"""Run a sympy computation under a time budget that can really stop it.

sympy cannot be interrupted from inside the process (``simplify`` or ``expand`` may run for
minutes on a short claim), so a bounded call runs in a forked worker process that is killed
when the budget is spent. Forking costs a few milliseconds; in a process with other threads
(JAX's), the worker comes from a forkserver instead, so that it cannot deadlock. Where ``fork``
is unavailable (Windows) the call runs in this process and the budget is not enforced.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Bounded", "can_fork", "run_bounded"]

T = TypeVar("T")


@dataclass(frozen=True)
class Bounded(Generic[T]):
    """The result of :func:`run_bounded`: ``value`` unless ``timed_out`` or ``error``."""

    value: T | None
    timed_out: bool = False
    error: str = ""
    seconds: float = 0.0


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and os.name == "posix"


_FORKSERVER_READY = False


def _context() -> Any:
    """``fork`` (a few ms), unless this process runs other threads — JAX's, or Python threads
    — which a forked child could deadlock on: then ``forkserver``, whose server is a clean
    single-threaded process (started once, with sympy preloaded)."""
    global _FORKSERVER_READY
    threaded = "jax" in sys.modules or threading.active_count() > 1
    if not threaded or "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    if not _FORKSERVER_READY:
        ctx.set_forkserver_preload(["nnderiv.symbolic.derive"])
        _FORKSERVER_READY = True
    return ctx


def _child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        out: tuple[str, Any] = ("ok", fn(*args))
    except BaseException as exc:  # report everything, the parent decides
        out = ("error", f"{type(exc).__name__}: {exc}")
    try:
        conn.send(out)
    except Exception as exc:  # unpicklable result
        conn.send(("error", f"result not transferable: {type(exc).__name__}"))
    finally:
        conn.close()


def run_bounded(fn: Callable[..., T], *args: Any, seconds: float | None) -> Bounded[T]:
    """``fn(*args)`` in a worker killed after ``seconds`` (``None``: no limit, in process)."""
    start = time.monotonic()
    if seconds is None or not can_fork():
        try:
            return Bounded(fn(*args), seconds=time.monotonic() - start)
        except Exception as exc:
            return Bounded(None, error=f"{type(exc).__name__}: {exc}")
    if seconds <= 0:
        return Bounded(None, timed_out=True)
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
    worker.start()
    send.close()
    try:
        if receive.poll(seconds):
            try:
                kind, payload = receive.recv()
            except EOFError:  # the worker died (killed by the OS, out of memory)
                return Bounded(None, error="the worker process died")
            elapsed = time.monotonic() - start
            if kind == "ok":
                return Bounded(payload, seconds=elapsed)
            return Bounded(None, error=str(payload), seconds=elapsed)
        return Bounded(None, timed_out=True, seconds=time.monotonic() - start)
    finally:
        receive.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
