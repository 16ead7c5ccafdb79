r"""Batch normalization in training mode, and its Jacobian (Ioffe and Szegedy, 2015).

For one feature over a mini-batch :math:`x_1, \dots, x_m`,

.. math::

    \mu = \frac1m \sum_i x_i, \quad \sigma^2 = \frac1m \sum_i (x_i - \mu)^2,

    s = \sqrt{\sigma^2 + \epsilon}, \quad \hat x_i = \frac{x_i - \mu}{s}, \quad
    y_i = \gamma \hat x_i + \beta,

and the Jacobian of the batch map is (page equation ``batchnorm-jacobian-full``)

.. math::

    \frac{\partial y_i}{\partial x_j} = \frac{\gamma}{s}
    \left(\delta_{ij} - \frac{1 + \hat x_i \hat x_j}{m}\right),

with diagonal :math:`(\gamma/s)\,(1 - (1 + \hat x_i^2)/m)` (``batchnorm-jacobian-diagonal``).
Features do not interact: the Jacobian is block diagonal across features.

Tensors are laid out as in :class:`torch.nn.BatchNorm1d`: the batch is the second-to-last
dimension, the features the last, and any leading dimensions index independent batches.
"""

import torch

from derived import _validate


def _check(x: torch.Tensor, eps: float, **per_feature: torch.Tensor | None) -> float:
    """Check ``x``, ``eps`` and the per-feature tensors (``weight``, ``bias``); return ``eps``."""
    _validate.float_tensor("x", x)
    if x.dim() < 2:
        raise ValueError(f"x must have shape (*, m, C), got {tuple(x.shape)}")
    if x.shape[-2] < 2:
        raise ValueError(f"x must hold a batch of m >= 2 examples, got m = {x.shape[-2]}")
    for name, value in per_feature.items():
        if value is not None and _validate.float_tensor(name, value).shape != x.shape[-1:]:
            raise ValueError(
                f"{name} must have shape (C,) = ({x.shape[-1]},) to match x, "
                f"got {tuple(value.shape)}"
            )
    return _validate.non_negative_float("eps", eps)


