r"""Checker of page ``split-transform-merge``: the reader's parameter counts of the bottleneck
block and of the split-transform-merge block, as functions of the sizes.

Each function is run on a grid of sizes, from the smallest, and last on the exercise's
(:math:`256 \to 128 \to 128 \to 256`, and :math:`32` paths of width :math:`4`). The count it
returns is compared with the number of parameters that the block, built here from
``torch.nn.Conv2d`` layers on the ``meta`` device (no memory, no data), registers:
``sum(p.numel() for p in block.parameters())``. No closed form takes part in the judgement.
"""

import itertools
import math
import numbers
from functools import cache
from typing import Any

from torch import nn

from derived.checkers.slots import PLACEHOLDER, Function, Malformed, Mistake, RaisedError
from derived.checkers.verdict import Verdict
from derived.split_transform_merge import (
    bottleneck_parameter_count,
    split_transform_merge_parameter_count,
)

PAGE = "split-transform-merge"


def _stack(c_in: int, width: int) -> nn.Sequential:
    """1x1, 3x3 (padding 1) and 1x1 convolutions with biases, each followed by a ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, width, 1, device="meta"),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1, device="meta"),
        nn.ReLU(),
        nn.Conv2d(width, c_in, 1, device="meta"),
        nn.ReLU(),
    )


def registered(module: nn.Module) -> int:
    """The trainable parameters a module registers."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@cache
def nn_bottleneck(in_channels: int, width: int) -> int:
    """Parameters registered by the bottleneck block built from ``nn.Conv2d`` layers."""
    return registered(_stack(in_channels, width))


@cache
def nn_split_transform_merge(in_channels: int, cardinality: int, bottleneck_width: int) -> int:
    """Parameters registered by ``cardinality`` independent paths in an ``nn.ModuleList``."""
    paths = nn.ModuleList(_stack(in_channels, bottleneck_width) for _ in range(cardinality))
    return registered(paths)


def _cases(sizes: tuple[str, ...], grid, exercise: dict[str, int]) -> tuple[dict[str, int], ...]:
    cases = [dict(zip(sizes, values, strict=True)) for values in grid]
    ordered = sorted(cases, key=lambda c: (sum(c.values()), tuple(c.values())))
    return (*ordered, exercise)


def _read(output: Any) -> int:
    if isinstance(output, bool) or not isinstance(output, numbers.Real):
        raise Malformed(f"your function returned {output!r}; return a whole number")
    if not math.isfinite(output) or output != int(output):
        raise Malformed(f"your function returned {output!r}; a count is a whole number")
    return int(output)


def _counterexample(block: str):
    def counterexample(case: dict[str, int], truth: int, yours: Any) -> str:
        sizes = ", ".join(f"{k} = {v}" for k, v in case.items())
        if isinstance(yours, RaisedError):
            return f"For {sizes}, your function raised {yours}."
        return (
            f"For {sizes}, {block} built from nn.Conv2d layers registers {truth:,} parameters, "
            f"but your function gives {yours:,}."
        )

    return counterexample


def _count(slot: str, parameters: tuple[str, ...], cases, truth, block, form, mistakes):
    return Function(
        name=slot,
        form=form,
        parameters=parameters,
        cases=cases,
        truth=lambda case: truth(**case),
        read=_read,
        shape=lambda output: "a whole number",
        counterexample=_counterexample(block),
        mistakes=mistakes,
    )


def _conv(c_in: int, c_out: int, k: int, *, bias: bool = True, area: bool = True) -> int:
    """A convolution's count, and with ``bias=False`` or ``area=False`` its known slips."""
    return c_out * (c_in * (k * k if area else k) + bias)


def _bottleneck(c: int, w: int, **slip) -> int:
    return _conv(c, w, 1, **slip) + _conv(w, w, 3, **slip) + _conv(w, c, 1, **slip)


NO_BIASES = (
    "No biases",
    "Every convolution of the exercise has biases: how many does a convolution with a given "
    "number of output channels have?",
)
NO_AREA = (
    "The kernel area left out",
    "A 3 x 3 filter has a weight for every position of the window and every input channel: "
    "how many positions does the window have?",
)

