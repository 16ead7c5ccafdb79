r"""Ridge regression, solved by linear algebra in its primal or dual form.

The minimiser of :math:`\tfrac12\|X\theta - y\|^2 + \tfrac\lambda2\|\theta\|^2` over
:math:`\theta \in \mathbb{R}^p`, for :math:`X \in \mathbb{R}^{N\times p}` and :math:`\lambda > 0`,
is (page equations ``random-features-ridge-primal`` and ``random-features-ridge-dual``)

.. math::

    \theta^\star = (X^\top X + \lambda I_p)^{-1} X^\top y = X^\top (X X^\top + \lambda I_N)^{-1} y .

The primal form solves a :math:`p\times p` system and the dual form an :math:`N\times N` one;
:func:`ridge` solves the smaller. No inverse is formed: ``torch.linalg.solve`` factorises.
"""

import torch

from derived import _validate


def _check(X: torch.Tensor, y: torch.Tensor, lam: torch.Tensor | float) -> torch.Tensor:
    _validate.float_tensor("X", X)
    _validate.float_tensor("y", y)
    if X.ndim != 2:
        raise ValueError(f"X must be a matrix of shape (N, p), got shape {tuple(X.shape)}")
    if y.shape != X.shape[:1]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {tuple(y.shape)}")
    if isinstance(lam, bool) or not isinstance(lam, int | float | torch.Tensor):
        raise TypeError(f"lam must be a number or a tensor, got {type(lam).__name__}")
    if isinstance(lam, torch.Tensor) and not lam.is_floating_point():
        raise TypeError(f"lam must have a floating-point dtype, got {lam.dtype}")
    lam = torch.as_tensor(lam, dtype=X.dtype, device=X.device)
    if lam.ndim > 1 or not torch.isfinite(lam).all() or (lam <= 0).any():
        raise ValueError(f"lam must be a positive number or 1-d tensor of them, got {lam}")
    return lam


def ridge_primal(X: torch.Tensor, y: torch.Tensor, *, lam: torch.Tensor | float) -> torch.Tensor:
    r""":math:`\theta^\star = (X^\top X + \lambda I_p)^{-1} X^\top y`, a :math:`p\times p` solve.

    Args:
        X: the design (feature) matrix :math:`X`.
        y: the targets :math:`y`.
        lam: :math:`\lambda > 0`, a number or a 1-d tensor of :math:`K` values (solved as a batch).

    Shape:
        ``X``: :math:`(N, p)`, ``y``: :math:`(N,)`; output :math:`(p,)`, or :math:`(K, p)`.
    """
    lam = _check(X, y, lam)
    eye = torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    # A 1-d lam gives a batch of systems; solve broadcasts the one right-hand side over it.
    return torch.linalg.solve(X.T @ X + lam[..., None, None] * eye, X.T @ y)


def ridge_dual(X: torch.Tensor, y: torch.Tensor, *, lam: torch.Tensor | float) -> torch.Tensor:
    r""":math:`\theta^\star = X^\top (X X^\top + \lambda I_N)^{-1} y`, an :math:`N\times N` solve.

    Args and shapes as :func:`ridge_primal`.
    """
    lam = _check(X, y, lam)
    eye = torch.eye(X.shape[0], dtype=X.dtype, device=X.device)
    return torch.linalg.solve(X @ X.T + lam[..., None, None] * eye, y) @ X


def ridge(X: torch.Tensor, y: torch.Tensor, *, lam: torch.Tensor | float) -> torch.Tensor:
    r"""The ridge solution :math:`\theta^\star`, by the primal form if :math:`p \le N`, else dual.

    Args and shapes as :func:`ridge_primal`.
    """
    _validate.float_tensor("X", X)
    if X.ndim == 2 and X.shape[1] > X.shape[0]:
        return ridge_dual(X, y, lam=lam)
    return ridge_primal(X, y, lam=lam)
