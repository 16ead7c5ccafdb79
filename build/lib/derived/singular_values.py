r"""Singular values of matrices and of their products and sums.

The pages on recurrent and residual networks bound the singular values of a deep network's
input-output Jacobian, a product of layer Jacobians, through three facts (page
``residual-singular-values`` and ``residual-benefits``):

.. math::

    \sigma_{\max}(AB) \le \sigma_{\max}(A)\,\sigma_{\max}(B),

    \sigma_{\min}(AB) \ge \sigma_{\min}(A)\,\sigma_{\min}(B),

    \sigma_i(A + B) \ge \sigma_i(A) - \sigma_{\max}(B),

the last being Weyl's perturbation inequality, for square matrices. Nothing bounds
:math:`\sigma_{\max}(AB)` from below by the factors' :math:`\sigma_{\max}`.
"""

from collections.abc import Sequence

import torch

from derived import _validate


def _matrix(name: str, A: object) -> torch.Tensor:
    _validate.float_tensor(name, A)
    if A.dim() < 2:
        raise ValueError(f"{name} must have at least 2 dimensions, got shape {tuple(A.shape)}")
    return A


def sigma_max(A: torch.Tensor) -> torch.Tensor:
    r"""The largest singular value :math:`\sigma_{\max}(A) = \max_{\|v\|=1} \|Av\|`.

    Args:
        A: a matrix, or a batch of matrices.

    Shape:
        ``A``: :math:`(*, m, n)`; output: :math:`(*)`.
    """
    return torch.linalg.svdvals(_matrix("A", A))[..., 0]


def sigma_min(A: torch.Tensor) -> torch.Tensor:
    r"""The smallest singular value :math:`\sigma_{\min}(A)`, the :math:`\min(m, n)`-th one.

    For a square :math:`A` it is :math:`\min_{\|v\|=1}\|Av\|`, zero exactly when :math:`A` is
    singular.

    Shape:
        ``A``: :math:`(*, m, n)`; output: :math:`(*)`.
    """
    return torch.linalg.svdvals(_matrix("A", A))[..., -1]


def scale_to_sigma_max(A: torch.Tensor, sigma: float) -> torch.Tensor:
    r"""The multiple :math:`\frac{\sigma}{\sigma_{\max}(A)}\,A`, whose largest singular value is
    :math:`\sigma`.

    Args:
        A: a non-zero matrix.
        sigma: the target :math:`\sigma > 0`.

    Shape:
        ``A``: :math:`(m, n)`; output: :math:`(m, n)`.
    """
    top = sigma_max(_validate.has_ndim("A", _matrix("A", A), 2, "(m, n)"))
    _validate.positive_float("sigma", sigma)
    if top == 0:
        raise ValueError("A must not be the zero matrix")
    return A * (sigma / top)


def with_singular_values(
    s: torch.Tensor, *, generator: torch.Generator, symmetric: bool = False
) -> torch.Tensor:
    r"""A random square matrix :math:`U \operatorname{diag}(s) V^\top` with singular values ``s``.

    :math:`U` and :math:`V` are independent random orthogonal matrices (QR of Gaussian
    matrices, with the signs fixed so that they are Haar distributed). With ``symmetric=True``
    the matrix is :math:`Q \operatorname{diag}(\varepsilon \odot s)\, Q^\top` instead, with random
    signs :math:`\varepsilon_i = \pm 1`: symmetric, with eigenvalues :math:`\pm s_i`.

    Args:
        s: the singular values :math:`s_i \ge 0`; a batch of vectors gives a batch of matrices.
        generator: the source of randomness.
        symmetric: return symmetric matrices.

    Shape:
        ``s``: :math:`(*, n)`; output: :math:`(*, n, n)`, on the device and dtype of ``s``.
    """
    _validate.float_tensor("s", s)
    _validate.generator("generator", generator)
    _validate.boolean("symmetric", symmetric)
    if s.dim() < 1:
        raise ValueError(f"s must have at least 1 dimension, got shape {tuple(s.shape)}")
    if (s < 0).any():
        raise ValueError(f"s must be non-negative, got {s.min().item()}")
    n = s.shape[-1]

    def orthogonal() -> torch.Tensor:
        G = torch.randn(*s.shape, n, dtype=s.dtype, generator=generator, device=generator.device)
        Q, R = torch.linalg.qr(G)
        return (Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))[..., None, :]).to(s.device)

    U = orthogonal()
    if symmetric:
        signs = torch.randint(0, 2, s.shape, generator=generator, device=generator.device)
        signs = signs.to(s) * 2 - 1
        return U @ torch.diag_embed(signs * s) @ U.mT
    return U @ torch.diag_embed(s) @ orthogonal().mT


def weyl_lower_bound(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    r"""Weyl's lower bounds :math:`\sigma_i(A + B) \ge \max(\sigma_i(A) - \sigma_{\max}(B), 0)`.

    Singular values are listed in descending order, as :func:`torch.linalg.svdvals` returns
    them (page equation ``residual-singular-values-weyl``). The absolute value
    :math:`|\sigma_i(A) - \sigma_{\max}(B)|` is *not* a bound: :math:`A = 0` and a singular
    :math:`B \ne 0` break it.

    Shape:
        ``A``, ``B``: :math:`(n, n)`; output: :math:`(n)`, the bound on each
        :math:`\sigma_i(A + B)`.
    """
    _matrix("A", A)
    _matrix("B", B)
    if A.shape != B.shape:
        raise ValueError(f"B must have the shape of A, {tuple(A.shape)}, got {tuple(B.shape)}")
    return (torch.linalg.svdvals(A) - sigma_max(B)).clamp(min=0)


def product_bounds(matrices: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The bounds :math:`\prod_t \sigma_{\min}(M_t) \le \sigma_{\min}(\prod_t M_t)` and
    :math:`\sigma_{\max}(\prod_t M_t) \le \prod_t \sigma_{\max}(M_t)` for square factors.

    Args:
        matrices: the factors :math:`M_1, \dots, M_k`, square and of one size.

    Returns:
        The lower bound on :math:`\sigma_{\min}` and the upper bound on :math:`\sigma_{\max}` of
        the product, as 0-dimensional tensors.
    """
    if not isinstance(matrices, list | tuple):
        raise TypeError(f"matrices must be a list of tensors, got {type(matrices).__name__}")
    if len(matrices) == 0:
        raise ValueError("matrices must not be empty")
    n = _matrix("matrices", matrices[0]).shape[-1]
    for M in matrices:
        if _matrix("matrices", M).shape != (n, n):
            raise ValueError(f"matrices must be square, all ({n}, {n}), got {tuple(M.shape)}")
    s = torch.linalg.svdvals(torch.stack(list(matrices)))
    return s[:, -1].prod(), s[:, 0].prod()
