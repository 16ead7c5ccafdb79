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

    The comparison is relative, so that its verdict does not depend on the magnitude of the
    derivative: both sides are divided by a scale :math:`s` and must then satisfy
    :math:`|c/s - r/s| \le \mathrm{atol} + \mathrm{rtol}\,|r/s|` entry by entry, for the closed
    form :math:`c` and autograd's :math:`r`. With ``elementwise=True`` each entry is its own
    derivative and :math:`s = |r|` entry by entry; otherwise :math:`s = \max|r|`, the scale of the
    whole Jacobian, whose small entries carry rounding errors of that size. A closed form that is
    zero, doubled or of the wrong sign therefore fails however small the true derivative is
    (:math:`10^{-40}` as readily as 1). Where :math:`r` is exactly zero, :math:`s = 1`.

    Args:
        closed_form: the derivative from the formula under test, shaped as
            :func:`autograd_jacobian` returns it.
        f: the function whose derivative ``closed_form`` claims to be.
        x: the point, float64.
        elementwise: as in :func:`autograd_jacobian`.
        rtol: tolerance relative to each entry of autograd's derivative.
        atol: tolerance relative to the scale :math:`s`.

    Raises:
        AssertionError: when the two disagree, with the largest difference relative to the scale.
    """
    _validate.float_tensor("closed_form", closed_form)
    _validate.non_negative_float("rtol", rtol)
    _validate.non_negative_float("atol", atol)
    reference = autograd_jacobian(f, x, elementwise=elementwise)
    if (closed_form.shape, closed_form.dtype) != (reference.shape, reference.dtype):
        # Scaling would broadcast or promote; let assert_close report the mismatch itself.
        torch.testing.assert_close(closed_form, reference, rtol=rtol, atol=atol)
    magnitude = reference.detach().abs()
    scale = magnitude if elementwise else magnitude.amax()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    torch.testing.assert_close(
        closed_form / scale,
        reference / scale,
        rtol=rtol,
        atol=atol,
        msg=lambda details: (
            f"closed form and autograd disagree, relative to {_describe(scale)}:\n" + details
        ),
    )
    return reference


def _describe(scale: torch.Tensor) -> str:
    if scale.dim() == 0:
        return f"the largest |entry| {scale.item():.3g}"
    return "each entry"
