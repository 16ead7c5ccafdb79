"""The scalar activation chain: closed forms against autograd, torch.nn, and the bounds."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.activation_chain import (
    ACTIVATIONS,
    MAX_DERIVATIVE,
    TANH_DECAY_EXPONENT,
    chain,
    chain_derivative,
    derivative_bound,
    local_derivative,
    pre_activations,
    tanh_iterate,
)
from derived.jacobian import assert_matches_autograd, autograd_jacobian

NAMES = sorted(ACTIVATIONS)
# In float64, tanh(x) rounds to +-1 beyond |x| ~ 19 and the derivative to 0; stay well inside.
inputs = st.floats(min_value=-10, max_value=10, allow_nan=False)
depths = st.integers(min_value=1, max_value=60)


def as_tensor(x: float) -> torch.Tensor:
    return torch.tensor([x], dtype=torch.float64)


@pytest.mark.parametrize("activation", NAMES)
def test_max_derivative_is_the_supremum_attained_at_zero(activation):
    z = torch.arange(-20_000, 20_001, dtype=torch.float64) / 2000  # z = 0 exactly
    slope = autograd_jacobian(ACTIVATIONS[activation], z, elementwise=True)
    assert slope.max().item() == pytest.approx(MAX_DERIVATIVE[activation], rel=1e-15)
    assert z[slope.argmax()].item() == 0.0


@pytest.mark.parametrize("activation", NAMES)
def test_local_derivative_matches_autograd(activation):
    z = torch.linspace(-8, 8, 101, dtype=torch.float64)
    assert_matches_autograd(
        local_derivative(z, activation=activation), ACTIVATIONS[activation], z, elementwise=True
    )


@pytest.mark.parametrize("activation", NAMES)
def test_chain_is_a_stack_of_unit_weight_torch_nn_layers(activation):
    n = 7
    layers = []
    for _ in range(n):
        linear = torch.nn.Linear(1, 1, dtype=torch.float64)
        torch.nn.init.ones_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, torch.nn.Sigmoid() if activation == "sigmoid" else torch.nn.Tanh()]
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    with torch.no_grad():
        expected = torch.nn.Sequential(*layers)(x[:, None])[:, 0]
    torch.testing.assert_close(chain(x, n, activation=activation), expected, rtol=0, atol=0)


@pytest.mark.parametrize("activation", NAMES)
@given(x=inputs, n=depths)
def test_chain_derivative_matches_autograd(activation, x, n):
    x = as_tensor(x)
    # Both sides compute the first slope phi'(x) from phi(x), which is rounded with an absolute
    # error of about eps; where phi'(x) is small that is a relative error of eps / phi'(x)
    # (4e-9 for tanh at x = 9), in autograd's value as much as in the closed form's.
    first_slope = local_derivative(x, activation=activation).item()
    rounding = 8 * torch.finfo(torch.float64).eps / first_slope
    assert_matches_autograd(
        chain_derivative(x, n, activation=activation),
        lambda t: chain(t, n, activation=activation),
        x,
        elementwise=True,
        rtol=1e-10 + rounding,
    )


@pytest.mark.parametrize("activation", NAMES)
def test_chain_acts_elementwise_so_its_jacobian_is_diagonal(activation):
    x = torch.linspace(-2, 2, 6, dtype=torch.float64)
    assert_matches_autograd(
        torch.diag(chain_derivative(x, 4, activation=activation)),
        lambda t: chain(t, 4, activation=activation),
        x,
    )


@pytest.mark.parametrize("activation", NAMES)
@given(x=inputs, n=depths)
def test_gradient_is_positive_and_within_the_bound(activation, x, n):
    x = as_tensor(x)
    slope = autograd_jacobian(lambda t: chain(t, n, activation=activation), x, elementwise=True)
    assert 0 < slope.abs().item() <= derivative_bound(n, activation=activation)


@pytest.mark.parametrize("activation", NAMES)
def test_bound_is_attained_by_one_layer_at_zero(activation):
    zero = as_tensor(0.0)
    slope = autograd_jacobian(lambda t: chain(t, 1, activation=activation), zero, elementwise=True)
    assert slope.item() == derivative_bound(1, activation=activation)


@given(x=inputs, n=st.integers(min_value=2, max_value=60))
def test_sigmoid_bound_is_strict_beyond_one_layer(x, n):
    # Every layer after the first sees an input in (0, 1), where sigma' < 1/4.
    slope = chain_derivative(as_tensor(x), n, activation="sigmoid")
    assert slope.item() < derivative_bound(n, activation="sigmoid")


@pytest.mark.parametrize("n", [1, 2, 10, 1000])
def test_tanh_bound_is_attained_at_zero_for_every_depth(n):
    zero = as_tensor(0.0)
    slope = autograd_jacobian(lambda t: chain(t, n, activation="tanh"), zero, elementwise=True)
    assert slope.item() == derivative_bound(n, activation="tanh") == 1.0


def test_tanh_gradient_decays_polynomially_with_the_stated_exponent():
    x = torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)
    n1, n2 = 1000, 8000
    g1, g2 = (
        autograd_jacobian(lambda t, n=n: chain(t, n, activation="tanh"), x, elementwise=True)
        for n in (n1, n2)
    )
    slope = (g2.log() - g1.log()) / math.log(n2 / n1)
    torch.testing.assert_close(
        slope, torch.full_like(slope, TANH_DECAY_EXPONENT), atol=0.01, rtol=0
    )


def test_tanh_iterates_approach_the_asymptote():
    x = torch.tensor([-3.0, 0.5, 1.0, 3.0], dtype=torch.float64)
    n = 5000
    h = pre_activations(x, n, activation="tanh")[-1]
    i = torch.full_like(x, n - 1)
    torch.testing.assert_close(h.abs() / tanh_iterate(i), torch.ones_like(x), atol=5e-3, rtol=0)


def test_pre_activations_start_at_the_input():
    x = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    h = pre_activations(x, 5, activation="sigmoid")
    assert h.shape == (5, 4, 3)
    assert torch.equal(h[0], x)
    assert torch.equal(h[1], torch.sigmoid(x))


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"n": 0}, ValueError, "n"),
        ({"n": -3}, ValueError, "n"),
        ({"n": 2.0}, TypeError, "n"),
        ({"n": True}, TypeError, "n"),
        ({"activation": "relu"}, ValueError, "activation"),
        ({"activation": None}, TypeError, "activation"),
        ({"x": [0.0]}, TypeError, "x"),
        ({"x": torch.tensor([1, 2])}, TypeError, "x"),
        ({"x": torch.tensor([])}, ValueError, "x"),
        ({"x": torch.tensor([float("nan")])}, ValueError, "x"),
        ({"x": torch.tensor([float("inf")])}, ValueError, "x"),
    ],
)
@pytest.mark.parametrize("function", [chain, chain_derivative, pre_activations])
def test_bad_input_is_refused_naming_the_argument(function, kwargs, error, name):
    arguments = {"x": torch.zeros(2), "n": 3, "activation": "tanh"} | kwargs
    with pytest.raises(error, match=rf"^{name} "):
        function(arguments.pop("x"), arguments.pop("n"), **arguments)


def test_bound_and_asymptote_refuse_bad_input():
    with pytest.raises(ValueError, match=r"^n "):
        derivative_bound(0, activation="tanh")
    with pytest.raises(ValueError, match=r"^activation "):
        derivative_bound(2, activation="relu")
    with pytest.raises(ValueError, match=r"^i "):
        tanh_iterate(torch.tensor([0.5]))
    with pytest.raises(ValueError, match=r"^activation "):
        local_derivative(torch.zeros(1), activation="relu")


def test_tanh_iterate_is_defined_from_the_first_layer_on():
    i = torch.tensor([1.0, 1.5], dtype=torch.float64)
    torch.testing.assert_close(tanh_iterate(i) ** 2 * 2 * i, torch.full_like(i, 3.0))
    with pytest.raises(ValueError, match=r"^i "):
        tanh_iterate(torch.tensor([0.5]))
    with pytest.raises(TypeError, match=r"^i "):
        tanh_iterate(torch.tensor([2]))
