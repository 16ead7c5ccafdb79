r"""Checker of page ``sigmoid-chain``: the derivative of a chain of :math:`n` sigmoid units, the
smallest bound :math:`c^n` on it, and whether the gradient must vanish (the outcome).

All three are decided by autograd through :math:`n` applications of ``torch.sigmoid`` in
float64 (``derived.checkers._chain``), never by the library's formula: the derivative at
given inputs; the bound at depths 1 to 12 against :math:`c^n`, where :math:`c` is the largest
one-layer slope autograd finds on a grid of inputs (a bound that holds at every depth must hold
at :math:`n = 1`), with the largest :math:`|f'(x)|` at the failing depth as the counterexample;
and "must it vanish" by the largest :math:`|f'(x)|` over the grid at depth 60.
"""

from typing import Any

import torch

from derived.activation_chain import chain_derivative, derivative_bound
from derived.checkers._chain import bound_slot, derivative_slot, outcome_slot
from derived.checkers.slots import PLACEHOLDER, Mistake
from derived.checkers.verdict import Verdict

PAGE = "sigmoid-chain"


def _slope(z: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(z) * (1 - torch.sigmoid(z))


def _iterates(x: torch.Tensor, n: int) -> list[torch.Tensor]:
    r""":math:`h_0 = x, \dots, h_{n-1}`, the inputs of the n layers."""
    h = [x]
    for _ in range(n - 1):
        h.append(torch.sigmoid(h[-1]))
    return h


DERIVATIVE = derivative_slot(
    "sigmoid",
    mistakes=(
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
        Mistake(
            "The activation instead of its slope",
            lambda x, n: torch.stack([torch.sigmoid(h) for h in _iterates(x, n)]).prod(dim=0),
            "Each factor of the chain rule is a derivative of a layer, not the layer's output.",
        ),
    ),
)

BOUND = bound_slot(
    "sigmoid",
    mistakes=(
        Mistake(
            "The range of σ, not of its slope",
            "1",
            "0 < σ < 1 bounds the output of a layer, not its slope; write σ' in terms of σ and "
            "find the largest value it takes.",
        ),
        Mistake(
            "σ(0), not σ'(0)",
            "(1/2)**n",
            "One half is the value of the sigmoid at its steepest point, not its slope there.",
        ),
        Mistake(
            "One factor too few",
            "(1/4)**(n-1)",
            "Count the layers between x and f(x) again: each contributes one factor.",
        ),
        Mistake(
            "A sum instead of a product",
            "n/4",
            "The chain rule multiplies the slopes of the layers; it does not add them.",
        ),
    ),
)

OUTCOME = outcome_slot(
    "sigmoid",
    mistakes=(
        Mistake(
            "The bound was not followed to the end",
            "neither",
            "Your bound on |f'(x)| holds for every input; what does it do as n grows?",
        ),
        Mistake(
            "Explosion from slopes below one",
            "explode",
            "Every factor of the product is below one; can such a product grow with n?",
        ),
    ),
)


def check(
    derivative: Any = PLACEHOLDER,
    bound: Any = PLACEHOLDER,
    outcome: Any = PLACEHOLDER,
    why: Any = PLACEHOLDER,
) -> Verdict:
    r"""Check the answers of page ``sigmoid-chain``.

    Args:
        derivative: a function ``derivative(x, n)`` returning :math:`f'(x)` for the chain of
            :math:`n` sigmoid units: ``x`` is a float64 tensor of inputs, any shape, ``n`` an
            int :math:`\ge 1`; it returns a tensor of the shape of ``x``.
        bound: the smallest bound of the form :math:`c^n`, with :math:`c` independent of
            :math:`n`, such that :math:`|f'(x)| \le c^n` for every input :math:`x` and every
            depth :math:`n`: an expression in ``n`` (or a function of ``n``).
        outcome: ``"vanish"``, ``"explode"`` or ``"neither"``: what the gradient must do as it is
            backpropagated through more and more layers, whatever the input.
        why: your justification for ``outcome``, in words; it is kept with the verdict, not graded.
    """
    return Verdict(
        PAGE,
        (
            DERIVATIVE.check(derivative),
            BOUND.check(bound),
            OUTCOME.check(outcome, justification=why),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (DERIVATIVE, BOUND, OUTCOME)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "derivative": lambda x, n: chain_derivative(x, n, activation="sigmoid"),
        "bound": lambda n: derivative_bound(n, activation="sigmoid"),
        "outcome": "vanish",
        "why": "every factor lies in (0, 1/4], so |f'(x)| <= (1/4)^n, which tends to zero",
    }
