r"""Checker of page ``mdrnn``: the weights of one MDRNN layer, the order of growth of the
connections of a stack, and the exact number of sequential steps of one layer and of a
pipelined stack.

Each answer is measured here, independently of :mod:`derived.mdrnn`:

- the weights are the parameters of a layer built from ``torch.nn.Linear`` maps without bias,
  counted by ``nn.Module.parameters``;
- the connections are the non-zero entries of the Jacobian of one application of every layer's
  pre-activation, :math:`W_{in} x^{(i,j)} + W_W h^{(i,j-1)} + W_N h^{(i-1,j)}`, written here with
  explicit shifts and random weights from a seeded generator (it is linear, so its Jacobian is
  its response to every unit input);
- the sequential steps are the longest chain of dependencies through those Jacobians, measured
  by :func:`derived.critical_path.longest_chains` (an input reads nothing, a hidden unit reads
  the input below it and its west and north neighbours).
"""

from functools import cache
from typing import Any

import torch
from torch import nn

from derived.checkers.expression import Expression, Growth
from derived.checkers.slots import PLACEHOLDER, Mistake
from derived.checkers.verdict import Verdict
from derived.critical_path import longest_chains
from derived.mdrnn import MDRNN, weight_count

PAGE = "mdrnn"


class Cell(nn.Module):
    """One MDRNN layer's weights: ``W_in`` (D to k), ``W_W`` and ``W_N`` (k to k), no bias."""

    def __init__(self, D: int, k: int, generator: torch.Generator) -> None:
        super().__init__()
        self.W_in = nn.Linear(D, k, bias=False, dtype=torch.float64)
        self.W_W = nn.Linear(k, k, bias=False, dtype=torch.float64)
        self.W_N = nn.Linear(k, k, bias=False, dtype=torch.float64)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64))

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The pre-activation at every cell; ``x``: (N, H, W, D), ``h``: (N, H, W, k)."""
        west, north = torch.zeros_like(h), torch.zeros_like(h)
        west[:, :, 1:] = h[:, :, :-1]  # h^(i, j-1), zero in the first column
        north[:, 1:] = h[:, :-1]  # h^(i-1, j), zero in the first row
        return self.W_in(x) + self.W_W(west) + self.W_N(north)


@cache
def measured_weights(D: int, k: int) -> int:
    """The parameters of one layer, counted by ``nn.Module.parameters``."""
    return sum(p.numel() for p in Cell(D, k, torch.Generator().manual_seed(0)).parameters())


@cache
def layer_jacobians(d: int, k: int, H: int, W: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    r"""For each of :math:`d` layers with :math:`D = k`, the Jacobians (kHW, kHW) of its
    pre-activation with respect to its input and to its own hidden states, units in
    (H, W, k) order."""
    n = H * W * k
    basis = torch.eye(n, dtype=torch.float64).reshape(n, H, W, k)
    zero = torch.zeros(1, H, W, k, dtype=torch.float64)
    generator = torch.Generator().manual_seed(1)
    blocks = []
    with torch.no_grad():
        for _ in range(d):
            cell = Cell(k, k, generator)
            blocks.append((cell(basis, zero).reshape(n, n).T, cell(zero, basis).reshape(n, n).T))
    return blocks


def reads(d: int, k: int, H: int, W: int) -> torch.Tensor:
    """Which unit reads which in one application of the stack: the inputs, then each layer's
    hidden states; block :math:`(l, l-1)` and :math:`(l, l)` are layer :math:`l`'s Jacobians."""
    n = H * W * k
    graph = torch.zeros((d + 1) * n, (d + 1) * n, dtype=torch.float64)
    for ell, (from_input, from_own) in enumerate(layer_jacobians(d, k, H, W), start=1):
        rows = slice(ell * n, (ell + 1) * n)
        graph[rows, (ell - 1) * n : ell * n] = from_input
        graph[rows, rows] = from_own
    return graph


