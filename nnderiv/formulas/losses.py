"""The loss registry: each loss of SPEC.md with its output activation (a record of
:mod:`.activations`) and its closed forms.

Every gradient is written once, as an element-wise *rule* ``rule(a, y, m, ysum)`` of plain
arithmetic (``ysum`` is the column sum ``Σ_p y_pi``).  The same rule is evaluated on numpy
arrays here and on sympy entries in :mod:`nnderiv.symbolic`, so the proofs there are about the
code users call, not about a second copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .._validation import first_bad, where
from ..errors import InvalidArgument
from ._arrays import Array, as_float_matrix, check_same_shape, simplex_tolerance
from .activations import ACTIVATIONS, Activation

__all__ = ["LOSSES", "Loss", "binary", "get_loss", "multiclass", "multilabel"]

Rule = Callable[[Any, Any, Any, Any], Any]


def _log_softmax_complement(Z: Array) -> Array:
    """``logsumexp(z) − z`` per column, i.e. ``−log softmax(z)``, accurate even when one entry
    dominates (then the column's log-sum is ``log1p`` of the small remaining terms)."""
    mx = Z.max(axis=0, keepdims=True)
    shifted = Z - mx
    e = np.exp(shifted)
    top = np.argmax(Z, axis=0)
    e[top, np.arange(Z.shape[1])] = 0  # the max entry contributes exactly exp(0) = 1
    out: Array = np.log1p(e.sum(axis=0, keepdims=True)) - shifted
    return out


def _softplus(x: Array) -> Array:
    """``log(1 + exp(x))`` without overflow."""
    out: Array = np.logaddexp(np.zeros((), dtype=x.dtype), x)
    return out


def _stable_terms_sigmoid(Z: Array, Y: Array) -> Array:
    """−[y log σ(z) + (1 − y) log(1 − σ(z))] = y softplus(−z) + (1 − y) softplus(z)."""
    out: Array = Y * _softplus(-Z) + (1 - Y) * _softplus(Z)
    return out


def _stable_terms_softmax(Z: Array, Y: Array) -> Array:
    """−y log softmax(z) = y (logsumexp(z) − z)."""
    out: Array = Y * _log_softmax_complement(Z)
    return out


# ---------------------------------------------------------------------------------------------
# element-wise rules: written once, evaluated on numpy arrays and on sympy entries
# ---------------------------------------------------------------------------------------------
# Each gradient rule takes (a, y, m, ysum); ysum = Σ_p y_pi is the column sum of the labels.


def bce_grad_A_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Equations (2) and (8): ``(1/m) [(1 − y)/(1 − a) − y/a]``."""
    return ((1 - y) / (1 - a) - y / a) / m


def sigmoid_grad_Z_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Equations (3) and (9): ``(1/m)(a − y)``."""
    return (a - y) / m


def ce_grad_A_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Equation (5): ``−(1/m) y/a``."""
    return -(y / a) / m


def softmax_grad_Z_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Equation (6): ``(1/m)(a − y)``, valid only when every label column sums to 1."""
    return (a - y) / m


def softmax_grad_Z_general_rule(a: Any, y: Any, m: Any, ysum: Any) -> Any:
    """Softmax backward of (5) for any labels: ``(1/m)(a Σ_p y_p − y)``."""
    return (a * ysum - y) / m


def bce_cost_rule(a: Any, y: Any, log: Callable[[Any], Any], log1m: Callable[[Any], Any]) -> Any:
    """Per-entry term of (1) and (7) before the ``−1/m`` mean: ``y log a + (1 − y) log(1 − a)``."""
    return y * log(a) + (1 - y) * log1m(a)


def ce_cost_rule(a: Any, y: Any, log: Callable[[Any], Any], log1m: Callable[[Any], Any]) -> Any:
    """Per-entry term of (4) before the ``−1/m`` mean: ``y log a``."""
    return y * log(a)


# ---------------------------------------------------------------------------------------------
# the loss registry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """One cost function of SPEC.md with its output activation and closed-form gradients.

    Attributes:
        name: registry key (``"binary"``, ``"multiclass"``, ``"multilabel"``).
        title: human-readable name.
        activation: the output activation's record (``formulas.ACTIVATIONS``); calling it,
            ``loss.activation(Z)``, gives ``A = g(Z)``.
        equations: SPEC.md equation numbers of ``(cost, grad_A, grad_Z)``.
        single_row: the task needs ``n == 1``.
        labels: ``"unit"`` (y ∈ [0, 1]) or ``"nonnegative"`` (y ≥ 0).
        requires_simplex: ``grad_Z`` needs every label column to sum to 1.
    """

    name: str
    title: str
    activation: Activation
    equations: tuple[int, int, int]
    single_row: bool
    labels: Literal["unit", "nonnegative"]
    requires_simplex: bool
    cost_rule: Callable[[Any, Any, Callable[[Any], Any], Callable[[Any], Any]], Any]
    grad_A_rule: Rule
    grad_Z_rule: Rule
    grad_Z_general_rule: Rule
    stable_terms: Callable[[Array, Array], Array] | None = None  # ℓ from logits, stable

    @property
    def activation_name(self) -> str:
        return self.activation.name

    # -- activation ---------------------------------------------------------------------------
    def activation_backward(self, dA: npt.ArrayLike, A: npt.ArrayLike) -> Array:
        """Push ``∂J/∂A`` through the activation (its record's backward rule)."""
        return self.activation.backward(dA, A)

    # -- validation ---------------------------------------------------------------------------
    def _check_rows(self, x: Array, name: str) -> None:
        if self.single_row and x.shape[0] != 1:
            raise InvalidArgument(
                f"Expected {name} of shape (1, m) for the {self.name} loss (one output unit) "
                f"but got {name}.shape={x.shape}"
            )

    def _check_logits(self, Z: npt.ArrayLike) -> Array:
        Zf = as_float_matrix(Z, "Z")
        self._check_rows(Zf, "Z")
        self.activation.check_rows(Zf, "Z")
        return Zf

    def _check_labels(self, Y: npt.ArrayLike, like: Array, xname: str) -> Array:
        Yf = as_float_matrix(Y, "Y", dtype=like.dtype)
        check_same_shape(like, Yf, xname, "Y")
        if self.labels == "unit":
            idx = first_bad((Yf < 0) | (Yf > 1))
            if idx is not None:
                raise InvalidArgument(
                    f"Expected labels in [0, 1] for the {self.name} loss "
                    f"but got Y{where(idx)}={float(Yf[idx])!r}"
                )
        else:
            idx = first_bad(Yf < 0)
            if idx is not None:
                raise InvalidArgument(
                    f"Expected non-negative labels for the {self.name} loss "
                    f"but got Y{where(idx)}={float(Yf[idx])!r}"
                )
        return Yf

    def _check_probabilities(self, A: npt.ArrayLike, *, closed: bool) -> Array:
        Af = as_float_matrix(A, "A")
        self._check_rows(Af, "A")
        self.activation.check_outputs(Af, "A", closed=closed)
        return Af

    def _check_columns_sum_to_one(self, X: Array, name: str, hint: str) -> None:
        sums = X.sum(axis=0)
        tol = simplex_tolerance(X.shape[0], X.dtype)
        off = np.flatnonzero(np.abs(sums - 1) > tol)
        if off.size:
            i = int(off[0])
            raise InvalidArgument(
                f"Expected every column of {name} to sum to 1 (within {tol:.1e}) but column "
                f"{i} of {name} sums to {float(sums[i])!r}{hint}"
            )

    def _inputs(self, A: npt.ArrayLike, Y: npt.ArrayLike, *, closed: bool) -> tuple[Array, Array]:
        Af = self._check_probabilities(A, closed=closed)
        return Af, self._check_labels(Y, Af, "A")

    def _apply(self, rule: Rule, Af: Array, Yf: Array) -> Array:
        out: Array = np.asarray(
            rule(Af, Yf, Af.shape[1], Yf.sum(axis=0, keepdims=True)), dtype=Af.dtype
        )
        return out

    # -- the closed forms ----------------------------------------------------------------------
    def cost(self, A: npt.ArrayLike, Y: npt.ArrayLike) -> np.floating[Any]:
        """The cost ``J(A, Y)``: equation (1), (4) or (7). ``A`` in the open interval (0, 1)."""
        Af, Yf = self._inputs(A, Y, closed=False)
        terms = self.cost_rule(Af, Yf, np.log, lambda a: np.log1p(-a))
        out: np.floating[Any] = Af.dtype.type(-np.sum(terms, dtype=Af.dtype) / Af.shape[1])
        return out

    def grad_A(self, A: npt.ArrayLike, Y: npt.ArrayLike) -> Array:
        """``∂J/∂A``: equation (2), (5) or (8). ``A`` in the open interval (0, 1)."""
        Af, Yf = self._inputs(A, Y, closed=False)
        return self._apply(self.grad_A_rule, Af, Yf)

    def grad_Z(self, A: npt.ArrayLike, Y: npt.ArrayLike) -> Array:
        """``∂J/∂Z`` from ``A = g(Z)``: equation (3), (6) or (9). ``A`` in [0, 1].

        For the multiclass loss every column of ``Y`` must sum to 1 (the softmax–simplex
        identity); use :meth:`grad_Z_general` for other labels.
        """
        Af, Yf = self._inputs(A, Y, closed=True)
        self.activation.check_columns(Af, "A")
        if self.requires_simplex:
            self._check_columns_sum_to_one(
                Yf,
                "Y",
                f"; equation ({self.equations[2]}) ∂J/∂Z = (A − Y)/m holds only for labels on "
                "the simplex — use grad_Z_general(A, Y) = (A ⊙ 1 1ᵀY − Y)/m for any labels",
            )
        return self._apply(self.grad_Z_rule, Af, Yf)

    def grad_Z_general(self, A: npt.ArrayLike, Y: npt.ArrayLike) -> Array:
        """``∂J/∂Z`` valid for any admissible labels (multiclass: ``(A ⊙ 1 1ᵀY − Y)/m``)."""
        Af, Yf = self._inputs(A, Y, closed=True)
        self.activation.check_columns(Af, "A")
        return self._apply(self.grad_Z_general_rule, Af, Yf)

    def cost_from_logits(self, Z: npt.ArrayLike, Y: npt.ArrayLike) -> np.floating[Any]:
        """The cost from logits, numerically stable (softplus / logsumexp); finite for finite Z."""
        Zf = self._check_logits(Z)
        Yf = self._check_labels(Y, Zf, "Z")
        if self.stable_terms is not None:
            terms = self.stable_terms(Zf, Yf)
        else:  # no stable form: the cost at the activation's outputs
            A = self.activation.forward(Zf)
            terms = -self.cost_rule(A, Yf, np.log, lambda a: np.log1p(-a))
        out: np.floating[Any] = Zf.dtype.type(np.sum(terms, dtype=Zf.dtype) / Zf.shape[1])
        return out

    def __repr__(self) -> str:
        return f"<Loss {self.name!r}: {self.title}, equations {self.equations}>"


binary = Loss(
    name="binary",
    title="binary cross-entropy (sigmoid output)",
    activation=ACTIVATIONS["sigmoid"],
    equations=(1, 2, 3),
    single_row=True,
    labels="unit",
    requires_simplex=False,
    cost_rule=bce_cost_rule,
    grad_A_rule=bce_grad_A_rule,
    grad_Z_rule=sigmoid_grad_Z_rule,
    grad_Z_general_rule=sigmoid_grad_Z_rule,
    stable_terms=_stable_terms_sigmoid,
)

multiclass = Loss(
    name="multiclass",
    title="categorical cross-entropy (softmax output)",
    activation=ACTIVATIONS["softmax"],
    equations=(4, 5, 6),
    single_row=False,
    labels="nonnegative",
    requires_simplex=True,
    cost_rule=ce_cost_rule,
    grad_A_rule=ce_grad_A_rule,
    grad_Z_rule=softmax_grad_Z_rule,
    grad_Z_general_rule=softmax_grad_Z_general_rule,
    stable_terms=_stable_terms_softmax,
)

multilabel = Loss(
    name="multilabel",
    title="multi-label binary cross-entropy (sigmoid outputs)",
    activation=ACTIVATIONS["sigmoid"],
    equations=(7, 8, 9),
    single_row=False,
    labels="unit",
    requires_simplex=False,
    cost_rule=bce_cost_rule,
    grad_A_rule=bce_grad_A_rule,
    grad_Z_rule=sigmoid_grad_Z_rule,
    grad_Z_general_rule=sigmoid_grad_Z_rule,
    stable_terms=_stable_terms_sigmoid,
)

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (binary, multiclass, multilabel)}


def get_loss(task: str) -> Loss:
    """Look a loss up by name, or raise :class:`InvalidArgument` listing the known ones."""
    try:
        return LOSSES[task]
    except (KeyError, TypeError):
        known = ", ".join(sorted(LOSSES))
        raise InvalidArgument(f"Expected a task among {known} but got task={task!r}") from None
