"""Every built-in loss equals torch autograd of the matching formula, written here in torch
independently of nnderiv's rules (issue 13): the cost, ∂J/∂A and ∂J/∂Z."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch cross-check needs the extra nnderiv[torch]")

from loss_labels import labels_for  # noqa: E402

from nnderiv.formulas import LOSSES  # noqa: E402

T = Any


def _cost_A(name: str, A: T, Y: T) -> T:
    """J(A, Y) in torch: sum over units, mean over the m columns."""
    m = A.shape[1]
    t = 2 * Y - 1
    if name in ("binary", "multilabel"):
        ell = -(Y * torch.log(A) + (1 - Y) * torch.log(1 - A))
    elif name == "multiclass":
        ell = -Y * torch.log(A)
    elif name == "mse":
        ell = 0.5 * (A - Y) ** 2
    elif name == "mae":
        ell = torch.abs(A - Y)
    elif name == "huber":
        ell = torch.nn.functional.huber_loss(A, Y, reduction="none", delta=1.0)
    elif name == "weighted_binary":
        w = 1.0
        ell = -(w * Y * torch.log(A) + (1 - Y) * torch.log(1 - A))
    elif name == "focal":
        g = 2.0
        ell = -(Y * (1 - A) ** g * torch.log(A) + (1 - Y) * A**g * torch.log(1 - A))
    elif name == "label_smoothing":
        eps, n = 0.1, A.shape[0]
        ell = -((1 - eps) * Y + eps / n) * torch.log(A)
    elif name == "hinge":
        ell = torch.clamp(1 - t * A, min=0)
    elif name == "squared_hinge":
        ell = torch.clamp(1 - t * A, min=0) ** 2
    elif name == "kl_div":
        ell = torch.nn.functional.kl_div(torch.log(A), Y, reduction="none")
    elif name == "poisson_nll":
        ell = A - Y * torch.log(A)
    else:  # pragma: no cover - a new loss needs its torch twin here
        raise AssertionError(f"no torch formula for {name}")
    return ell.sum() / m


def _activation(name: str, Z: T) -> T:
    act = LOSSES[name].activation.name
    return {
        "sigmoid": torch.sigmoid,
        "softmax": lambda z: torch.softmax(z, dim=0),
        "identity": lambda z: z,
        "exp": torch.exp,
    }[act](Z)


def _inputs(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    L = LOSSES[name]
    n = 1 if L.single_row else 3
    shape = (n, 5)
    Z = rng.normal(scale=1.5, size=shape)
    Y = labels_for(L, shape, rng)
    return Z, Y


@pytest.mark.parametrize("name", sorted(n for n, L in LOSSES.items() if L.builtin))
def test_cost_and_gradients_equal_torch_autograd(name: str) -> None:
    L = LOSSES[name]
    Z, Y = _inputs(name, np.random.default_rng(5))
    Zt = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    Yt = torch.tensor(Y, dtype=torch.float64)
    At = _activation(name, Zt)
    A = At.detach().numpy()
    np.testing.assert_allclose(A, L.activation(Z), rtol=1e-13, atol=1e-15)
    # ∂J/∂A: autograd through the formula in A
    Aleaf = torch.tensor(A, dtype=torch.float64, requires_grad=True)
    J_A = _cost_A(name, Aleaf, Yt)
    (gA,) = torch.autograd.grad(J_A, Aleaf)
    np.testing.assert_allclose(float(J_A.detach()), float(L.cost(A, Y)), rtol=1e-12)
    np.testing.assert_allclose(L.grad_A(A, Y), gA.numpy(), rtol=1e-10, atol=1e-14)
    # ∂J/∂Z: autograd through the activation and the formula
    J_Z = _cost_A(name, At, Yt)
    (gZ,) = torch.autograd.grad(J_Z, Zt)
    np.testing.assert_allclose(float(J_Z.detach()), float(L.cost_from_logits(Z, Y)), rtol=1e-12)
    np.testing.assert_allclose(L.grad_Z_general(A, Y), gZ.numpy(), rtol=1e-10, atol=1e-14)


def test_every_builtin_loss_has_its_torch_twin() -> None:
    rng = np.random.default_rng(0)
    for name, L in LOSSES.items():
        if L.builtin:
            Z, Y = _inputs(name, rng)
            A = torch.tensor(L.activation(Z), dtype=torch.float64)
            _cost_A(name, A, torch.tensor(Y, dtype=torch.float64))  # raises if missing
