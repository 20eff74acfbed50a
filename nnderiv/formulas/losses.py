"""Losses as data: ``define_loss(name, rule, activation, *, params=None) -> Loss``.

A loss is its per-entry term ``ℓ(a, y, **params)`` written once with :mod:`nnderiv.ops`, and
``J = (1/m) Σ_j Σ_i ℓ(a_ji, y_ji)`` in the column layout of SPEC.md (``n`` rows, ``m``
examples; a rule may take ``n``, the number of rows, as a keyword). The same rule runs on numpy
arrays here and on sympy entries in :mod:`nnderiv.symbolic`, so the proofs there are about the
code users call.

Gradients in closed form are element-wise *rules* too, ``rule(a, y, m, ysum, **params)``
(``ysum`` is the column sum ``Σ_p y_pi``); a loss defined without them gets ``∂ℓ/∂a`` from
sympy, differentiated from its rule, and ``∂J/∂Z`` through its activation's backward.

Example::

    >>> import numpy as np
    >>> from nnderiv import ops
    >>> from nnderiv.formulas import define_loss
    >>> cubic = define_loss("cubic", lambda a, y: ops.abs(a - y) ** 3 / 3, "identity")
    >>> A, Y = np.array([[0.5, -1.0]]), np.array([[0.0, 0.0]])
    >>> np.allclose(cubic.grad_A(A, Y), [[0.125, -0.5]])
    True
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .._validation import first_bad, where
from ..errors import InvalidArgument
from ._arrays import Array, as_float_matrix, check_same_shape, simplex_tolerance
from .activations import Activation, get_activation

__all__ = ["LOSSES", "LabelKind", "Loss", "define_loss", "get_loss", "loss"]

Rule = Callable[..., Any]
#: what the labels ``Y`` are: ``binary`` y ∈ [0, 1] (hard or soft); ``onehot`` y ≥ 0, one-hot
#: or soft columns (the simplex identity needs columns summing to 1); ``simplex`` soft targets
#: y ≥ 0 whose columns sum to 1; ``real`` any finite value; ``count`` y ≥ 0 (counts, rates)
LabelKind = Literal["binary", "onehot", "simplex", "real", "count"]
_LABELS = ("binary", "onehot", "simplex", "real", "count")


def call_rule(rule: Rule, *args: Any, n: Any = None, params: Mapping[str, Any]) -> Any:
    """``rule(*args, **params)``, with ``n=`` too when the rule takes it."""
    kwargs = dict(params)
    if n is not None and takes(rule, "n"):
        kwargs["n"] = n
    return rule(*args, **kwargs)


def takes(rule: Rule, name: str) -> bool:
    try:
        return name in inspect.signature(rule).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


@dataclass(frozen=True, eq=False)
class Loss:
    """One cost ``J = (1/m) Σ_j Σ_i ℓ(a_ji, y_ji)`` with its output activation and closed forms.

    Attributes:
        name: registry key.
        title: in words.
        activation: the output activation's record (``formulas.ACTIVATIONS``); calling it,
            ``loss.activation(Z)``, gives ``A = g(Z)``.
        rule: the per-entry term ``ℓ(a, y, **params)`` (``n=`` too if it takes it), written
            with :mod:`nnderiv.ops`.
        labels: what ``Y`` holds (:data:`LabelKind`).
        params: hyper-parameters and their defaults (None: no default).
        values: the values bound by :func:`loss` (``formulas.loss("focal", gamma=2)``).
        equations: SPEC.md equation numbers of ``(cost, grad_A, grad_Z)``, where it has them.
        single_row: the loss needs ``n == 1``.
        requires_simplex: ``grad_Z`` (its shortcut) needs label columns summing to 1.
        grad_A_rule, grad_Z_rule, grad_Z_general_rule: closed forms per entry,
            ``rule(a, y, m, ysum, **params)``; None: derived (``grad_A`` by sympy from ``rule``,
            ``grad_Z`` through the activation's backward).
        stable: ``ℓ`` from logits, ``stable(z, y, **params)``, finite wherever the loss is.
        shortcut: the convenient identity of ``grad_Z`` (and its condition), in words.
        general: ``grad_Z_general`` in matrix notation, for messages.
        kinks: where the rule is not differentiable, in words (a subgradient is taken there).
    """

    name: str
    title: str
    activation: Activation
    rule: Rule
    labels: LabelKind
    params: Mapping[str, float | None] = field(default_factory=dict)
    values: Mapping[str, float] = field(default_factory=dict)
    equations: tuple[int | None, int | None, int | None] = (None, None, None)
    single_row: bool = False
    requires_simplex: bool = False
    grad_A_rule: Rule | None = None
    grad_Z_rule: Rule | None = None
    grad_Z_general_rule: Rule | None = None
    stable: Rule | None = None
    shortcut: str = ""
    general: str = ""
    kinks: str = ""
    builtin: bool = False

    @property
    def activation_name(self) -> str:
        return self.activation.name

    # -- hyper-parameters --------------------------------------------------------------------
    def bind(self, **values: Any) -> Loss:
        """This loss with hyper-parameter values bound (unknown names are refused)."""
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            known = ", ".join(self.params) or "none"
            raise InvalidArgument(
                f"Expected hyper-parameters of the {self.name} loss ({known}) but got {unknown}"
            )
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise InvalidArgument(
                    f"Expected a number for {self.name}'s {key} but got {key}={value!r}"
                )
            if not np.isfinite(float(value)):
                raise InvalidArgument(f"Expected a finite {key} but got {key}={value!r}")
        return dataclasses.replace(self, values={**self.values, **values})

    def parameter_values(self) -> dict[str, float]:
        """Every hyper-parameter's value: bound, else its default; a missing one is refused."""
        out = {}
        for key, default in self.params.items():
            value = self.values.get(key, default)
            if value is None:
                raise InvalidArgument(
                    f"Expected a value for the {self.name} loss's {key} (no default): "
                    f"formulas.loss({self.name!r}, {key}=…)"
                )
            out[key] = float(value)
        return out

    # -- activation ----------------------------------------------------------------------------
    def activation_backward(self, dA: npt.ArrayLike, A: npt.ArrayLike) -> Array:
        """Push ``∂J/∂A`` through the activation (its record's backward rule)."""
        return self.activation.backward(dA, A)

    # -- validation ----------------------------------------------------------------------------
    def _check_rows(self, x: Array, name: str) -> None:
        if self.single_row and x.shape[0] != 1:
            raise InvalidArgument(
                f"Expected {name} of shape (1, m) for the {self.name} loss (one output unit) "
                f"but got {name}.shape={x.shape}"
            )
        self.activation.check_rows(x, name)

    def _check_logits(self, Z: npt.ArrayLike) -> Array:
        Zf = as_float_matrix(Z, "Z")
        self._check_rows(Zf, "Z")
        return Zf

    def _check_labels(self, Y: npt.ArrayLike, like: Array, xname: str) -> Array:
        Yf = as_float_matrix(Y, "Y", dtype=like.dtype)
        check_same_shape(like, Yf, xname, "Y")
        if self.labels == "binary":
            idx = first_bad((Yf < 0) | (Yf > 1))
            expected = "labels in [0, 1]"
        elif self.labels == "real":
            idx, expected = None, ""
        else:
            idx = first_bad(Yf < 0)
            expected = "non-negative labels"
        if idx is not None:
            raise InvalidArgument(
                f"Expected {expected} for the {self.name} loss but got "
                f"Y{where(idx)}={float(Yf[idx])!r}"
            )
        return Yf

    def _check_outputs(self, A: npt.ArrayLike, *, closed: bool) -> Array:
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
        Af = self._check_outputs(A, closed=closed)
        return Af, self._check_labels(Y, Af, "A")

    def _apply(self, rule: Rule, Af: Array, Yf: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = call_rule(
                rule,
                Af,
                Yf,
                Af.shape[1],
                Yf.sum(axis=0, keepdims=True),
                n=Af.shape[0],
                params=self.parameter_values(),
            )
        return np.asarray(np.broadcast_to(value, Af.shape), dtype=Af.dtype).copy()

    def terms(self, A: Array, Y: Array) -> Array:
        """``ℓ(a_ji, y_ji)`` entry by entry (validated inputs)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            value = call_rule(self.rule, A, Y, n=A.shape[0], params=self.parameter_values())
        return np.asarray(np.broadcast_to(value, A.shape), dtype=A.dtype)

    # -- the closed forms ----------------------------------------------------------------------
    def cost(self, A: npt.ArrayLike, Y: npt.ArrayLike) -> np.floating[Any]:
        """The cost ``J(A, Y) = (1/m) Σ ℓ`` at the activation's outputs ``A`` (inside the
        open domain: a cost takes logs there)."""
        Af, Yf = self._inputs(A, Y, closed=False)
        out: np.floating[Any] = Af.dtype.type(
            np.sum(self.terms(Af, Yf), dtype=Af.dtype) / Af.shape[1]
        )
        return out

    def grad_A(self, A: npt.ArrayLike, Y: npt.ArrayLike) -> Array:
        """``∂J/∂A``: the closed form, or ``(1/m) ∂ℓ/∂a`` differentiated by sympy."""
        Af, Yf = self._inputs(A, Y, closed=False)
        return self._apply(self.grad_A_rule or self._derived_grad_A(), Af, Yf)

    def grad_Z(self, A: npt.ArrayLike, Y: npt.ArrayLike) -> Array:
        """``∂J/∂Z`` from ``A = g(Z)``: the closed form (for the multiclass loss, equation (6):
        every label column must sum to 1 — use :meth:`grad_Z_general` for other labels), or
        ``∂J/∂A`` pushed through the activation's backward."""
        Af, Yf = self._inputs(A, Y, closed=True)
        self.activation.check_columns(Af, "A")
        if self.requires_simplex:
            eq = self.equations[2]
            where_from = f"equation ({eq}) " if eq else ""
            self._check_columns_sum_to_one(
                Yf,
                "Y",
                f"; {where_from}∂J/∂Z = {self.shortcut or '(A − Y)/m'} holds only for labels "
                "on the simplex — use grad_Z_general(A, Y)"
                + (f" = {self.general}" if self.general else "")
                + " for any labels",
            )
        if self.grad_Z_rule is not None:
            return self._apply(self.grad_Z_rule, Af, Yf)
        return self._through_activation(Af, Yf)

    def grad_Z_general(self, A: npt.ArrayLike, Y: npt.ArrayLike) -> Array:
        """``∂J/∂Z`` valid for any admissible labels (multiclass: ``(A ⊙ 1 1ᵀY − Y)/m``)."""
        Af, Yf = self._inputs(A, Y, closed=True)
        self.activation.check_columns(Af, "A")
        rule = self.grad_Z_general_rule or (None if self.requires_simplex else self.grad_Z_rule)
        if rule is not None:
            return self._apply(rule, Af, Yf)
        return self._through_activation(Af, Yf)

    def _through_activation(self, Af: Array, Yf: Array) -> Array:
        dA = self._apply(self.grad_A_rule or self._derived_grad_A(), Af, Yf)
        return self.activation.backward(dA, Af)

    def cost_from_logits(self, Z: npt.ArrayLike, Y: npt.ArrayLike) -> np.floating[Any]:
        """The cost from logits: the stable form where the loss has one (softplus, logsumexp;
        finite for finite Z), else the cost at ``g(Z)``."""
        Zf = self._check_logits(Z)
        Yf = self._check_labels(Y, Zf, "Z")
        if self.stable is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = call_rule(
                    self.stable, Zf, Yf, n=Zf.shape[0], params=self.parameter_values()
                )
            terms = np.broadcast_to(terms, Zf.shape)
        else:
            terms = self.terms(self.activation.forward(Zf), Yf)
        out: np.floating[Any] = Zf.dtype.type(np.sum(terms, dtype=Zf.dtype) / Zf.shape[1])
        return out

    # -- derived forms -------------------------------------------------------------------------
    def _derived_grad_A(self) -> Rule:
        """``(1/m) ∂ℓ/∂a`` from the rule, by sympy (cached per loss and parameter names)."""
        return derived_grad_A(self)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={self.values.get(k, v)}" for k, v in self.params.items())
        extra = f" ({params})" if params else ""
        return f"<Loss {self.name!r}{extra}: {self.title}, activation {self.activation.name}>"


_DERIVED: dict[tuple[Rule, tuple[str, ...]], Rule] = {}


def derived_grad_A(loss: Loss) -> Rule:
    """The element-wise ``(1/m) ∂ℓ/∂a`` of ``loss.rule``, differentiated by sympy and turned
    into a numpy rule ``(a, y, m, ysum, **params)``."""
    key = (loss.rule, tuple(loss.params))  # the rule itself: an id could be reused
    if key in _DERIVED:
        return _DERIVED[key]
    import sympy as sp

    a, y = sp.Symbol("a", real=True), sp.Symbol("y", real=True)
    n = sp.Symbol("n", positive=True, integer=True)
    names = list(loss.params)
    params = {k: sp.Symbol(k, real=True) for k in names}
    ell = sp.sympify(call_rule(loss.rule, a, y, n=n, params=params))
    slope = sp.diff(ell, a)
    fn = sp.lambdify((a, y, n, *params.values()), slope, "numpy")

    def rule(a_: Any, y_: Any, m_: Any, ysum: Any, n: Any = 1, **kw: Any) -> Any:
        del ysum
        return fn(a_, y_, n, *(kw[k] for k in names)) / m_

    _DERIVED[key] = rule
    return rule


LOSSES: dict[str, Loss] = {}


def define_loss(
    name: str,
    rule: Rule,
    activation: str | Activation,
    *,
    params: Mapping[str, float | None] | None = None,
    labels: LabelKind | None = None,
    title: str | None = None,
    grad_A: Rule | None = None,
    grad_Z: Rule | None = None,
    grad_Z_general: Rule | None = None,
    stable: Rule | None = None,
    requires_simplex: bool = False,
    single_row: bool = False,
    equations: tuple[int | None, int | None, int | None] = (None, None, None),
    shortcut: str = "",
    general: str = "",
    kinks: str = "",
    register: bool = False,
) -> Loss:
    """A loss from its per-entry term ``rule(a, y, **params)`` written with :mod:`nnderiv.ops`
    (``n=`` too, the number of rows, if it takes it) and its output activation (a name of
    ``formulas.ACTIVATIONS`` or a record). ``params`` names the hyper-parameters and their
    defaults (None: none); ``labels`` says what ``Y`` holds (default: ``"onehot"`` for a
    simplex-valued activation, ``"binary"`` for outputs in (0, 1), else ``"real"``). Closed
    forms of the gradients are optional rules ``(a, y, m, ysum, **params)``; ``stable`` is
    ``ℓ`` from logits. ``register=True`` adds it to ``LOSSES`` (replacing a user loss of the
    same name; a built-in name is refused)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidArgument(f"Expected a loss name that is an identifier but got {name!r}")
    if not callable(rule):
        raise InvalidArgument(f"Expected rule(a, y, **params) to be callable but got {rule!r}")
    act = activation if isinstance(activation, Activation) else get_activation(activation)
    declared = dict(params or {})
    for key in declared:
        if not isinstance(key, str) or not key.isidentifier() or key in ("a", "y", "m", "n"):
            raise InvalidArgument(
                f"Expected hyper-parameter names that are identifiers other than a, y, m, n "
                f"but got {key!r}"
            )
    for what, fn in (("rule", rule), ("grad_A", grad_A), ("grad_Z", grad_Z)):
        if fn is not None and not callable(fn):
            raise InvalidArgument(f"Expected {what} to be callable but got {fn!r}")
    try:
        sig = inspect.signature(rule)
        extra = {"n": 2} if "n" in sig.parameters else {}
        sig.bind(0.5, 0.5, **dict.fromkeys(declared, 1.0), **extra)
    except TypeError as exc:
        raise InvalidArgument(
            f"Expected rule(a, y, {', '.join(declared) or ''}) to accept the hyper-parameters "
            f"{list(declared)} as keywords but got {exc}"
        ) from None
    except ValueError:
        pass
    if labels is None:
        labels = {"simplex": "onehot", "unit": "binary"}.get(act.domain, "real")  # type: ignore[assignment]
    if labels not in _LABELS:
        raise InvalidArgument(f"Expected labels among {', '.join(_LABELS)} but got {labels!r}")
    made = Loss(
        name=name,
        title=title or name,
        activation=act,
        rule=rule,
        labels=labels,
        params=declared,
        equations=equations,
        single_row=single_row,
        requires_simplex=requires_simplex,
        grad_A_rule=grad_A,
        grad_Z_rule=grad_Z,
        grad_Z_general_rule=grad_Z_general,
        stable=stable,
        shortcut=shortcut,
        general=general,
        kinks=kinks,
    )
    if register:
        existing = LOSSES.get(name)
        if existing is not None and existing.builtin:
            raise InvalidArgument(f"Expected a new loss name but {name!r} is a built-in loss")
        LOSSES[name] = made
    return made


def get_loss(task: str | Loss) -> Loss:
    """Look a loss up by name (a :class:`Loss` is returned as it is), or raise
    :class:`InvalidArgument` listing the known ones."""
    if isinstance(task, Loss):
        return task
    try:
        return LOSSES[task]
    except (KeyError, TypeError):
        known = ", ".join(LOSSES)
        raise InvalidArgument(f"Expected a task among {known} but got task={task!r}") from None


def loss(name: str | Loss, **params: Any) -> Loss:
    """The loss ``name`` with its hyper-parameters bound: ``formulas.loss("focal", gamma=2)``."""
    return get_loss(name).bind(**params)
