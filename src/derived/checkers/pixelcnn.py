r"""Checker of page ``pixelcnn``: the order of growth of a PixelCNN's connections and sequential
steps, and the input pixels that one output sees after :math:`d` layers.

Everything is measured on a stack built here from ``torch.nn.Conv2d`` layers (:math:`3 \times 3`,
zero padding 1, no bias, random weights from a seeded generator) whose weights are multiplied by
masks written from the raster order (a tap is live when it comes before the centre, or is the
centre in a mask-B layer), independently of :mod:`derived.masked_conv`:

- the connections are the non-zero entries of each layer's Jacobian (a masked convolution is
  linear, so its Jacobian is its response to every unit input);
- the sequential steps are the longest chain of dependencies through those Jacobians, measured
  by :func:`derived.critical_path.longest_chains`;
- the pixels one output sees are the input pixels with a non-zero autograd gradient for it.
"""

import numbers
from functools import cache
from typing import Any

import torch
from torch import nn

from derived.checkers.expression import Growth
from derived.checkers.slots import PLACEHOLDER, Function, Malformed, Mistake, RaisedError
from derived.checkers.verdict import Verdict
from derived.critical_path import longest_chains
from derived.masked_conv import PixelCNN, dependency_offsets

PAGE = "pixelcnn"
SYMBOLS = ("d", "k", "H", "W")


def raster_mask(mask_type: str) -> torch.Tensor:
    """The 3 x 3 mask: the taps before the centre in raster order, and the centre for B."""
    mask = torch.zeros(3, 3, dtype=torch.float64)
    for a in range(3):
        for b in range(3):
            before = (a, b) < (1, 1)  # tuples compare in raster order
            mask[a, b] = before or (mask_type == "B" and (a, b) == (1, 1))
    return mask


def nn_stack(k: int, d: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> list[nn.Conv2d]:
    """One mask-A layer and ``d - 1`` mask-B layers: ``nn.Conv2d`` with masked weights."""
    generator = torch.Generator().manual_seed(seed)
    layers = []
    for ell in range(d):
        conv = nn.Conv2d(k, k, 3, padding=1, bias=False, dtype=dtype)
        draw = torch.randn(k, k, 3, 3, generator=generator, dtype=dtype)
        with torch.no_grad():
            conv.weight.copy_(draw * raster_mask("A" if ell == 0 else "B").to(dtype))
        layers.append(conv)
    return layers


def layer_jacobians(d: int, k: int, H: int, W: int) -> list[torch.Tensor]:
    """Each layer's Jacobian before its activation, (kHW, kHW). Each entry is a single weight
    or zero, so float32 (much faster here) finds the same non-zero entries."""
    n = k * H * W
    basis = torch.eye(n).reshape(n, k, H, W)
    with torch.no_grad():
        return [conv(basis).reshape(n, n).T for conv in nn_stack(k, d, dtype=torch.float32)]


@cache
def measured_connections(d: int, k: int, H: int, W: int) -> int:
    """The non-zero entries of the layers' Jacobians."""
    return sum(int((jac != 0).sum()) for jac in layer_jacobians(d, k, H, W))


@cache
def measured_steps(d: int, k: int, H: int, W: int) -> int:
    """The longest chain of dependencies: the units of layer :math:`l` read those of layer
    :math:`l - 1` where its Jacobian is non-zero (tanh does not change which)."""
    n = k * H * W
    reads = torch.zeros((d + 1) * n, (d + 1) * n)
    for ell, jac in enumerate(layer_jacobians(d, k, H, W), start=1):
        reads[ell * n : (ell + 1) * n, (ell - 1) * n : ell * n] = jac
    return int(longest_chains(reads).max())


@cache
def measured_field(d: int) -> frozenset[tuple[int, int]]:
    """The offsets (row, column) from an output pixel of the input pixels with a non-zero
    gradient for it, on an image large enough that the padding is never reached."""
    size = 4 * d + 3
    centre = size // 2
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, size, size, generator=generator, dtype=torch.float64)
    x.requires_grad_()
    h = x
    for conv in nn_stack(2, d):
        h = torch.tanh(conv(h))
    h[0, :, centre, centre].sum().backward()
    seen = (x.grad[0].abs().sum(0) != 0).nonzero().tolist()
    return frozenset((a - centre, b - centre) for a, b in seen)


