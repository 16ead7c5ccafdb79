r"""Masked 2-D convolutions and the PixelCNN stack built from them.

A :math:`K \times K` kernel (odd :math:`K`, centre :math:`c = (K-1)/2`) is multiplied by a mask
that keeps only the taps before the centre in raster order: every row above the centre, and the
taps left of the centre in its own row. Mask A (first layer) also drops the centre, mask B (later
layers) keeps it (page equation ``pixelcnn-masks``):

.. math::

    M_A[a, b] = [a < c \ \text{or}\ (a = c,\ b < c)], \qquad
    M_B[a, b] = M_A[a, b] + [a = c,\ b = c].

A :math:`d`-layer PixelCNN is one mask-A layer followed by :math:`d-1` mask-B layers, each with
:math:`k` channels in and out, zero padding :math:`c`, stride 1 and no bias.
"""

import torch
import torch.nn.functional as F
from torch import nn

from derived import _validate

MASK_TYPES = ("A", "B")


def _odd_kernel(kernel_size: int) -> int:
    if _validate.positive_int("kernel_size", kernel_size) % 2 == 0:
        raise ValueError(f"kernel_size must be odd, got {kernel_size}")
    return kernel_size


def causal_mask(kernel_size: int, *, mask_type: str) -> torch.Tensor:
    r"""The 0/1 mask :math:`M_A` or :math:`M_B` of a :math:`K \times K` kernel.

    Args:
        kernel_size: :math:`K`, odd and positive.
        mask_type: ``"A"`` (centre hidden) or ``"B"`` (centre visible).

    Shape:
        output :math:`(K, K)`, float64.
    """
    _odd_kernel(kernel_size)
    _validate.one_of("mask_type", mask_type, MASK_TYPES)
    c = kernel_size // 2
    mask = torch.zeros(kernel_size, kernel_size, dtype=torch.float64)
    mask[:c, :] = 1  # every row above the centre
    mask[c, :c] = 1  # left of the centre in its row
    if mask_type == "B":
        mask[c, c] = 1
    return mask


