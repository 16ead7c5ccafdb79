r"""Random ReLU features, and the test error of ridge regression on them as :math:`p` grows.

The model is the two-layer network :math:`f_{\theta, W}(x) = \theta^\top \operatorname{ReLU}(Wx)`
with the first layer :math:`W \in \mathbb{R}^{p\times d}`, :math:`W_{ij} \sim \mathcal{N}(0, 1/p)`,
drawn once and frozen :cite:p:`rahimi2007random`; only :math:`\theta \in \mathbb{R}^p` is fitted, by
ridge regression on the features :math:`\tilde X_i = \operatorname{ReLU}(W x_i)`
(:func:`derived.ridge.ridge`). The data follow a noisy linear teacher,
:math:`y = x^\top\beta^\star + \varepsilon`, :math:`x \sim \mathcal{N}(0, I_d)`,
:math:`\varepsilon \sim \mathcal{N}(0, \sigma^2)` (page ``random-features-ridge``).
"""

from collections.abc import Sequence
from typing import NamedTuple

import torch

from derived import _validate
from derived.ridge import ridge


def random_weights(
    p: int, d: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    r"""The frozen first layer :math:`W`, with IID entries :math:`W_{ij} \sim \mathcal{N}(0, 1/p)`.

    Args:
        p: the number of features :math:`p`.
        d: the input dimension :math:`d`.
        generator: a seeded :class:`torch.Generator`.

    Shape:
        output :math:`(p, d)`, as an ``nn.Linear(d, p)`` weight.
    """
    _validate.positive_int("p", p)
    _validate.positive_int("d", d)
    _validate.generator("generator", generator)
    _validate.float_dtype("dtype", dtype)
    return torch.randn(p, d, dtype=dtype, generator=generator) / p**0.5


def relu_features(x: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    r"""The feature matrix :math:`\tilde X`, with rows :math:`\operatorname{ReLU}(W x_i)`.

    Args:
        x: inputs :math:`x_i`, one per row.
        W: the first layer :math:`W`.

    Shape:
        ``x``: :math:`(N, d)`, ``W``: :math:`(p, d)`; output :math:`(N, p)`.
    """
    _validate.has_ndim("x", _validate.float_tensor("x", x), 2, "(N, d)")
    _validate.has_ndim("W", _validate.float_tensor("W", W), 2, "(p, d)")
    if x.shape[1] != W.shape[1]:
        raise ValueError(f"x must have d = {W.shape[1]} columns, as W has, got {tuple(x.shape)}")
    return torch.relu(x @ W.T)


def teacher_data(
    n: int, beta: torch.Tensor, *, sigma: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""A sample :math:`(x_i, y_i)_{i \le n}` with :math:`y_i = x_i^\top\beta^\star + \sigma z_i`.

    Args:
        n: the sample size :math:`N`.
        beta: the teacher :math:`\beta^\star \in \mathbb{R}^d`.
        sigma: the noise level :math:`\sigma \ge 0`.
        generator: a seeded :class:`torch.Generator`.

    Shape:
        output ``x``: :math:`(n, d)`, ``y``: :math:`(n,)`.
    """
    _validate.positive_int("n", n)
    _validate.has_ndim("beta", _validate.float_tensor("beta", beta), 1, "(d,)")
    _validate.non_negative_float("sigma", sigma)
    _validate.generator("generator", generator)
    x = torch.randn(n, len(beta), dtype=beta.dtype, generator=generator)
    noise = torch.randn(n, dtype=beta.dtype, generator=generator)
    return x, x @ beta + sigma * noise


class DoubleDescent(NamedTuple):
    """Test errors of ridge on random features; rows are trials, columns the values of ``p``."""

    fixed: torch.Tensor  #: test MSE with the fixed :math:`\lambda`, shape ``(trials, len(ps))``
    tuned: torch.Tensor  #: test MSE with :math:`\lambda` chosen on the validation set
    lam: torch.Tensor  #: the chosen :math:`\lambda`, shape ``(trials, len(ps))``


def double_descent(
    ps: Sequence[int],
    *,
    lam_fixed: float,
    lam_grid: torch.Tensor,
    num_trials: int,
    generator: torch.Generator,
    d: int = 35,
    sigma: float = 0.5,
    n_train: int = 300,
    n_val: int = 60,
    n_test: int = 30,
) -> DoubleDescent:
    r"""The test error of ridge regression on :math:`p` random ReLU features, for each ``p``.

    Each trial draws a teacher :math:`\beta^\star` uniform on the unit sphere and fresh training,
    validation and test sets; each :math:`p` then draws a fresh :math:`W`. The tuned
    :math:`\lambda` minimises the validation error over ``lam_grid``.

    Args:
        ps: the numbers of features :math:`p` to try.
        lam_fixed: the fixed ridge penalty.
        lam_grid: the 1-d tensor of candidate penalties for tuning.
        num_trials: the number of independent repetitions to average over.
        generator: a seeded :class:`torch.Generator`.
        d, sigma, n_train, n_val, n_test: the data model and sample sizes.
    """
    _validate.positive_int_list("ps", ps)
    _validate.positive_float("lam_fixed", lam_fixed)
    _validate.has_ndim("lam_grid", _validate.float_tensor("lam_grid", lam_grid), 1, "(K,)")
    if (lam_grid <= 0).any():
        raise ValueError(f"lam_grid must hold positive penalties, got {lam_grid.min().item()}")
    _validate.positive_int("num_trials", num_trials)
    _validate.generator("generator", generator)
    for name, size in [("d", d), ("n_train", n_train), ("n_val", n_val), ("n_test", n_test)]:
        _validate.positive_int(name, size)
    _validate.non_negative_float("sigma", sigma)
    grid = lam_grid.detach().cpu().double()
    # One batched solve per (trial, p) serves both the fixed penalty and the whole grid.
    lams = torch.cat([grid, torch.tensor([float(lam_fixed)], dtype=torch.float64)]).unique()
    fixed_index = int((lams == lam_fixed).nonzero()[0, 0])
    in_grid = torch.isin(lams, grid)
    errors = torch.empty(num_trials, len(ps), len(lams), dtype=torch.float64)
    chosen = torch.empty(num_trials, len(ps), dtype=torch.float64)
    tuned = torch.empty(num_trials, len(ps), dtype=torch.float64)
    for t in range(num_trials):
        beta = torch.randn(d, dtype=torch.float64, generator=generator)
        beta = beta / beta.norm()
        train, val, test = (
            teacher_data(n, beta, sigma=sigma, generator=generator)
            for n in (n_train, n_val, n_test)
        )
        for j, p in enumerate(ps):
            W = random_weights(p, d, generator=generator)
            theta = ridge(relu_features(train[0], W), train[1], lam=lams)  # (K, p)
            val_mse = ((relu_features(val[0], W) @ theta.T - val[1][:, None]) ** 2).mean(0)
            test_mse = ((relu_features(test[0], W) @ theta.T - test[1][:, None]) ** 2).mean(0)
            errors[t, j] = test_mse
            best = val_mse.masked_fill(~in_grid, torch.inf).argmin()
            chosen[t, j], tuned[t, j] = lams[best], test_mse[best]
    return DoubleDescent(fixed=errors[:, :, fixed_index], tuned=tuned, lam=chosen)
