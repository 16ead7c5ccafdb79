r"""The split-transform-merge block of ResNeXt (Xie et al., 2017), as paths and as grouped convs.

A bottleneck block maps :math:`C_{in}` channels through 1x1, 3x3 and 1x1 convolutions, each
followed by a ReLU. The split-transform-merge block replaces it by :math:`G` (the *cardinality*)
narrow paths of bottleneck width :math:`b`, each the same kind of 1x1-3x3-1x1 conv-ReLU stack
:math:`C_{in} \to b \to b \to C_{in}`, and sums their outputs (no ReLU after the sum):

.. math::

    y = \sum_{g=1}^{G} \mathcal{T}_g(x) .

Stacking the paths' first convolutions gives one 1x1 convolution to :math:`Gb` channels;
the 3x3 and last 1x1 convolutions of different paths see disjoint channel groups, which is a
convolution with ``groups=G``. Each path ends with a ReLU *before* the sum, so the last
convolution must keep the :math:`G` outputs apart (:math:`G C_{in}` channels) and sum after the
ReLU (page ``split-transform-merge``).
"""

import math

import torch
from torch import nn

from derived import _validate
from derived.conv_arithmetic import parameter_count


def bottleneck_parameter_count(in_channels: int, width: int) -> int:
    r"""Parameters of the 1x1-3x3-1x1 block :math:`C_{in} \to w \to w \to C_{in}`, with biases.

    :math:`(C_{in}+1)w + (9w+1)w + (w+1)C_{in}` (page equation ``split-transform-merge-plain``).
    """
    _validate.positive_int("in_channels", in_channels)
    _validate.positive_int("width", width)
    return (
        parameter_count(in_channels, width, 1)
        + parameter_count(width, width, 3)
        + parameter_count(width, in_channels, 1)
    )


def split_transform_merge_parameter_count(
    in_channels: int, *, cardinality: int, bottleneck_width: int
) -> int:
    r"""Parameters of :math:`G` independent paths :math:`C_{in} \to b \to b \to C_{in}`.

    :math:`G\,[(C_{in}+1)b + (9b+1)b + (b+1)C_{in}]` (page equation ``split-transform-merge-stm``).
    """
    _check_sizes(in_channels, cardinality, bottleneck_width)
    return cardinality * bottleneck_parameter_count(in_channels, bottleneck_width)


def reset_parameters(module: nn.Module, *, generator: torch.Generator) -> nn.Module:
    r"""Redraw every convolution's parameters as PyTorch does by default, from ``generator``.

    Weights and biases are uniform on :math:`[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]`, with
    :math:`n_{in}` = (input channels / groups) x kernel area: the distribution of
    :meth:`torch.nn.Conv2d.reset_parameters`, but reproducible.
    """
    _validate.instance("module", module, nn.Module)
    _validate.generator("generator", generator)
    with torch.no_grad():
        for conv in module.modules():
            if isinstance(conv, nn.Conv2d):
                bound = 1 / math.sqrt(conv.weight[0].numel())
                conv.weight.uniform_(-bound, bound, generator=generator)
                if conv.bias is not None:
                    conv.bias.uniform_(-bound, bound, generator=generator)
    return module


