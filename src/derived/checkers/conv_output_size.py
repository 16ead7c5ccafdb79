r"""Checker of page ``conv-output-size``: the reader's function for the output shape of a 2-D
convolution.

The function is judged against the shape that ``torch.nn.functional.conv2d`` itself returns on
the ``meta`` device (no data, no formula), first on part 1's :math:`10 \times 11` image, then on
a grid of configurations ordered from the smallest.
"""

import itertools
import numbers
from typing import Any

import torch
from torch.nn.functional import conv2d

from derived import conv_arithmetic
from derived.checkers.slots import PLACEHOLDER, Function, Malformed, Mistake, RaisedError
from derived.checkers.verdict import Verdict

PAGE = "conv-output-size"
PARAMETERS = ("C", "H", "W", "K", "P", "S", "D", "F")


def conv2d_shape(C: int, H: int, W: int, K: int, P: int, S: int, D: int, F: int) -> tuple:
    r"""The shape :math:`(F, H', W')` that ``F.conv2d`` returns for a :math:`C \times H \times W`
    input and :math:`F` filters of size :math:`K \times K`."""
    x = torch.empty(C, H, W, device="meta")
    weight = torch.empty(F, C, K, K, device="meta")
    return tuple(conv2d(x, weight, stride=S, padding=P, dilation=D).shape)


def _cases() -> tuple[dict[str, int], ...]:
    grid = itertools.product([1, 3], [1, 5, 8], [6, 11], [1, 2, 3], [0, 1], [1, 2, 3], [1, 2], [2])
    cases = [dict(zip(PARAMETERS, values, strict=True)) for values in grid]
    fits = [c for c in cases if c["D"] * (c["K"] - 1) + 1 <= min(c["H"], c["W"]) + 2 * c["P"]]
    part_1 = {"C": 1, "H": 10, "W": 11, "K": 3, "P": 0, "S": 2, "D": 1, "F": 1}
    return (part_1, *sorted(fits, key=lambda c: (sum(c.values()), tuple(c.values()))))


def _read(output: Any) -> tuple:
    if isinstance(output, torch.Tensor):
        output = output.tolist()
    if not isinstance(output, tuple | list | torch.Size) or not all(
        isinstance(n, numbers.Real) and not isinstance(n, bool) for n in output
    ):
        raise Malformed(f"your function returned {output!r}; return a tuple of sizes")
    return tuple(output)


def _counterexample(case: dict[str, int], truth: tuple, yours: Any) -> str:
    config = ", ".join(f"{k} = {v}" for k, v in case.items())
    got = f"raised {yours}" if isinstance(yours, RaisedError) else f"returns {yours}"
    return f"For {config}, F.conv2d gives an output of shape {truth}, but your function {got}."


def _size(n, K, P, S, D, *, sides=2, floor=True):
    """The size along one axis, and with ``sides=1`` or ``floor=False`` its known slips."""
    travel = n + sides * P - D * (K - 1) - 1
    return (travel // S if floor else travel / S) + 1


OUTPUT_SHAPE = Function(
    name="output_shape",
    form="a function output_shape(C, H, W, K, P, S, D, F) returning the tuple (F, H', W')",
    parameters=PARAMETERS,
    cases=_cases(),
    truth=lambda case: conv2d_shape(**case),
    counterexample=_counterexample,
    read=_read,
    shape=lambda output: f"{len(output)} sizes",
    mistakes=(
        Mistake(
            "A factor C in the output",
            lambda C, H, W, K, P, S, D, F: (F, _size(H, K, P, S, D), _size(W, K, P, S, D), C),
            "Each filter sums over all C input channels and gives one output channel: where "
            "does C appear, in the output or in the weights?",
        ),
        Mistake(
            "F × C output channels",
            lambda C, H, W, K, P, S, D, F: (F * C, _size(H, K, P, S, D), _size(W, K, P, S, D)),
            "Each filter sums over all C input channels and gives one output channel: how many "
            "channels do F filters give?",
        ),
        Mistake(
            "No floor",
            lambda C, H, W, K, P, S, D, F: (
                F,
                _size(H, K, P, S, D, floor=False),
                _size(W, K, P, S, D, floor=False),
            ),
            "A size is a whole number of windows: count the windows that fit when the stride "
            "does not divide the distance the kernel can travel.",
        ),
        Mistake(
            "A factor C, and no floor",
            lambda C, H, W, K, P, S, D, F: (
                F,
                _size(H, K, P, S, D, floor=False),
                _size(W, K, P, S, D, floor=False),
                C,
            ),
            "Two slips: each filter sums over all C input channels and gives one channel, and a "
            "size is a whole number of windows.",
        ),
        Mistake(
            "Dilation left out",
            lambda C, H, W, K, P, S, D, F: (F, _size(H, K, P, S, 1), _size(W, K, P, S, 1)),
            "With dilation D the kernel's K taps are D apart: how many inputs does it span?",
        ),
        Mistake(
            "Padding on one side only",
            lambda C, H, W, K, P, S, D, F: (
                F,
                _size(H, K, P, S, D, sides=1),
                _size(W, K, P, S, D, sides=1),
            ),
            "Padding P is added on each side of the input, as in PyTorch: how long is the "
            "padded input?",
        ),
    ),
)


def check(output_shape: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answer of page ``conv-output-size``.

    Args:
        output_shape: a function ``output_shape(C, H, W, K, P, S, D, F)`` returning the shape
            :math:`(F, H', W')` of the output of a convolution with :math:`F` filters of size
            :math:`K \times K`, padding :math:`P` on each side, stride :math:`S` and dilation
            :math:`D`, applied to a :math:`C \times H \times W` input.
    """
    return Verdict(PAGE, (OUTPUT_SHAPE.check(output_shape),))


#: The slots, in the order :func:`check` takes them.
SLOTS = (OUTPUT_SHAPE,)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "output_shape": lambda C, H, W, K, P, S, D, F: conv_arithmetic.output_shape(
            (C, H, W), F, K, stride=S, padding=P, dilation=D
        )
    }
