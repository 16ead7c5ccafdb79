r"""Dropout as a random, non-negative mask, and the order of dropout and an activation.

In training mode, ``torch.nn.Dropout(p)`` multiplies its input elementwise by a mask
:math:`H` with independent entries

.. math::

    H_i = \begin{cases} 0 & \text{with probability } p, \\
                        1/(1-p) & \text{with probability } 1-p, \end{cases}

so that :math:`\mathbb{E}[H_i] = 1`; in evaluation mode it is the identity. Because
:math:`H \ge 0`, a positively homogeneous activation (:math:`\phi(cz) = c\,\phi(z)` for
:math:`c \ge 0`) commutes with it, :math:`\phi(H \odot y) = H \odot \phi(y)`
(page equation ``dropout-activation-order-commute``); the sigmoid does not.
"""

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from derived import _validate
from derived.rng import default_rng_from


def dropout_mask(
    size: Sequence[int],
    *,
    p: float,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""The mask :math:`H` that ``torch.nn.Dropout(p)`` multiplies by, drawn from ``generator``.

    It *is* PyTorch's mask: ``torch.nn.functional.dropout`` applied to a tensor of ones, with its
    random draws taken from ``generator`` (see :func:`derived.rng.default_rng_from`). A dropout
    layer run with a generator in the same state multiplies its input by exactly this mask.

    Args:
        size: the shape of the mask, that of the tensor dropout acts on.
        p: the drop probability :math:`p \in [0, 1)`.
        generator: a seeded CPU :class:`torch.Generator`.
        dtype, device: of the returned mask (it is drawn on the CPU).

    Returns:
        :math:`H`, with entries in :math:`\{0, 1/(1-p)\}`.
    """
    size = _validate.shape("size", size)
    _validate.probability("p", p)
    _validate.float_dtype("dtype", dtype)
    device = _validate.device("device", device)
    with default_rng_from(generator):
        mask = F.dropout(torch.ones(size, dtype=dtype), p=p, training=True)
    return mask.to(device)


def _check(y: torch.Tensor, mask: torch.Tensor, activation: object) -> None:
    _validate.float_tensor("y", y)
    _validate.broadcasts_to("mask", _validate.float_tensor("mask", mask), y.shape, "y")
    _validate.function("activation", activation)


def dropout_then_activation(
    y: torch.Tensor, mask: torch.Tensor, activation: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    r"""Linear, *then dropout, then* the activation: :math:`\phi(H \odot y)`.

    Args:
        y: the linear layer's output :math:`y = Ax + b`.
        mask: the dropout mask :math:`H`, broadcastable to ``y``.
        activation: :math:`\phi`, a function or ``torch.nn`` module applied elementwise.
    """
    _check(y, mask, activation)
    return activation(mask * y)


def activation_then_dropout(
    y: torch.Tensor, mask: torch.Tensor, activation: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    r"""Linear, *then the activation, then* dropout: :math:`H \odot \phi(y)`.

    Args:
        y: the linear layer's output :math:`y = Ax + b`.
        mask: the dropout mask :math:`H`, broadcastable to ``y``.
        activation: :math:`\phi`, a function or ``torch.nn`` module applied elementwise.
    """
    _check(y, mask, activation)
    return mask * activation(y)


def positively_homogeneous(
    z: torch.Tensor, *, positive_slope: float, negative_slope: float
) -> torch.Tensor:
    r"""The general positively homogeneous scalar function, applied elementwise.

    .. math::

        \phi(z) = \alpha \max(z, 0) + \beta \min(z, 0),

    with :math:`\alpha` = ``positive_slope`` and :math:`\beta` = ``negative_slope``. Every
    :math:`\phi:\mathbb{R}\to\mathbb{R}` with :math:`\phi(cz) = c\,\phi(z)` for all :math:`c \ge 0`
    has this form, with :math:`\alpha = \phi(1)` and :math:`\beta = -\phi(-1)`: ReLU is
    :math:`(1, 0)`, LeakyReLU :math:`(1, \beta)`, the absolute value :math:`(1, -1)`.

    Args:
        z: pre-activations, any shape.
        positive_slope: :math:`\alpha`.
        negative_slope: :math:`\beta`.
    """
    _validate.float_tensor("z", z)
    _validate.real("positive_slope", positive_slope)
    _validate.real("negative_slope", negative_slope)
    return positive_slope * z.clamp(min=0) + negative_slope * z.clamp(max=0)


def is_positively_homogeneous(
    activation: Callable[[torch.Tensor], torch.Tensor], *, rtol: float = 1e-12
) -> bool:
    r"""Whether ``activation`` is positively homogeneous, so that it commutes with dropout.

    By the page's proposition ``dropout-activation-order-prop``, :math:`\phi` is positively
    homogeneous exactly when it is :func:`positively_homogeneous` with :math:`\alpha = \phi(1)`
    and :math:`\beta = -\phi(-1)`; this compares the two on a grid of points of
    :math:`[-8, 8]`, zero included, in float64.

    Args:
        activation: :math:`\phi`, a function or ``torch.nn`` module applied elementwise.
        rtol: the relative tolerance of the comparison, for the rounding of :math:`\phi`.
    """
    _validate.function("activation", activation)
    _validate.positive_float("rtol", rtol)
    z = torch.linspace(-8, 8, 161, dtype=torch.float64)
    with torch.no_grad():
        phi = activation(z)
        alpha, beta = activation(z.new_ones(1)).item(), -activation(-z.new_ones(1)).item()
    form = positively_homogeneous(z, positive_slope=alpha, negative_slope=beta)
    return bool(torch.allclose(phi, form, rtol=rtol, atol=rtol * form.abs().max().item()))
