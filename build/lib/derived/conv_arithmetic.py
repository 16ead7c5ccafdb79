r"""Convolution arithmetic: the output size and the parameter count of a convolution.

Along one spatial dimension of length :math:`n`, a kernel of size :math:`k` with dilation
:math:`d` spans :math:`d(k-1)+1` inputs. With padding :math:`p` on *each* side (as in PyTorch)
and stride :math:`s`, the windows start at :math:`0, s, 2s, \dots` and the last must end inside
the padded input, so (page equation ``conv-output-size-general``)

.. math::

    n' = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1 .

The number of input channels does not appear: each filter sums over all of them, and each of
the :math:`F` filters gives one output channel.
"""

from derived import _validate


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    r"""The span :math:`d(k-1)+1` of a kernel of size :math:`k` with dilation :math:`d`.

    Args:
        kernel_size: :math:`k \ge 1`.
        dilation: :math:`d \ge 1`, the step between kernel taps.
    """
    _validate.positive_int("kernel_size", kernel_size)
    _validate.positive_int("dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def output_size(
    n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    r""":math:`n' = \lfloor (n + 2p - d(k-1) - 1)/s \rfloor + 1`, one spatial dimension.

    Page equation ``conv-output-size-general``.

    Args:
        n: input length :math:`n \ge 1` along this dimension.
        kernel_size: :math:`k \ge 1`.
        stride: :math:`s \ge 1`.
        padding: :math:`p \ge 0`, added on each side.
        dilation: :math:`d \ge 1`.

    Returns:
        The output length :math:`n' \ge 1`.

    Raises:
        ValueError: naming ``kernel_size`` when the dilated kernel is longer than the padded
            input, where PyTorch would raise an opaque error.
    """
    _validate.positive_int("n", n)
    _validate.positive_int("stride", stride)
    _validate.non_negative_int("padding", padding)
    span = effective_kernel_size(kernel_size, dilation)
    if span > n + 2 * padding:
        raise ValueError(
            f"kernel_size {kernel_size} with dilation {dilation} spans {span} inputs, more than "
            f"the padded input length n + 2*padding = {n + 2 * padding}"
        )
    return (n + 2 * padding - span) // stride + 1


def _pair(name: str, value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
        return value
    return (value, value)


def output_shape(
    input_shape: tuple[int, int, int],
    out_channels: int,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> tuple[int, int, int]:
    r"""The shape :math:`(F, H', W')` of a 2-D convolution of a :math:`(C, H, W)` input.

    :math:`H'` and :math:`W'` follow :func:`output_size`; :math:`C` does not appear
    (page equation ``conv-output-size-shape``).

    Args:
        input_shape: :math:`(C, H, W)`.
        out_channels: the number of filters :math:`F`.
        kernel_size, stride, padding, dilation: an int, or a pair (for height, width), as in
            :class:`torch.nn.Conv2d`.

    Returns:
        :math:`(F, H', W')`.
    """
    if not isinstance(input_shape, tuple) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be a tuple (C, H, W), got {input_shape!r}")
    _, height, width = (_validate.positive_int("input_shape", n) for n in input_shape)
    _validate.positive_int("out_channels", out_channels)
    k, s, p, d = (
        _pair(name, value)
        for name, value in [
            ("kernel_size", kernel_size),
            ("stride", stride),
            ("padding", padding),
            ("dilation", dilation),
        ]
    )
    sizes = (output_size(n, k[i], s[i], p[i], d[i]) for i, n in enumerate((height, width)))
    return (out_channels, *sizes)


def parameter_count(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    *,
    groups: int = 1,
    bias: bool = True,
) -> int:
    r"""The trainable parameters of :class:`torch.nn.Conv2d`: :math:`F\,(C k_h k_w / g + 1)`.

    Each of the :math:`F` filters sees :math:`C/g` input channels through a
    :math:`k_h \times k_w` window and has one bias (page equation ``split-transform-merge-conv``).

    Args:
        in_channels: :math:`C`, divisible by ``groups``.
        out_channels: :math:`F`, divisible by ``groups``.
        kernel_size: :math:`k` or :math:`(k_h, k_w)`.
        groups: :math:`g \ge 1`.
        bias: whether each filter has a bias.
    """
    _validate.positive_int("in_channels", in_channels)
    _validate.positive_int("out_channels", out_channels)
    _validate.positive_int("groups", groups)
    kh, kw = _pair("kernel_size", kernel_size)
    _validate.positive_int("kernel_size", kh)
    _validate.positive_int("kernel_size", kw)
    for name, channels in [("in_channels", in_channels), ("out_channels", out_channels)]:
        if channels % groups:
            raise ValueError(f"{name} {channels} must be divisible by groups {groups}")
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    return out_channels * (in_channels // groups * kh * kw + int(bias))
