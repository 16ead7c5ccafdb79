"""Exactly reversible momentum: bit-for-bit reversal, the buffer's size, exact hypergradients."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.reversible import momentum_descent
from derived.reversible_learning import (
    BETA_BITS,
    beta_numerator,
    divide,
    exact_momentum_descent,
    exact_momentum_inverse,
    exact_reversible_hypergradient,
    from_fixed_point,
    multiply,
    to_fixed_point,
)

D = 5
generator = torch.Generator().manual_seed(11)
A = torch.randn(7, D, dtype=torch.float64, generator=generator)
b = torch.randn(7, dtype=torch.float64, generator=generator)
C = torch.randn(3, D, dtype=torch.float64, generator=generator)
theta0 = torch.randn(D, dtype=torch.float64, generator=generator)
p0 = 0.1 * torch.randn(D, dtype=torch.float64, generator=generator)
BETA = 58982 / 2**BETA_BITS  # about 0.9


def grad_J(theta: torch.Tensor) -> torch.Tensor:
    return A.T @ torch.tanh(A @ theta - b) / 7 + theta / 100


def loss(theta: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.cosh(C @ theta)).sum()


big_ints = st.integers(min_value=-(2**80), max_value=2**80)


@given(
    v=st.lists(big_ints, min_size=1, max_size=4),
    buffer=st.integers(min_value=0, max_value=2**100),
    n=st.integers(min_value=1, max_value=2**BETA_BITS - 1),
)
def test_divide_undoes_multiply_exactly(v, buffer, n):
    v0 = np.array(v, dtype=object)
    b0 = np.array([buffer] * len(v), dtype=object)
    v1, b1 = multiply(v0, b0, n)
    v2, b2 = divide(v1, b1, n)
    assert list(v2) == list(v0) and list(b2) == list(b0)
    # and the product is beta v up to n units of the last place
    for x, y in zip(v1, v0, strict=True):
        assert abs(x - y * n / 2**BETA_BITS) <= n


def test_reversal_is_bit_for_bit_and_empties_the_buffer():
    K = 300
    kw = {"grad_J": grad_J, "alpha": 0.05, "beta": BETA}
    state = exact_momentum_descent(theta0, p0, steps=K, **kw)
    # The buffer holds about log2(1/beta) bits per component per step.
    bits = max(int(x).bit_length() for x in state.buffer) / K
    assert bits == pytest.approx(math.log2(1 / BETA), abs=0.02)
    grad_theta = torch.zeros(D, dtype=torch.float64)
    _, start = exact_reversible_hypergradient(state, grad_theta, grad_theta, steps=K, **kw)
    assert list(start.theta) == list(to_fixed_point(theta0, radix_bits=64))
    assert list(start.p) == list(to_fixed_point(p0, radix_bits=64))
    assert all(x == 0 for x in start.buffer)


def test_fixed_point_round_trip():
    x = torch.tensor([1.5, -2.25, 1e-3], dtype=torch.float64)
    back = from_fixed_point(to_fixed_point(x, radix_bits=30), radix_bits=30, like=x)
    torch.testing.assert_close(back, x, rtol=0, atol=2.0**-31)


@pytest.mark.parametrize("steps", [1, 50, 400])
def test_exact_hypergradient_matches_autograd_through_the_unrolled_steps(steps):
    alpha = 0.5
    leaves = [theta0.clone().requires_grad_(), p0.clone().requires_grad_()]
    leaves += [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (alpha, BETA)]
    theta, _ = momentum_descent(
        leaves[0], leaves[1], grad_J=grad_J, alpha=leaves[2], beta=leaves[3], steps=steps
    )
    expected = torch.autograd.grad(loss(theta), leaves)
    kw = {"grad_J": grad_J, "alpha": alpha, "beta": BETA, "steps": steps}
    state = exact_momentum_descent(theta0, p0, **kw)
    theta_K = from_fixed_point(state.theta, radix_bits=64, like=theta0).requires_grad_()
    (grad_theta,) = torch.autograd.grad(loss(theta_K), theta_K)
    result, _ = exact_reversible_hypergradient(state, grad_theta, torch.zeros_like(p0), **kw)
    torch.testing.assert_close(result.theta, theta0, rtol=0, atol=2.0**-60)
    got = (result.grad_theta, result.grad_p, result.grad_alpha, result.grad_beta)
    for name, x, y in zip(("theta", "p", "alpha", "beta"), got, expected, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-8, atol=1e-10, msg=name)


@pytest.mark.parametrize("beta", [0.0, 1.0, 0.9, -0.5, 1.5])
def test_beta_must_be_a_dyadic_fraction_in_the_unit_interval(beta):
    with pytest.raises(ValueError, match=r"^beta "):
        beta_numerator(beta)


def test_bad_arguments_are_refused_naming_them():
    kw = {"grad_J": grad_J, "alpha": 0.1, "beta": BETA}
    with pytest.raises(ValueError, match=r"^steps "):
        exact_momentum_descent(theta0, p0, steps=0, **kw)
    with pytest.raises(ValueError, match=r"^radix_bits "):
        exact_momentum_descent(theta0, p0, steps=1, radix_bits=0, **kw)
    with pytest.raises(TypeError, match=r"^x "):
        to_fixed_point(theta0.long(), radix_bits=10)


def test_the_smallest_beta_is_one_unit_of_the_last_bit():
    assert beta_numerator(2.0**-BETA_BITS) == 1


def test_beta_has_the_sixteen_bits_the_documentation_states():
    # exact_momentum_descent and the page momentum-inverse promise multiples of 2**-16.
    assert beta_numerator(2.0**-16) == 1
    assert beta_numerator(0.75) == 3 * 2**14
    with pytest.raises(ValueError, match=r"^beta "):
        beta_numerator(2.0**-17)


def test_fixed_point_values_are_unbounded_integers():
    # numpy's int64 would wrap around silently once the buffer outgrows 63 bits.
    assert to_fixed_point(torch.tensor([1e-3], dtype=torch.float64), radix_bits=10).dtype == object


def test_the_exact_hypergradient_returns_the_initial_state_and_names_its_arguments():
    kw = {"grad_J": grad_J, "alpha": 0.05, "beta": BETA}
    state = exact_momentum_descent(theta0, p0, steps=3, **kw)
    zero = torch.zeros(D, dtype=torch.float64)
    result, _ = exact_reversible_hypergradient(state, zero, zero, steps=3, **kw)
    for recovered, start in [(result.theta, theta0), (result.p, p0)]:
        exact = from_fixed_point(to_fixed_point(start, radix_bits=64), radix_bits=64, like=start)
        assert torch.equal(recovered, exact)
    for grads, name in [((zero.long(), zero), "grad_theta"), ((zero, zero.long()), "grad_p")]:
        with pytest.raises(TypeError, match=rf"^{name} "):
            exact_reversible_hypergradient(state, *grads, steps=3, **kw)
    with pytest.raises(ValueError, match=r"^steps "):
        exact_reversible_hypergradient(state, zero, zero, steps=0, **kw)


HYPER = {"grad_J": grad_J, "alpha": 0.05, "beta": BETA}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda state: exact_momentum_inverse(state, radix_bits=64, like=theta0[:2], **HYPER),
            r"^like must have one entry per parameter of state\b.*\b5\b.*\b2\b",
            id="inverse-like-too-short",
        ),
        pytest.param(
            lambda state: exact_reversible_hypergradient(state, p0[:2], p0[:2], steps=1, **HYPER),
            r"^grad_theta must have one entry per parameter of state\b.*\b5\b.*\b2\b",
            id="hypergradient-grad_theta-too-short",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, message):
    # A state of D = 5 parameters; the gradients agree with each other, not with the state.
    state = exact_momentum_descent(theta0, p0, steps=1, **HYPER)
    with pytest.raises(ValueError, match=message):
        call(state)
