r"""Checker of page ``tanh-chain``: the derivative of a chain of :math:`n` tanh units, the
smallest bound :math:`c^n` on it, whether the gradient must vanish, and the exponent :math:`p`
of its decay :math:`|f'(x)| \sim C(x)\, n^p` for :math:`x \ne 0`.

All four are decided by autograd through :math:`n` applications of ``torch.tanh`` in float64
(``derived.checkers._chain``), never by the library's formula: the derivative at given
inputs; the bound at depths 1 to 12 against :math:`c^n`, where :math:`c` is the largest
one-layer slope autograd finds on a grid of inputs; the outcome by the largest and smallest
:math:`|f'(x)|` over the grid at depth 60; and the exponent by the log-log slope of
:math:`|f'(x)|` between ``N_1`` and ``N_2`` layers at three inputs :math:`x \ne 0`.
"""

import math
from functools import cache
from typing import Any

import torch

from derived.activation_chain import TANH_DECAY_EXPONENT, chain_derivative, derivative_bound
from derived.checkers._chain import (
    autograd_derivative,
    bound_slot,
    derivative_slot,
    outcome_slot,
)
from derived.checkers.expression import Expression
from derived.checkers.slots import PLACEHOLDER, Malformed, Mistake
from derived.checkers.verdict import Verdict

PAGE = "tanh-chain"
#: The depths between which the decay exponent is measured, and the inputs.
N_1, N_2 = 1000, 10_000
PROBES = (0.5, 1.0, 3.0)
#: The tolerance on the measured exponent, relative. Between 1000 and 10 000 layers the
#: log-log slope differs from its limit by corrections of order :math:`\log n / n`, below 0.01
#: at these inputs; the tolerance is three times that, and every named wrong exponent is more
#: than 0.3 away.
EXPONENT_REL_TOL = 0.02


