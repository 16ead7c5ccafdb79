r"""The 1-D convolution (a cross-correlation, as in PyTorch) and its derivatives, by hand.

For an input :math:`x \in \mathbb{R}^{C \times L}` and filters
:math:`W \in \mathbb{R}^{F \times C \times K}`, with stride :math:`s`, dilation :math:`d` and no
padding, the output :math:`f \in \mathbb{R}^{F \times L'}`, :math:`L' = \lfloor (L - d(K-1) - 1)/s
\rfloor + 1`, is (indices from 0; page equation ``conv1d-gradients-forward``)

.. math::

    f[i, j] = \sum_{c=0}^{C-1} \sum_{m=0}^{K-1} W[i, c, m]\, x[c, sj + dm] .

Output :math:`j` reads the window of inputs :math:`sj + dm`, :math:`m = 0, \dots, K-1`. Every
derivative below follows from that one index map; none of them calls PyTorch's convolution.
"""

import torch

from derived import _validate
from derived.conv_arithmetic import output_size


def _window_index(
    length: int, kernel_size: int, stride: int, dilation: int, device: torch.device
) -> torch.Tensor:
    r"""The input position :math:`sj + dm` read by output :math:`j` through tap :math:`m`.

    Shape: :math:`(L', K)`.
    """
    try:
        out_length = output_size(length, kernel_size, stride, 0, dilation)
    except ValueError as error:
        raise ValueError(f"W is too long for x: {error}") from None
    j = torch.arange(out_length, device=device)
    m = torch.arange(kernel_size, device=device)
    return stride * j[:, None] + dilation * m[None, :]


def _check_x(x: torch.Tensor, *, batched: bool) -> None:
    _validate.float_tensor("x", x)
    if x.dim() != 2 and not (batched and x.dim() > 2):
        raise ValueError(
            f"x must have shape (C, L){' or (*, C, L)' * batched}, got {tuple(x.shape)}"
        )


def _check_W(W: torch.Tensor, channels: int, dtype: torch.dtype) -> None:
    _validate.float_tensor("W", W)
    if W.dim() != 3:
        raise ValueError(f"W must have shape (F, C, K), got {tuple(W.shape)}")
    if W.shape[1] != channels:
        raise ValueError(f"W has {W.shape[1]} input channels, but x has {channels}")
    if W.dtype != dtype:
        raise TypeError(f"W must have the dtype of x, {dtype}, got {W.dtype}")


def _check(x: torch.Tensor, W: torch.Tensor, stride: int, dilation: int, *, batched: bool):
    """Validate the arguments; return the window index :math:`sj + dm`, on the device of x."""
    _check_x(x, batched=batched)
    _check_W(W, x.shape[-2], x.dtype)
    _validate.positive_int("stride", stride)
    _validate.positive_int("dilation", dilation)
    return _window_index(x.shape[-1], W.shape[2], stride, dilation, x.device)


def conv1d(x: torch.Tensor, W: torch.Tensor, *, stride: int = 1, dilation: int = 1) -> torch.Tensor:
    r""":math:`f[i, j] = \sum_{c,m} W[i,c,m]\, x[c, sj + dm]` (``conv1d-gradients-forward``).

    The same map as :func:`torch.nn.functional.conv1d` without bias or padding.

    Args:
        x: input :math:`x`, channels first.
        W: filters :math:`W`.
        stride: :math:`s \ge 1`.
        dilation: :math:`d \ge 1`.

    Shape:
        ``x``: :math:`(*, C, L)`; ``W``: :math:`(F, C, K)`; output: :math:`(*, F, L')`.
    """
    index = _check(x, W, stride, dilation, batched=True)
    windows = x[..., index]  # (*, C, L', K): windows[..., c, j, m] = x[..., c, s j + d m]
    return torch.einsum("icm,...cjm->...ij", W, windows)


def weight_jacobian(
    x: torch.Tensor, W: torch.Tensor, *, stride: int = 1, dilation: int = 1
) -> torch.Tensor:
    r""":math:`\partial f[i,j]/\partial W[i',c,m] = \delta_{ii'}\, x[c, sj + dm]`.

    Page equation ``conv1d-gradients-dW``. The Jacobian keeps the output index :math:`(i, j)`:
    each output has its own row. It does not depend on the values of :math:`W`.

    Args:
        x: input, :math:`(C, L)`.
        W: filters, :math:`(F, C, K)`; only its shape is used.
        stride, dilation: as in :func:`conv1d`.

    Shape:
        :math:`(F, L', F, C, K)`, numerator layout (output dimensions first).
    """
    index = _check(x, W, stride, dilation, batched=False)
    windows = x[:, index]  # (C, L', K)
    same_filter = torch.eye(W.shape[0], dtype=x.dtype, device=x.device)
    return torch.einsum("ab,cjm->ajbcm", same_filter, windows)


