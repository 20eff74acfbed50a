"""PyTorch adapter (``pip install nnderiv[torch]``): check what torch autograd returns — a
custom ``torch.autograd.Function.backward`` included — against nnderiv's finite differences.

* :func:`check` — ``check(fn, *inputs) -> GradientReport``: ``fn`` maps tensors to a tensor of
  any shape; the inputs with ``requires_grad=True`` are checked (the others are passed as
  they are). The claimed derivative is torch's: ``torch.autograd.grad`` of ``⟨v, fn(inputs)⟩``
  for a random cotangent ``v``. The numerics run on float64 CPU copies (``dtype="float64"``,
  the default) or at each input's own dtype (``dtype="own"``, float32 stays float32).
* :func:`gradcheck` / :func:`gradgradcheck` — drop-ins with torch's calling convention,
  returning ``True`` or raising :class:`TorchGradcheckError` (``raise_exception=False``:
  returning ``False``). Keyword arguments torch accepts and nnderiv does not need are accepted
  and ignored: ``eps``, ``atol``, ``rtol`` (the error estimates decide), ``nondet_tol``,
  ``check_undefined_grad``, ``check_grad_dtypes``, ``check_batched_grad``,
  ``check_batched_forward_grad``, ``check_forward_ad``, ``check_backward_ad``,
  ``check_fwd_over_rev``, ``check_rev_over_rev``, ``gen_non_contig_grad_outputs``,
  ``fast_mode``, ``masked``.

An ``inconclusive`` check is not a pass: ``gradcheck`` raises (or returns ``False``) with the
reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .check.products import check_vjp
from .check.report import GradientReport
from .errors import GradientMismatch, InvalidArgument

__all__ = ["TorchGradcheckError", "check", "gradcheck", "gradgradcheck"]

_IGNORED = frozenset(
    {
        "eps",
        "atol",
        "rtol",
        "nondet_tol",
        "check_undefined_grad",
        "check_grad_dtypes",
        "check_batched_grad",
        "check_batched_forward_grad",
        "check_forward_ad",
        "check_backward_ad",
        "check_fwd_over_rev",
        "check_rev_over_rev",
        "gen_non_contig_grad_outputs",
        "fast_mode",
        "masked",
    }
)


class TorchGradcheckError(GradientMismatch, RuntimeError):
    """A torch gradient disagrees with finite differences (or could not be decided). It is an
    ``AssertionError`` (test runners report a failure) and a ``RuntimeError``, as torch's own
    ``GradcheckError`` is."""


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise InvalidArgument("nnderiv.torch needs PyTorch: pip install 'nnderiv[torch]'") from exc
    return torch


def _as_inputs(inputs: Any) -> tuple[Any, ...]:
    torch = _torch()
    if isinstance(inputs, torch.Tensor):
        return (inputs,)
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs)
    raise InvalidArgument(
        f"Expected a tensor or a tuple of tensors as inputs but got {type(inputs).__name__}"
    )


def check(
    fn: Callable[..., Any],
    *inputs: Any,
    dtype: str = "float64",
    seed: int = 0,
    **options: Any,
) -> GradientReport:
    """Check torch autograd's derivative of ``fn(*inputs)`` with respect to the inputs that
    require grad. ``options`` are those of :func:`nnderiv.check_gradient`. On a failure
    ``worst_index`` is ``(position among the checked inputs, index)`` — printed ``x[1][2, 0]``
    — and ``output_index`` the output entry."""
    return _check(fn, inputs, dtype, seed, False, options)


def _check(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    dtype: str,
    seed: int,
    autograd_inside: bool,
    options: dict[str, Any],
) -> GradientReport:
    torch = _torch()
    if dtype not in ("float64", "own"):
        raise InvalidArgument(f"Expected dtype='float64' or dtype='own' but got {dtype!r}")
    if not callable(fn):
        raise InvalidArgument(f"Expected fn to be callable but got {fn!r}")
    checked = [k for k, t in enumerate(inputs) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not checked:
        raise InvalidArgument(
            "Expected at least one input tensor with requires_grad=True (those are checked) "
            f"but got {len(inputs)} inputs, none requiring grad"
        )
    for k in checked:
        if not inputs[k].is_floating_point():
            raise InvalidArgument(
                f"Expected input {k} to be a real floating tensor but got dtype {inputs[k].dtype}"
            )

    def numpy_of(t: Any) -> Any:
        t = t.detach().cpu()
        if dtype == "float64":
            t = t.to(torch.float64)
        return t.numpy().copy()

    def passed_as_is(t: Any) -> Any:
        if isinstance(t, torch.Tensor):
            t = t.detach().cpu()
            if dtype == "float64" and t.is_floating_point():
                t = t.to(torch.float64)
        return t

    x = tuple(numpy_of(inputs[k]) for k in checked)
    rest = [passed_as_is(t) for t in inputs]

    def tensors(xs: Sequence[Any], requires_grad: bool) -> tuple[list[Any], list[Any]]:
        args = list(rest)
        leaves = []
        for k, arr in zip(checked, xs, strict=True):
            t = torch.from_numpy(np.ascontiguousarray(arr))
            if requires_grad:
                t.requires_grad_(True)
            leaves.append(t)
            args[k] = t
        return args, leaves

    def f(xs: Sequence[Any]) -> Any:
        args, _ = tensors(xs, autograd_inside)
        with torch.enable_grad() if autograd_inside else torch.no_grad():
            out = fn(*args)
        if not isinstance(out, torch.Tensor):
            raise InvalidArgument(f"Expected fn to return a tensor but got {type(out).__name__}")
        return out.detach().cpu().numpy()

    def vjp(v: Any, xs: Sequence[Any]) -> Any:
        args, leaves = tensors(xs, True)
        out = fn(*args)
        if not out.requires_grad:  # no graph back to the inputs: autograd's derivative is 0
            return tuple(np.zeros(leaf.shape) for leaf in leaves)
        cot = torch.from_numpy(np.ascontiguousarray(v)).to(out.dtype)
        grads = torch.autograd.grad(out, leaves, grad_outputs=cot, allow_unused=True)
        return tuple(
            np.zeros(leaf.shape) if g is None else g.detach().cpu().numpy()
            for g, leaf in zip(grads, leaves, strict=True)
        )

    f.__name__ = getattr(fn, "__name__", type(fn).__name__)
    vjp.__name__ = "torch.autograd"
    report = check_vjp(f, vjp, x, seed=seed, **options)
    report.name = f"torch autograd of {f.__name__}"
    return report


def _decide(report: GradientReport, raise_exception: bool) -> bool:
    if report.status == "pass":
        return True
    if raise_exception:
        prefix = "" if report.status == "fail" else "nnderiv could not decide (not a pass):\n"
        raise TorchGradcheckError(prefix + str(report), report)
    return False


def _refuse_unknown(kwargs: dict[str, Any]) -> None:
    unknown = sorted(set(kwargs) - _IGNORED)
    if unknown:
        raise InvalidArgument(
            f"Expected keyword arguments of torch.autograd.gradcheck but got {unknown!r}"
        )


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    raise_exception: bool = True,
    **torch_options: Any,
) -> bool:
    """``torch.autograd.gradcheck`` with nnderiv's decision: ``True``, or
    :class:`TorchGradcheckError` (``False`` with ``raise_exception=False``)."""
    _refuse_unknown(torch_options)
    return _decide(check(func, *_as_inputs(inputs)), raise_exception)


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    raise_exception: bool = True,
    **torch_options: Any,
) -> bool:
    """``torch.autograd.gradgradcheck`` with nnderiv's decision: the first backward pass
    (``torch.autograd.grad(func(inputs), inputs, grad_outputs, create_graph=True)``) is itself
    checked — its derivative by torch (the double backward) against finite differences of it."""
    torch = _torch()
    _refuse_unknown(torch_options)
    ins = _as_inputs(inputs)
    checked = [k for k, t in enumerate(ins) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not checked:
        raise InvalidArgument("Expected at least one input tensor with requires_grad=True")
    with torch.no_grad():
        shape = func(*ins).shape
    if grad_outputs is None:
        rng = np.random.default_rng(11)
        fixed = torch.from_numpy(rng.uniform(0.5, 1.5, size=tuple(shape)))
    else:
        outs = _as_inputs(grad_outputs)
        fixed = outs[0].detach().cpu().to(torch.float64)

    def first_backward(*args: Any) -> Any:
        leaves = [args[k] for k in checked]
        out = func(*args)
        grads = torch.autograd.grad(
            out, leaves, grad_outputs=fixed.to(out.dtype), create_graph=True, allow_unused=True
        )
        return torch.cat(
            [
                (torch.zeros_like(leaf) if g is None else g).reshape(-1)
                for g, leaf in zip(grads, leaves, strict=True)
            ]
        )

    first_backward.__name__ = f"backward of {getattr(func, '__name__', 'func')}"
    # autograd runs inside the function checked: real arithmetic only (torch's complex autograd
    # is conjugate, not the analytic extension complex step needs)
    report = _check(first_backward, ins, "float64", 0, True, {"method": "central"})
    return _decide(report, raise_exception)
