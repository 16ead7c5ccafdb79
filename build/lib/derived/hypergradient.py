r"""Backpropagation through :math:`K` momentum steps by inverting them, not storing them.

Training by gradient descent with momentum (:mod:`derived.reversible`) for :math:`K` steps makes
the final parameters a function of the learning rate :math:`\alpha` and the momentum
:math:`\beta`; their gradients, the *hypergradients*, come from backpropagating a loss of the
final state through all :math:`K` steps. Autograd stores what every step needs, memory linear in
:math:`K` (:mod:`derived.autograd_memory` counts it). Because each step is invertible, the
backward pass can instead recompute each earlier state from the later one just before it needs it
(Maclaurin et al., 2015): :func:`reversible_hypergradient`, memory :math:`O(D)` whatever
:math:`K`. Page equation ``momentum-inverse-adjoint``.
"""

from typing import NamedTuple

import torch

from derived import _validate
from derived.reversible import Gradient, _hyper, _inverse, _nonzero, _state


def _adjoint(theta: torch.Tensor, grad_theta: torch.Tensor, grad_p: torch.Tensor) -> None:
    _state(grad_theta, grad_p, ("grad_theta", "grad_p"))
    _state(theta, grad_theta, ("theta", "grad_theta"))


def momentum_step_vjp(
    theta: torch.Tensor,
    p: torch.Tensor,
    grad_theta: torch.Tensor,
    grad_p: torch.Tensor,
    *,
    grad_J: Gradient,
    alpha: float,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""The chain rule through one step, from :math:`(\bar\theta', \bar p')` back to its inputs.

    With :math:`\bar q = \bar p' + \bar\theta'`, the gradient reaching :math:`p'`:

    .. math::

        \bar\theta = \bar\theta' - \alpha \nabla^2 J(\theta)\,\bar q,\quad
        \bar p = \beta \bar q,\quad
        \bar\alpha = -\nabla J(\theta)^\top \bar q,\quad
        \bar\beta = p^\top \bar q

    (page equation ``momentum-inverse-adjoint``); the Hessian-vector product is one backward pass
    through ``grad_J``.

    Args:
        theta, p: the state :math:`(\theta, p)` *before* the step.
        grad_theta, grad_p: :math:`\bar\theta' = \partial L/\partial\theta'` and
            :math:`\bar p' = \partial L/\partial p'`, gradients with respect to the step's output.
        grad_J, alpha, beta: as in :func:`~derived.reversible.momentum_step` (floats here).

    Returns:
        :math:`(\bar\theta, \bar p, \bar\alpha, \bar\beta)`, the last two 0-d tensors.
    """
    _state(theta, p)
    _adjoint(theta, grad_theta, grad_p)
    _hyper(grad_J, alpha, beta)
    theta = theta.detach().requires_grad_()
    with torch.enable_grad():
        g = grad_J(theta)
    q = grad_p + grad_theta
    # The Hessian is symmetric, so the vector-Jacobian product of grad J is H q.
    (hq,) = torch.autograd.grad(g, theta, grad_outputs=q)
    return grad_theta - alpha * hq, beta * q, -(g.detach() * q).sum(), (p * q).sum()


class Hypergradient(NamedTuple):
    """The initial state recovered by inversion and the gradients of the loss with respect to it."""

    theta: torch.Tensor
    p: torch.Tensor
    grad_theta: torch.Tensor
    grad_p: torch.Tensor
    grad_alpha: torch.Tensor
    grad_beta: torch.Tensor


def reversible_hypergradient(
    theta: torch.Tensor,
    p: torch.Tensor,
    grad_theta: torch.Tensor,
    grad_p: torch.Tensor,
    *,
    grad_J: Gradient,
    alpha: float,
    beta: float,
    steps: int,
) -> Hypergradient:
    r"""Backpropagate through :math:`K` momentum steps from the final state alone.

    Walking back from :math:`k = K-1` to :math:`0`, it recovers :math:`s^{(k)}` from
    :math:`s^{(k+1)}` with :func:`~derived.reversible.momentum_step_inverse`, applies
    :func:`momentum_step_vjp` at :math:`s^{(k)}`, and sums the contributions of the steps to
    :math:`\bar\alpha` and :math:`\bar\beta` (page equation ``momentum-inverse-adjoint``).
    Memory is :math:`O(D)` whatever :math:`K`; the price is that inversion amplifies rounding
    error by about :math:`1/\beta` per step.

    Args:
        theta, p: the final state :math:`s^{(K)}`.
        grad_theta, grad_p: :math:`\partial L/\partial\theta^{(K)}` and
            :math:`\partial L/\partial p^{(K)}` for a loss :math:`L` of the final state.
        grad_J, alpha, beta: as in :func:`~derived.reversible.momentum_step` (floats here).
        steps: :math:`K \ge 1`.

    Returns:
        A :class:`Hypergradient`: the recovered :math:`s^{(0)}`, and :math:`\partial L/\partial
        \theta^{(0)}`, :math:`\partial L/\partial p^{(0)}`, :math:`\partial L/\partial\alpha`,
        :math:`\partial L/\partial\beta` (0-d tensors for the last two).
    """
    _state(theta, p)
    _adjoint(theta, grad_theta, grad_p)
    _hyper(grad_J, alpha, beta)
    _validate.positive_int("steps", steps)
    _nonzero("beta", beta)
    theta, p = theta.detach(), p.detach()
    grad_alpha = torch.zeros((), dtype=theta.dtype, device=theta.device)
    grad_beta = torch.zeros_like(grad_alpha)
    for _ in range(steps):
        theta, p = _inverse(theta, p, grad_J=grad_J, alpha=alpha, beta=beta)
        grad_theta, grad_p, d_alpha, d_beta = momentum_step_vjp(
            theta, p, grad_theta, grad_p, grad_J=grad_J, alpha=alpha, beta=beta
        )
        grad_alpha, grad_beta = grad_alpha + d_alpha, grad_beta + d_beta
    return Hypergradient(theta, p, grad_theta, grad_p, grad_alpha, grad_beta)
