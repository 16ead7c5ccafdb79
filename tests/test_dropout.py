"""Dropout is a non-negative mask; positively homogeneous activations commute with it."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from derived.dropout import (
    activation_then_dropout,
    dropout_mask,
    dropout_then_activation,
    is_positively_homogeneous,
    positively_homogeneous,
)
from derived.rng import default_rng_from


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("p", [0.0, 0.25, 0.4, 0.9])
def test_mask_is_what_nn_dropout_multiplies_by(p):
    y = torch.randn(50, 40, dtype=torch.float64, generator=seeded(1))
    with default_rng_from(seeded(7)):
        dropped = nn.Dropout(p).train()(y)
    mask = dropout_mask(y.shape, p=p, generator=seeded(7), dtype=torch.float64)
    torch.testing.assert_close(dropped, mask * y, rtol=0, atol=0)


@pytest.mark.parametrize("p", [0.1, 0.4, 0.75])
def test_mask_takes_two_values_with_the_right_frequencies(p):
    n = 200_000
    mask = dropout_mask((n,), p=p, generator=seeded(3), dtype=torch.float64)
    keep = 1 / (1 - p)
    values = mask.unique()
    assert len(values) == 2 and values[0] == 0
    assert values[1].item() == pytest.approx(keep, rel=1e-15)
    dropped = (mask == 0).double().mean().item()
    # The fraction of zeros is a binomial proportion: four standard errors.
    assert abs(dropped - p) < 4 * (p * (1 - p) / n) ** 0.5
    # E[H] = 1: the kept units are scaled up by 1/(1 - p).
    assert abs(mask.mean().item() - 1) < 4 * mask.std().item() / n**0.5


def test_mask_advances_the_generator_and_leaves_global_state_alone():
    g = seeded(5)
    before = torch.get_rng_state()
    first = dropout_mask((1000,), p=0.5, generator=g)
    second = dropout_mask((1000,), p=0.5, generator=g)
    assert not torch.equal(first, second)
    assert torch.equal(torch.get_rng_state(), before)


def test_dropout_is_the_identity_in_eval_mode():
    y = torch.randn(100, dtype=torch.float64, generator=seeded(2))
    assert torch.equal(nn.Dropout(0.4).eval()(y), y)


# Away from the subnormal range, where a product loses bits whatever its order.
slopes = st.one_of(
    st.just(0.0), st.floats(min_value=0.01, max_value=3), st.floats(min_value=-3, max_value=-0.01)
)


@given(
    alpha=slopes,
    beta=slopes,
    p=st.sampled_from([0.0, 0.5, 0.75]),
    seed=st.integers(0, 2**31 - 1),
)
def test_positively_homogeneous_activations_commute_with_dropout(alpha, beta, p, seed):
    # With 1/(1 - p) a power of two every product is exact, so equality is bitwise.
    y = torch.randn(64, dtype=torch.float64, generator=seeded(seed))
    mask = dropout_mask(y.shape, p=p, generator=seeded(seed + 1), dtype=torch.float64)

    def phi(z):
        return positively_homogeneous(z, positive_slope=alpha, negative_slope=beta)

    assert torch.equal(dropout_then_activation(y, mask, phi), activation_then_dropout(y, mask, phi))


@given(c=st.floats(min_value=0, max_value=100), z=st.floats(min_value=-100, max_value=100))
def test_positively_homogeneous_is_homogeneous_and_matches_leaky_relu(c, z):
    z = torch.tensor([z], dtype=torch.float64)
    leaky = positively_homogeneous(z, positive_slope=1.0, negative_slope=0.01)
    torch.testing.assert_close(leaky, nn.LeakyReLU(0.01)(z), rtol=0, atol=0)
    relu = positively_homogeneous(c * z, positive_slope=1.0, negative_slope=0.0)
    torch.testing.assert_close(relu, c * torch.relu(z), rtol=1e-15, atol=0)


def test_sigmoid_does_not_commute_even_for_one_dropped_unit():
    y = torch.tensor([0.3, -1.2], dtype=torch.float64)
    mask = torch.tensor([0.0, 1 / 0.6], dtype=torch.float64)
    before = dropout_then_activation(y, mask, torch.sigmoid)
    after = activation_then_dropout(y, mask, torch.sigmoid)
    assert before[0].item() == 0.5 and after[0].item() == 0.0  # sigma(0) = 1/2
    assert before[1].item() != pytest.approx(after[1].item())


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"p": 1.0}, ValueError, "p"),
        ({"p": -0.1}, ValueError, "p"),
        ({"p": "0.5"}, TypeError, "p"),
        ({"p": True}, TypeError, "p"),
        ({"generator": 0}, TypeError, "generator"),
    ],
)
def test_mask_refuses_bad_input_naming_the_argument(kwargs, error, name):
    arguments = {"p": 0.5, "generator": seeded(0)} | kwargs
    with pytest.raises(error, match=rf"^{name} "):
        dropout_mask((3,), **arguments)


@pytest.mark.parametrize("function", [dropout_then_activation, activation_then_dropout])
def test_orders_refuse_bad_input(function):
    with pytest.raises(TypeError, match=r"^y "):
        function([1.0], torch.ones(1), torch.relu)
    with pytest.raises(TypeError, match=r"^mask "):
        function(torch.ones(1), torch.ones(1, dtype=torch.long), torch.relu)
    with pytest.raises(TypeError, match=r"^z "):
        positively_homogeneous([1.0], positive_slope=1.0, negative_slope=0.0)


def test_the_mask_is_returned_on_the_requested_device():
    mask = dropout_mask((2, 3), p=0.5, generator=torch.Generator().manual_seed(0), device="meta")
    assert mask.device.type == "meta"


@pytest.mark.parametrize(
    ("activation", "homogeneous"),
    [
        (nn.ReLU(), True),
        (nn.LeakyReLU(), True),
        (nn.LeakyReLU(0.3), True),
        (torch.abs, True),
        (lambda z: 2.5 * z, True),
        (nn.Sigmoid(), False),
        (nn.Tanh(), False),
        (nn.GELU(), False),
        (nn.ELU(), False),
        (lambda z: z.clamp(min=0) + 1e-3, False),  # ReLU shifted: phi(0) != 0
    ],
)
def test_positive_homogeneity_is_what_makes_both_orders_agree(activation, homogeneous):
    assert is_positively_homogeneous(activation) is homogeneous
    # the defining property, for the same mask: phi(H y) == H phi(y)
    y = 3 * torch.randn(200, dtype=torch.float64, generator=seeded(4))
    H = dropout_mask(y.shape, p=0.4, generator=seeded(5), dtype=torch.float64)
    agree = torch.allclose(
        dropout_then_activation(y, H, activation), activation_then_dropout(y, H, activation)
    )
    assert agree is homogeneous
