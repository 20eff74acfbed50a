"""Output activations as records: ``ACTIVATIONS[name]`` holds everything every module needs.

A record has the forward map (numpy), its backward (vector-Jacobian) rule, its sympy form, the
printed rule, the domain of its outputs and the fewest rows it needs. The closed forms, the
strategies, the symbolic derivations and the printouts all read the record; none switches on
an activation's name, so a new activation is one :func:`define_activation` call.

An element-wise activation is written once as ``rule(z)`` with :mod:`nnderiv.ops` and its
derivative as ``slope(a)``, written in the output ``a = g(z)`` (``σ' = a(1 − a)``,
``tanh' = 1 − a²``) — the form the text's derivations use. A column-coupled activation (the
softmax) supplies its backward rule, and its symbolic forms, itself.

Example::

    >>> import numpy as np
    >>> from nnderiv.formulas import ACTIVATIONS
    >>> tanh = ACTIVATIONS["tanh"]
    >>> Z = np.array([[0.5, -1.0]])
    >>> np.allclose(tanh.backward(np.ones_like(Z), tanh.forward(Z)), 1 - np.tanh(Z) ** 2)
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .. import ops
from .._validation import first_bad, where
from ..errors import InvalidArgument
from ._arrays import Array, as_float_matrix, check_same_shape, simplex_tolerance

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "define_activation",
    "get_activation",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
]

#: the set the outputs of an activation lie in: a loss's inputs ``A`` are checked against it,
#: and the strategies draw ``A`` from it
Domain = Literal["real", "unit", "simplex", "positive", "symmetric"]

_DOMAINS: dict[str, tuple[str, str]] = {
    # name: (open form for the cost, closed form for ∂J/∂Z)
    "real": ("any finite value", "any finite value"),
    "unit": ("the open interval (0, 1)", "the closed interval [0, 1]"),
    "simplex": ("the open interval (0, 1)", "the closed interval [0, 1]"),
    "positive": ("the open interval (0, ∞)", "[0, ∞)"),
    "symmetric": ("the open interval (−1, 1)", "the closed interval [−1, 1]"),
}


@dataclass(frozen=True)
class Activation:
    """One output activation ``A = g(Z)``.

    Attributes:
        name: registry key.
        title: in words (``"logistic sigmoid"``).
        symbol: its printed name in derivations (``σ``, ``tanh``).
        domain: where its outputs lie (``"unit"``, ``"simplex"``, ``"real"``, ``"positive"``,
            ``"symmetric"``).
        min_rows: the fewest rows (units) it needs (a softmax over one row is constant).
        rule: element-wise ``g(z)`` written with :mod:`nnderiv.ops` (numpy and sympy); None for
            a column-coupled activation.
        slope: element-wise ``g'(z)`` written in the output ``a`` with :mod:`nnderiv.ops`.
        stable: a numpy forward to use instead of ``rule`` (no overflow), optional.
        coupled_backward: a column-coupled activation's numpy backward ``(dA, A) -> dZ``.
        coupled_symbolic: its sympy backward ``(dA, a, j, i, p, n) -> ∂J/∂z_ji``, where ``dA``
            is ``∂J/∂a_ji`` (an expression at ``j``), ``a`` the IndexedBase of outputs and ``p``
            a bound row index running to ``n − 1``.
        coupled_of_exp: its outputs as a sympy Matrix in ``E = exp(Z)``.
        logs: ``(A, log A, log(1 − A))`` computed stably from ``Z`` (default: from the
            forward map).
        slope_text, slope_latex: ``g'`` written in ``a`` for the printouts (an element-wise
            record's default is printed from ``slope``).
        backward_text, backward_latex: the vectorised backward (``∂J/∂A ⊙ A ⊙ (1 − A)``).
        chain_text, chain_latex: a coupled record's entry-level chain rule, printed.
    """

    name: str
    title: str
    symbol: str
    domain: Domain
    min_rows: int = 1
    rule: Callable[[Any], Any] | None = None
    slope: Callable[[Any], Any] | None = None
    stable: Callable[[Array], Array] | None = None
    coupled_backward: Callable[[Array, Array], Array] | None = None
    coupled_symbolic: Callable[..., Any] | None = None
    coupled_of_exp: Callable[[Any], Any] | None = None
    logs: Callable[[Array], tuple[Array, Array, Array]] | None = None
    slope_text: str = ""
    slope_latex: str = ""
    backward_text: str = ""
    backward_latex: str = ""
    chain_text: str = ""
    chain_latex: str = ""

    @property
    def elementwise(self) -> bool:
        return self.rule is not None

    # -- numpy -----------------------------------------------------------------------------
    def forward(self, Z: npt.ArrayLike) -> Array:
        """``A = g(Z)`` on an ``n × m`` array (its dtype kept)."""
        Zf = as_float_matrix(Z, "Z")
        self.check_rows(Zf, "Z")
        if self.stable is not None:
            out = self.stable(Zf)
        else:
            assert self.rule is not None  # a record has a rule or a stable forward
            out = self.rule(Zf)
        return np.asarray(out, dtype=Zf.dtype)

    def backward(self, dA: npt.ArrayLike, A: npt.ArrayLike) -> Array:
        """Push ``∂J/∂A`` through ``A = g(Z)`` (the vector-Jacobian product), from ``A``."""
        Af = as_float_matrix(A, "A")
        dAf = as_float_matrix(dA, "dA", dtype=Af.dtype)
        check_same_shape(dAf, Af, "dA", "A")
        self.check_outputs(Af, "A", closed=True)
        if self.coupled_backward is not None:
            return np.asarray(self.coupled_backward(dAf, Af), dtype=Af.dtype)
        assert self.slope is not None
        return np.asarray(dAf * self.slope(Af), dtype=Af.dtype)

    def stable_logs(self, Z: Array) -> tuple[Array, Array, Array]:
        """``(A, log A, log(1 − A))`` from logits: the record's stable forms, else from
        ``A`` (then ``log 0`` at a saturated output is ``−inf``)."""
        if self.logs is not None:
            return self.logs(Z)
        A = self.forward(Z) if Z.ndim == 2 else np.asarray(self.rule(Z) if self.rule else Z)
        with np.errstate(divide="ignore", invalid="ignore"):
            return A, np.log(A), np.log1p(-A)

    def __call__(self, Z: npt.ArrayLike) -> Array:
        """``A = g(Z)``: a loss's ``loss.activation(Z)``."""
        return self.forward(Z)

    # -- validation --------------------------------------------------------------------------
    def check_rows(self, x: Array, name: str) -> None:
        if x.shape[0] < self.min_rows:
            raise InvalidArgument(
                f"Expected at least {self.min_rows} rows in {name} for the {self.name} "
                f"activation but got {name}.shape={x.shape}"
            )

    def check_outputs(self, A: Array, name: str, *, closed: bool) -> None:
        """``A`` inside the domain of the outputs: open for a cost (its logs), closed for
        ``∂J/∂Z`` (saturated outputs are fine there); a softmax's columns sum to 1."""
        low, high = {
            "real": (-np.inf, np.inf),
            "unit": (0.0, 1.0),
            "simplex": (0.0, 1.0),
            "positive": (0.0, np.inf),
            "symmetric": (-1.0, 1.0),
        }[self.domain]
        if closed:
            bad = (low > A) | (high < A)
        else:
            bad = ((low >= A) if np.isfinite(low) else np.zeros(A.shape, bool)) | (
                (high <= A) if np.isfinite(high) else np.zeros(A.shape, bool)
            )
        idx = first_bad(bad)
        if idx is not None:
            interval = _DOMAINS[self.domain][1 if closed else 0]
            raise InvalidArgument(
                f"Expected {name} in {interval} but got {name}{where(idx)}={float(A[idx])!r} "
                f"({name} holds outputs of the {self.name} activation)"
            )

    def check_columns(self, A: Array, name: str) -> None:
        """A simplex-valued activation's outputs: every column sums to 1."""
        if self.domain != "simplex":
            return
        sums = A.sum(axis=0)
        tol = simplex_tolerance(A.shape[0], A.dtype)
        off = np.flatnonzero(np.abs(sums - 1) > tol)
        if off.size:
            i = int(off[0])
            raise InvalidArgument(
                f"Expected every column of {name} to sum to 1 (within {tol:.1e}) but column "
                f"{i} of {name} sums to {float(sums[i])!r} ({name} must be a {self.name} output)"
            )

    # -- sympy -------------------------------------------------------------------------------
    def of_exp(self, E: Any) -> Any:
        """The outputs as a sympy Matrix in ``E = exp(Z)`` (positive symbols), so that
        ``dE/dz = E``: the concrete-shape proofs differentiate rational functions of ``E``."""
        import sympy as sp

        if self.coupled_of_exp is not None:
            return self.coupled_of_exp(E)
        assert self.rule is not None
        rule = self.rule

        def one(e: Any) -> Any:
            value = sp.sympify(rule(sp.log(e)))
            exact = {f: sp.Rational(repr(float(f))) for f in value.atoms(sp.Float)}
            return sp.simplify(value.xreplace(exact).rewrite(sp.exp))

        return E.applyfunc(one)

    def __repr__(self) -> str:
        return f"<Activation {self.name!r}: {self.title}, outputs in {self.domain}>"


