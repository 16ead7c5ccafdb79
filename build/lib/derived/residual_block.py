r"""Where batch normalization sits in a residual block: four blocks, stacks, and their Jacobians.

A block maps a mini-batch :math:`x` of :math:`m` examples of width :math:`d` with two weight
matrices :math:`W_1, W_2` (shape (out, in), no bias: batch norm removes it). With
:math:`\mathrm{BN}` batch normalization in training mode (:math:`\gamma = 1, \beta = 0`) and
:math:`F(x) = \mathrm{ReLU}(\mathrm{BN}(W_2\, \mathrm{ReLU}(\mathrm{BN}(W_1 x))))`:

- ``"left"``: :math:`x + F(x)`, batch norm and ReLU inside the branch, identity skip;
- ``"right"``: :math:`\mathrm{ReLU}(\mathrm{BN}(x + W_2\,\mathrm{ReLU}(\mathrm{BN}(W_1 x))))`,
  batch norm and ReLU after the addition;
- ``"preact"``: :math:`x + W_2\, \mathrm{ReLU}(\mathrm{BN}(W_1\, \mathrm{ReLU}(\mathrm{BN}(x))))`,
  the full pre-activation block of He et al. (2016);
- ``"plain"``: :math:`F(x)`, the left block without its skip.

Jacobians are of the whole batch map :math:`\mathbb{R}^{md} \to \mathbb{R}^{md}` (batch norm
couples the examples), rows and columns in the order of ``x.reshape(*, m * d)``. They are
built in closed form from the layer Jacobians (page equations ``batchnorm-resnet-left`` to
``batchnorm-resnet-plain``): :math:`I_m \otimes W` for a weight layer, the per-feature
batch-norm Jacobian, and the 0/1 mask :math:`D` of a ReLU.
"""

import math

import torch

from derived import _validate
from derived.batch_norm import _backward, _normalize

#: The four blocks, by name.
VARIANTS = ("left", "right", "preact", "plain")


def _check(x: torch.Tensor, eps: float, ndim: int = 4, **weights: torch.Tensor) -> None:
    """Check ``x``, ``eps`` and weights of at least ``ndim`` dimensions ending in (d, d)."""
    _validate.float_tensor("x", x)
    if x.dim() < 2 or x.shape[-2] < 2:
        raise ValueError(f"x must have shape (*, m, d) with m >= 2, got {tuple(x.shape)}")
    d = x.shape[-1]
    layout = "(*, n, 2, d, d)" if ndim == 4 else "(*, d, d)"
    for name, w in weights.items():
        _validate.float_tensor(name, w)
        if w.dim() < ndim or w.shape[-2:] != (d, d) or (ndim == 4 and w.shape[-3] != 2):
            raise ValueError(
                f"{name} must have shape {layout} with d = {d} as in x, got {tuple(w.shape)}"
            )
    _validate.non_negative_float("eps", eps)


