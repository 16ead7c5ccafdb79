r"""Backpropagation through the residual MLP of :mod:`derived.residual_mlp`, written out by hand.

With :math:`z_\ell = A_\ell y_{\ell-1} + b_\ell` and
:math:`D_\ell = \operatorname{diag}(\sigma'(z_\ell))` (page ``residual-mlp-backprop``), a hidden
layer's Jacobian is :math:`\partial y_\ell/\partial y_{\ell-1} = D_\ell A_\ell + I` (without the
:math:`I` for the plain MLP), the output layer's is :math:`A_L`, and the gradients of the scalar
output :math:`y_L` with respect to every :math:`A_\ell` and :math:`b_\ell` follow from the
products of these Jacobians. Parameters are lists as in :mod:`derived.residual_mlp`.
"""

from collections.abc import Sequence

import torch

from derived import _validate
from derived.residual_mlp import ACTIVATIONS, forward


def layer_jacobian(
    y_prev: torch.Tensor,
    A_l: torch.Tensor,
    b_l: torch.Tensor,
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> torch.Tensor:
    r"""The hidden layer's Jacobian :math:`\partial y_\ell/\partial y_{\ell-1} = D_\ell A_\ell + I`.

    :math:`D_\ell = \operatorname{diag}(\sigma'(A_\ell y_{\ell-1} + b_\ell))`; without the
    residual connection the :math:`I` is absent (page equation ``residual-mlp-backprop-layer``).

    Shape:
        ``y_prev``: :math:`(m)`; ``A_l``: :math:`(m, m)`; ``b_l``: :math:`(m)`; output
        :math:`(m, m)`.
    """
    _validate.float_tensor("A_l", A_l)
    m = A_l.shape[0] if A_l.dim() else 0
    _validate.has_shape("A_l", A_l, (m, m))
    _validate.has_shape("y_prev", _validate.float_tensor("y_prev", y_prev), (m,))
    _validate.has_shape("b_l", _validate.float_tensor("b_l", b_l), (m,))
    _validate.boolean("residual", residual)
    slope = ACTIVATIONS[_validate.one_of("activation", activation, ACTIVATIONS)][1]
    D_A = slope(A_l @ y_prev + b_l)[:, None] * A_l
    if residual:
        return D_A + torch.eye(A_l.shape[0], dtype=A_l.dtype, device=A_l.device)
    return D_A


def output_gradients(
    x: torch.Tensor,
    A: Sequence[torch.Tensor],
    b: Sequence[torch.Tensor],
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> list[torch.Tensor]:
    r"""The row vectors :math:`\partial y_L/\partial y_\ell`, :math:`\ell = 1, \dots, L - 1`.

    :math:`\partial y_L/\partial y_{L-1} = A_L` and, going back,
    :math:`\partial y_L/\partial y_{\ell} = (\partial y_L/\partial y_{\ell+1})(D_{\ell+1}A_{\ell+1}
    + I)` (page equation ``residual-mlp-backprop-chain``).

    Returns:
        :math:`L - 1` tensors of shape :math:`(m)`; entry ``ell - 1`` is
        :math:`\partial y_L/\partial y_\ell`.
    """
    y = forward(x, A, b, activation=activation, residual=residual)
    L = len(A)
    g = [A[-1][0]]
    for ell in range(L - 1, 1, -1):  # the layers ell = L-1, ..., 2
        J = layer_jacobian(
            y[ell - 1], A[ell - 1], b[ell - 1], activation=activation, residual=residual
        )
        g.insert(0, g[0] @ J)
    return g


def parameter_gradients(
    x: torch.Tensor,
    A: Sequence[torch.Tensor],
    b: Sequence[torch.Tensor],
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    r"""The gradients :math:`\partial y_L/\partial A_\ell` and :math:`\partial y_L/\partial b_\ell`.

    For :math:`\ell < L`, with :math:`\delta_\ell = \sigma'(A_\ell y_{\ell-1} + b_\ell) \odot
    (\partial y_L/\partial y_\ell)^\top`:
    :math:`\partial y_L/\partial b_\ell = \delta_\ell` and
    :math:`\partial y_L/\partial A_\ell = \delta_\ell\, y_{\ell-1}^\top`; for the output layer
    :math:`\partial y_L/\partial b_L = 1` and :math:`\partial y_L/\partial A_L = y_{L-1}^\top`
    (page equations ``residual-mlp-backprop-b`` and ``residual-mlp-backprop-A``).

    Returns:
        The lists of gradients, each in the shape of its parameter, as ``.grad`` would hold them.
    """
    y = forward(x, A, b, activation=activation, residual=residual)
    g = output_gradients(x, A, b, activation=activation, residual=residual)
    slope = ACTIVATIONS[activation][1]
    grad_A, grad_b = [], []
    for ell in range(1, len(A)):
        delta = slope(A[ell - 1] @ y[ell - 1] + b[ell - 1]) * g[ell - 1]
        grad_b.append(delta)
        grad_A.append(torch.outer(delta, y[ell - 1]))
    grad_b.append(torch.ones_like(b[-1]))
    grad_A.append(y[-2][None, :].clone())
    return grad_A, grad_b


def hidden_jacobian(
    x: torch.Tensor,
    A: Sequence[torch.Tensor],
    b: Sequence[torch.Tensor],
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> torch.Tensor:
    r"""The Jacobian of the hidden stack,
    :math:`\partial y_{L-1}/\partial y_1 = \prod_{\ell=L-1}^{2} (D_\ell A_\ell + I)`.

    The product of the :math:`L - 2` hidden layers' Jacobians, the last on the left; the identity
    for :math:`L = 2` (page ``residual-benefits``).

    Shape:
        output: :math:`(m, m)`.
    """
    y = forward(x, A, b, activation=activation, residual=residual)
    jacobian = torch.eye(y[1].shape[0], dtype=y[1].dtype, device=y[1].device)
    for ell in range(2, len(A)):
        J = layer_jacobian(
            y[ell - 1], A[ell - 1], b[ell - 1], activation=activation, residual=residual
        )
        jacobian = J @ jacobian
    return jacobian