# ---------------------------------------------------------------------------------------------
# the built-in activations
# ---------------------------------------------------------------------------------------------


def _stable_sigmoid(Z: Array) -> Array:
    e = np.exp(-np.abs(Z))
    out: Array = np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(Z.dtype)
    return out


def _stable_softmax(Z: Array) -> Array:
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    out: Array = e / e.sum(axis=0, keepdims=True)
    return out


def _sigmoid_logs(Z: Array) -> tuple[Array, Array, Array]:
    """σ(z), log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z)."""
    return _stable_sigmoid(Z), -np.logaddexp(0, -Z), -np.logaddexp(0, Z)


def _softmax_logs(Z: Array) -> tuple[Array, Array, Array]:
    """softmax(z), log softmax(z) = z − logsumexp(z), log(1 − softmax(z)) (the other
    entries' log-sum minus the column's)."""
    mx = Z.max(axis=0, keepdims=True)
    shifted = Z - mx
    e = np.exp(shifted)
    total = e.sum(axis=0, keepdims=True)
    lse = np.log(total)
    log_a = shifted - lse
    # Σ_{p≠j} e_p: total − e_j, except at each column's largest entry (e = 1), where that
    # difference would cancel: there the others are summed directly
    others = total - e
    top = np.argmax(Z, axis=0)
    cols = np.arange(Z.shape[1])
    rest = e.copy()
    rest[top, cols] = 0
    others[top, cols] = rest.sum(axis=0)
    with np.errstate(divide="ignore"):
        return np.exp(log_a), log_a, np.log(others) - lse