@cache
def measured_connections(d: int, k: int, H: int, W: int) -> int:
    """The direct links: the non-zero entries of the layers' Jacobians."""
    return sum(int((a != 0).sum()) + int((b != 0).sum()) for a, b in layer_jacobians(d, k, H, W))


@cache
def measured_steps(d: int, H: int, W: int) -> int:
    """The longest chain of dependencies through a :math:`d`-layer stack on an
    :math:`H \\times W` grid (one unit per cell is enough: ``k = 1``)."""
    return int(longest_chains(reads(d, 1, H, W)).max())


def _counterexample(what: str, measured: str):
    def counterexample(point: dict[str, int], truth: float, yours: float) -> str:
        where = ", ".join(f"{k} = {v}" for k, v in point.items())
        shown = "undefined" if yours != yours else f"{yours:.6g}"
        return f"For {where}, {what} {truth:g}{measured}; your expression gives {shown}."

    return counterexample


WEIGHTS = Expression(
    name="weights",
    form='an expression in D and k, such as "D**2 + k"',
    symbols=("D", "k"),
    points=tuple(
        {"D": D, "k": k} for D, k in [(1, 1), (2, 1), (1, 2), (3, 2), (2, 5), (5, 3), (7, 4)]
    ),
    truth=lambda p: measured_weights(p["D"], p["k"]),
    counterexample=_counterexample("a layer built from nn.Linear maps has", " parameters"),
    mistakes=(
        Mistake(
            "One recurrent matrix",
            "D*k + k**2",
            "Each hidden state reads two neighbours, each through its own matrix.",
        ),
        Mistake(
            "The input matrix taken as k × k",
            "3*k**2",
            "W_in maps an input of size D to a hidden state of size k: what is its shape?",
        ),
        Mistake(
            "Biases counted",
            "D*k + 2*k**2 + k",
            "The exercise's cell has no bias.",
        ),
    ),
)

CONNECTIONS = Growth(
    name="connections",
    form='a big-O expression in d, k, H and W, such as "d**2 * k * H * W"',
    symbols=("d", "k", "H", "W"),
    points=(
        {"d": 2, "k": 2, "H": 6, "W": 6},
        {"d": 8, "k": 2, "H": 6, "W": 6},
        {"d": 2, "k": 8, "H": 6, "W": 6},
        {"d": 2, "k": 2, "H": 24, "W": 6},
        {"d": 2, "k": 2, "H": 6, "W": 24},
    ),
    truth=lambda p: measured_connections(p["d"], p["k"], p["H"], p["W"]),
    mistakes=(
        Mistake(
            "One link per neighbour",
            "d*k*H*W",
            "A hidden state of k units is linked to every unit of the vectors it reads: how "
            "many links does one matrix-vector product make?",
        ),
        Mistake(
            "Weights counted instead of connections",
            "d*k**2",
            "The weights are shared by all cells, but each cell has its own links: count the "
            "links, cell by cell.",
        ),
        Mistake(
            "The whole quadrant linked",
            "d*k**2*H**2*W**2",
            "A connection is a direct weighted link, from the input below or a neighbour, not "
            "a dependency through the recurrence.",
        ),
        Mistake(
            "One layer only",
            "k**2*H*W",
            "Every one of the d layers has its own connections.",
        ),
    ),
)

#: Both step slots compare with the longest chain of dependencies through the Jacobian.
_steps_counterexample = _counterexample(
    "the minimum number of steps, the cells on the longest chain of dependencies measured "
    "from the Jacobian, is",
    "",
)