def masked_conv2d(x: torch.Tensor, weight: torch.Tensor, *, mask: torch.Tensor) -> torch.Tensor:
    r"""The convolution :math:`(M \odot w) \star x`, zero padding :math:`(K-1)/2`, stride 1.

    Shape:
        ``x``: :math:`(N, C_{in}, H, W)`; ``weight``: :math:`(C_{out}, C_{in}, K, K)`;
        ``mask``: :math:`(K, K)`; output :math:`(N, C_{out}, H, W)`.
    """
    _validate.has_ndim("x", _validate.float_tensor("x", x), 4, "(N, C, H, W)")
    _validate.has_ndim("weight", _validate.float_tensor("weight", weight), 4, "(C_out, C_in, K, K)")
    c_in, k = x.shape[1], weight.shape[-1]
    if weight.shape[1:] != (c_in, k, k) or k % 2 == 0:
        raise ValueError(
            f"weight must have shape (C_out, C_in, K, K) with C_in = {c_in} as in x and K odd, "
            f"got {tuple(weight.shape)}"
        )
    _validate.has_shape("mask", _validate.float_tensor("mask", mask), (k, k))
    return F.conv2d(x, weight * mask.to(weight), padding=weight.shape[-1] // 2)


class PixelCNN(nn.Module):
    r"""One mask-A layer and :math:`d-1` mask-B layers, :math:`k` channels each, tanh between.

    Args:
        channels: :math:`k`.
        d: number of layers.
        kernel_size: :math:`K` (odd).
        generator: draws the weights.

    Shape:
        input :math:`(N, k, H, W)`; output :math:`(N, k, H, W)`.
    """

    def __init__(
        self,
        channels: int,
        d: int,
        *,
        kernel_size: int = 3,
        generator: torch.Generator,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        _validate.positive_int("channels", channels)
        _validate.positive_int("d", d)
        _validate.generator("generator", generator)
        _validate.float_dtype("dtype", dtype)
        types = ["A"] + ["B"] * (d - 1)
        for i, t in enumerate(types):
            self.register_buffer(f"mask{i}", causal_mask(kernel_size, mask_type=t).to(dtype))
        self.mask_types = types
        scale = (channels * kernel_size**2) ** -0.5
        shape = (channels, channels, kernel_size, kernel_size)
        self.weights = nn.ParameterList(
            nn.Parameter(scale * torch.randn(shape, generator=generator, dtype=dtype))
            for _ in types
        )

    def masks(self) -> list[torch.Tensor]:
        """The mask of each layer, in order."""
        return [getattr(self, f"mask{i}") for i in range(len(self.mask_types))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.channels_first("x", x, "(N, k, H, W)", self.weights[0].shape[1])
        for w, m in zip(self.weights, self.masks(), strict=True):
            x = torch.tanh(masked_conv2d(x, w, mask=m))
        return x

    def live_taps(self) -> list[int]:
        """The unmasked taps of each layer's kernel: :math:`(K^2-1)/2` for A, one more for B."""
        return [int(m.sum().item()) for m in self.masks()]

    def weight_count(self) -> int:
        r"""Weights that can influence the output, :math:`\sum_l (\text{live taps}_l)\, k^2`."""
        return sum(
            int(m.sum().item()) * w.shape[0] * w.shape[1]
            for w, m in zip(self.weights, self.masks(), strict=True)
        )

    def connections(self, height: int, width: int) -> int:
        r"""Weighted (input unit, output unit) pairs on an :math:`H \times W` image.

        A live tap at offset :math:`(\delta_a, \delta_b)` from the centre joins
        :math:`(H - |\delta_a|)(W - |\delta_b|)` pixels to a real input pixel (the rest meet the
        zero padding), for each of the :math:`k^2` channel pairs. At most
        :math:`\sum_l (\text{live taps}_l)\, H W k^2` (page equation ``pixelcnn-connections``).
        """
        _validate.positive_int("height", height)
        _validate.positive_int("width", width)
        total = 0
        for w, m in zip(self.weights, self.masks(), strict=True):
            c = m.shape[0] // 2
            for a, b in m.nonzero().tolist():
                da, db = abs(a - c), abs(b - c)
                total += max(height - da, 0) * max(width - db, 0) * w.shape[0] * w.shape[1]
        return total

    def sequential_steps(self) -> int:
        """Likelihood evaluation: one parallel masked convolution per layer, :math:`d`."""
        return len(self.weights)

    def sampling_passes(self, height: int, width: int) -> int:
        """Sampling: one forward pass per pixel, :math:`HW`; each pixel needs all before it."""
        _validate.positive_int("height", height)
        _validate.positive_int("width", width)
        return height * width


def dependency_offsets(d: int, *, kernel_size: int = 3) -> torch.Tensor:
    r"""The input pixels a :math:`d`-layer PixelCNN output can see, as a 0/1 map of offsets.

    The set is the Minkowski sum of the live taps of one mask A and :math:`d-1` masks B, computed
    here by growing an indicator with 0/1 convolutions (no weights, no autograd). For
    :math:`K = 3` it holds :math:`d + \tfrac32 d(d+1)` pixels; the :math:`\tfrac12 d(d-1)`
    earlier pixels it misses, up and to the right, are the blind spot (page equation
    ``pixelcnn-field``).

    Shape:
        output :math:`(2dc+1, 2dc+1)` with :math:`c = (K-1)/2`; the centre is the output pixel.
    """
    _validate.positive_int("d", d)
    c = _odd_kernel(kernel_size) // 2
    size = 2 * d * c + 1
    field = torch.zeros(1, 1, size, size, dtype=torch.float64)
    field[0, 0, d * c, d * c] = 1
    for t in ["A"] + ["B"] * (d - 1):
        # An output at p sees input p + offset for each live tap; conv2d correlates, so the
        # kernel is the mask rotated by 180 degrees to move mass from p to p + offset.
        kernel = causal_mask(kernel_size, mask_type=t).flip(0, 1)
        field = (F.conv2d(field, kernel[None, None], padding=c) > 0).double()
    return field[0, 0]
