"""The tanh recurrence: layer and input-output Jacobians against autograd, and the bound."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.jacobian import assert_matches_autograd
from derived.singular_values import scale_to_sigma_max, sigma_max
from derived.tanh_rnn import input_output_jacobian, jacobian_bound, step_jacobian, tanh_rnn

seeds = st.integers(min_value=0, max_value=2**31 - 1)
dims = st.integers(min_value=1, max_value=5)
depths = st.integers(min_value=1, max_value=12)


def draw(seed: int, d: int, sigma: float | None = None):
    generator = torch.Generator().manual_seed(seed)
    W = 2 * torch.randn(d, d, dtype=torch.float64, generator=generator)
    x_1 = torch.randn(d, dtype=torch.float64, generator=generator)
    return x_1, W if sigma is None else scale_to_sigma_max(W, sigma)


def last_state(W: torch.Tensor, n: int):
    return lambda x: tanh_rnn(x, W, n)[-1]


def test_states_follow_the_recurrence_like_a_bias_free_torch_nn_rnn():
    x_1, W = draw(0, 4)
    rnn = torch.nn.RNN(4, 4, bias=False, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(W)
        rnn.weight_ih_l0.zero_()
        inputs = torch.zeros(5, 1, 4, dtype=torch.float64)
        expected, _ = rnn(inputs, x_1[None, None, :])
    torch.testing.assert_close(tanh_rnn(x_1, W, 6)[1:], expected[:, 0], rtol=1e-14, atol=1e-15)


@given(seed=seeds, d=dims)
def test_step_jacobian_matches_autograd(seed, d):
    x_1, W = draw(seed, d)
    assert_matches_autograd(step_jacobian(x_1, W), lambda x: torch.tanh(W @ x), x_1)


@given(seed=seeds, d=dims, n=depths)
def test_input_output_jacobian_matches_autograd(seed, d, n):
    x_1, W = draw(seed, d)
    assert_matches_autograd(input_output_jacobian(x_1, W, n), last_state(W, n), x_1)


@given(seed=seeds, d=dims, n=depths, sigma=st.floats(min_value=0.05, max_value=2.0))
def test_sigma_max_is_within_the_bound(seed, d, n, sigma):
    x_1, W = draw(seed, d, sigma)
    J = input_output_jacobian(x_1, W, n)
    assert sigma_max(J) <= jacobian_bound(sigma, n) * (1 + 1e-10)


@pytest.mark.parametrize("n", [1, 2, 5, 20])
def test_half_identity_from_zero_attains_the_bound(n):
    W = torch.eye(3, dtype=torch.float64) / 2
    x_1 = torch.zeros(3, dtype=torch.float64)
    J = input_output_jacobian(x_1, W, n)
    assert sigma_max(J).item() == jacobian_bound(0.5, n) == 0.5 ** (n - 1)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: tanh_rnn(torch.zeros(2), torch.eye(2), 0), ValueError, "n"),
        (lambda: tanh_rnn(torch.zeros(3), torch.eye(2), 2), ValueError, "x_1"),
        (lambda: tanh_rnn(torch.zeros(2), torch.ones(2, 3), 2), ValueError, "W"),
        (lambda: tanh_rnn([0.0, 0.0], torch.eye(2), 2), TypeError, "x_1"),
        (lambda: step_jacobian(torch.zeros(2), torch.eye(2, dtype=torch.int64)), TypeError, "W"),
        (lambda: input_output_jacobian(torch.zeros(2), torch.eye(2), 2.0), TypeError, "n"),
        (lambda: jacobian_bound(-0.5, 3), ValueError, "sigma_max_W"),
        (lambda: jacobian_bound(0.5, 0), ValueError, "n"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


def test_a_zero_recurrent_weight_cuts_every_chain_longer_than_one_state():
    assert jacobian_bound(0.0, 1) == 1.0  # the identity: x_1 with respect to itself
    assert jacobian_bound(0.0, 3) == 0.0
