r"""The slots shared by the pages on a chain of scalar activations (``sigmoid-chain`` and
``tanh-chain``): the network :math:`h_0 = x`, :math:`h_i = \phi(h_{i-1})`, :math:`f(x) = h_n`.

Every answer is decided by autograd through the composition of ``torch.sigmoid`` or
``torch.tanh`` itself, written here again (not the library's chain, nor its derivative
formula): the derivative :math:`f'(x)` at given inputs, the largest :math:`|f'(x)|` over a grid
of inputs at each depth, and whether that largest value falls to zero with depth.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

import torch

from derived.checkers.expression import Expression
from derived.checkers.slots import Choice, Function, Malformed, Mistake, RaisedError

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}
#: The inputs of the derivative cases, and the depths, smallest first.
INPUTS = (-2.0, -0.5, 0.0, 0.5, 2.0)
DEPTHS = (1, 2, 3, 5, 10)
#: The depths at which a bound is compared, and the grid of inputs (multiples of 1/32 in
#: [-8, 8], with 0) over which the largest :math:`|f'(x)|` is searched.
BOUND_DEPTHS = tuple(range(1, 13))
GRID = torch.arange(-256, 257, dtype=torch.float64) / 32
#: The depth at which "must it vanish" is decided, and the thresholds: a gradient vanishes if
#: its largest value over the grid falls below ``VANISHED``, explodes if its smallest exceeds
#: ``EXPLODED``.
DEEP, VANISHED, EXPLODED = 60, 1e-6, 1e6
OPTIONS = ("vanish", "explode", "neither")


def autograd_derivative(x: torch.Tensor, n: int, activation: str) -> torch.Tensor:
    r""":math:`f'(x)` by autograd through :math:`n` applications of the activation, elementwise.

    Shape:
        ``x``: :math:`(*)`; output: :math:`(*)`, float64.
    """
    phi = ACTIVATIONS[activation]
    x = x.detach().to(torch.float64).clone().requires_grad_()
    h = x
    for _ in range(n):
        h = phi(h)
    (grad,) = torch.autograd.grad(h.sum(), x)
    return grad


@cache
def largest(n: int, activation: str) -> tuple[float, float]:
    r"""The largest :math:`|f'(x)|` over ``GRID`` at depth :math:`n`, and the input where
    autograd finds it."""
    slopes = autograd_derivative(GRID, n, activation).abs()
    i = int(slopes.argmax())
    return slopes[i].item(), GRID[i].item()


@cache
def smallest(n: int, activation: str) -> tuple[float, float]:
    r"""The smallest :math:`|f'(x)|` over ``GRID`` at depth :math:`n`, and where."""
    slopes = autograd_derivative(GRID, n, activation).abs()
    i = int(slopes.argmin())
    return slopes[i].item(), GRID[i].item()


# ----- the derivative: a function of (x, n) -------------------------------------------------


def _read_derivative(output: Any) -> torch.Tensor:
    try:
        return torch.as_tensor(
            output.detach() if isinstance(output, torch.Tensor) else output, dtype=torch.float64
        )
    except (TypeError, ValueError, RuntimeError):
        raise Malformed(f"your function returned {output!r}; return a tensor of f'(x)") from None


def _agree(yours: torch.Tensor, truth: torch.Tensor) -> bool:
    return yours.shape == truth.shape and torch.allclose(yours, truth, rtol=1e-9, atol=0.0)


def _derivative_counterexample(case: dict[str, Any], truth: torch.Tensor, yours: Any) -> str:
    n, x = case["n"], case["x"]
    if isinstance(yours, RaisedError):
        return f"At n = {n}, with x = {x.tolist()}, your function raised {yours}."
    if yours.shape != truth.shape:
        return (
            f"At n = {n}, with x = {x.tolist()}, autograd gives f'(x) = {truth.tolist()}, "
            f"but your function returns a tensor of shape {tuple(yours.shape)}."
        )
    close = torch.isclose(yours, truth, rtol=1e-9, atol=0.0)
    i = int((~close).nonzero()[0, 0])
    return (
        f"At n = {n} and x = {x[i].item():g}, autograd gives f'(x) = {truth[i].item():.6g}, "
        f"your function gives {yours[i].item():.6g}."
    )


def derivative_slot(activation: str, mistakes: tuple[Mistake, ...]) -> Function:
    """The derivative :math:`f'(x)` as a function ``derivative(x, n)``, against autograd."""
    return Function(
        name="derivative",
        form="a function derivative(x, n) returning f'(x), a tensor of the shape of x",
        mistakes=mistakes,
        parameters=("x", "n"),
        cases=tuple({"x": torch.tensor(INPUTS, dtype=torch.float64), "n": n} for n in DEPTHS),
        truth=lambda case: autograd_derivative(case["x"], case["n"], activation),
        run=lambda f, case: f(x=case["x"].clone(), n=case["n"]),
        read=_read_derivative,
        agree=_agree,
        counterexample=_derivative_counterexample,
        shape=lambda output: f"a tensor of shape {tuple(output.shape)}",
    )


# ----- the bound: an expression in n ----------------------------------------------------------


def top_slope(activation: str) -> float:
    r"""The largest :math:`|f'(x)|` of one layer over the grid: the smallest :math:`c` such that
    :math:`|f'(x)| \le c^n` can hold at every depth (it must hold at :math:`n = 1`)."""
    return largest(1, activation)[0]


def bound_slot(activation: str, mistakes: tuple[Mistake, ...]) -> Expression:
    r"""The smallest bound :math:`c^n` on :math:`|f'(x)|` that holds at every depth and input.

    The truth at depth :math:`n` is :math:`c^n` with :math:`c` the largest slope autograd finds
    for one layer; the counterexample also reports the largest :math:`|f'(x)|` that autograd
    finds at the failing depth, so that a bound that does not hold is shown to fail there.
    """

    def counterexample(point: dict[str, int], truth: float, yours: float) -> str:
        n = point["n"]
        measured, where = largest(n, activation)
        at = f"At n = {n}, autograd finds |f'(x)| = {measured:.6g} at x = {where:g}"
        if yours != yours:
            return f"{at}, but your bound is undefined there."
        if yours < measured * (1 - 1e-9):
            return f"{at}, above your bound {yours:.6g}: your bound does not hold."
        c, x_1 = largest(1, activation)
        if yours < truth:
            return (
                f"{at}, below your bound {yours:.6g}, but a bound c^n that holds at every depth "
                f"must hold for one layer too, where autograd finds |f'(x)| = {c:.6g} at "
                f"x = {x_1:g}; so c^n is at least {truth:.6g} here."
            )
        return (
            f"{at}, and your bound {yours:.6g} holds there, but it is not the smallest bound "
            "of the form c^n: a smaller c holds at every depth."
        )

    return Expression(
        name="bound",
        form='an expression in n, such as "(1/3)**n"',
        mistakes=mistakes,
        symbols=("n",),
        points=tuple({"n": n} for n in BOUND_DEPTHS),
        truth=lambda point: top_slope(activation) ** point["n"],
        counterexample=counterexample,
    )


# ----- the outcome: must it vanish or explode? a choice ---------------------------------


def outcome(activation: str) -> str:
    """What the gradient must do, measured at depth ``DEEP`` over the grid of inputs."""
    if largest(DEEP, activation)[0] < VANISHED:
        return "vanish"
    if smallest(DEEP, activation)[0] > EXPLODED:
        return "explode"
    return "neither"


def outcome_evidence(activation: str) -> str:
    top_10, top_deep = largest(10, activation), largest(DEEP, activation)
    low_deep = smallest(DEEP, activation)
    return (
        f"Autograd through chains of {activation} units, on {len(GRID)} inputs from "
        f"{GRID[0].item():g} to {GRID[-1].item():g}: the largest |f'(x)| is "
        f"{top_10[0]:.3g} (at x = {top_10[1]:g}) at depth 10 and {top_deep[0]:.3g} "
        f"(at x = {top_deep[1]:g}) at depth {DEEP}; the smallest at depth {DEEP} is "
        f"{low_deep[0]:.3g} (at x = {low_deep[1]:g})."
    )


def outcome_slot(activation: str, mistakes: tuple[Mistake, ...]) -> Choice:
    """Whether the gradient must vanish, must explode, or neither, decided by measurement."""
    return Choice(
        name="outcome",
        form='"vanish", "explode" or "neither"',
        mistakes=mistakes,
        options=OPTIONS,
        truth=lambda: outcome(activation),
        evidence=lambda: outcome_evidence(activation),
    )
