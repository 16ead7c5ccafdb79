r"""Gradient descent with momentum as a reversible map, and backpropagation through it.

One step maps the state :math:`s = (\theta, p)` to :math:`f(s) = (\theta', p')` with

.. math::

    p' = \beta p - \alpha \nabla J(\theta), \qquad \theta' = \theta + p'

(page equation ``momentum-inverse-step``). For :math:`\beta \ne 0` it is invertible
(``momentum-inverse-inverse``): first :math:`\theta = \theta' - p'`, then
:math:`p = (p' + \alpha\nabla J(\theta))/\beta`. Its Jacobian is the product of a shear and a
block-triangular matrix, with determinant :math:`\beta^D` (``momentum-jacobian-det-det``).

The inverse lets backpropagation through :math:`K` steps recompute each earlier state from the
final one instead of storing all :math:`K` of them (Maclaurin et al., 2015), which is what
:func:`reversible_hypergradient` does (:mod:`derived.autograd_memory` measures what autograd
would store instead).
"""

from collections.abc import Callable
from typing import NamedTuple

import torch

from derived import _validate

#: :math:`\nabla J`, the gradient of the training objective, as a differentiable function.
Gradient = Callable[[torch.Tensor], torch.Tensor]
Scalar = float | torch.Tensor


def _state(theta: torch.Tensor, p: torch.Tensor, names: tuple[str, str] = ("theta", "p")) -> None:
    _validate.float_tensor(names[0], theta)
    _validate.float_tensor(names[1], p)
    if p.shape != theta.shape:
        shapes = f"{tuple(theta.shape)}, got {tuple(p.shape)}"
        raise ValueError(f"{names[1]} must have the shape of {names[0]} {shapes}")


def _adjoint(theta: torch.Tensor, grad_theta: torch.Tensor, grad_p: torch.Tensor) -> None:
    _state(grad_theta, grad_p, ("grad_theta", "grad_p"))
    _state(theta, grad_theta, ("theta", "grad_theta"))


def _hyper(grad_J: Gradient, alpha: Scalar, beta: Scalar, theta: torch.Tensor | None = None):
    """Check ``grad_J`` and the step sizes: numbers or, given ``theta``, tensors that broadcast
    against it."""
    _validate.function("grad_J", grad_J)
    for name, value in (("alpha", alpha), ("beta", beta)):
        _validate.scalar(name, value, theta, "theta")


def _nonzero(name: str, value: Scalar) -> Scalar:
    zero = value == 0  # a bool for a number, a tensor for a tensor, wherever it lives
    if zero.any() if isinstance(zero, torch.Tensor) else zero:
        raise ValueError(f"{name} must be nonzero for the step to be invertible, got 0")
    return value