def _slope(z: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(z) ** 2


def _iterates(x: torch.Tensor, n: int) -> list[torch.Tensor]:
    r""":math:`h_0 = x, \dots, h_{n-1}`, the inputs of the n layers."""
    h = [x]
    for _ in range(n - 1):
        h.append(torch.tanh(h[-1]))
    return h


DERIVATIVE = derivative_slot(
    "tanh",
    mistakes=(
        Mistake(
            "tanh' confused with tanh²",
            lambda x, n: (1 - _slope(x)) ** n,
            "Write tanh' in terms of tanh itself, and check your factor at x = 0, where the "
            "slope of tanh is largest.",
        ),
        Mistake(
            "Every factor taken at the input",
            lambda x, n: _slope(x) ** n,
            "The chain rule multiplies one slope per layer; at which point is the slope of "
            "layer i taken?",
        ),
        Mistake(
            "One factor too few",
            lambda x, n: torch.stack([_slope(h) for h in _iterates(x, n)[:-1]] + [x * 0 + 1]).prod(
                dim=0
            ),
            "Count the layers between x and f(x) again: each contributes one factor.",
        ),
    ),
)

BOUND = bound_slot(
    "tanh",
    mistakes=(
        Mistake(
            "The sigmoid's slope",
            "(1/4)**n",
            "One quarter is the largest slope of the sigmoid; what is the largest slope of tanh?",
        ),
        Mistake(
            "The decay away from zero is not a bound",
            "n**(-3/2)",
            "A bound must hold for every input, x = 0 included.",
        ),
    ),
)

OUTCOME = outcome_slot(
    "tanh",
    mistakes=(
        Mistake(
            "A bound of one does not force vanishing",
            "vanish",
            "An upper bound of one allows a gradient that never shrinks; is there an input at "
            "which every factor of the product takes its largest value?",
        ),
        Mistake(
            "Explosion from slopes at most one",
            "explode",
            "Every factor of the product is at most one; can such a product grow with n?",
        ),
    ),
)


@cache
def measured_exponent() -> tuple[float, tuple[float, ...], tuple[float, ...]]:
    r"""The log-log slope of :math:`|f'(x)|` between ``N_1`` and ``N_2`` layers, averaged
    over ``PROBES``, and :math:`|f'(x)|` at both depths, by autograd."""
    x = torch.tensor(PROBES, dtype=torch.float64)
    g_1 = autograd_derivative(x, N_1, "tanh").abs()
    g_2 = autograd_derivative(x, N_2, "tanh").abs()
    slopes = (g_2.log() - g_1.log()) / math.log(N_2 / N_1)
    return slopes.mean().item(), tuple(g_1.tolist()), tuple(g_2.tolist())


def _exponent_counterexample(point: dict[str, int], truth: float, yours: float) -> str:
    _, g_1, g_2 = measured_exponent()
    factor = g_1[1] / g_2[1]
    where = (
        f"At x = 1, autograd gives |f'(x)| = {g_1[1]:.4g} through {N_1} tanh layers and "
        f"{g_2[1]:.4g} through {N_2}: ten times the depth divides the gradient by {factor:.3g}"
    )
    if yours != yours:
        return f"{where}, and your exponent is not a finite real number."
    yours_factor = math.exp(min(-yours * math.log(N_2 / N_1), 700.0))  # no overflow
    return f"{where}, where n^p with your p = {yours:.4g} divides it by {yours_factor:.3g}."


class _Exponent(Expression):
    """A number, the exponent alone: an expression in no symbol."""

    def evaluate(self, answer: Any) -> list[float]:
        try:
            return super().evaluate(answer)
        except Malformed as error:
            if "unknown symbol" in str(error):
                raise Malformed("give the exponent p alone, a number with no symbol") from None
            raise


EXPONENT = _Exponent(
    name="exponent",
    form='a number p, such as -2 or "-5/4"',
    symbols=(),
    points=({},),
    truth=lambda point: measured_exponent()[0],
    counterexample=_exponent_counterexample,
    rel_tol=EXPONENT_REL_TOL,
    mistakes=(
        Mistake(
            "The decay of the iterates, not of the gradient",
            "-1/2",
            "h_n shrinks like n^(-1/2), but the gradient is the product of the factors "
            "1 - h_i^2; sum their logarithms.",
        ),
        Mistake(
            "h_i^2 without its constant",
            "-1",
            "The sum of log(1 - h_i^2) grows like a constant times log n; which constant "
            "multiplies 1/i in h_i^2?",
        ),
        Mistake(
            "The step of 1/h^2, not the exponent",
            "-2/3",
            "2/3 is what each layer adds to 1/h^2; carry it through to h_i^2 and the product.",
        ),
        Mistake(
            "The sign of the exponent",
            "3/2",
            "The gradient shrinks as the chain gets deeper.",
        ),
        Mistake(
            "No decay: the case x = 0",
            "0",
            "At x = 0 the gradient stays at its bound, but the exponent asked is for x ≠ 0.",
        ),
    ),
)


def check(
    derivative: Any = PLACEHOLDER,
    bound: Any = PLACEHOLDER,
    outcome: Any = PLACEHOLDER,
    why: Any = PLACEHOLDER,
    exponent: Any = PLACEHOLDER,
) -> Verdict:
    r"""Check the answers of page ``tanh-chain``.

    Args:
        derivative: a function ``derivative(x, n)`` returning :math:`f'(x)` for the chain of
            :math:`n` tanh units: ``x`` is a float64 tensor of inputs, any shape, ``n`` an int
            :math:`\ge 1`; it returns a tensor of the shape of ``x``.
        bound: the smallest bound of the form :math:`c^n`, with :math:`c` independent of
            :math:`n`, such that :math:`|f'(x)| \le c^n` for every input :math:`x` and every
            depth :math:`n`: an expression in ``n`` (or a function of ``n``).
        outcome: ``"vanish"``, ``"explode"`` or ``"neither"``: what the gradient must do as it
            is backpropagated through more and more layers, whatever the input.
        why: your justification for ``outcome``, in words; it is kept, not graded.
        exponent: the exponent :math:`p` in :math:`|f'(x)| \sim C(x)\, n^p` as
            :math:`n \to \infty`, for a fixed input :math:`x \ne 0`: a number (or a string
            such as ``"-5/4"``).
    """
    return Verdict(
        PAGE,
        (
            DERIVATIVE.check(derivative),
            BOUND.check(bound),
            OUTCOME.check(outcome, justification=why),
            EXPONENT.check(exponent),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (DERIVATIVE, BOUND, OUTCOME, EXPONENT)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "derivative": lambda x, n: chain_derivative(x, n, activation="tanh"),
        "bound": lambda n: derivative_bound(n, activation="tanh"),
        "outcome": "neither",
        "why": "|f'(x)| <= 1, and f'(0) = 1 at every depth",
        "exponent": TANH_DECAY_EXPONENT,
    }
