"""Backpropagation through momentum steps by inversion: the reversible hypergradient."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.autograd_memory import peak_saved_bytes
from derived.hypergradient import momentum_step_vjp, reversible_hypergradient
from derived.reversible import momentum_descent, momentum_step

D, M = 6, 9
generator = torch.Generator().manual_seed(7)
A = torch.randn(M, D, dtype=torch.float64, generator=generator)
b = torch.randn(M, dtype=torch.float64, generator=generator)
C = torch.randn(4, D, dtype=torch.float64, generator=generator)
theta0 = torch.randn(D, dtype=torch.float64, generator=generator)
p0 = 0.1 * torch.randn(D, dtype=torch.float64, generator=generator)


def grad_J(theta: torch.Tensor) -> torch.Tensor:
    """Gradient of the non-quadratic J = sum log cosh(A theta - b) + |theta|^2 / 20."""
    return A.T @ torch.tanh(A @ theta - b) + theta / 10


def loss(theta: torch.Tensor) -> torch.Tensor:
    """A final loss L(theta) = sum log cosh(C theta)."""
    return torch.log(torch.cosh(C @ theta)).sum()


betas = st.floats(min_value=0.3, max_value=1.0)
alphas = st.floats(min_value=0.001, max_value=0.05)


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
    # Per step autograd keeps p (for beta's gradient), grad J(theta) (for alpha's) and
    # tanh(A theta - b) (for tanh's backward), in float64; not theta, not A theta - b.
    assert per_step == 8 * (2 * D + M)
    assert b40 - b20 == 20 * per_step  # exactly linear in K
    assert saved_bytes("reversible", 10) == saved_bytes("reversible", 40) < b10


def test_bad_input_is_refused_naming_the_argument():
    kw = {"grad_J": grad_J, "alpha": 0.1, "beta": 0.9}
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
    ],
)
def test_refusals_say_what_was_expected(call, message):
    # The gradients agree with each other, so only their disagreement with theta is refused.
    with pytest.raises(ValueError, match=message):
        call()