def _exp_logs(Z: Array) -> tuple[Array, Array, Array]:
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(Z), Z.astype(float), np.log(-np.expm1(Z))


def _softmax_vjp(dA: Array, A: Array) -> Array:
    out: Array = A * (dA - (dA * A).sum(axis=0, keepdims=True))
    return out


def _softmax_symbolic(dA: Any, a: Any, j: Any, i: Any, p: Any, n: Any) -> Any:
    """``a_ji (∂J/∂a_ji − Σ_p ∂J/∂a_pi a_pi)``, the summand simplified and constants out."""
    import sympy as sp

    summand = sp.cancel(dA.xreplace({j: p}) * a[p, i])
    column = sp.factor_terms(sp.Sum(summand, (p, 0, n - 1)))
    return a[j, i] * (dA - column)


def _softmax_of_exp(E: Any) -> Any:
    import sympy as sp

    totals = [sp.Add(*(E[r, c] for r in range(E.shape[0]))) for c in range(E.shape[1])]
    return sp.Matrix(E.shape[0], E.shape[1], lambda r, c: E[r, c] / totals[c])


ACTIVATIONS: dict[str, Activation] = {}


def define_activation(
    name: str,
    rule: Callable[[Any], Any],
    slope: Callable[[Any], Any],
    *,
    domain: Domain = "real",
    title: str | None = None,
    symbol: str | None = None,
    min_rows: int = 1,
    stable: Callable[[Array], Array] | None = None,
    logs: Callable[[Array], tuple[Array, Array, Array]] | None = None,
    slope_text: str = "",
    slope_latex: str = "",
    backward_text: str = "",
    backward_latex: str = "",
    register: bool = True,
) -> Activation:
    """Define (and by default register) an element-wise activation from its rule ``g(z)`` and
    its slope ``g'`` written in the output ``a``, both with :mod:`nnderiv.ops`.

    Example::

        >>> from nnderiv import ops
        >>> act = define_activation("scaled_tanh", lambda z: 2 * ops.tanh(z),
        ...                         lambda a: 2 - a * a / 2, domain="real", register=False)
        >>> act.elementwise
        True
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidArgument(f"Expected an activation name that is an identifier but got {name!r}")
    if not callable(rule) or not callable(slope):
        raise InvalidArgument(
            f"Expected rule(z) and slope(a) to be callables but got {rule!r}, {slope!r}"
        )
    if domain not in _DOMAINS or domain == "simplex":
        raise InvalidArgument(
            f"Expected an element-wise activation's domain among real, unit, positive, "
            f"symmetric but got {domain!r}"
        )
    act = Activation(
        name=name,
        title=title or name,
        symbol=symbol or name,
        domain=domain,
        min_rows=min_rows,
        rule=rule,
        slope=slope,
        stable=stable,
        logs=logs,
        slope_text=slope_text,
        slope_latex=slope_latex,
        backward_text=backward_text,
        backward_latex=backward_latex,
    )
    if register:
        if name in ACTIVATIONS:
            raise InvalidArgument(f"Expected a new activation name but {name!r} is registered")
        ACTIVATIONS[name] = act
    return act


define_activation(
    "identity",
    lambda z: z,
    lambda a: 1 + 0 * a,
    title="identity (linear output)",
    symbol="id",
    slope_text="1",
    slope_latex="1",
    backward_text="∂J/∂A",
    backward_latex="\\frac{\\partial J}{\\partial A}",
)
define_activation(
    "sigmoid",
    ops.sigmoid,
    lambda a: a * (1 - a),
    domain="unit",
    title="logistic sigmoid",
    symbol="σ",
    stable=_stable_sigmoid,
    logs=_sigmoid_logs,
    slope_text="a (1 − a)",
    slope_latex="a (1 - a)",
    backward_text="∂J/∂A ⊙ A ⊙ (1 − A)",
    backward_latex="\\frac{\\partial J}{\\partial A} \\odot A \\odot (1 - A)",
)
ACTIVATIONS["softmax"] = Activation(
    name="softmax",
    title="softmax over each column",
    symbol="softmax",
    domain="simplex",
    min_rows=2,
    stable=_stable_softmax,
    coupled_backward=_softmax_vjp,
    coupled_symbolic=_softmax_symbolic,
    coupled_of_exp=_softmax_of_exp,
    logs=_softmax_logs,
    backward_text="A ⊙ (∂J/∂A − 1 1ᵀ(∂J/∂A ⊙ A))",
    backward_latex=(
        "A \\odot \\left(\\frac{\\partial J}{\\partial A} - \\mathbf{1}\\mathbf{1}^{\\top}"
        "\\left(\\frac{\\partial J}{\\partial A} \\odot A\\right)\\right)"
    ),
    chain_text="a_ji (∂J/∂a_ji − Σ_p ∂J/∂a_pi a_pi)",
    chain_latex=(
        "a_{ji} \\left(\\frac{\\partial J}{\\partial a_{ji}} - \\sum_{p} "
        "\\frac{\\partial J}{\\partial a_{pi}} a_{pi}\\right)"
    ),
)
define_activation(
    "tanh",
    ops.tanh,
    lambda a: 1 - a * a,
    domain="symmetric",
    title="hyperbolic tangent",
    symbol="tanh",
    slope_text="1 − a²",
    slope_latex="1 - a^{2}",
    backward_text="∂J/∂A ⊙ (1 − A ⊙ A)",
    backward_latex="\\frac{\\partial J}{\\partial A} \\odot (1 - A \\odot A)",
)
define_activation(
    "softplus",
    ops.softplus,
    lambda a: 1 - ops.exp(-a),
    domain="positive",
    title="softplus log(1 + exp z)",
    symbol="softplus",
    slope_text="1 − exp(−a)",
    slope_latex="1 - e^{-a}",
    backward_text="∂J/∂A ⊙ (1 − exp(−A))",
    backward_latex="\\frac{\\partial J}{\\partial A} \\odot (1 - e^{-A})",
)
define_activation(
    "exp",
    ops.exp,
    lambda a: a,
    domain="positive",
    title="exponential (a rate)",
    logs=_exp_logs,
    symbol="exp",
    slope_text="a",
    slope_latex="a",
    backward_text="∂J/∂A ⊙ A",
    backward_latex="\\frac{\\partial J}{\\partial A} \\odot A",
)


def get_activation(name: str) -> Activation:
    """Look an activation up by name, or raise :class:`InvalidArgument` listing the known ones."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        known = ", ".join(ACTIVATIONS)
        raise InvalidArgument(f"Expected an activation among {known} but got {name!r}") from None