def momentum_step(
    theta: torch.Tensor, p: torch.Tensor, *, grad_J: Gradient, alpha: Scalar, beta: Scalar
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step :math:`p' = \beta p - \alpha\nabla J(\theta)`, :math:`\theta' = \theta + p'`.

    Page equation ``momentum-inverse-step``.

    Args:
        theta: parameters :math:`\theta`.
        p: velocity :math:`p`, the shape of ``theta``.
        grad_J: :math:`\nabla J`, maps ``theta`` to a tensor of its shape.
        alpha: learning rate :math:`\alpha`: a float, or a tensor (which autograd may track)
            that broadcasts against ``theta``, to run several values at once.
        beta: momentum :math:`\beta`, likewise.

    Returns:
        :math:`(\theta', p')`, each the shape of ``theta``.
    """
    _state(theta, p)
    _hyper(grad_J, alpha, beta, theta)
    return _step(theta, p, grad_J=grad_J, alpha=alpha, beta=beta)


def _step(theta, p, *, grad_J, alpha, beta):
    p_next = beta * p - alpha * grad_J(theta)
    return theta + p_next, p_next


def _inverse(theta, p, *, grad_J, alpha, beta):
    # theta first: the gradient must be taken where the step took it.
    theta_prev = theta - p
    return theta_prev, (p + alpha * grad_J(theta_prev)) / beta


def momentum_step_inverse(
    theta: torch.Tensor, p: torch.Tensor, *, grad_J: Gradient, alpha: Scalar, beta: Scalar
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The inverse step: :math:`\theta = \theta' - p'`, then :math:`p = (p' + \alpha g)/\beta`.

    Here :math:`g = \nabla J(\theta)` (page equation ``momentum-inverse-inverse``). The order
    matters: :math:`\nabla J` is evaluated at the *recovered* :math:`\theta`, which must be
    computed first.

    Args:
        theta: parameters :math:`\theta'` after the step.
        p: velocity :math:`p'` after the step, the shape of ``theta``.
        grad_J, alpha: as in :func:`momentum_step`.
        beta: momentum :math:`\beta \ne 0`.

    Returns:
        :math:`(\theta, p)` before the step.
    """
    _state(theta, p)
    _hyper(grad_J, alpha, beta, theta)
    _nonzero("beta", beta)
    return _inverse(theta, p, grad_J=grad_J, alpha=alpha, beta=beta)


def momentum_descent(
    theta: torch.Tensor,
    p: torch.Tensor,
    *,
    grad_J: Gradient,
    alpha: Scalar,
    beta: Scalar,
    steps: int,
    inverse: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`K` steps, :math:`s^{(K)} = f^K(s^{(0)})`, or with ``inverse=True`` :math:`f^{-K}`.

    Args:
        theta, p: the state :math:`s = (\theta, p)`.
        grad_J, alpha, beta: as in :func:`momentum_step`.
        steps: :math:`K \ge 1`.
        inverse: apply :func:`momentum_step_inverse` instead, undoing ``steps`` steps.

    Returns:
        The state after the :math:`K` steps (differentiable through them, like any PyTorch code).
        Only the input is checked: an inverse that overflows returns inf or NaN, it does not raise.
    """
    _state(theta, p)
    _hyper(grad_J, alpha, beta, theta)
    _validate.positive_int("steps", steps)
    if _validate.boolean("inverse", inverse):
        _nonzero("beta", beta)
    step = _inverse if inverse else _step
    for _ in range(steps):
        theta, p = step(theta, p, grad_J=grad_J, alpha=alpha, beta=beta)
    return theta, p


def momentum_jacobian_factors(
    theta: torch.Tensor, *, grad_J: Gradient, alpha: float, beta: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The Jacobians of the two half-steps, in the order :math:`s = (\theta, p)`.

    .. math::

        \frac{\partial s'}{\partial s} =
        \begin{pmatrix} I & I \\ 0 & I \end{pmatrix}
        \begin{pmatrix} I & 0 \\ -\alpha\nabla^2 J(\theta) & \beta I \end{pmatrix}

    Page equation ``momentum-jacobian-det-factors``. The Hessian :math:`\nabla^2 J` is the
    Jacobian of ``grad_J`` (forward-mode autograd).

    Args:
        theta: parameters :math:`\theta`, a vector of length :math:`D`.
        grad_J, alpha, beta: as in :func:`momentum_step`.

    Returns:
        ``(shear, velocity_update)``, each :math:`(2D, 2D)`; their product is
        :func:`momentum_jacobian`.
    """
    _validate.float_tensor("theta", theta)
    if theta.dim() != 1:
        raise ValueError(f"theta must be a vector, got shape {tuple(theta.shape)}")
    _hyper(grad_J, alpha, beta)
    D = theta.numel()
    eye = torch.eye(D, dtype=theta.dtype, device=theta.device)
    zero = torch.zeros_like(eye)
    hessian = torch.func.jacfwd(grad_J)(theta)
    shear = torch.cat([torch.cat([eye, eye], 1), torch.cat([zero, eye], 1)])
    velocity_update = torch.cat(
        [torch.cat([eye, zero], 1), torch.cat([-alpha * hessian, beta * eye], 1)]
    )
    return shear, velocity_update


def momentum_jacobian(
    theta: torch.Tensor, *, grad_J: Gradient, alpha: float, beta: float
) -> torch.Tensor:
    r"""The Jacobian of one step, the product of :func:`momentum_jacobian_factors`.

    .. math::

        \frac{\partial s'}{\partial s} =
        \begin{pmatrix} I - \alpha H & \beta I \\ -\alpha H & \beta I \end{pmatrix},
        \qquad H = \nabla^2 J(\theta).

    Shape: :math:`(2D, 2D)` for :math:`\theta` of length :math:`D`.
    """
    shear, velocity_update = momentum_jacobian_factors(theta, grad_J=grad_J, alpha=alpha, beta=beta)
    return shear @ velocity_update


def momentum_jacobian_slogdet(dim: int, *, beta: float) -> tuple[float, float]:
    r""":math:`\det \partial s'/\partial s = \beta^D`, as ``(sign, log|det|)`` like ``slogdet``.

    Page equation ``momentum-jacobian-det-det``: the shear has determinant 1 and the
    block-triangular factor :math:`\beta^D`, whatever :math:`J`, :math:`\alpha` and :math:`\theta`.

    Args:
        dim: :math:`D`, the number of parameters.
        beta: momentum :math:`\beta \ne 0`.

    Returns:
        :math:`(\operatorname{sign}(\beta)^D, D \log|\beta|)`.
    """
    _validate.positive_int("dim", dim)
    _nonzero("beta", _validate.real("beta", beta))
    sign = 1.0 if beta > 0 or dim % 2 == 0 else -1.0
    return sign, dim * torch.tensor(abs(beta), dtype=torch.float64).log().item()


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

    With :math:`\bar v = \bar p' + \bar\theta'`, the gradient reaching :math:`p'`:

    .. math::

        \bar\theta = \bar\theta' - \alpha \nabla^2 J(\theta)\,\bar v,\quad
        \bar p = \beta \bar v,\quad
        \bar\alpha = -\nabla J(\theta)^\top \bar v,\quad
        \bar\beta = p^\top \bar v

    (page equation ``momentum-inverse-adjoint``); the Hessian-vector product is one backward pass
    through ``grad_J``.

    Args:
        theta, p: the state :math:`(\theta, p)` *before* the step.
        grad_theta, grad_p: :math:`\bar\theta' = \partial L/\partial\theta'` and
            :math:`\bar p' = \partial L/\partial p'`, gradients with respect to the step's output.
        grad_J, alpha, beta: as in :func:`momentum_step` (floats here).

    Returns:
        :math:`(\bar\theta, \bar p, \bar\alpha, \bar\beta)`, the last two 0-d tensors.
    """
    _state(theta, p)
    _adjoint(theta, grad_theta, grad_p)
    _hyper(grad_J, alpha, beta)
    theta = theta.detach().requires_grad_()
    with torch.enable_grad():
        g = grad_J(theta)
    v = grad_p + grad_theta
    # The Hessian is symmetric, so the vector-Jacobian product of grad J is H v.
    (hv,) = torch.autograd.grad(g, theta, grad_outputs=v)
    return grad_theta - alpha * hv, beta * v, -(g.detach() * v).sum(), (p * v).sum()


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
    :math:`s^{(k+1)}` with :func:`momentum_step_inverse`, applies :func:`momentum_step_vjp` at
    :math:`s^{(k)}`, and sums the contributions of the steps to :math:`\bar\alpha` and
    :math:`\bar\beta` (page equation ``momentum-inverse-adjoint``). Memory is :math:`O(D)`
    whatever :math:`K`; the price is that inversion amplifies rounding error by about
    :math:`1/\beta` per step.

    Args:
        theta, p: the final state :math:`s^{(K)}`.
        grad_theta, grad_p: :math:`\partial L/\partial\theta^{(K)}` and
            :math:`\partial L/\partial p^{(K)}` for a loss :math:`L` of the final state.
        grad_J, alpha, beta: as in :func:`momentum_step` (floats here).
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