def normalize(x: torch.Tensor, *, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The normalized batch :math:`\hat x = (x - \mu)/s` and the scale :math:`s`.

    :math:`s = \sqrt{\sigma^2 + \epsilon}`, with :math:`\sigma^2` the biased batch variance.

    Args:
        x: a mini-batch :math:`x`, :math:`m \ge 2` examples of :math:`C` features.
        eps: :math:`\epsilon \ge 0`, added to the biased batch variance :math:`\sigma^2`.

    Shape:
        ``x``: :math:`(*, m, C)`; returns :math:`\hat x` of shape :math:`(*, m, C)` and
        :math:`s` of shape :math:`(*, 1, C)`.
    """
    return _normalize(x, _check(x, eps))


def _normalize(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    # The biased variance (divide by m), as in the forward pass of training mode.
    variance, mu = torch.var_mean(x, dim=-2, keepdim=True, correction=0)
    s = torch.sqrt(variance + eps)
    return (x - mu) / s, s


def batch_norm(
    x: torch.Tensor,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    *,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Batch normalization in training mode, :math:`y = \gamma \hat x + \beta`.

    Args:
        x: a mini-batch :math:`x`.
        weight: the scale :math:`\gamma` per feature; ``None`` means 1.
        bias: the shift :math:`\beta` per feature; ``None`` means 0.
        eps: :math:`\epsilon \ge 0`.

    Shape:
        ``x``: :math:`(*, m, C)`; ``weight``, ``bias``: :math:`(C)`; output: :math:`(*, m, C)`.
    """
    x_hat, _ = _normalize(x, _check(x, eps, weight=weight, bias=bias))
    y = x_hat if weight is None else weight * x_hat
    return y if bias is None else y + bias


def _gain(s: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    # gamma / s, shape (*, 1, C)
    return 1 / s if weight is None else weight / s


def batch_norm_jacobian(
    x: torch.Tensor, weight: torch.Tensor | None = None, *, eps: float = 1e-5
) -> torch.Tensor:
    r"""The per-feature Jacobians of batch normalization over the batch.

    :math:`\partial y_i/\partial x_j = (\gamma/s)(\delta_{ij} - (1 + \hat x_i \hat x_j)/m)`,
    page equation ``batchnorm-jacobian-full``. The bias :math:`\beta` does not enter.

    Args:
        x: a mini-batch :math:`x`.
        weight: :math:`\gamma` per feature; ``None`` means 1.
        eps: :math:`\epsilon \ge 0`.

    Shape:
        ``x``: :math:`(*, m, C)`; output: :math:`(*, C, m, m)`, entry ``[..., k, i, j]`` is
        :math:`\partial y_{ik}/\partial x_{jk}`.
    """
    x_hat, s = _normalize(x, _check(x, eps, weight=weight))
    m = x.shape[-2]
    x_hat = x_hat.transpose(-1, -2)  # (*, C, m)
    gain = _gain(s, weight).transpose(-1, -2).unsqueeze(-1)  # (*, C, 1, 1)
    identity = torch.eye(m, dtype=x.dtype, device=x.device)
    outer = x_hat.unsqueeze(-1) * x_hat.unsqueeze(-2)
    return gain * (identity - (1 + outer) / m)


def batch_norm_jacobian_diagonal(
    x: torch.Tensor, weight: torch.Tensor | None = None, *, eps: float = 1e-5
) -> torch.Tensor:
    r"""The diagonal :math:`\partial y_i/\partial x_i = (\gamma/s)(1 - (1 + \hat x_i^2)/m)`.

    Page equation ``batchnorm-jacobian-diagonal``: the answer for one example, with the
    batch statistics :math:`\mu` and :math:`s` treated as functions of :math:`x_i`.

    Shape:
        ``x``: :math:`(*, m, C)`; output: :math:`(*, m, C)`, the shape of ``x``.
    """
    x_hat, s = _normalize(x, _check(x, eps, weight=weight))
    m = x.shape[-2]
    return _gain(s, weight) * (1 - (1 + x_hat**2) / m)


def batch_norm_backward(
    grad_output: torch.Tensor,
    x: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""The input gradient :math:`(\gamma/s)(g - \bar g - \hat x\, \overline{g \hat x})`.

    The vector-Jacobian product :math:`\sum_i g_i\, \partial y_i/\partial x_j` of the full
    Jacobian, where bars are batch means (page equation ``batchnorm-backward``).

    Args:
        grad_output: :math:`g = \partial \ell/\partial y`.
        x: the mini-batch the forward pass saw.
        weight: :math:`\gamma` per feature; ``None`` means 1.
        eps: :math:`\epsilon \ge 0`.

    Shape:
        ``grad_output`` and ``x``: :math:`(*, m, C)`; output :math:`(*, m, C)`.
    """
    eps = _check(x, eps, weight=weight)
    _validate.float_tensor("grad_output", grad_output)
    if grad_output.shape != x.shape:
        raise ValueError(
            f"grad_output must have the shape of x, {tuple(x.shape)}, "
            f"got {tuple(grad_output.shape)}"
        )
    return _backward(grad_output, x, weight, eps)


def _backward(
    grad_output: torch.Tensor, x: torch.Tensor, weight: torch.Tensor | None, eps: float
) -> torch.Tensor:
    x_hat, s = _normalize(x, eps)
    g_mean = grad_output.mean(dim=-2, keepdim=True)
    projection = (grad_output * x_hat).mean(dim=-2, keepdim=True)
    return _gain(s, weight) * (grad_output - g_mean - x_hat * projection)


def whole_batch_jacobian(
    x: torch.Tensor, weight: torch.Tensor | None = None, *, eps: float = 1e-5
) -> torch.Tensor:
    r"""The Jacobian of the whole batch map :math:`\mathbb{R}^{m C} \to \mathbb{R}^{m C}`.

    The per-feature blocks of :func:`batch_norm_jacobian` placed on the diagonal over
    features:
    :math:`\partial y_{ik}/\partial x_{jl} = \delta_{kl}\, \partial y_{ik}/\partial x_{jk}`.
    Rows and columns follow ``x.reshape(*, m * C)`` (example-major, as ``torch.flatten``).

    Shape:
        ``x``: :math:`(*, m, C)`; output: :math:`(*, mC, mC)`.
    """
    blocks = batch_norm_jacobian(x, weight, eps=eps)  # (*, C, m, m)
    m, c = x.shape[-2:]
    delta = torch.eye(c, dtype=x.dtype, device=x.device)
    # J[i, k, j, l] = blocks[k, i, j] * delta[k, l]
    full = blocks.movedim(-3, -2).unsqueeze(-1) * delta.unsqueeze(-2)
    return full.reshape(*x.shape[:-2], m * c, m * c)


def jacobian_diagonal_entry(
    x_i: float, mu_B: float, sigma_B: float, *, m: int, weight: float = 1.0, eps: float = 1e-5
) -> float:
    r"""One diagonal entry :math:`\partial y_i/\partial x_i`, from the batch statistics.

    .. math::

        \frac{\partial y_i}{\partial x_i} = \frac{\gamma}{\sqrt{\sigma_B^2 + \epsilon}}
        \left(1 - \frac1m - \frac{(x_i - \mu_B)^2}{m\,(\sigma_B^2 + \epsilon)}\right),

    the first line of page equation ``batchnorm-jacobian-diagonal``, written in :math:`\mu_B`
    and :math:`\sigma_B` as the exercise asks; :func:`batch_norm_jacobian_diagonal` computes
    the same from a batch.

    Args:
        x_i: the example's input :math:`x_i`.
        mu_B: the batch mean :math:`\mu_B`.
        sigma_B: the batch standard deviation :math:`\sigma_B \ge 0` (biased).
        m: the batch size, :math:`m \ge 2`.
        weight: :math:`\gamma`.
        eps: :math:`\epsilon \ge 0`, with :math:`\sigma_B^2 + \epsilon > 0`.
    """
    x_i, mu_B, gamma = (_validate.real(n, v) for n, v in
                        (("x_i", x_i), ("mu_B", mu_B), ("weight", weight)))  # fmt: skip
    sigma_B = _validate.non_negative_float("sigma_B", sigma_B)
    eps = _validate.non_negative_float("eps", eps)
    if _validate.positive_int("m", m) < 2:
        raise ValueError(f"m must be at least 2, got {m}")
    s2 = sigma_B**2 + eps  # s^2
    if s2 <= 0:
        raise ValueError("sigma_B**2 + eps must be positive, got 0")
    return gamma / s2**0.5 * (1 - 1 / m - (x_i - mu_B) ** 2 / (m * s2))
