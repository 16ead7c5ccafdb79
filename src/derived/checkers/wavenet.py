r"""Checker of page ``wavenet``: the receptive field of a causal dilated stack for the two
dilation schedules, and the order of growth of its connections and sequential steps.

Everything is measured on a stack built here from ``torch.nn.Conv1d`` layers (two causal taps,
left zero padding, random weights drawn from a seeded generator), independently of
:mod:`derived.wavenet`:

- the receptive field is the number of inputs with a non-zero autograd gradient for the last
  output, on a signal long enough that the first sample is never reached;
- the connections are the non-zero entries of each layer's Jacobian (a layer before its
  activation is linear, so its Jacobian is its response to every unit input);
- the sequential steps are the longest chain of dependencies through those Jacobians, measured
  by :func:`derived.critical_path.longest_chains`.
"""

from functools import cache
from typing import Any

import torch
from torch import nn

from derived.checkers.expression import Expression, Growth
from derived.checkers.slots import PLACEHOLDER, Mistake
from derived.checkers.verdict import Verdict
from derived.critical_path import longest_chains
from derived.wavenet import CausalDilatedStack, dilation_schedule, receptive_field

PAGE = "wavenet"
SYMBOLS = ("d", "k", "T")


def dilations(d: int, schedule: str) -> list[int]:
    r""":math:`r_1, \dots, r_d`, written out here: ``"linear"`` is :math:`1, 2, \dots, d`,
    ``"doubling"`` is :math:`1, 2, 4, \dots`."""
    return list(range(1, d + 1)) if schedule == "linear" else [2**ell for ell in range(d)]


def nn_stack(
    k: int, rates: list[int], seed: int = 0, dtype: torch.dtype = torch.float64
) -> list[nn.Conv1d]:
    """One ``nn.Conv1d`` of two taps per layer, ``k`` channels, no bias, random weights."""
    generator = torch.Generator().manual_seed(seed)
    layers = []
    for r in rates:
        conv = nn.Conv1d(k, k, kernel_size=2, dilation=r, bias=False, dtype=dtype)
        with torch.no_grad():
            conv.weight.copy_(torch.randn(k, k, 2, generator=generator, dtype=dtype))
        layers.append(conv)
    return layers


def causal(conv: nn.Conv1d, h: torch.Tensor) -> torch.Tensor:
    """The layer on ``h`` (N, k, T), padded on the left only, so that the output keeps length T."""
    reach = conv.dilation[0] * (conv.kernel_size[0] - 1)
    return conv(nn.functional.pad(h, (reach, 0)))


@cache
def measured_field(d: int, schedule: str) -> int:
    """Inputs with a non-zero gradient for the last output of a ``d``-layer stack."""
    layers = nn_stack(2, dilations(d, schedule))
    length = 2 ** (d + 1) + d * d + 2  # generous; the first sample must stay unseen
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, length, generator=generator, dtype=torch.float64).requires_grad_()
    h = x
    for conv in layers:
        h = torch.tanh(causal(conv, h))
    h[0, :, -1].sum().backward()
    seen = x.grad[0].abs().sum(0) != 0
    if seen[0]:
        raise RuntimeError("the signal is too short for this receptive field")
    return int(seen.sum())


def layer_jacobians(d: int, k: int, T: int) -> list[torch.Tensor]:
    """Each layer's Jacobian before its activation, (kT, kT), dilations :math:`r_l = l`: the
    layer is linear, so its Jacobian is its response to every unit input. Each entry is a
    single weight or zero, so float32 (much faster here) finds the same non-zero entries."""
    basis = torch.eye(k * T).reshape(k * T, k, T)
    with torch.no_grad():
        return [
            causal(conv, basis).reshape(k * T, k * T).T
            for conv in nn_stack(k, dilations(d, "linear"), dtype=torch.float32)
        ]


@cache
def measured_connections(d: int, k: int, T: int) -> int:
    """The non-zero entries of the layers' Jacobians, dilations :math:`r_l = l`."""
    return sum(int((jac != 0).sum()) for jac in layer_jacobians(d, k, T))


@cache
def measured_steps(d: int, k: int, T: int) -> int:
    """The longest chain of dependencies through the stack, dilations :math:`r_l = l`: the
    units of layer :math:`l` read the units of layer :math:`l - 1` where the layer's Jacobian
    is non-zero (tanh does not change which), and the inputs read nothing."""
    n = k * T
    reads = torch.zeros((d + 1) * n, (d + 1) * n)
    for ell, jac in enumerate(layer_jacobians(d, k, T), start=1):
        reads[ell * n : (ell + 1) * n, (ell - 1) * n : ell * n] = jac
    return int(longest_chains(reads).max())


def _field_counterexample(schedule: str):
    def counterexample(point: dict[str, int], truth: float, yours: float) -> str:
        d = point["d"]
        shown = "undefined" if yours != yours else f"{yours:.6g}"
        return (
            f"With d = {d}, dilations {dilations(d, schedule)}, autograd finds that "
            f"the last output depends on {truth:g} input samples; your expression gives {shown}."
        )

    return counterexample


OWN_SAMPLE = (
    "The last output also depends on the sample at its own position: count the window "
    "including both of its ends."
)
TAPS = (
    "With the taps after the middle set to zero, how many taps does each causal filter keep, "
    "and how far does one layer extend the window it sees?"
)
NO_DILATION = "Each layer extends the window by its dilation, not by one sample."

