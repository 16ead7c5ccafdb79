"""Momentum as a reversible map: inverse, Jacobian determinant, and the reversible hypergradient."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.func import jacrev

from derived.autograd_memory import peak_saved_bytes
from derived.reversible import (
    momentum_descent,
    momentum_jacobian,
    momentum_jacobian_factors,
    momentum_jacobian_slogdet,
    momentum_step,
    momentum_step_inverse,
    momentum_step_vjp,
    reversible_hypergradient,
)

D = 6
generator = torch.Generator().manual_seed(7)
A = torch.randn(9, D, dtype=torch.float64, generator=generator)
b = torch.randn(9, dtype=torch.float64, generator=generator)
C = torch.randn(4, D, dtype=torch.float64, generator=generator)
theta0 = torch.randn(D, dtype=torch.float64, generator=generator)
p0 = 0.1 * torch.randn(D, dtype=torch.float64, generator=generator)


def grad_J(theta: torch.Tensor) -> torch.Tensor:
    """Gradient of the non-quadratic J = sum log cosh(A theta - b) + |theta|^2 / 20."""
    return A.T @ torch.tanh(A @ theta - b) + theta / 10


def loss(theta: torch.Tensor) -> torch.Tensor:
    """A final loss L(theta) = sum log cosh(C theta)."""
    return torch.log(torch.cosh(C @ theta)).sum()


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


@given(alpha=alphas, beta=betas)
def test_step_vjp_matches_torch_func_vjp(alpha, beta):
    g = torch.Generator().manual_seed(3)
    grad_theta, grad_p = torch.randn(2, D, dtype=torch.float64, generator=g)
    hyper = torch.tensor([alpha, beta], dtype=torch.float64)

    def step(theta, p, hyper):
        return momentum_step(theta, p, grad_J=grad_J, alpha=hyper[0], beta=hyper[1])

    _, pullback = torch.func.vjp(step, theta0, p0, hyper)
    expected_theta, expected_p, expected_hyper = pullback((grad_theta, grad_p))
    got = momentum_step_vjp(theta0, p0, grad_theta, grad_p, grad_J=grad_J, alpha=alpha, beta=beta)
    torch.testing.assert_close(got[0], expected_theta, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got[1], expected_p, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.stack(got[2:]), expected_hyper, rtol=1e-12, atol=1e-12)


def unrolled(alpha: float, beta: float, steps: int):
    """Autograd through the unrolled steps: the reference the reversible method must match."""
    leaves = [theta0.clone().requires_grad_(), p0.clone().requires_grad_()]
    leaves += [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (alpha, beta)]
    theta, p = momentum_descent(
        leaves[0], leaves[1], grad_J=grad_J, alpha=leaves[2], beta=leaves[3], steps=steps
    )
    return theta.detach(), p.detach(), torch.autograd.grad(loss(theta), leaves)


@pytest.mark.parametrize(("beta", "steps"), [(0.9, 1), (0.9, 30), (0.99, 100), (0.5, 10)])
def test_reversible_hypergradient_matches_autograd_through_the_unrolled_steps(beta, steps):
    alpha = 0.02
    theta, p, expected = unrolled(alpha, beta, steps)
    grad_theta = torch.func.grad(loss)(theta)
    result = reversible_hypergradient(
        theta,
        p,
        grad_theta,
        torch.zeros_like(p),
        grad_J=grad_J,
        alpha=alpha,
        beta=beta,
        steps=steps,
    )
    torch.testing.assert_close(result.theta, theta0, rtol=0, atol=1e-10)
    torch.testing.assert_close(result.p, p0, rtol=0, atol=1e-10)
    got = (result.grad_theta, result.grad_p, result.grad_alpha, result.grad_beta)
    for name, x, y in zip(("theta", "p", "alpha", "beta"), got, expected, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-8, atol=1e-10, msg=name)


def saved_bytes(method: str, steps: int) -> int:
    alpha, beta = 0.02, 0.9
    with peak_saved_bytes() as meter:
        if method == "unrolled":
            unrolled(alpha, beta, steps)
        else:
            theta, p = momentum_descent(
                theta0, p0, grad_J=grad_J, alpha=alpha, beta=beta, steps=steps
            )
            reversible_hypergradient(
                theta, p, theta, p, grad_J=grad_J, alpha=alpha, beta=beta, steps=steps
            )
    assert meter.current == 0
    return meter.peak


def test_unrolled_memory_grows_linearly_and_reversible_memory_is_flat():
    b10, b20, b40 = (saved_bytes("unrolled", k) for k in (10, 20, 40))
    per_step = (b20 - b10) / 10
    assert per_step >= 2 * D * 8  # at least theta and p of every step
    assert b40 - b20 == 20 * per_step  # exactly linear in K
    assert saved_bytes("reversible", 10) == saved_bytes("reversible", 40) < b10


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
    with pytest.raises(ValueError, match=r"^beta "):
        reversible_hypergradient(
            theta0, p0, theta0, p0, grad_J=grad_J, alpha=0.1, beta=0.0, steps=1
        )
    with pytest.raises(ValueError, match=r"^grad_p "):
        reversible_hypergradient(theta0, p0, theta0, p0[:1], steps=1, **kw)


def test_the_hypergradient_names_each_refused_argument():
    kw = {"grad_J": grad_J, "alpha": 0.1, "beta": 0.9}
    with pytest.raises(TypeError, match=r"^grad_theta "):
        reversible_hypergradient(theta0, p0, theta0.long(), p0, steps=1, **kw)
    with pytest.raises(ValueError, match=r"^steps "):
        reversible_hypergradient(theta0, p0, theta0, p0, steps=0, **kw)


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


HYPER = {"grad_J": grad_J, "alpha": 0.1, "beta": 0.9}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: reversible_hypergradient(theta0, p0, theta0[:2], p0[:2], steps=1, **HYPER),
            r"^grad_theta must have the shape of theta\b.*\(6,\).*\(2,\)",
            id="hypergradient-grad_theta-not-the-shape-of-theta",
        ),
        pytest.param(
            lambda: momentum_step_vjp(theta0, p0, theta0[:2], p0[:2], **HYPER),
            r"^grad_theta must have the shape of theta\b.*\(6,\).*\(2,\)",
            id="vjp-grad_theta-not-the-shape-of-theta",
        ),
        pytest.param(
            lambda: momentum_step(theta0, p0, **(HYPER | {"alpha": torch.full((2,), 0.1)})),
            r"^alpha must broadcast against theta, \(6,\), got \(2,\)",
            id="step-alpha-not-broadcasting-against-theta",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, message):
    # The gradients agree with each other, so only their disagreement with theta is refused.
    with pytest.raises(ValueError, match=message):
        call()