def input_jacobian(
    x: torch.Tensor, W: torch.Tensor, *, stride: int = 1, dilation: int = 1
) -> torch.Tensor:
    r""":math:`\partial f[i,j]/\partial x[c,n] = W[i, c, m]` if :math:`n = sj + dm`, else 0.

    Page equation ``conv1d-gradients-dx``. Row :math:`(i, j)` holds filter :math:`i` placed at
    offset :math:`sj`; an input read by several windows appears in several rows.

    Args:
        x: input, :math:`(C, L)`; only its shape is used.
        W: filters, :math:`(F, C, K)`.
        stride, dilation: as in :func:`conv1d`.

    Shape:
        :math:`(F, L', C, L)`, numerator layout.
    """
    index = _check(x, W, stride, dilation, batched=False)
    positions = torch.arange(x.shape[-1], device=x.device)
    # reads[j, m, n] = 1 when output j reads input n through tap m
    reads = (index[:, :, None] == positions).to(x.dtype)
    return torch.einsum("icm,jmn->ijcn", W, reads)


def weight_grad(
    x: torch.Tensor,
    grad_output: torch.Tensor,
    *,
    kernel_size: int,
    stride: int = 1,
    dilation: int = 1,
) -> torch.Tensor:
    r""":math:`\partial\ell/\partial W[i,c,m] = \sum_j g[i,j]\, x[c, sj + dm]`.

    Page equation ``conv1d-gradients-dl-dW``, with :math:`g = \partial\ell/\partial f`. For each
    input channel this is again a convolution of :math:`x`, now with :math:`g` as the kernel:
    the forward stride :math:`s` becomes the dilation and the forward dilation :math:`d` the
    stride. It is computed so, with :func:`conv1d`, keeping the first :math:`K` outputs.

    Args:
        x: input, :math:`(C, L)`.
        grad_output: :math:`g = \partial\ell/\partial f`, :math:`(F, L')`.
        kernel_size: :math:`K`.
        stride, dilation: the forward pass's.

    Shape:
        :math:`(F, C, K)`, the shape of :math:`W`.
    """
    _check_x(x, batched=False)
    _validate.positive_int("kernel_size", kernel_size)
    _validate.float_tensor("grad_output", grad_output)
    if grad_output.dim() != 2:
        raise ValueError(f"grad_output must have shape (F, L'), got {tuple(grad_output.shape)}")
    filters = x.new_zeros(grad_output.shape[0], x.shape[0], kernel_size)  # only its shape
    index = _check(x, filters, stride, dilation, batched=False)
    if grad_output.shape[1] != index.shape[0]:
        raise ValueError(
            f"grad_output must have L' = {index.shape[0]} columns, got {grad_output.shape[1]}"
        )
    if grad_output.dtype != x.dtype:
        raise TypeError(f"grad_output must have the dtype of x, {x.dtype}, got {grad_output.dtype}")
    # Channels of x become a batch of one-channel signals; the F rows of g become F filters.
    correlation = conv1d(x[:, None, :], grad_output[:, None, :], stride=dilation, dilation=stride)
    return correlation[..., :kernel_size].transpose(0, 1)


def input_grad(
    grad_output: torch.Tensor,
    W: torch.Tensor,
    *,
    length: int,
    stride: int = 1,
    dilation: int = 1,
) -> torch.Tensor:
    r""":math:`\partial\ell/\partial x[c,n] = \sum_i \sum_{sj + dm = n} g[i,j]\, W[i,c,m]`.

    Page equation ``conv1d-gradients-dl-dx``: the transposed convolution. Every output
    :math:`g[i, j]` scatters filter :math:`i`, scaled by :math:`g[i, j]`, back onto the window it
    read; overlapping windows add up. Equals :func:`torch.nn.functional.conv_transpose1d`.

    Args:
        grad_output: :math:`g = \partial\ell/\partial f`, :math:`(F, L')`.
        W: filters, :math:`(F, C, K)`.
        length: the input length :math:`L`.
        stride, dilation: the forward pass's.

    Shape:
        :math:`(C, L)`, the shape of :math:`x`.
    """
    _validate.positive_int("length", length)
    _validate.float_tensor("W", W)
    _validate.float_tensor("grad_output", grad_output)
    if W.dim() != 3:
        raise ValueError(f"W must have shape (F, C, K), got {tuple(W.shape)}")
    signal = W.new_zeros(W.shape[1], length)  # only its shape
    index = _check(signal, W, stride, dilation, batched=False)
    if grad_output.dtype != W.dtype:
        raise TypeError(f"grad_output must have the dtype of W, {W.dtype}, got {grad_output.dtype}")
    if grad_output.shape != (W.shape[0], index.shape[0]):
        raise ValueError(
            f"grad_output must have shape (F, L') = {(W.shape[0], index.shape[0])} for W "
            f"and length, got {tuple(grad_output.shape)}"
        )
    # scattered[c, j, m] = sum_i g[i, j] W[i, c, m], added at input position s j + d m
    scattered = torch.einsum("ij,icm->cjm", grad_output, W)
    zeros = grad_output.new_zeros(W.shape[1], length)
    return zeros.index_add(1, index.flatten(), scattered.flatten(1))
