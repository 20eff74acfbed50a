"""Using nnderiv's pytest fixture in your own suite: run ``pytest examples/test_with_fixture.py``
(add ``--nnderiv-seed=S``, ``--nnderiv-max-examples=N``, ``--nnderiv-method=central``)."""

from __future__ import annotations

import numpy as np
from focal_loss import focal, focal_grad

from nnderiv import strategies as nst


def test_focal_at_one_point(gradcheck) -> None:  # type: ignore[no-untyped-def]
    Z = np.array([[2.0, -0.5, 7.0, -9.0]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    gradcheck(focal, focal_grad, Z, Y)


def test_focal_on_drawn_inputs(gradcheck) -> None:  # type: ignore[no-untyped-def]
    result = gradcheck.verify(focal, focal_grad, nst.loss_inputs("binary", wrt="Z"))
    assert not result.inconclusive