def _linear(h: torch.Tensor, W: torch.Tensor, T: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # y_i = W h_i for every example i; its Jacobian I_m (kron) W applied to each tangent.
    return h @ W.mT, T @ W.unsqueeze(-3).mT


def _bn_relu(h: torch.Tensor, T: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    # ReLU(BN(h)) and its Jacobian D J_BN applied to each tangent. The per-feature batch-norm
    # Jacobian is symmetric, so the product J_BN t is the backward formula applied to t.
    a, _ = _normalize(h, eps)
    mask = (a > 0).to(h.dtype)
    J_BN_T = _backward(T, h.unsqueeze(-3), None, eps)
    return torch.relu(a), mask.unsqueeze(-3) * J_BN_T


def _block(
    x: torch.Tensor, W_1: torch.Tensor, W_2: torch.Tensor, T: torch.Tensor, variant: str, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One block's output, and its whole-batch Jacobian applied to the tangents ``T``.

    ``x``: (*, m, d); ``T``: (*, k, m, d), ``k`` tangent batches; returns shapes (*, m, d) and
    (*, k, m, d).
    """
    if variant == "preact":
        a, T_a = _bn_relu(x, T, eps)
        z, T_z = _linear(a, W_1, T_a)
        r, T_r = _bn_relu(z, T_z, eps)
        out, T_out = _linear(r, W_2, T_r)
        # (batchnorm-resnet-preact): I + (I (x) W_2) D_1 J_1 (I (x) W_1) D_0 J_0
        return x + out, T + T_out
    z, T_z = _linear(x, W_1, T)
    r, T_r = _bn_relu(z, T_z, eps)
    u, T_u = _linear(r, W_2, T_r)
    if variant == "right":
        # (batchnorm-resnet-right): D J_BN (I + branch): no identity path survives.
        return _bn_relu(x + u, T + T_u, eps)
    out, T_out = _bn_relu(u, T_u, eps)
    if variant == "left":
        # (batchnorm-resnet-left): I + D_2 J_2 (I (x) W_2) D_1 J_1 (I (x) W_1)
        return x + out, T + T_out
    # (batchnorm-resnet-plain): D_2 J_2 (I (x) W_2) D_1 J_1 (I (x) W_1)
    return out, T_out


def block(
    x: torch.Tensor, W_1: torch.Tensor, W_2: torch.Tensor, *, variant: str, eps: float = 1e-5
) -> torch.Tensor:
    r"""One residual block of the named variant applied to a mini-batch.

    Args:
        x: the block input, :math:`m \ge 2` examples of width :math:`d`.
        W_1, W_2: the weights :math:`W_1, W_2`, shape (out, in).
        variant: ``"left"``, ``"right"``, ``"preact"`` or ``"plain"`` (see the module).
        eps: :math:`\epsilon` of every batch norm.

    Shape:
        ``x``: :math:`(*, m, d)`; ``W_1``, ``W_2``: :math:`(*, d, d)`; output :math:`(*, m, d)`.
    """
    _check(x, eps, 2, W_1=W_1, W_2=W_2)
    if W_1.shape != W_2.shape:
        raise ValueError(f"W_2 must have the shape of W_1, {tuple(W_1.shape)}, got {W_2.shape}")
    return stack(x, torch.stack([W_1, W_2], dim=-3).unsqueeze(-4), variant=variant, eps=eps)


def stack(
    x: torch.Tensor, weight: torch.Tensor, *, variant: str, eps: float = 1e-5
) -> torch.Tensor:
    r"""A stack of :math:`n` blocks: :math:`h_0 = x`, :math:`h_l = B(h_{l-1}; W^{(l)})`.

    Args:
        x: the input mini-batch :math:`x`.
        weight: the weights; ``weight[..., l, 0]`` is :math:`W_1` and ``weight[..., l, 1]`` is
            :math:`W_2` of block :math:`l + 1`.
        variant: ``"left"``, ``"right"``, ``"preact"`` or ``"plain"``.
        eps: :math:`\epsilon` of every batch norm.

    Shape:
        ``x``: :math:`(*, m, d)`; ``weight``: :math:`(*, n, 2, d, d)`; output :math:`(*, m, d)`.
    """
    _check(x, eps, weight=weight)
    _validate.one_of("variant", variant, VARIANTS)

    def bn_relu(h: torch.Tensor) -> torch.Tensor:
        return torch.relu(_normalize(h, eps)[0])

    h = x
    for k in range(weight.shape[-4]):
        W_1, W_2 = weight[..., k, 0, :, :], weight[..., k, 1, :, :]
        if variant == "preact":
            h = h + bn_relu(bn_relu(h) @ W_1.mT) @ W_2.mT
            continue
        u = bn_relu(h @ W_1.mT) @ W_2.mT
        if variant == "right":
            h = bn_relu(h + u)
        else:
            branch = bn_relu(u)
            h = h + branch if variant == "left" else branch
    return h


def stack_jacobians(
    x: torch.Tensor, weight: torch.Tensor, *, variant: str, eps: float = 1e-5
) -> torch.Tensor:
    r"""The input-output Jacobians :math:`\partial h_l/\partial x` of the first :math:`l` blocks.

    The product of the block Jacobians, last block first: :math:`J_l \cdots J_1`, each in
    closed form, formed by applying the layer Jacobians in turn to the :math:`md` unit vectors
    (batch norm's through :func:`~derived.batch_norm.batch_norm_backward`, since its per-feature
    Jacobian is symmetric).

    Args: as for :func:`stack`.

    Shape:
        ``x``: :math:`(*, m, d)`; ``weight``: :math:`(*, n, 2, d, d)`; output
        :math:`(*, n, md, md)`, entry ``[..., l - 1, :, :]`` is :math:`\partial h_l/\partial x`.
    """
    _check(x, eps, weight=weight)
    _validate.one_of("variant", variant, VARIANTS)
    m, d = x.shape[-2:]
    # Push the md basis tangents e_(j, l) through the blocks: column (j, l) of the Jacobian.
    T = torch.eye(m * d, dtype=x.dtype, device=x.device).reshape(m * d, m, d)
    T = T.expand(*x.shape[:-2], m * d, m, d)
    h, prefixes = x, []
    for k in range(weight.shape[-4]):
        h, T = _block(h, weight[..., k, 0, :, :], weight[..., k, 1, :, :], T, variant, eps)
        prefixes.append(T.reshape(*T.shape[:-2], m * d).mT)
    return torch.stack(prefixes, dim=-3)


def kaiming_weight(
    n: int,
    d: int,
    *,
    generator: torch.Generator,
    batch_shape: tuple[int, ...] = (),
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""Weights for :func:`stack` drawn i.i.d. :math:`\mathcal N(0, 2/d)` (He et al., 2015).

    Args:
        n: number of blocks :math:`n \ge 1`.
        d: width :math:`d \ge 1`.
        generator: the source of randomness.
        batch_shape: leading dimensions, one independent network per entry.

    Shape:
        output :math:`(*\text{batch\_shape}, n, 2, d, d)`.
    """
    _validate.positive_int("n", n)
    _validate.positive_int("d", d)
    _validate.generator("generator", generator)
    _validate.float_dtype("dtype", dtype)
    device = _validate.device("device", device)
    shape = (*_validate.shape("batch_shape", batch_shape), n, 2, d, d)
    w = torch.randn(shape, generator=generator, dtype=dtype, device=generator.device)
    return (w * math.sqrt(2 / d)).to(device if device is not None else generator.device)
