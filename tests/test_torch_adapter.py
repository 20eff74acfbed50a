"""nnderiv.torch: torch autograd — custom Functions included — checked by nnderiv (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed (pip install 'nnderiv[torch]')")

from nnderiv import InvalidArgument  # noqa: E402
from nnderiv.torch import TorchGradcheckError, check, gradcheck, gradgradcheck  # noqa: E402


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class SigmoidOnePercentOff(Sigmoid):
    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        out = g * y * (1 - y)
        out[1, 2] = out[1, 2] * 1.01
        return out


class CubeDetached(torch.autograd.Function):
    """Right first derivative; the double backward is wrong (x detached in backward)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * 3 * x * x.detach()


def _x(*shape: int, dtype: Any = torch.float64) -> Any:
    gen = torch.Generator().manual_seed(0)
    return torch.randn(*shape, generator=gen, dtype=dtype).requires_grad_(True)


def test_a_custom_function_is_checked_through_autograd() -> None:
    assert check(Sigmoid.apply, _x(3, 4)).status == "pass"
    report = check(SigmoidOnePercentOff.apply, _x(3, 4))
    assert report.status == "fail"
    assert report.worst_index == ("inputs[0]", (1, 2))
    assert "inputs[0][1, 2]" in str(report)
    assert report.output_index == (1, 2)


def test_the_drop_in_gradcheck_keeps_torchs_convention() -> None:
    assert gradcheck(Sigmoid.apply, (_x(3, 4),), eps=1e-6, atol=1e-5, rtol=1e-3) is True
    assert gradcheck(SigmoidOnePercentOff.apply, (_x(3, 4),), raise_exception=False) is False
    with pytest.raises(TorchGradcheckError) as info:
        gradcheck(SigmoidOnePercentOff.apply, _x(3, 4))
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, AssertionError)
    with pytest.raises(InvalidArgument, match="keyword arguments of torch"):
        gradcheck(Sigmoid.apply, (_x(3, 4),), not_an_option=True)


def test_gradgradcheck_finds_a_wrong_double_backward() -> None:
    x = _x(2, 3)
    assert gradcheck(CubeDetached.apply, (x,)) is True
    assert gradgradcheck(CubeDetached.apply, (x,), raise_exception=False) is False
    assert gradgradcheck(lambda t: t**3, (x,)) is True


def test_several_inputs_and_inputs_not_checked() -> None:
    X = torch.randn(5, 3, dtype=torch.float64)  # no grad: passed as it is
    W = _x(2, 3)
    b = torch.zeros(2, dtype=torch.float64, requires_grad=True)

    def layer(X: Any, W: Any, b: Any) -> Any:
        return torch.tanh(X @ W.T + b)

    report = check(layer, X, W, b)
    assert report.status == "pass"
    assert "inputs[1]: (2, 3)" in report.layout and "inputs[2]: (2,)" in report.layout


def test_float32_inputs_at_their_own_precision() -> None:
    x = _x(3, 4, dtype=torch.float32)
    assert check(Sigmoid.apply, x).status == "pass"  # float64 copies by default
    own = check(Sigmoid.apply, x, dtype="own")
    assert own.status in ("pass", "inconclusive")
    assert check(SigmoidOnePercentOff.apply, x, dtype="own").status == "fail"


def test_bad_calls_are_clear_errors() -> None:
    with pytest.raises(InvalidArgument, match="requires_grad=True"):
        check(Sigmoid.apply, torch.randn(3))
    with pytest.raises(InvalidArgument, match="dtype='float64' or dtype='own'"):
        check(Sigmoid.apply, _x(2), dtype="float16")


class SigmoidResidualDetached(Sigmoid):
    """First derivative right; the saved output is detached, so the first backward has no
    graph back to x at all (autograd.grad of it would raise): its derivative is taken as 0."""

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        y = y.detach()
        return g * y * (1 - y)


def test_a_first_backward_with_no_graph_fails_gradgradcheck() -> None:
    x = _x(2, 3)
    assert gradcheck(SigmoidResidualDetached.apply, (x,)) is True
    assert gradgradcheck(SigmoidResidualDetached.apply, (x,), raise_exception=False) is False
    assert gradgradcheck(Sigmoid.apply, (x,)) is True


class LinearBiasOff(torch.autograd.Function):
    """y = X W^T + b, with one entry of the bias gradient 2 % off."""

    @staticmethod
    def forward(ctx: Any, X: Any, W: Any, b: Any) -> Any:
        ctx.save_for_backward(X, W)
        return X @ W.T + b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        X, W = ctx.saved_tensors
        gb = g.sum(dim=0).clone()
        gb[1] = gb[1] * 1.02
        return g @ W, g.T @ X, gb


def test_a_wrong_entry_is_named_by_its_input_position() -> None:
    X = torch.randn(5, 3, dtype=torch.float64)  # not checked
    W, b = _x(2, 3), torch.randn(2, dtype=torch.float64, requires_grad=True)
    report = check(LinearBiasOff.apply, X, W, b)
    assert report.status == "fail"
    assert report.worst_index == ("inputs[2]", (1,))
    assert "inputs[2][1]" in str(report)


class TwoOutputs(torch.autograd.Function):
    """(sin x, x**2), with the second output's backward optionally 3 % off at one entry."""

    off = 1.0

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return torch.sin(x), x * x

    @staticmethod
    def backward(ctx: Any, g1: Any, g2: Any) -> Any:
        (x,) = ctx.saved_tensors
        d2 = 2 * x * g2
        if TwoOutputs.off != 1.0:
            d2 = d2.clone()
            d2[1, 0] = d2[1, 0] * TwoOutputs.off
        return torch.cos(x) * g1 + d2


def test_tuple_outputs_as_gradcheck_accepts_them() -> None:
    x = _x(2, 3)
    TwoOutputs.off = 1.0
    assert check(TwoOutputs.apply, x).status == "pass"
    assert gradcheck(TwoOutputs.apply, (x,)) is True
    assert gradgradcheck(lambda t: (torch.sin(t), t**3), (x,)) is True
    TwoOutputs.off = 1.03
    try:
        report = check(TwoOutputs.apply, x)
        assert report.status == "fail"
        assert report.worst_index == ("inputs[0]", (1, 0))
        assert report.output_index == ("outputs[1]", (1, 0))
        assert gradcheck(TwoOutputs.apply, (x,), raise_exception=False) is False
    finally:
        TwoOutputs.off = 1.0


def test_gradgradcheck_refuses_grad_outputs_of_the_wrong_shape() -> None:
    x = _x(2, 3)
    with pytest.raises(InvalidArgument, match="grad_outputs shaped like"):
        gradgradcheck(lambda t: t**3, (x,), (torch.ones(3, 2, dtype=torch.float64),))