GROWTH_POINTS = (
    {"d": 2, "k": 2, "H": 6, "W": 6},
    {"d": 8, "k": 2, "H": 6, "W": 6},
    {"d": 2, "k": 8, "H": 6, "W": 6},
    {"d": 2, "k": 2, "H": 24, "W": 6},
    {"d": 2, "k": 2, "H": 6, "W": 24},
)

CONNECTIONS = Growth(
    name="connections",
    form='a big-O expression in d, k, H and W, such as "d**2 * k * H * W"',
    symbols=SYMBOLS,
    points=GROWTH_POINTS,
    truth=lambda p: measured_connections(p["d"], p["k"], p["H"], p["W"]),
    mistakes=(
        Mistake(
            "The channels counted once",
            "d*k*H*W",
            "At each live tap a unit is linked to the units of every input channel, and each "
            "layer has k filters: count the links of one unit again.",
        ),
        Mistake(
            "One layer only",
            "k**2*H*W",
            "Every one of the d layers has its own connections.",
        ),
        Mistake(
            "Weights counted instead of connections",
            "d*k**2",
            "The weights are shared by all pixels, but each pixel's unit has its own links: "
            "count the links, pixel by pixel.",
        ),
        Mistake(
            "Every earlier pixel linked",
            "d*k**2*H**2*W**2",
            "A connection is a direct weighted link from a unit to a unit of the layer below, "
            "through one live tap, not a dependency through several layers.",
        ),
    ),
)

STEPS = Growth(
    name="steps",
    form='a big-O expression in d, k, H and W, such as "d * log(H)"',
    symbols=SYMBOLS,
    points=(
        {"d": 2, "k": 1, "H": 4, "W": 4},
        {"d": 8, "k": 1, "H": 4, "W": 4},
        {"d": 2, "k": 4, "H": 4, "W": 4},
        {"d": 2, "k": 1, "H": 16, "W": 4},
        {"d": 2, "k": 1, "H": 4, "W": 16},
    ),
    truth=lambda p: measured_steps(p["d"], p["k"], p["H"], p["W"]),
    mistakes=(
        Mistake(
            "One step per pixel",
            "H*W",
            "The masks are the same at every pixel. Given the image, does the output at one "
            "pixel have to wait for the output at the pixel before it?",
        ),
        Mistake(
            "Sampling counted",
            "d*H*W",
            "That is the count for generating a new image pixel by pixel; the question is "
            "about computing the outputs for a given image.",
        ),
        Mistake(
            "Wavefronts, as in an MDRNN",
            "H + W",
            "Does a unit of a masked convolution read another unit of its own layer?",
        ),
        Mistake(
            "Everything in one step",
            "1",
            "A unit can be computed only after every unit it reads: follow one pixel up "
            "through the stack.",
        ),
    ),
)


def _earlier_square(d: int) -> set[tuple[int, int]]:
    """Every pixel before the output in raster order within d rows above and d columns."""
    row = {(0, c) for c in range(-d, 0)}
    return row | {(-m, c) for m in range(1, d + 1) for c in range(-d, d + 1)}


def _seen_without_blind_spot(d: int) -> set[tuple[int, int]]:
    """The set of the page's equation ``pixelcnn-field``, for the mistakes built on it."""
    row = {(0, c) for c in range(-d, 0)}
    return row | {(-m, c) for m in range(1, d + 1) for c in range(-d, m + 1)}


def _read_offsets(output: Any) -> frozenset[tuple[int, int]]:
    if isinstance(output, str | bytes) or not hasattr(output, "__iter__"):
        raise Malformed(f"your function returned {output!r}; return a set of (row, column) pairs")
    offsets = set()
    for pair in output:
        if (
            not isinstance(pair, tuple | list)
            or len(pair) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair)
        ):
            raise Malformed(
                f"your function returned an element {pair!r}; each element must be a pair of "
                "integers (row offset, column offset)"
            )
        offsets.add((int(pair[0]), int(pair[1])))
    return frozenset(offsets)


