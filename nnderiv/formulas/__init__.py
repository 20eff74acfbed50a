"""Closed forms of the cost functions and their derivatives, in numpy, and the registries of
activations (:data:`ACTIVATIONS`) and losses (:data:`LOSSES`).

Layout: one column per example. ``Z``, ``A`` and ``Y`` are ``n × m`` arrays (``n`` output
units in rows ``j``, ``m`` examples in columns ``i``); ``A = g(Z)`` is the output activation.

Example::

    >>> import numpy as np
    >>> from nnderiv.formulas import multiclass, softmax
    >>> Z = np.array([[1.0, -2.0], [0.5, 3.0]]); Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> A = softmax(Z)
    >>> np.allclose(multiclass.grad_Z(A, Y), (A - Y) / 2)
    True
"""

from ._arrays import as_float_matrix, simplex_tolerance
from .activations import (
    ACTIVATIONS,
    Activation,
    define_activation,
    get_activation,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
)
from .builtin import (
    bce_grad_A_rule,
    bce_rule,
    binary,
    ce_grad_A_rule,
    ce_rule,
    multiclass,
    multilabel,
    sigmoid_grad_Z_rule,
    softmax_grad_Z_general_rule,
    softmax_grad_Z_rule,
)
from .losses import LOSSES, LabelKind, Loss, define_loss, get_loss, loss

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Activation",
    "LabelKind",
    "Loss",
    "as_float_matrix",
    "bce_grad_A_rule",
    "bce_rule",
    "binary",
    "ce_grad_A_rule",
    "ce_rule",
    "define_activation",
    "define_loss",
    "get_activation",
    "get_loss",
    "loss",
    "multiclass",
    "multilabel",
    "sigmoid",
    "sigmoid_backward",
    "sigmoid_grad_Z_rule",
    "simplex_tolerance",
    "softmax",
    "softmax_backward",
    "softmax_grad_Z_general_rule",
    "softmax_grad_Z_rule",
]
