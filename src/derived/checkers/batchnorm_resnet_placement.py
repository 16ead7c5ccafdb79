r"""Checker of page ``batchnorm-resnet-placement``: which residual block, left or right, is
easier to train with respect to vanishing and exploding gradients.

The right option is the one the measurement picks: stacks of each block are built from
``torch.nn`` layers (``F.linear``, ``nn.BatchNorm1d`` in training mode, ``nn.ReLU``), a random
gradient at the output is sent back by autograd, and the block whose stack changes the
gradient's size least, :math:`|\log(\lVert\partial L/\partial x\rVert / \lVert\partial L/\partial
h_n\rVert)|`, is the easier to train.
"""

import math
from functools import cache
from typing import Any

import torch
from torch.nn.functional import linear

from derived.checkers.slots import PLACEHOLDER, Choice, Mistake
from derived.checkers.verdict import Verdict

PAGE = "batchnorm-resnet-placement"
OPTIONS = ("left", "right")
#: Depth, batch size, width and seeds of the measurement.
DEPTH, M, D, SEEDS = 32, 16, 8, 3


def nn_stack(x: torch.Tensor, weight: torch.Tensor, variant: str, eps: float = 1e-5):
    r"""A stack of blocks of any of the four variants built from ``torch.nn`` layers, an
    independent implementation of :func:`derived.residual_block.stack`.

    Shape:
        ``x``: :math:`(m, d)`; ``weight``: :math:`(n, 2, d, d)`, ``weight[l, 0]`` is
        :math:`W_1` and ``weight[l, 1]`` is :math:`W_2` of block :math:`l + 1`.
    """
    norm = torch.nn.BatchNorm1d(
        x.shape[-1], eps=eps, affine=False, track_running_stats=False, dtype=x.dtype
    )
    relu = torch.nn.ReLU()
    h = x
    for W_1, W_2 in weight:
        if variant == "preact":
            h = h + linear(relu(norm(linear(relu(norm(h)), W_1))), W_2)
            continue
        u = linear(relu(norm(linear(h, W_1))), W_2)
        if variant == "right":
            h = relu(norm(h + u))
        else:
            h = h + relu(norm(u)) if variant == "left" else relu(norm(u))
    return h


@cache
def measurement() -> dict[str, dict[str, float]]:
    """For each block, the median over seeds of the gradient's growth through the stack and of
    the per-feature standard deviation of the stack's output."""
    generator = torch.Generator().manual_seed(0)
    draws = {"dtype": torch.float64, "generator": generator}
    result = {variant: {"growth": [], "spread": []} for variant in OPTIONS}
    for _ in range(SEEDS):
        x = torch.randn(M, D, **draws)
        weight = torch.randn(DEPTH, 2, D, D, **draws) * math.sqrt(2 / D)  # He et al. (2015)
        g = torch.randn(M, D, **draws)  # a random gradient at the output
        for variant in OPTIONS:
            x_leaf = x.clone().requires_grad_()
            out = nn_stack(x_leaf, weight, variant)
            (grad,) = torch.autograd.grad(out, x_leaf, g)
            result[variant]["growth"].append((grad.norm() / g.norm()).item())
            result[variant]["spread"].append(out.detach().std(dim=0).mean().item())
    return {
        v: {k: torch.tensor(s, dtype=torch.float64).median().item() for k, s in r.items()}
        for v, r in result.items()
    }


def easier() -> str:
    """The block whose stack changes the gradient's size least."""
    growth = {v: abs(math.log(r["growth"])) for v, r in measurement().items()}
    return min(growth, key=growth.get)


def evidence() -> str:
    left, right = measurement()["left"], measurement()["right"]
    return (
        f"Measured at initialization with torch.nn layers, {DEPTH} blocks of width {D} on a "
        f"batch of {M} (median of {SEEDS} seeds): a random gradient at the output reaches the "
        f"input {left['growth']:.3g} times larger through the left stack and "
        f"{right['growth']:.3g} times larger through the right stack, although the right "
        f"stack's outputs are the better scaled (per-feature standard deviation "
        f"{right['spread']:.2g} against {left['spread']:.2g})."
    )


EASIER = Choice(
    name="easier",
    form='"left" or "right"',
    options=OPTIONS,
    truth=easier,
    evidence=evidence,
    mistakes=(
        Mistake(
            "Batch norm after the addition does not normalize the gradient",
            "right",
            "Batch norm normalizes the forward activations; its Jacobian is not the identity, "
            "and after the addition it and the ReLU act on the skip path at every block. "
            "Write the Jacobian of one block of each kind: which one contains an identity term?",
        ),
    ),
)


def check(easier: Any = PLACEHOLDER, why: Any = PLACEHOLDER) -> Verdict:
    """Check the answer of page ``batchnorm-resnet-placement``.

    Args:
        easier: ``"left"`` or ``"right"``, the block easier to train.
        why: your justification, in words; it is kept with the verdict, not graded.
    """
    return Verdict(PAGE, (EASIER.check(easier, justification=why),))


#: The slots, in the order :func:`check` takes them.
SLOTS = (EASIER,)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {"easier": "left", "why": "the identity skip"}