BOTTLENECK_PARAMETERS = _count(
    "bottleneck_parameters",
    ("in_channels", "width"),
    _cases(
        ("in_channels", "width"),
        itertools.product([1, 2, 3, 8], [1, 2, 4]),
        {"in_channels": 256, "width": 128},
    ),
    nn_bottleneck,
    "the bottleneck block",
    "a function bottleneck_parameters(in_channels, width) returning a whole number",
    (
        Mistake(
            NO_BIASES[0],
            lambda in_channels, width: _bottleneck(in_channels, width, bias=False),
            NO_BIASES[1],
        ),
        Mistake(
            NO_AREA[0],
            lambda in_channels, width: _bottleneck(in_channels, width, area=False),
            NO_AREA[1],
        ),
    ),
)


def _paths(c: int, g: int, b: int, **slip) -> int:
    return g * _bottleneck(c, b, **slip)


SPLIT_TRANSFORM_MERGE_PARAMETERS = _count(
    "split_transform_merge_parameters",
    ("in_channels", "cardinality", "bottleneck_width"),
    _cases(
        ("in_channels", "cardinality", "bottleneck_width"),
        itertools.product([1, 2, 8], [1, 2, 3], [1, 2]),
        {"in_channels": 256, "cardinality": 32, "bottleneck_width": 4},
    ),
    nn_split_transform_merge,
    "the split-transform-merge block",
    "a function split_transform_merge_parameters(in_channels, cardinality, bottleneck_width) "
    "returning a whole number",
    (
        Mistake(
            "One set of convolutions for all the paths",
            lambda in_channels, cardinality, bottleneck_width: _bottleneck(
                in_channels, bottleneck_width
            ),
            "The paths are independent: does each path have parameters of its own? A module "
            "that applies the same convolutions in a loop, or registers the same module again "
            "and again, counts them once.",
        ),
        Mistake(
            "The last convolutions merged into one",
            lambda in_channels, cardinality, bottleneck_width: (
                cardinality
                * (
                    _conv(in_channels, bottleneck_width, 1)
                    + _conv(bottleneck_width, bottleneck_width, 3)
                )
                + _conv(cardinality * bottleneck_width, in_channels, 1)
            ),
            "Without a ReLU at the end of each path the last 1 x 1 convolutions would add up into "
            "one; here each path ends with a ReLU before the sum. Can they still be merged?",
        ),
        Mistake(
            NO_BIASES[0],
            lambda in_channels, cardinality, bottleneck_width: _paths(
                in_channels, cardinality, bottleneck_width, bias=False
            ),
            NO_BIASES[1],
        ),
        Mistake(
            NO_AREA[0],
            lambda in_channels, cardinality, bottleneck_width: _paths(
                in_channels, cardinality, bottleneck_width, area=False
            ),
            NO_AREA[1],
        ),
    ),
)


def check(
    bottleneck_parameters: Any = PLACEHOLDER, split_transform_merge_parameters: Any = PLACEHOLDER
) -> Verdict:
    r"""Check the answers of page ``split-transform-merge``.

    Args:
        bottleneck_parameters: a function ``bottleneck_parameters(in_channels, width)``
            returning the number of trainable parameters of the block of 1x1, 3x3 and 1x1
            convolutions with biases, :math:`C_{in} \to w \to w \to C_{in}` channels: an
            ``int``.
        split_transform_merge_parameters: a function
            ``split_transform_merge_parameters(in_channels, cardinality, bottleneck_width)``
            returning the number of trainable parameters of :math:`G` independent paths
            :math:`C_{in} \to b \to b \to C_{in}` whose outputs are summed: an ``int``.
    """
    return Verdict(
        PAGE,
        (
            BOTTLENECK_PARAMETERS.check(bottleneck_parameters),
            SPLIT_TRANSFORM_MERGE_PARAMETERS.check(split_transform_merge_parameters),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (BOTTLENECK_PARAMETERS, SPLIT_TRANSFORM_MERGE_PARAMETERS)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "bottleneck_parameters": bottleneck_parameter_count,
        "split_transform_merge_parameters": lambda in_channels, cardinality, bottleneck_width: (
            split_transform_merge_parameter_count(
                in_channels, cardinality=cardinality, bottleneck_width=bottleneck_width
            )
        ),
    }
