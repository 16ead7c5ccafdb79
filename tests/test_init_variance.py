"""The output variance of a linear network: recursion, closed form, and real nn.Linear layers."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from derived.init_variance import (
    INITS,
    bias_variance,
    default_init_variance,
    linear_stack,
    output_variance,
    sample_outputs,
    weight_variance,
)

widths = st.lists(st.integers(min_value=1, max_value=50), min_size=2, max_size=12)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@given(widths=widths)
def test_closed_form_solves_the_recursion(widths):
    assert default_init_variance(widths) == pytest.approx(output_variance(widths)[-1], rel=1e-12)


@given(n=st.integers(min_value=1, max_value=1000), L=st.integers(min_value=1, max_value=30))
def test_equal_widths_give_the_geometric_sum(n, L):
    # With n_0 = ... = n_{L-1} = n the sum is geometric: 3^-L + (1 - 3^-L) / (2n).
    expected = 3.0**-L + (1 - 3.0**-L) / (2 * n)
    assert default_init_variance([n] * L + [1]) == pytest.approx(expected, rel=1e-12)


def test_default_variances_match_the_installed_nn_linear():
    # Read off the bounds PyTorch draws from: |A_ij|, |b_i| <= 1/sqrt(fan_in), uniformly.
    fan_in = 7
    layer = linear_stack([fan_in, 20_000], generator=seeded(0))[0]
    bound = 1 / math.sqrt(fan_in)
    for tensor in (layer.weight, layer.bias):
        assert tensor.abs().max().item() <= bound
        assert tensor.abs().max().item() > 0.999 * bound
    n = layer.weight.numel()
    s2 = layer.weight.detach().pow(2).mean().item()
    # Var(A^2) = E[A^4] - E[A^2]^2 = b^4/5 - b^4/9 for A ~ U[-b, b]: four standard errors.
    se = bound**2 * math.sqrt(1 / 5 - 1 / 9) / math.sqrt(n)
    assert abs(s2 - weight_variance(fan_in, 1, init="default")) < 4 * se
    assert bias_variance(fan_in, init="default") == weight_variance(fan_in, 3, init="default")


@pytest.mark.parametrize("init", INITS)
def test_recursion_matches_monte_carlo_over_fresh_networks(init):
    w = [3, 8, 2, 5, 1]
    y = sample_outputs(w, num_networks=600, num_inputs=50, generator=seeded(1), init=init)
    # Rows are independent networks: the standard error comes from the per-network means.
    per_network = y.pow(2).mean(dim=1)
    estimate = per_network.mean().item()
    se = per_network.std().item() / math.sqrt(len(per_network))
    assert abs(estimate - output_variance(w, init=init)[-1]) < 4 * se
    mean_se = y.mean(dim=1).std().item() / math.sqrt(len(y))
    assert abs(y.mean().item()) < 4 * mean_se


def test_default_stack_is_what_nn_linear_builds_from_the_same_state():
    g, h = seeded(4), seeded(4)
    net = linear_stack([5, 3, 1], generator=g)
    state = torch.get_rng_state()
    torch.set_rng_state(h.get_state())
    try:
        reference = [nn.Linear(5, 3, dtype=torch.float64), nn.Linear(3, 1, dtype=torch.float64)]
    finally:
        torch.set_rng_state(state)
    for mine, theirs in zip(net, reference, strict=True):
        assert torch.equal(mine.weight, theirs.weight) and torch.equal(mine.bias, theirs.bias)


@pytest.mark.parametrize("init", ["glorot", "he"])
def test_glorot_and_he_weights_have_the_stated_variance(init):
    # fan_in != fan_out, so that Glorot's 2/(n_in + n_out) differs from He's 2/n_in.
    fan_in, fan_out = 300, 200
    s2 = weight_variance(fan_in, fan_out, init=init)
    reference = torch.empty(fan_out, fan_in, dtype=torch.float64)
    if init == "glorot":
        nn.init.xavier_uniform_(reference, generator=seeded(7))
    else:
        nn.init.kaiming_normal_(reference, nonlinearity="relu", generator=seeded(7))
    layer = linear_stack([fan_in, fan_out], generator=seeded(8), init=init)[0]
    for weights in (reference, layer.weight.detach()):
        squares = weights.pow(2)
        se = squares.std().item() / math.sqrt(squares.numel())
        assert abs(squares.mean().item() - s2) < 4 * se
    if init == "glorot":  # U[-b, b] with b^2 = 3 s^2
        bound = math.sqrt(3 * s2)
        assert 0.999 * bound < layer.weight.abs().max().item() <= bound
    else:  # N(0, s^2): beyond the uniform's bound with probability 2 (1 - Phi(sqrt 3))
        assert layer.weight.abs().max().item() > math.sqrt(3 * s2)


def test_glorot_and_he_zero_the_biases():
    for init in ("glorot", "he"):
        net = linear_stack([4, 6, 1], generator=seeded(2), init=init)
        assert all((layer.bias == 0).all() for layer in net)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: default_init_variance([3]), ValueError, "widths"),
        (lambda: default_init_variance([3, 0, 1]), ValueError, "widths"),
        (lambda: default_init_variance("31"), TypeError, "widths"),
        (lambda: output_variance([3, 2.0]), TypeError, "widths"),
        (lambda: output_variance([3, 1], init="xavier"), ValueError, "init"),
        (lambda: weight_variance(0, 1, init="default"), ValueError, "fan_in"),
        (lambda: weight_variance(1, 0, init="default"), ValueError, "fan_out"),
        (lambda: bias_variance(2, init=None), TypeError, "init"),
        (lambda: linear_stack([2, 1], generator=None), TypeError, "generator"),
        (
            lambda: sample_outputs([2, 3], num_networks=1, num_inputs=1, generator=seeded(0)),
            ValueError,
            "widths",
        ),
        (
            lambda: sample_outputs([2, 1], num_networks=0, num_inputs=1, generator=seeded(0)),
            ValueError,
            "num_networks",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


@pytest.mark.parametrize("init", INITS)
def test_the_generator_alone_decides_the_draws(init):
    # The global generator's state, changed between the two calls, plays no part.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(10)
        first = linear_stack([4, 6, 1], generator=seeded(3), init=init)
        torch.manual_seed(11)
        second = linear_stack([4, 6, 1], generator=seeded(3), init=init)
        torch.manual_seed(12)
        y = sample_outputs([3, 2, 1], num_networks=2, num_inputs=4, generator=seeded(5), init=init)
        torch.manual_seed(13)
        z = sample_outputs([3, 2, 1], num_networks=2, num_inputs=4, generator=seeded(5), init=init)
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert torch.equal(y, z)


def test_sample_outputs_default_init_is_pytorchs():
    y = sample_outputs([3, 2, 1], num_networks=2, num_inputs=4, generator=seeded(6))
    z = sample_outputs([3, 2, 1], num_networks=2, num_inputs=4, generator=seeded(6), init="default")
    assert torch.equal(y, z)


def test_one_network_gives_one_row():
    y = sample_outputs([3, 2, 1], num_networks=1, num_inputs=5, generator=seeded(7))
    assert y.shape == (1, 5)
    # Its single row is the network's outputs on the inputs drawn after it.
    g = seeded(7)
    net = linear_stack([3, 2, 1], generator=g)
    x = torch.randn(1, 5, 3, dtype=torch.float64, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(y, net(x)[..., 0])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: default_init_variance("31"),
            TypeError,
            r"^widths must be a sequence of ints, got str",
        ),
        (
            lambda: sample_outputs([2, 4, 3], num_networks=1, num_inputs=1, generator=seeded(0)),
            ValueError,
            r"^widths must end with n_L = 1, got 3",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()