RECEPTIVE_LINEAR = Expression(
    name="receptive_linear",
    form='an expression in d, such as "d**3 + 1"',
    symbols=("d",),
    points=tuple({"d": d} for d in range(1, 9)),
    truth=lambda point: measured_field(point["d"], "linear"),
    counterexample=_field_counterexample("linear"),
    mistakes=(
        Mistake(
            "Exponential growth claimed",
            "2**d",
            "Dilations 1, 2, 3, ... do not double the window at each layer. Add up how far "
            "each layer extends it, and look at the order of growth of that sum.",
        ),
        Mistake("The output's own sample left out", "d*(d+1)/2", OWN_SAMPLE),
        Mistake("Twice the reach per layer", "1 + d*(d+1)", TAPS),
        Mistake("Dilation ignored", "d + 1", NO_DILATION),
    ),
)

RECEPTIVE_DOUBLING = Expression(
    name="receptive_doubling",
    form='an expression in d, such as "3**d + 1"',
    symbols=("d",),
    points=tuple({"d": d} for d in range(1, 9)),
    truth=lambda point: measured_field(point["d"], "doubling"),
    counterexample=_field_counterexample("doubling"),
    mistakes=(
        Mistake("The output's own sample left out", "2**d - 1", OWN_SAMPLE),
        Mistake(
            "Twice the reach per layer",
            "2**(d+1) - 1",
            TAPS + " And which dilation does the first layer have?",
        ),
        Mistake("Dilation ignored", "d + 1", NO_DILATION),
    ),
)

GROWTH_POINTS = (
    {"d": 4, "k": 2, "T": 32},
    {"d": 16, "k": 2, "T": 32},
    {"d": 4, "k": 8, "T": 32},
    {"d": 4, "k": 2, "T": 512},
)

CONNECTIONS = Growth(
    name="connections",
    form='a big-O expression in d, k and T, such as "d**2 * k * T"',
    symbols=SYMBOLS,
    points=GROWTH_POINTS,
    truth=lambda p: measured_connections(p["d"], p["k"], p["T"]),
    mistakes=(
        Mistake(
            "The channels counted once",
            "d*k*T",
            "A unit of one channel is linked, at each tap, to the units of every input "
            "channel, and each layer has k filters: count the links of one unit again.",
        ),
        Mistake(
            "Dilation counted as extra links",
            "d**2*k**2*T",
            "Dilation spaces a filter's taps further apart; does it change how many taps a "
            "unit has?",
        ),
        Mistake(
            "One layer only",
            "k**2*T",
            "Every one of the d layers has its own connections.",
        ),
        Mistake(
            "Every earlier sample linked",
            "d*k**2*T**2",
            "A connection is a direct weighted link from a unit to a unit of the layer below, "
            "not a dependency through several layers.",
        ),
    ),
)

STEPS = Growth(
    name="steps",
    form='a big-O expression in d, k and T, such as "d * log(T)"',
    symbols=SYMBOLS,
    points=(
        {"d": 2, "k": 1, "T": 8},
        {"d": 16, "k": 1, "T": 8},
        {"d": 2, "k": 8, "T": 8},
        {"d": 2, "k": 1, "T": 128},
    ),
    truth=lambda p: measured_steps(p["d"], p["k"], p["T"]),
    mistakes=(
        Mistake(
            "One step per sample",
            "T",
            "Given the whole waveform, does the output at time t have to wait for the output "
            "at time t - 1 of the same layer? Generating a waveform is another question.",
        ),
        Mistake(
            "The layers scanned sample by sample",
            "d*T",
            "Within one layer, which outputs does an output read? Generating a waveform, "
            "sample after sample, is another question.",
        ),
        Mistake(
            "Everything in one step",
            "1",
            "A unit can be computed only after every unit it reads: follow one sample up "
            "through the stack.",
        ),
    ),
)


def check(
    receptive_linear: Any = PLACEHOLDER,
    receptive_doubling: Any = PLACEHOLDER,
    connections: Any = PLACEHOLDER,
    steps: Any = PLACEHOLDER,
) -> Verdict:
    r"""Check the answers of page ``wavenet``.

    Args:
        receptive_linear: the number of input samples the last output of a :math:`d`-layer
            stack sees with dilations :math:`r_l = l`: an exact expression in ``d``.
        receptive_doubling: the same with dilations :math:`r_l = 2^{l-1}`: an exact expression
            in ``d``.
        connections: the number of connections of the stack, with or without dilation: a
            big-O expression in ``d``, ``k`` and ``T`` (constant factors and lower-order terms
            do not matter).
        steps: the minimum number of sequential steps to compute every output from the whole
            waveform, with or without dilation: a big-O expression in ``d``, ``k`` and ``T``.
    """
    return Verdict(
        PAGE,
        (
            RECEPTIVE_LINEAR.check(receptive_linear),
            RECEPTIVE_DOUBLING.check(receptive_doubling),
            CONNECTIONS.check(connections),
            STEPS.check(steps),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (RECEPTIVE_LINEAR, RECEPTIVE_DOUBLING, CONNECTIONS, STEPS)


def library_stack(d: int, k: int) -> CausalDilatedStack:
    """The library's stack with dilations :math:`r_l = l`, as on the page."""
    rates = dilation_schedule(d, schedule="linear")
    return CausalDilatedStack(k, rates, generator=torch.Generator().manual_seed(0))


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "receptive_linear": lambda d: receptive_field(dilation_schedule(d, schedule="linear")),
        "receptive_doubling": lambda d: receptive_field(dilation_schedule(d, schedule="doubling")),
        "connections": lambda d, k, T: library_stack(d, k).connections(T),
        "steps": lambda d, k, T: library_stack(d, k).sequential_steps(),
    }
