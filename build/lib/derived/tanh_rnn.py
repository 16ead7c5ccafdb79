r"""The tanh recurrence :math:`x_{t+1} = \tanh(W x_t)` and its input-output Jacobian.

Unrolled, it is a deep network that applies the same weight matrix :math:`W` at every layer.
Its layer Jacobian and the Jacobian from :math:`x_1` to :math:`x_n` (page ``rnn-jacobian``) are

.. math::

    J_t = \frac{\partial x_{t+1}}{\partial x_t}
        = \operatorname{diag}\!\left(1 - \tanh^2(W x_t)\right) W,
    \qquad
    \frac{\partial x_n}{\partial x_1} = J_{n-1} J_{n-2} \cdots J_1 ,

a product of :math:`n - 1` factors, so
:math:`\sigma_{\max}(\partial x_n/\partial x_1) \le \sigma_{\max}(W)^{n-1}`.
"""

import torch

from derived import _validate


def _check(x: torch.Tensor, W: torch.Tensor, name: str = "x_1") -> None:
    _validate.float_tensor(name, x)
    _validate.float_tensor("W", W)
    if W.dim() != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {tuple(W.shape)}")
    if x.shape != W.shape[:1]:
        raise ValueError(f"{name} must have shape ({W.shape[0]},) to match W, got {tuple(x.shape)}")


def tanh_rnn(x_1: torch.Tensor, W: torch.Tensor, n: int) -> torch.Tensor:
    r"""The states :math:`x_1, \dots, x_n` of :math:`x_{t+1} = \tanh(W x_t)`.

    Args:
        x_1: the first state :math:`x_1`.
        W: the recurrent weight matrix :math:`W`, square.
        n: the index of the last state, :math:`n \ge 1`.

    Shape:
        ``x_1``: :math:`(d)`; ``W``: :math:`(d, d)`; output: :math:`(n, d)`, row :math:`t - 1`
        holds :math:`x_t`.
    """
    _check(x_1, W)
    _validate.positive_int("n", n)
    x = [x_1]
    for _ in range(n - 1):
        x.append(torch.tanh(W @ x[-1]))
    return torch.stack(x)


def step_jacobian(x_t: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    r"""One layer's Jacobian :math:`J_t = \operatorname{diag}(1 - \tanh^2(W x_t))\, W`.

    Page equation ``rnn-jacobian-step``. The diagonal factor stands on the *left*: row
    :math:`i` of :math:`W` is scaled by the slope of unit :math:`i`.

    Shape:
        ``x_t``: :math:`(d)`; ``W``: :math:`(d, d)`; output: :math:`(d, d)`.
    """
    _check(x_t, W, "x_t")
    slope = 1 - torch.tanh(W @ x_t) ** 2
    return slope[:, None] * W


def input_output_jacobian(x_1: torch.Tensor, W: torch.Tensor, n: int) -> torch.Tensor:
    r"""The Jacobian :math:`\partial x_n/\partial x_1 = J_{n-1} \cdots J_1`; :math:`I` for
    :math:`n = 1`.

    Page equation ``rnn-jacobian-product``.

    Args:
        x_1: the first state :math:`x_1`.
        W: the recurrent weight matrix :math:`W`, square.
        n: the index of the last state, :math:`n \ge 1`.

    Shape:
        output: :math:`(d, d)`.
    """
    x = tanh_rnn(x_1, W, n)
    jacobian = torch.eye(W.shape[0], dtype=W.dtype, device=W.device)
    for t in range(n - 1):
        jacobian = step_jacobian(x[t], W) @ jacobian
    return jacobian


def jacobian_bound(sigma_max_W: float, n: int) -> float:
    r"""The bound :math:`\sigma_{\max}(\partial x_n/\partial x_1) \le \sigma_{\max}(W)^{n-1}`.

    Page equation ``rnn-jacobian-bound``: :math:`n - 1` layer Jacobians, each with
    :math:`\sigma_{\max}(J_t) \le \sigma_{\max}(W)` because :math:`0 < \tanh' \le 1`.

    Args:
        sigma_max_W: :math:`\sigma_{\max}(W) \ge 0`.
        n: the index of the last state, :math:`n \ge 1`.
    """
    _validate.positive_int("n", n)
    return _validate.non_negative_float("sigma_max_W", sigma_max_W) ** (n - 1)
