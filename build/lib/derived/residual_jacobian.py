r"""The Jacobian of a residual layer :math:`z_{t+1} = z_t + f_t(z_t)`: :math:`I + F`.

With :math:`F = \partial f_t/\partial z_t`, the layer Jacobian is
:math:`\partial z_{t+1}/\partial z_t = I + F`. If the singular values of :math:`F` split into
small ones :math:`\le \sigma_{\text{small}}` and big ones :math:`\ge \sigma_{\text{big}}`, then
(page ``residual-singular-values``)

.. math::

    \sigma_{\max}(I + F) \ge \sigma_{\text{big}} - 1 \quad\text{always (Weyl)},

    \sigma_{\min}(I + F) \ge 1 - \sigma_{\text{small}} \quad\text{only for normal } F
    \text{ (and } \sigma_{\text{big}} \ge 2\text{)}.

The shear :math:`F = \begin{pmatrix} 0 & b \\ 0 & 0 \end{pmatrix}` breaks the second claim.
"""

import math

import torch

from derived import _validate


def residual_jacobian(F: torch.Tensor) -> torch.Tensor:
    r"""The layer Jacobian :math:`\partial z_{t+1}/\partial z_t = I + F`.

    Args:
        F: the branch Jacobian :math:`F = \partial f_t/\partial z_t`, square.

    Shape:
        ``F``: :math:`(*, n, n)`; output: the same.
    """
    _validate.float_tensor("F", F)
    if F.dim() < 2 or F.shape[-1] != F.shape[-2]:
        raise ValueError(f"F must be a square matrix, got shape {tuple(F.shape)}")
    return F + torch.eye(F.shape[-1], dtype=F.dtype, device=F.device)


def sigma_max_lower_bound(sigma_big: float) -> float:
    r"""Weyl's bound :math:`\sigma_{\max}(I + F) \ge \sigma_{\text{big}} - 1`.

    Page equation ``residual-singular-values-big``; it holds for every square :math:`F` whose
    largest singular value is at least :math:`\sigma_{\text{big}}`.
    """
    return _validate.non_negative_float("sigma_big", sigma_big) - 1


def sigma_min_lower_bound(sigma_small: float) -> float:
    r"""The bound :math:`\sigma_{\min}(I + F) \ge 1 - \sigma_{\text{small}}` for *normal* :math:`F`.

    Page equation ``residual-singular-values-small``. It needs :math:`F` normal (for example
    symmetric) and the big singular values :math:`\ge 2 - \sigma_{\text{small}}`; for a
    non-normal :math:`F` it fails, see :func:`shear`.
    """
    if not 0 <= _validate.real("sigma_small", sigma_small) <= 1:
        raise ValueError(f"sigma_small must be in [0, 1], got {sigma_small}")
    return 1 - sigma_small


def normal_residual_singular_values(F: torch.Tensor) -> torch.Tensor:
    r"""The singular values :math:`|1 + \lambda_i(F)|` of :math:`I + F` for a symmetric :math:`F`.

    A symmetric :math:`F = Q \Lambda Q^\top` gives :math:`I + F = Q (I + \Lambda) Q^\top`, so the
    singular values of :math:`I + F` are :math:`|1 + \lambda_i|`, while those of :math:`F` are
    :math:`|\lambda_i|` (page equation ``residual-singular-values-normal``).

    Shape:
        ``F``: :math:`(n, n)`, symmetric; output: :math:`(n)`, in descending order.
    """
    _validate.float_tensor("F", F)
    if F.dim() != 2 or F.shape[0] != F.shape[1] or not torch.allclose(F, F.T):
        raise ValueError("F must be a symmetric matrix")
    return (1 + torch.linalg.eigvalsh(F)).abs().sort(descending=True).values


def shear(b: float, *, dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    r"""The non-normal branch Jacobian :math:`F = \begin{pmatrix} 0 & b \\ 0 & 0 \end{pmatrix}`.

    Its singular values are :math:`b` and :math:`0`, so :math:`\sigma_{\text{small}} = 0`, yet
    :math:`\sigma_{\min}(I + F)` is about :math:`1/b` (see :func:`shear_sigma_min`).
    """
    b = _validate.positive_float("b", b)
    F = torch.zeros(
        2, 2, dtype=_validate.float_dtype("dtype", dtype), device=_validate.device("device", device)
    )
    F[0, 1] = b
    return F


def shear_sigma_min(b: float) -> float:
    r"""The exact :math:`\sigma_{\min}(I + F) = 2/\left(b + \sqrt{b^2 + 4}\right)` for the shear.

    That is :math:`\tfrac12(\sqrt{b^2 + 4} - b)`, written without the cancellation; it follows
    from :math:`\sigma_{\max}\sigma_{\min} = |\det(I + F)| = 1` and
    :math:`\sigma_{\max}^2 + \sigma_{\min}^2 = \|I + F\|_F^2 = 2 + b^2`
    (page equation ``residual-singular-values-shear``).
    """
    b = _validate.positive_float("b", b)
    return 2 / (b + math.sqrt(b * b + 4))