STEPS_ONE_LAYER = Expression(
    name="steps_one_layer",
    form='an exact expression in G, such as "3*G - 2"',
    symbols=("G",),
    points=tuple({"G": G} for G in range(1, 9)),
    truth=lambda p: measured_steps(1, p["G"], p["G"]),
    counterexample=_steps_counterexample,
    mistakes=(
        Mistake(
            "One cell per step",
            "G**2",
            "A cell waits for its west and north neighbours, not for every earlier cell in "
            "raster order: which cells could be computed at the same time?",
        ),
        Mistake(
            "One step too many",
            "2*G",
            "Count the anti-diagonals of a G × G grid, from the first cell to the last.",
        ),
        Mistake(
            "One step too few",
            "2*G - 2",
            "Count the cells on the longest chain, both ends included, not the links between them.",
        ),
        Mistake(
            "One step per row",
            "G",
            "A cell reads its north neighbour, so a row cannot start before the row above has; "
            "does it have to wait for the whole row above?",
        ),
    ),
)

#: The (d, H, W) at which the pipelined steps are measured, smallest first.
PIPELINE_SIZES = (
    (1, 1, 1),
    (1, 2, 3),
    (2, 1, 1),
    (2, 3, 2),
    (3, 4, 5),
    (2, 1, 6),
    (4, 5, 3),
    (3, 6, 6),
)

STEPS_PIPELINED = Expression(
    name="steps_pipelined",
    form='an exact expression in d, H and W, such as "d*H + W"',
    symbols=("d", "H", "W"),
    points=tuple({"d": d, "H": H, "W": W} for d, H, W in PIPELINE_SIZES),
    truth=lambda p: measured_steps(p["d"], p["H"], p["W"]),
    counterexample=_steps_counterexample,
    mistakes=(
        Mistake(
            "Layers one after another",
            "d*(H + W - 1)",
            "Does a cell of layer l have to wait for the whole of layer l - 1, or only for the "
            "cell below it?",
        ),
        Mistake(
            "One cell per step in every layer",
            "d*H*W",
            "A cell waits for its west and north neighbours and the cell below it, not for "
            "every earlier cell.",
        ),
        Mistake(
            "One step too many",
            "H + W + d - 1",
            "Follow the longest chain: along the first row, down the last column, then up "
            "through the layers; count its cells, not more.",
        ),
        Mistake(
            "The layers cost nothing",
            "H + W - 1",
            "The last cell of layer l is computed after the last cell of layer l - 1.",
        ),
    ),
)


def check(
    weights: Any = PLACEHOLDER,
    connections: Any = PLACEHOLDER,
    steps_one_layer: Any = PLACEHOLDER,
    steps_pipelined: Any = PLACEHOLDER,
) -> Verdict:
    r"""Check the answers of page ``mdrnn``.

    Args:
        weights: the number of weights of one layer with inputs of size :math:`D` and
            :math:`k` hidden units: an exact expression in ``D`` and ``k``.
        connections: the number of connections of :math:`d` layers with :math:`D = k` on an
            :math:`H \times W` grid: a big-O expression in ``d``, ``k``, ``H`` and ``W``.
        steps_one_layer: the minimum number of sequential steps of one layer on a
            :math:`G \times G` grid: an exact expression in ``G``.
        steps_pipelined: the minimum number of sequential steps of :math:`d` layers on an
            :math:`H \times W` grid, a layer starting on a cell as soon as the cell below is
            ready: an exact expression in ``d``, ``H`` and ``W``.
    """
    return Verdict(
        PAGE,
        (
            WEIGHTS.check(weights),
            CONNECTIONS.check(connections),
            STEPS_ONE_LAYER.check(steps_one_layer),
            STEPS_PIPELINED.check(steps_pipelined),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (WEIGHTS, CONNECTIONS, STEPS_ONE_LAYER, STEPS_PIPELINED)


def library_net(D: int, k: int, d: int) -> MDRNN:
    """The library's MDRNN, as on the page."""
    return MDRNN(D, k, d, generator=torch.Generator().manual_seed(0))


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "weights": lambda D, k: weight_count(D, k),
        "connections": lambda d, k, H, W: library_net(k, k, d).connections(H, W),
        "steps_one_layer": lambda G: library_net(1, 1, 1).sequential_steps(
            G, G, method="wavefront"
        ),
        "steps_pipelined": lambda d, H, W: library_net(1, 1, d).sequential_steps(H, W),
    }
