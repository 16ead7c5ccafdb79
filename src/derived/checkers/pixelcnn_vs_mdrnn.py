r"""Checker of page ``pixelcnn-vs-mdrnn``: for computation, memory, parallelism and context,
which of a PixelCNN and an MDRNN has the advantage, or whether they are of the same order.

Each row is decided by measuring both networks as the image grows (and, for computation and
memory, as the width and the depth grow): two quantities are of the same order when their ratio
stays within a factor ``SPREAD`` while the image side triples; otherwise the advantage goes
to the network whose quantity grows the slower (for context, the faster). The measurements:

- computation: the multiply-adds, one per connection, counted as the non-zero entries of the
  layers' Jacobians on the stacks that :mod:`derived.checkers.pixelcnn` and
  :mod:`derived.checkers.mdrnn` build from ``torch.nn`` layers;
- memory: the bytes autograd keeps for the backward pass after a forward pass of the library's
  modules, counted through saved-tensor hooks by :class:`derived.autograd_memory.peak_saved_bytes`;
- parallelism: the longest chain of dependencies through those Jacobians, the minimum number
  of sequential steps;
- context: the input pixels with a non-zero autograd gradient for the output at the centre.
"""

from functools import cache
from typing import Any

import torch

from derived.autograd_memory import peak_saved_bytes
from derived.checkers import mdrnn as mdrnn_checker
from derived.checkers import pixelcnn as pixelcnn_checker
from derived.checkers.slots import PLACEHOLDER, Choice, Mistake
from derived.checkers.verdict import Verdict
from derived.masked_conv import PixelCNN
from derived.mdrnn import MDRNN

PAGE = "pixelcnn-vs-mdrnn"
OPTIONS = ("pixelcnn", "mdrnn", "same")
#: The sizes measured, (image side, width k, depth d): the image triples, then k, then d.
#: Memory and context are measured on images twice as large (weights are then a small part
#: of the bytes kept, and the context is not cut by the image's edges).
POINTS = ((4, 2, 2), (12, 2, 2), (4, 6, 2), (4, 2, 6))
SCALE = {"computation": 1, "memory": 2, "parallelism": 1, "context": 2}
#: Two measurements are of the same order when their ratio stays within this factor.
SPREAD = 3.0
#: What each row measures, and whether more of it is better.
ROWS = {
    "computation": ("multiply-adds", False),
    "memory": ("bytes autograd keeps for the backward pass", False),
    "parallelism": ("sequential steps (the longest chain of dependencies)", False),
    "context": ("input pixels the centre output depends on", True),
}


def _saved_bytes(net: torch.nn.Module, size: int, k: int) -> int:
    generator = torch.Generator().manual_seed(1)
    image = torch.randn(1, k, size, size, generator=generator, dtype=torch.float64)
    with peak_saved_bytes() as meter:
        out = net(image)
        held = meter.current
    del out
    return held