def _show(offsets) -> str:
    return ", ".join(str(p) for p in sorted(offsets, key=lambda p: (p[0], p[1])))


def _field_counterexample(case: dict[str, int], truth: frozenset, yours: Any) -> str:
    d = case["d"]
    where = f"For d = {d}, autograd finds that one output depends on {len(truth)} input pixels"
    if isinstance(yours, RaisedError):
        return f"{where}, but your function raised {yours}."
    extra, missing = yours - truth, truth - yours
    parts = []
    if extra:
        parts.append(f"includes {_show(sorted(extra)[:4])}, where the gradient is exactly zero")
    if missing:
        parts.append(f"lacks {_show(sorted(missing)[:4])}, where it is not")
    return f"{where}; your set {' and '.join(parts)}."


FIELD = Function(
    name="field",
    form="a function field(d) returning the set of (row offset, column offset) pairs of the "
    "input pixels one output sees, (-1, 0) being the pixel just above",
    parameters=("d",),
    cases=tuple({"d": d} for d in range(1, 6)),
    truth=lambda case: measured_field(case["d"]),
    counterexample=_field_counterexample,
    read=_read_offsets,
    shape=lambda output: "a set of offsets",
    mistakes=(
        Mistake(
            "No blind spot",
            _earlier_square,
            "Not every earlier pixel within d rows and d columns is reached. Follow the offsets "
            "that the live taps add, layer after layer: how far right can a path go for each "
            "row it climbs?",
        ),
        Mistake(
            "The centre included",
            lambda d: _seen_without_blind_spot(d) | {(0, 0)},
            "Which mask does the first layer use, and can any later layer bring the pixel "
            "itself back?",
        ),
        Mistake(
            "Masks ignored",
            lambda d: {(a, b) for a in range(-d, d + 1) for b in range(-d, d + 1)},
            "The masked taps never carry anything: which offsets does one masked layer add?",
        ),
        Mistake(
            "One layer's taps only",
            lambda d: {(0, -1), (-1, -1), (-1, 0), (-1, 1)},
            "Stacking layers adds their offsets: what does a second layer see through the first?",
        ),
    ),
)


def check(
    connections: Any = PLACEHOLDER, steps: Any = PLACEHOLDER, field: Any = PLACEHOLDER
) -> Verdict:
    r"""Check the answers of page ``pixelcnn``.

    Args:
        connections: the number of connections of a :math:`d`-layer PixelCNN with :math:`k`
            channels on an :math:`H \times W` image: a big-O expression in ``d``, ``k``, ``H``
            and ``W``.
        steps: the minimum number of sequential steps to compute its output for a given
            image: a big-O expression in ``d``, ``k``, ``H`` and ``W``.
        field: a function ``field(d)`` returning the input pixels that one output can depend
            on after ``d`` layers, as a set of ``(row offset, column offset)`` pairs of
            integers relative to the output pixel (rows grow downwards, columns to the right).
    """
    return Verdict(PAGE, (CONNECTIONS.check(connections), STEPS.check(steps), FIELD.check(field)))


#: The slots, in the order :func:`check` takes them.
SLOTS = (CONNECTIONS, STEPS, FIELD)


def library_net(d: int, k: int) -> PixelCNN:
    """The library's PixelCNN, as on the page."""
    return PixelCNN(k, d, generator=torch.Generator().manual_seed(0))


def library_field(d: int) -> set[tuple[int, int]]:
    """The offsets of :func:`derived.masked_conv.dependency_offsets`, centred."""
    return {(a - d, b - d) for a, b in dependency_offsets(d).nonzero().tolist()}


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "connections": lambda d, k, H, W: library_net(d, k).connections(H, W),
        "steps": lambda d, k, H, W: library_net(d, k).sequential_steps(),
        "field": library_field,
    }