def _conv_relu_stack(
    channels: list[int], kernel_sizes: list[int], *, groups: int = 1, **factory
) -> nn.Sequential:
    layers: list[nn.Module] = []
    pairs = zip(channels[:-1], channels[1:], kernel_sizes, strict=True)
    for index, (c_in, c_out, k) in enumerate(pairs):
        g = 1 if index == 0 else groups  # the first convolution sees every input channel
        layers += [nn.Conv2d(c_in, c_out, k, padding=k // 2, groups=g, **factory), nn.ReLU()]
    return nn.Sequential(*layers)


def _check_sizes(in_channels: int, cardinality: int, bottleneck_width: int) -> None:
    for name, value in [
        ("in_channels", in_channels),
        ("cardinality", cardinality),
        ("bottleneck_width", bottleneck_width),
    ]:
        _validate.positive_int(name, value)


def _factory(dtype: torch.dtype | None, device: torch.device | str | None) -> dict:
    """The ``dtype`` and ``device`` keywords for the layers, checked."""
    return {
        "dtype": _validate.float_dtype("dtype", dtype),
        "device": _validate.device("device", device),
    }


class Bottleneck(nn.Module):
    r"""1x1, 3x3, 1x1 conv-ReLU with :math:`C_{in} \to w \to w \to C_{in}` channels, stride 1.

    Shape: :math:`(N, C_{in}, H, W) \to (N, C_{in}, H, W)`.
    """

    def __init__(
        self,
        in_channels: int = 256,
        width: int = 128,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        _validate.positive_int("in_channels", in_channels)
        _validate.positive_int("width", width)
        self.layers = _conv_relu_stack(
            [in_channels, width, width, in_channels], [1, 3, 1], **_factory(dtype, device)
        )
        if generator is not None:
            reset_parameters(self, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(
            _validate.channels_first("x", x, "(N, C_in, H, W)", self.layers[0].in_channels)
        )


class SplitTransformMerge(nn.Module):
    r""":math:`y = \sum_{g=1}^{G} \mathcal{T}_g(x)`: :math:`G` independent paths in a ModuleList.

    Path :math:`g` is the conv-ReLU stack :math:`C_{in} \to b \to b \to C_{in}` (1x1, 3x3, 1x1)
    with its own parameters; the outputs are summed, with no ReLU after the sum.

    Args:
        in_channels: :math:`C_{in}`.
        cardinality: the number of paths :math:`G`.
        bottleneck_width: the width :math:`b` of each path.
        generator: if given, parameters are drawn from it (see :func:`reset_parameters`).

    Shape: :math:`(N, C_{in}, H, W) \to (N, C_{in}, H, W)`.
    """

    def __init__(
        self,
        in_channels: int = 256,
        *,
        cardinality: int = 32,
        bottleneck_width: int = 4,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        _check_sizes(in_channels, cardinality, bottleneck_width)
        factory = _factory(dtype, device)
        b = bottleneck_width
        self.paths = nn.ModuleList(
            _conv_relu_stack([in_channels, b, b, in_channels], [1, 3, 1], **factory)
            for _ in range(cardinality)
        )
        if generator is not None:
            reset_parameters(self, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.channels_first("x", x, "(N, C_in, H, W)", self.paths[0][0].in_channels)
        return torch.stack([path(x) for path in self.paths]).sum(dim=0)


class GroupedSplitTransformMerge(nn.Module):
    r"""The same block as three convolutions: 1x1 to :math:`Gb`, 3x3 and 1x1 with ``groups=G``.

    The last convolution has :math:`G C_{in}` output channels, path :math:`g`'s output in block
    :math:`g`; after the ReLU the :math:`G` blocks are summed.

    Args:
        in_channels, cardinality, bottleneck_width, generator: as in :class:`SplitTransformMerge`.

    Shape: :math:`(N, C_{in}, H, W) \to (N, C_{in}, H, W)`.
    """

    def __init__(
        self,
        in_channels: int = 256,
        *,
        cardinality: int = 32,
        bottleneck_width: int = 4,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        _check_sizes(in_channels, cardinality, bottleneck_width)
        self.cardinality = cardinality
        width = cardinality * bottleneck_width
        channels = [in_channels, width, width, cardinality * in_channels]
        self.layers = _conv_relu_stack(
            channels, [1, 3, 1], groups=cardinality, **_factory(dtype, device)
        )
        if generator is not None:
            reset_parameters(self, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layers(
            _validate.channels_first("x", x, "(N, C_in, H, W)", self.layers[0].in_channels)
        )  # (N, G * C_in, H, W), path g in channels [g C_in, (g+1) C_in)
        return h.unflatten(-3, (self.cardinality, -1)).sum(dim=-4)


def grouped_from_paths(module: SplitTransformMerge) -> GroupedSplitTransformMerge:
    r"""A :class:`GroupedSplitTransformMerge` that computes exactly what ``module`` computes.

    Path :math:`g`'s filters become output channels :math:`[gb, (g+1)b)` of the first two
    convolutions and :math:`[g C_{in}, (g+1) C_{in})` of the last one: the paths' weights and
    biases, concatenated along the output-channel dimension.
    """
    if not isinstance(module, SplitTransformMerge):
        raise TypeError(f"module must be a SplitTransformMerge, got {type(module).__name__}")
    first = module.paths[0]
    grouped = GroupedSplitTransformMerge(
        first[0].in_channels,
        cardinality=len(module.paths),
        bottleneck_width=first[0].out_channels,
        dtype=first[0].weight.dtype,
        device=first[0].weight.device,
    )
    with torch.no_grad():
        for layer, conv in enumerate(grouped.layers):
            if isinstance(conv, nn.Conv2d):
                conv.weight.copy_(torch.cat([path[layer].weight for path in module.paths]))
                conv.bias.copy_(torch.cat([path[layer].bias for path in module.paths]))
    return grouped