# ---------------------------------------------------------------------------------------------
# the public functions of SPEC.md's two activations (kept: users call them)
# ---------------------------------------------------------------------------------------------


def sigmoid(Z: npt.ArrayLike) -> Array:
    """Logistic function ``1 / (1 + exp(-z))``, element-wise, without overflow for any finite z."""
    Zf = as_float_matrix(Z, "Z")
    return _stable_sigmoid(Zf)


def sigmoid_backward(dA: npt.ArrayLike, A: npt.ArrayLike) -> Array:
    """Push ``∂J/∂A`` through ``A = σ(Z)``: ``dA ⊙ A ⊙ (1 − A)``."""
    Af = as_float_matrix(A, "A")
    dAf = as_float_matrix(dA, "dA", dtype=Af.dtype)
    check_same_shape(dAf, Af, "dA", "A")
    return dAf * Af * (1 - Af)


def softmax(Z: npt.ArrayLike) -> Array:
    """Softmax over each column (axis 0), max-shifted so that no ``exp`` overflows."""
    Zf = as_float_matrix(Z, "Z")
    return _stable_softmax(Zf)


def softmax_backward(dA: npt.ArrayLike, A: npt.ArrayLike) -> Array:
    """Push ``∂J/∂A`` through ``A = softmax(Z)`` (per column): ``A ⊙ (dA − 1 1ᵀ(dA ⊙ A))``."""
    Af = as_float_matrix(A, "A")
    dAf = as_float_matrix(dA, "dA", dtype=Af.dtype)
    check_same_shape(dAf, Af, "dA", "A")
    return _softmax_vjp(dAf, Af)
