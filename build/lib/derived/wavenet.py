r"""A stack of causal dilated 1-D convolutions, the backbone of WaveNet.

Layer :math:`l` (of :math:`d`) has :math:`k` channels in and out, a causal kernel of
:math:`K` taps spaced :math:`r_l` apart (the dilation), and no bias:

.. math::

    h_l[c, t] = \phi\Big(\sum_{c'} \sum_{m=0}^{K-1}
        w_l[c, c', m]\, h_{l-1}[c', t - (K-1-m)\, r_l]\Big),

with :math:`h_{l-1}[\cdot, t] = 0` for :math:`t < 0` (zero padding on the left only), so an output
never sees a later input. The receptive field of the stack (page equation ``wavenet-receptive``) is

.. math::

    R = 1 + (K - 1) \sum_{l=1}^{d} r_l .
"""

import torch
import torch.nn.functional as F
from torch import nn

from derived import _validate

#: The dilation schedules of the page, by name. ``"linear"`` is :math:`r_l = l` (the course
#: handout), ``"doubling"`` is :math:`r_l = 2^{l-1}` (the WaveNet paper), ``"none"`` is
#: :math:`r_l = 1`.
SCHEDULES = ("linear", "doubling", "none")


def dilation_schedule(d: int, *, schedule: str) -> list[int]:
    r"""The dilations :math:`r_1, \dots, r_d` of a :math:`d`-layer stack.

    Args:
        d: number of layers :math:`d \ge 1`.
        schedule: ``"linear"`` (:math:`r_l = l`), ``"doubling"`` (:math:`r_l = 2^{l-1}`) or
            ``"none"`` (:math:`r_l = 1`).
    """
    _validate.positive_int("d", d)
    _validate.one_of("schedule", schedule, SCHEDULES)
    if schedule == "linear":
        return list(range(1, d + 1))
    if schedule == "doubling":
        return [2**ell for ell in range(d)]
    return [1] * d


def receptive_field(dilations: list[int], *, kernel_size: int = 2) -> int:
    r"""The number of inputs one output depends on, :math:`R = 1 + (K-1)\sum_l r_l`.

    Page equation ``wavenet-receptive``: each layer extends the window by :math:`(K-1)\,r_l`.

    Args:
        dilations: :math:`r_1, \dots, r_d`, positive integers.
        kernel_size: number of causal taps :math:`K \ge 1`.
    """
    _validate.positive_int("kernel_size", kernel_size)
    _validate.positive_int_list("dilations", dilations)
    return 1 + (kernel_size - 1) * sum(dilations)


def causal_conv1d(x: torch.Tensor, weight: torch.Tensor, *, dilation: int = 1) -> torch.Tensor:
    r"""One causal dilated convolution, :math:`y[t] = \sum_m w[m]\, x[t - (K-1-m)\,r]`.

    Args:
        x: input :math:`h_{l-1}`.
        weight: :math:`w_l`, shape ``(out_channels, in_channels, K)``; tap :math:`K-1` is the
            present, tap :math:`0` the furthest past.
        dilation: :math:`r \ge 1`.

    Shape:
        ``x``: :math:`(N, C_{in}, T)`; output: :math:`(N, C_{out}, T)`, the same length.
    """
    _validate.has_ndim("x", _validate.float_tensor("x", x), 3, "(N, C, T)")
    _validate.has_ndim("weight", _validate.float_tensor("weight", weight), 3, "(C_out, C_in, K)")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {weight.shape[1]} input channels, but x has {x.shape[1]}")
    _validate.positive_int("dilation", dilation)
    # Pad (K - 1) r zeros on the left and none on the right: the output at t ends at input t.
    padding = (weight.shape[-1] - 1) * dilation
    return F.conv1d(F.pad(x, (padding, 0)), weight, dilation=dilation)


class CausalDilatedStack(nn.Module):
    r"""A :math:`d`-layer stack of causal dilated convolutions with :math:`k` channels each.

    Args:
        channels: :math:`k`, the input channels and the filters of every layer.
        dilations: :math:`r_1, \dots, r_d`.
        kernel_size: causal taps :math:`K` per filter (the handout's size-3 filter with the
            taps after the middle zeroed has :math:`K = 2`).
        activation: :math:`\phi` between layers (``"tanh"`` or ``"identity"``).
        generator: draws the weights.

    Shape:
        input :math:`(N, k, T)`; output :math:`(N, k, T)`.
    """

    def __init__(
        self,
        channels: int,
        dilations: list[int],
        *,
        kernel_size: int = 2,
        activation: str = "tanh",
        generator: torch.Generator,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        _validate.positive_int("channels", channels)
        _validate.positive_int_list("dilations", dilations)
        _validate.positive_int("kernel_size", kernel_size)
        self.activation = _validate.one_of("activation", activation, ("tanh", "identity"))
        _validate.generator("generator", generator)
        _validate.float_dtype("dtype", dtype)
        self.dilations = list(dilations)
        scale = (channels * kernel_size) ** -0.5
        shape = (channels, channels, kernel_size)
        self.weights = nn.ParameterList(
            nn.Parameter(scale * torch.randn(shape, generator=generator, dtype=dtype))
            for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.channels_first("x", x, "(N, k, T)", self.weights[0].shape[1])
        for w, r in zip(self.weights, self.dilations, strict=True):
            x = causal_conv1d(x, w, dilation=r)
            x = torch.tanh(x) if self.activation == "tanh" else x
        return x

    def receptive_field(self) -> int:
        """:math:`R` of this stack, from its own kernels and dilations."""
        return receptive_field(self.dilations, kernel_size=self.weights[0].shape[-1])

    def connections(self, length: int) -> int:
        r"""Weighted (input unit, output unit) pairs on a signal of length :math:`T`.

        Tap :math:`m` of layer :math:`l` looks back :math:`(K-1-m)\,r_l` steps, so it joins
        :math:`\max(T - (K-1-m) r_l, 0)` positions to a real input (the rest meet the zero
        padding, which is not a unit), for each of the :math:`k^2` channel pairs. At most
        :math:`d\,T\,k^2 K` (page equation ``wavenet-connections``).
        """
        _validate.positive_int("length", length)
        total = 0
        for w, r in zip(self.weights, self.dilations, strict=True):
            c_out, c_in, taps = w.shape
            reach = sum(max(length - lag * r, 0) for lag in range(taps))
            total += c_out * c_in * reach
        return total

    def sequential_steps(self) -> int:
        """One parallel convolution per layer: :math:`d`, the length of the longest chain."""
        return len(self.weights)
