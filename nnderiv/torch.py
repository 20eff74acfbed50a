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
from .check.structure import LeafIndex
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

    # leaves named by their position among the inputs: ``inputs[2][1, 0]``
    x = {f"inputs[{k}]": numpy_of(inputs[k]) for k in checked}
    rest = [passed_as_is(t) for t in inputs]

    def tensors(xs: dict[str, Any], requires_grad: bool) -> tuple[list[Any], list[Any]]:
        args = list(rest)
        leaves = []
        for k, arr in zip(checked, xs.values(), strict=True):
            t = torch.from_numpy(np.ascontiguousarray(arr))
            if requires_grad:
                t.requires_grad_(True)
            leaves.append(t)
            args[k] = t
        return args, leaves

    shapes: list[tuple[int, ...]] = []  # of fn's outputs, as f last saw them

    def outputs(out: Any) -> list[Any]:
        """fn's differentiable outputs: one tensor, or a tuple/list of tensors (as gradcheck)."""
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        if not outs or not all(isinstance(o, torch.Tensor) for o in outs):
            raise InvalidArgument(
                f"Expected fn to return a tensor or a tuple of tensors but got {type(out).__name__}"
            )
        return [o for o in outs if o.is_floating_point()]

    def f(xs: dict[str, Any]) -> Any:
        args, _ = tensors(xs, autograd_inside)
        with torch.enable_grad() if autograd_inside else torch.no_grad():
            outs = outputs(fn(*args))
        if not outs:
            raise InvalidArgument("Expected fn to return at least one floating-point tensor")
        shapes[:] = [tuple(o.shape) for o in outs]
        if len(outs) == 1:
            return outs[0].detach().cpu().numpy()
        return np.concatenate([o.detach().cpu().numpy().reshape(-1) for o in outs])

    def vjp(v: Any, xs: dict[str, Any]) -> Any:
        args, leaves = tensors(xs, True)
        outs = outputs(fn(*args))
        pairs, start = [], 0
        for o in outs:
            part = np.ascontiguousarray(np.ravel(v)[start : start + o.numel()])
            part = part.reshape(tuple(o.shape))
            start += o.numel()
            if o.requires_grad:  # no graph back to the inputs: autograd's derivative is 0
                pairs.append((o, torch.from_numpy(part).to(o.dtype)))
        zeros = {key: np.zeros(leaf.shape) for key, leaf in zip(xs, leaves, strict=True)}
        if not pairs:
            return zeros
        grads = torch.autograd.grad(
            [o for o, _ in pairs], leaves, grad_outputs=[c for _, c in pairs], allow_unused=True
        )
        return {
            key: zeros[key] if g is None else g.detach().cpu().numpy()
            for key, g in zip(xs, grads, strict=True)
        }

    f.__name__ = getattr(fn, "__name__", type(fn).__name__)
    vjp.__name__ = "torch.autograd"
    report = check_vjp(f, vjp, x, seed=seed, **options)
    report.name = f"torch autograd of {f.__name__}"
    if report.output_index is not None and len(shapes) > 1:  # (output j, its entry)
        flat, start = report.output_index[0], 0
        for j, shape in enumerate(shapes):
            size = int(np.prod(shape))
            if flat < start + size:
                idx = np.unravel_index(flat - start, shape) if shape else ()
                report.output_index = LeafIndex(f"outputs[{j}]", tuple(int(i) for i in idx))
                break
            start += size
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
        first = func(*ins)
    firsts = list(first) if isinstance(first, (tuple, list)) else [first]
    firsts = [o for o in firsts if isinstance(o, torch.Tensor) and o.is_floating_point()]
    if not firsts:
        raise InvalidArgument(
            "Expected func to return a floating-point tensor or a tuple of them but got "
            f"{type(first).__name__}"
        )
    if grad_outputs is None:
        rng = np.random.default_rng(11)
        fixed = [torch.from_numpy(rng.uniform(0.5, 1.5, size=tuple(o.shape))) for o in firsts]
    else:
        given = _as_inputs(grad_outputs)
        if len(given) != len(firsts) or any(
            tuple(g.shape) != tuple(o.shape) for g, o in zip(given, firsts, strict=True)
        ):
            raise InvalidArgument(
                "Expected grad_outputs shaped like func's outputs "
                f"{[tuple(o.shape) for o in firsts]} but got "
                f"{[tuple(getattr(g, 'shape', ())) for g in given]}"
            )
        fixed = [g.detach().cpu().to(torch.float64) for g in given]

    def first_backward(*args: Any) -> Any:
        leaves = [args[k] for k in checked]
        out = func(*args)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        outs = [o for o in outs if isinstance(o, torch.Tensor) and o.is_floating_point()]
        pairs = [(o, c.to(o.dtype)) for o, c in zip(outs, fixed, strict=True) if o.requires_grad]
        if not pairs:
            return torch.cat([torch.zeros_like(leaf).reshape(-1) for leaf in leaves])
        grads = torch.autograd.grad(
            [o for o, _ in pairs],
            leaves,
            grad_outputs=[c for _, c in pairs],
            create_graph=True,
            allow_unused=True,
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