def _context(forward, size: int, k: int) -> int:
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(1, k, size, size, generator=generator, dtype=torch.float64)
    x.requires_grad_()
    forward(x)[0, :, size // 2, size // 2].sum().backward()
    return int((x.grad[0].abs().sum(0) != 0).sum())


def _pixelcnn_forward(d: int, k: int):
    layers = pixelcnn_checker.nn_stack(k, d)

    def forward(h: torch.Tensor) -> torch.Tensor:
        for conv in layers:
            h = torch.tanh(conv(h))
        return h

    return forward


@cache
def measurement() -> dict[str, list[tuple[int, int]]]:
    """For each row, (PixelCNN, MDRNN) at each of ``POINTS``."""
    result: dict[str, list[tuple[int, int]]] = {row: [] for row in ROWS}
    for size, k, d in POINTS:
        generator = torch.Generator().manual_seed(0)
        cnn = PixelCNN(k, d, generator=generator)
        rnn = MDRNN(k, k, d, generator=generator)
        large = size * SCALE["memory"]
        result["computation"].append(
            (
                pixelcnn_checker.measured_connections(d, k, size, size),
                mdrnn_checker.measured_connections(d, k, size, size),
            )
        )
        result["memory"].append((_saved_bytes(cnn, large, k), _saved_bytes(rnn, large, k)))
        result["parallelism"].append(
            (
                pixelcnn_checker.measured_steps(d, 1, size, size),
                mdrnn_checker.measured_steps(d, size, size),
            )
        )
        result["context"].append(
            (_context(_pixelcnn_forward(d, k), large, k), _context(rnn, large, k))
        )
    return result


def verdict_of(row: str) -> str:
    """``"same"`` if the ratio PixelCNN/MDRNN stays within ``SPREAD`` over the points;
    otherwise the network whose quantity compares better as the image triples."""
    pairs = measurement()[row]
    ratios = [cnn / rnn for cnn, rnn in pairs]
    if max(ratios) / min(ratios) <= SPREAD:
        return "same"
    more_is_better = ROWS[row][1]
    pixelcnn_gains = ratios[1] > ratios[0] if more_is_better else ratios[1] < ratios[0]
    return "pixelcnn" if pixelcnn_gains else "mdrnn"


def evidence_of(row: str) -> str:
    what = ROWS[row][0]
    pairs = measurement()[row]
    shown = "; ".join(
        f"{size * SCALE[row]}×{size * SCALE[row]}, k = {k}, d = {d}: {cnn:,} against {rnn:,}"
        for (size, k, d), (cnn, rnn) in zip(POINTS, pairs, strict=True)
    )
    ratios = [cnn / rnn for cnn, rnn in pairs]
    return (
        f"Measured {what}, PixelCNN against MDRNN: {shown}. The ratio ranges from "
        f"{min(ratios):.3g} to {max(ratios):.3g}."
    )


def _row(name: str, question: str, mistakes: tuple[Mistake, ...]) -> Choice:
    return Choice(
        name=name,
        form=f'"pixelcnn", "mdrnn" or "same": {question}',
        options=OPTIONS,
        truth=lambda: verdict_of(name),
        evidence=lambda: evidence_of(name),
        mistakes=mistakes,
    )


COMPUTATION = _row(
    "computation",
    "which needs the lower order of arithmetic",
    (
        Mistake(
            "Lower arithmetic claimed for PixelCNN",
            "pixelcnn",
            "Count the multiply-adds per pixel and layer of each network: how do they grow "
            "with k, and does either count depend on the image size?",
        ),
        Mistake(
            "Lower arithmetic claimed for the MDRNN",
            "mdrnn",
            "Three blocks of k × k against four or five: is that a different order?",
        ),
    ),
)
MEMORY = _row(
    "memory",
    "which keeps the lower order of activations for the backward pass",
    (
        Mistake(
            "Lower memory claimed for PixelCNN",
            "pixelcnn",
            "How many k-vectors per pixel and layer does each network keep for the backward "
            "pass? A larger constant is not a larger order.",
        ),
    ),
)
PARALLELISM = _row(
    "parallelism",
    "which needs fewer sequential steps",
    (
        Mistake(
            "Same arithmetic taken as the same number of steps",
            "same",
            "The same number of multiply-adds can take very different numbers of sequential "
            "steps: which units does a unit of each network have to wait for?",
        ),
        Mistake(
            "The recurrence taken as parallel",
            "mdrnn",
            "An MDRNN cell reads its west and north neighbours in the same layer: how long is "
            "the longest chain of such reads?",
        ),
    ),
)
CONTEXT = _row(
    "context",
    "which has the larger context window",
    (
        Mistake(
            "Direct inputs taken as context",
            "pixelcnn",
            "A cell has three direct inputs, but its neighbours carry what they have read: "
            "unroll the recurrence and list the inputs a hidden state depends on.",
        ),
    ),
)


def check(
    computation: Any = PLACEHOLDER,
    memory: Any = PLACEHOLDER,
    parallelism: Any = PLACEHOLDER,
    context: Any = PLACEHOLDER,
) -> Verdict:
    """Check the answers of page ``pixelcnn-vs-mdrnn``.

    Each answer is ``"pixelcnn"``, ``"mdrnn"`` or ``"same"`` (same order of growth), for a
    :math:`d`-layer network with :math:`k` channels on an :math:`H \\times W` image.

    Args:
        computation: the network that needs the lower order of arithmetic.
        memory: the network that keeps the lower order of activations for backpropagation.
        parallelism: the network that needs fewer sequential steps for a given image.
        context: the network whose output sees the larger part of the image.
    """
    return Verdict(
        PAGE,
        (
            COMPUTATION.check(computation),
            MEMORY.check(memory),
            PARALLELISM.check(parallelism),
            CONTEXT.check(context),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (COMPUTATION, MEMORY, PARALLELISM, CONTEXT)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot: the verdicts of the page's solution table."""
    return {
        "computation": "same",
        "memory": "same",
        "parallelism": "pixelcnn",
        "context": "mdrnn",
    }
