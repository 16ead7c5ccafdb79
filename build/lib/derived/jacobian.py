r"""Jacobians by automatic differentiation, to check closed forms against.

The book's convention (see the notation page) is the numerator layout: for
:math:`f:\mathbb{R}^n\to\mathbb{R}^m`, :math:`J_{ij} = \partial f_i/\partial x_j`, of shape
:math:`(m, n)`.
Checks run in float64, so that agreement to about :math:`10^{-10}` means the formula is right and
a disagreement cannot be blamed on rounding.
"""

from collections.abc import Callable

import torch
from torch.func import jacrev

from derived import _validate


def autograd_jacobian(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *, elementwise: bool = False
) -> torch.Tensor:
    r"""The Jacobian :math:`\partial f/\partial x` by reverse-mode automatic differentiation.

    Args:
        f: the function, built from PyTorch operations.
        x: the point, float64.
        elementwise: ``f`` acts on each element of ``x`` independently (a scalar function applied
            elementwise); then the Jacobian is diagonal, and only its diagonal :math:`f'(x_k)` is
            computed, as the gradient of :math:`\sum_k f(x_k)`, and returned.

    Shape:
        ``elementwise=False``: output :math:`(*f(x).shape, *x.shape)`.
        ``elementwise=True``: output ``x.shape``.
    """
    _validate.function("f", f)
    _validate.float_tensor("x", x)
    _validate.boolean("elementwise", elementwise)
    if x.dtype != torch.float64:
        raise TypeError(f"x must be float64 for a check against autograd, got {x.dtype}")
    if elementwise:
        x = x.detach().requires_grad_()
        (slope,) = torch.autograd.grad(f(x).sum(), x)
        return slope
    return jacrev(f)(x)


def assert_matches_autograd(
    closed_form: torch.Tensor,
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    elementwise: bool = False,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> torch.Tensor:
    r"""Assert that a closed-form derivative equals autograd's in float64; return autograd's.

    Args:
        closed_form: the derivative from the formula under test, shaped as
            :func:`autograd_jacobian` returns it.
        f: the function whose derivative ``closed_form`` claims to be.
        x: the point, float64.
        elementwise: as in :func:`autograd_jacobian`.
        rtol, atol: tolerances of :func:`torch.testing.assert_close`.

    Raises:
        AssertionError: when the two disagree, with the largest difference.
    """
    _validate.float_tensor("closed_form", closed_form)
    _validate.non_negative_float("rtol", rtol)
    _validate.non_negative_float("atol", atol)
    reference = autograd_jacobian(f, x, elementwise=elementwise)
    torch.testing.assert_close(closed_form, reference, rtol=rtol, atol=atol)
    return reference
