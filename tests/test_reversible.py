"""Momentum as a reversible map: the step, its inverse, and its Jacobian determinant."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.func import jacrev

from derived.reversible import (
    momentum_descent,
    momentum_jacobian,
    momentum_jacobian_factors,
    momentum_jacobian_slogdet,
    momentum_step,
    momentum_step_inverse,
)

D = 6
generator = torch.Generator().manual_seed(7)
A = torch.randn(9, D, dtype=torch.float64, generator=generator)
b = torch.randn(9, dtype=torch.float64, generator=generator)
theta0 = torch.randn(D, dtype=torch.float64, generator=generator)
p0 = 0.1 * torch.randn(D, dtype=torch.float64, generator=generator)


def grad_J(theta: torch.Tensor) -> torch.Tensor:
    """Gradient of the non-quadratic J = sum log cosh(A theta - b) + |theta|^2 / 20."""
    return A.T @ torch.tanh(A @ theta - b) + theta / 10


def step_on_state(s: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """The step as a map of the stacked state s = (theta, p)."""
    theta, p = momentum_step(s[:D], s[D:], grad_J=grad_J, alpha=alpha, beta=beta)
    return torch.cat([theta, p])


betas = st.floats(min_value=0.3, max_value=1.0)
alphas = st.floats(min_value=0.001, max_value=0.05)


def test_step_is_the_handout_update():
    alpha, beta = 0.03, 0.8
    theta, p = momentum_step(theta0, p0, grad_J=grad_J, alpha=alpha, beta=beta)
    torch.testing.assert_close(p, beta * p0 - alpha * grad_J(theta0), rtol=0, atol=0)
    torch.testing.assert_close(theta, theta0 + p, rtol=0, atol=0)


@given(alpha=alphas, beta=betas)
def test_inverse_undoes_the_step_and_the_step_undoes_the_inverse(alpha, beta):
    kw = {"grad_J": grad_J, "alpha": alpha, "beta": beta}
    back = momentum_step_inverse(*momentum_step(theta0, p0, **kw), **kw)
    forth = momentum_step(*momentum_step_inverse(theta0, p0, **kw), **kw)
    for theta, p in (back, forth):
        torch.testing.assert_close(theta, theta0, rtol=0, atol=1e-13)
        torch.testing.assert_close(p, p0, rtol=0, atol=1e-12)


@given(beta=st.floats(min_value=0.8, max_value=1.0), steps=st.integers(1, 60))
def test_k_inverse_steps_recover_the_initial_state(beta, steps):
    kw = {"grad_J": grad_J, "alpha": 0.02, "beta": beta, "steps": steps}
    theta, p = momentum_descent(*momentum_descent(theta0, p0, **kw), inverse=True, **kw)
    # Rounding is amplified by about 1/beta per inverse step.
    tol = 1e-13 * beta**-steps
    torch.testing.assert_close(theta, theta0, rtol=0, atol=tol)
    torch.testing.assert_close(p, p0, rtol=0, atol=tol)


@given(alpha=alphas, beta=st.floats(min_value=-2.0, max_value=2.0))
def test_jacobian_matches_jacrev_and_is_the_product_of_the_two_factors(alpha, beta):
    s = torch.cat([theta0, p0])
    closed_form = momentum_jacobian(theta0, grad_J=grad_J, alpha=alpha, beta=beta)
    torch.testing.assert_close(
        closed_form, jacrev(step_on_state)(s, alpha, beta), rtol=1e-12, atol=1e-12
    )
    shear, velocity_update = momentum_jacobian_factors(
        theta0, grad_J=grad_J, alpha=alpha, beta=beta
    )
    # The first half-step moves only p, the second only theta.
    half = torch.cat([theta0, beta * p0 - alpha * grad_J(theta0)])
    first = jacrev(lambda t: torch.cat([t[:D], beta * t[D:] - alpha * grad_J(t[:D])]))(s)
    second = jacrev(lambda t: torch.cat([t[:D] + t[D:], t[D:]]))(half)
    torch.testing.assert_close(velocity_update, first, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(shear, second, rtol=0, atol=0)


@given(
    dim=st.integers(1, 12),
    beta=st.floats(min_value=0.2, max_value=1.5) | st.floats(min_value=-1.5, max_value=-0.2),
)
def test_determinant_is_beta_to_the_d(dim, beta):
    g = torch.Generator().manual_seed(dim)
    M = torch.randn(dim + 2, dim, dtype=torch.float64, generator=g)
    theta = torch.randn(dim, dtype=torch.float64, generator=g)

    def grad(t):
        return M.T @ torch.tanh(M @ t) + t**3

    def step(s):
        t, v = momentum_step(s[:dim], s[dim:], grad_J=grad, alpha=0.1, beta=beta)
        return torch.cat([t, v])

    s = torch.cat([theta, torch.zeros(dim, dtype=torch.float64)])
    sign, logabsdet = torch.linalg.slogdet(jacrev(step)(s))
    expected_sign, expected_log = momentum_jacobian_slogdet(dim, beta=beta)
    assert sign.item() == expected_sign
    assert logabsdet.item() == pytest.approx(expected_log, abs=1e-10)
    assert expected_log == pytest.approx(dim * math.log(abs(beta)), rel=1e-15, abs=1e-300)


def test_bad_input_is_refused_naming_the_argument():
    kw = {"grad_J": grad_J, "alpha": 0.1, "beta": 0.9}
    with pytest.raises(ValueError, match=r"^p "):
        momentum_step(theta0, p0[:2], **kw)
    with pytest.raises(TypeError, match=r"^theta "):
        momentum_step(theta0.long(), p0, **kw)
    with pytest.raises(ValueError, match=r"^beta "):
        momentum_step_inverse(theta0, p0, grad_J=grad_J, alpha=0.1, beta=0.0)
    with pytest.raises(ValueError, match=r"^steps "):
        momentum_descent(theta0, p0, steps=0, **kw)
    with pytest.raises(ValueError, match=r"^theta "):
        momentum_jacobian(theta0.reshape(2, 3), **kw)
    with pytest.raises(ValueError, match=r"^dim "):
        momentum_jacobian_slogdet(0, beta=0.5)
    with pytest.raises(ValueError, match=r"^beta "):
        momentum_jacobian_slogdet(3, beta=0.0)


def test_undoing_steps_refuses_a_zero_beta_naming_it():
    with pytest.raises(ValueError, match=r"^beta "):
        momentum_descent(theta0, p0, grad_J=grad_J, alpha=0.1, beta=0.0, steps=1, inverse=True)


def test_inverse_undoes_a_step_with_a_learning_rate_and_momentum_per_parameter():
    # alpha and beta may be tensors that broadcast against theta: here one value per coordinate.
    kw = {
        "grad_J": grad_J,
        "alpha": torch.linspace(0.01, 0.05, D, dtype=torch.float64),
        "beta": torch.linspace(0.5, 0.95, D, dtype=torch.float64),
    }
    theta, p = momentum_step_inverse(*momentum_step(theta0, p0, **kw), **kw)
    torch.testing.assert_close(theta, theta0, rtol=0, atol=1e-13)
    torch.testing.assert_close(p, p0, rtol=0, atol=1e-12)


def test_a_learning_rate_that_does_not_broadcast_is_refused():
    with pytest.raises(
        ValueError, match=r"^alpha must broadcast against theta, \(6,\), got \(2,\)"
    ):
        momentum_step(theta0, p0, grad_J=grad_J, alpha=torch.full((2,), 0.1), beta=0.9)
