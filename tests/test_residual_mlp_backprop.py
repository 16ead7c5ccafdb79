"""Backpropagation through the residual MLP, written out by hand, against autograd."""

import pytest
import torch
from defaults import default_dtype
from hypothesis import given
from hypothesis import strategies as st
from residual_mlp_cases import network
from torch.func import grad, jacrev

from derived.jacobian import assert_matches_autograd
from derived.residual_mlp import ACTIVATIONS, forward, hidden_stack
from derived.residual_mlp_backprop import (
    hidden_jacobian,
    layer_jacobian,
    output_gradients,
    parameter_gradients,
)

seeds = st.integers(min_value=0, max_value=2**31 - 1)
depths = st.integers(min_value=2, max_value=7)
NAMES = sorted(ACTIVATIONS)


def test_layer_jacobian_keeps_the_dtype_of_its_inputs_whatever_the_default_dtype():
    x, A, b = network(0, 3)
    y_1, A_1, b_1 = (t.to(torch.float32) for t in (forward(x, A, b)[1], A[1], b[1]))
    with default_dtype(torch.float64):
        J = layer_jacobian(y_1, A_1, b_1)
    assert J.dtype == torch.float32


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("residual", [True, False])
@given(seed=seeds)
def test_layer_jacobian_matches_autograd(activation, residual, seed):
    x, A, b = network(seed, 4)
    y_1 = forward(x, A, b, activation=activation)[1]
    sigma = ACTIVATIONS[activation][0]

    def layer(y):
        branch = sigma(A[1] @ y + b[1])
        return branch + y if residual else branch

    closed_form = layer_jacobian(y_1, A[1], b[1], activation=activation, residual=residual)
    assert_matches_autograd(closed_form, layer, y_1)


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("residual", [True, False])
@given(seed=seeds, L=depths)
def test_output_gradients_match_autograd(activation, residual, seed, L):
    x, A, b = network(seed, L)
    y = forward(x, A, b, activation=activation, residual=residual)
    g = output_gradients(x, A, b, activation=activation, residual=residual)
    assert len(g) == L - 1
    sigma = ACTIVATIONS[activation][0]
    for ell in range(1, L):

        def rest(y_l, ell=ell):
            for A_j, b_j in zip(A[ell:-1], b[ell:-1], strict=True):
                branch = sigma(A_j @ y_l + b_j)
                y_l = branch + y_l if residual else branch
            return (A[-1] @ y_l + b[-1])[0]

        torch.testing.assert_close(g[ell - 1], grad(rest)(y[ell]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("residual", [True, False])
@given(seed=seeds, L=depths)
def test_parameter_gradients_match_autograd(activation, residual, seed, L):
    x, A, b = network(seed, L)
    grad_A, grad_b = parameter_gradients(x, A, b, activation=activation, residual=residual)

    def y_L(A, b):
        return forward(x, A, b, activation=activation, residual=residual)[-1][0]

    auto_A, auto_b = grad(y_L, argnums=(0, 1))(A, b)
    for mine, theirs in zip(grad_A + grad_b, auto_A + auto_b, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("residual", [True, False])
@given(seed=seeds, L=depths)
def test_hidden_jacobian_matches_autograd(activation, residual, seed, L):
    x, A, b = network(seed, L)
    y_1 = forward(x, A, b, activation=activation, residual=residual)[1]
    sigma = ACTIVATIONS[activation][0]

    def stack(y):
        for A_j, b_j in zip(A[1:-1], b[1:-1], strict=True):
            branch = sigma(A_j @ y + b_j)
            y = branch + y if residual else branch
        return y

    closed_form = hidden_jacobian(x, A, b, activation=activation, residual=residual)
    torch.testing.assert_close(closed_form, jacrev(stack)(y_1), rtol=1e-10, atol=1e-12)
    y = forward(x, A, b, activation=activation, residual=residual)
    torch.testing.assert_close(
        hidden_stack(y_1, A, b, activation=activation, residual=residual), y[-2], rtol=0, atol=0
    )


@pytest.mark.parametrize("residual", [True, False])
def test_a_zero_hidden_layer_cuts_only_the_plain_network(residual):
    x, A, b = network(1, 6)
    A[3] = torch.zeros_like(A[3])  # A_4 = 0
    grad_A, _ = parameter_gradients(x, A, b, residual=residual)
    earlier = torch.stack([grad_A[ell].abs().max() for ell in range(3)])
    assert (earlier > 0).all() if residual else (earlier == 0).all()


def test_the_output_layers_gradients_are_one_and_the_last_hidden_state():
    x, A, b = network(2, 4)
    grad_A, grad_b = parameter_gradients(x, A, b)
    assert grad_b[-1].item() == 1.0
    assert torch.equal(grad_A[-1][0], forward(x, A, b)[-2])


@pytest.mark.parametrize(
    ("change", "error", "name"),
    [
        ({"activation": "sigmoid"}, ValueError, "activation"),
        ({"A": "one"}, ValueError, "A"),
        ({"x": torch.zeros(3, dtype=torch.int64)}, TypeError, "x"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(change, error, name):
    x, A, b = network(0, 3)
    arguments = {"x": x, "A": A, "b": b, "activation": "tanh"} | change
    if arguments["A"] == "one":
        arguments["A"] = A[:1]
    with pytest.raises(error, match=rf"^{name} "):
        parameter_gradients(arguments.pop("x"), arguments.pop("A"), arguments.pop("b"), **arguments)


def test_every_function_defaults_to_the_network_forward_runs():
    # One default network (tanh, residual), as in derived.residual_mlp.
    x, A, b = network(0, 4)
    y = forward(x, A, b)
    torch.testing.assert_close(
        hidden_jacobian(x, A, b), jacrev(lambda t: hidden_stack(t, A, b))(y[1])
    )
    torch.testing.assert_close(
        layer_jacobian(y[1], A[1], b[1]),
        layer_jacobian(y[1], A[1], b[1], activation="tanh", residual=True),
        rtol=0,
        atol=0,
    )
    for mine, theirs in zip(
        output_gradients(x, A, b),
        output_gradients(x, A, b, activation="tanh", residual=True),
        strict=True,
    ):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: layer_jacobian(torch.ones(3), torch.tensor(1.0), torch.ones(3)),
            r"^A_l must have shape \(\d+, \d+\), got \(\)",
        ),
        (
            lambda: layer_jacobian(torch.ones(3), torch.ones(3), torch.ones(3)),
            r"^A_l must have shape \(3, 3\), got \(3,\)",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
