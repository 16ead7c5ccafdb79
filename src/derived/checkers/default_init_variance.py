r"""Checker of page ``default-init-variance``: the reader's function for the variance of the
output of a linear network freshly initialised by PyTorch's default.

The function ``variance(widths)`` is judged against Monte Carlo over freshly initialised
networks, with a tolerance of ``Z`` standard errors. The weights and biases are PyTorch's own:
for each layer, one ``nn.Linear(n_in, M * n_out)`` initialises itself (its random draws taken
from a seeded generator, :func:`derived.rng.default_rng_from`), and its rows are cut into the
layers of :math:`M` independent networks; the fan-in, which sets the bounds, is ``n_in`` as in an
``nn.Linear(n_in, n_out)``. For each network the expectation over the input is exact: with
:math:`y_L = Px + c`, where :math:`P = A_L \cdots A_1` and :math:`c` is the bias carried through
the layers, and an input of IID zero-mean, unit-variance entries,
:math:`\mathbb{E}_x[y_L^2] = \lVert P\rVert_F^2 + c^2`. The average of that over the networks
estimates :math:`\mathbb{E}[y_L^2] = \operatorname{Var}(y_L)` (its mean is zero), and its
standard error comes from the spread over the networks, which are independent.

The cases go from one layer of width one to the page's network; each term of the answer moves
the estimate by many standard errors in at least one of them: the input's share (wide, shallow
networks), the biases (narrow ones), and each layer's own fan-in (widths that change).
"""

import itertools
import math
import numbers
from functools import cache
from typing import Any

import torch
from torch import nn

from derived.checkers.slots import PLACEHOLDER, Function, Malformed, Mistake, RaisedError
from derived.checkers.verdict import Verdict
from derived.init_variance import default_init_variance
from derived.rng import default_rng_from

PAGE = "default-init-variance"
#: The widths :math:`(n_0, \dots, n_L)` of the cases, smallest first; :math:`n_L = 1`.
CASES = (
    {"widths": (1, 1)},
    {"widths": (4, 1)},
    {"widths": (2, 8, 1)},
    {"widths": (1, 6, 2, 1)},
    {"widths": (16, 16, 1)},
    {"widths": (16, 3, 8, 2, 5, 1)},
)
#: Networks per case, and the tolerance in standard errors.
NUM_NETWORKS, Z = 8000, 4.0


class Estimate(float):
    """A Monte Carlo estimate, with its standard error ``se``."""

    se: float

    def __new__(cls, value: float, se: float) -> "Estimate":
        estimate = super().__new__(cls, value)
        estimate.se = se
        return estimate


@cache
def monte_carlo(widths: tuple[int, ...], seed: int = 0) -> Estimate:
    r""":math:`\operatorname{Var}(y_L)` over ``NUM_NETWORKS`` networks of ``nn.Linear``
    layers with PyTorch's default initialisation, exact in the input (module docstring)."""
    M = NUM_NETWORKS
    generator = torch.Generator().manual_seed(seed)
    P = c = None  # P = A_l ... A_1 and c, the bias carried to layer l
    for n_in, n_out in itertools.pairwise(widths):
        with default_rng_from(generator):
            layer = nn.Linear(n_in, M * n_out, dtype=torch.float64)  # M layers n_in -> n_out
        with torch.no_grad():
            A, b = layer.weight.view(M, n_out, n_in), layer.bias.view(M, n_out, 1)
            P, c = (A, b) if P is None else (A @ P, A @ c + b)
    # E_x[y_L^2] = ||P||_F^2 + c^2 for each network
    second_moment = P.pow(2).sum((1, 2)) + c.pow(2).sum((1, 2))
    return Estimate(second_moment.mean().item(), second_moment.std().item() / math.sqrt(M))


def _read(output: Any) -> float:
    if isinstance(output, torch.Tensor) and output.numel() == 1:
        output = output.item()
    if not isinstance(output, numbers.Real) or isinstance(output, bool):
        raise Malformed(f"your function returned {output!r}; return one number, Var(y_L)")
    return float(output)


def _agree(yours: float, truth: float) -> bool:
    if isinstance(truth, Estimate):  # against Monte Carlo
        return math.isfinite(yours) and abs(yours - truth) <= Z * truth.se
    return math.isclose(yours, truth, rel_tol=1e-9)  # against a known mistake, exactly


def _counterexample(case: dict[str, Any], truth: Estimate, yours: Any) -> str:
    widths = case["widths"]
    where = (
        f"For widths (n_0, ..., n_L) = {widths} (L = {len(widths) - 1}), Monte Carlo over "
        f"{NUM_NETWORKS} networks of freshly initialised nn.Linear layers gives Var(y_L) = "
        f"{truth:.5f} ± {truth.se:.5f} (one standard error)"
    )
    if isinstance(yours, RaisedError):
        return f"{where}, but your function raised {yours}."
    return (
        f"{where}, but your function gives {yours:.5g}, {abs(yours - truth) / truth.se:.0f} "
        "standard errors away."
    )


def _recursion(fan_in: Any, weight: float = 1 / 3, bias: float = 1 / 3, v_0: float = 1.0):
    r"""The recursion :math:`v_{k+1} = w\,v_k + \beta/n_{(k)}`, :math:`v_0` given, with the
    width ``fan_in(widths, k)`` in the place of layer :math:`k + 1`'s fan-in: the pattern of the
    known slips, each changing one of its parts."""

    def variance(widths):
        L = len(widths) - 1
        v = v_0
        for k in range(L):
            v = weight * v + bias / fan_in(widths, k)
        return v

    return variance


VARIANCE = Function(
    name="variance",
    form="a function variance(widths) returning Var(y_L) as a number, for widths = "
    "(n_0, n_1, ..., n_L) with n_L = 1",
    parameters=("widths",),
    cases=CASES,
    truth=lambda case: monte_carlo(case["widths"]),
    counterexample=_counterexample,
    read=_read,
    agree=_agree,
    shape=lambda output: "a number",
    mistakes=(
        Mistake(
            "The input's fan-in for every layer",
            _recursion(lambda widths, k: widths[0]),
            "PyTorch's bound 1/√n_in uses the fan-in of the layer being initialised, "
            "in_features of that nn.Linear. Which width is that for each layer?",
        ),
        Mistake(
            "The fan-out for the fan-in",
            _recursion(lambda widths, k: widths[k + 1]),
            "The bound 1/√n_in depends on the number of inputs of the layer, the columns of "
            "its weight matrix. Which width is that?",
        ),
        Mistake(
            "The biases left out",
            _recursion(lambda widths, k: math.inf),
            "nn.Linear draws its bias from the same interval as its weights, and the bias adds "
            "its own variance at every layer. Look at the recursion's last term again.",
        ),
        Mistake(
            "The input's share left out",
            _recursion(lambda widths, k: widths[k], v_0=0.0),
            "The input's unit variance passes through every layer, shrunk by the same factor "
            "each time; it does not vanish. Unroll the recursion down to v_0 = 1 again.",
        ),
        Mistake(
            "The variance of U[-B, B] taken as B²",
            _recursion(lambda widths, k: widths[k], weight=1, bias=1),
            "A uniform draw on [-B, B] has mean zero and variance (b − a)²/12 for an interval "
            "[a, b], not B². Recompute the variance of one weight.",
        ),
        Mistake(
            "The bias's variance taken as 1/n_in",
            _recursion(lambda widths, k: widths[k], bias=1),
            "The bias is drawn from the same interval as the weights, so its variance is that "
            "of one weight. Recompute the variance of a uniform draw on that interval.",
        ),
    ),
)


def check(variance: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answer of page ``default-init-variance``.

    Args:
        variance: a function ``variance(widths)`` that takes the widths
            :math:`(n_0, n_1, \dots, n_L)` of a linear network (a tuple of positive ints with
            :math:`n_L = 1`, so :math:`L` = ``len(widths) - 1``) and returns
            :math:`\operatorname{Var}(y_L)` as a number, for every layer an ``nn.Linear`` with
            PyTorch's default initialisation and an input of IID entries with mean zero and
            variance one.
    """
    return Verdict(PAGE, (VARIANCE.check(variance),))


#: The slots, in the order :func:`check` takes them.
SLOTS = (VARIANCE,)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {"variance": default_init_variance}
