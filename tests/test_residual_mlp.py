"""The residual MLP: its forward pass against torch.nn layers, its parameters, its refusals."""

import pytest
import torch
from residual_mlp_cases import network

from derived.residual_mlp import forward, hidden_stack, init_parameters


def test_forward_matches_torch_nn_layers():
    x, A, b = network(0, 5)
    layers = []
    for A_l, b_l in zip(A, b, strict=True):
        linear = torch.nn.Linear(A_l.shape[1], A_l.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(A_l)
            linear.bias.copy_(b_l)
        layers.append(linear)
    with torch.no_grad():
        y = torch.tanh(layers[0](x))
        for linear in layers[1:-1]:
            y = torch.tanh(linear(y)) + y
        expected = layers[-1](y)
    torch.testing.assert_close(forward(x, A, b)[-1], expected, rtol=1e-14, atol=1e-15)


def test_init_draws_like_torch_nn_linear():
    A, b = init_parameters(50, 400, 3, generator=torch.Generator().manual_seed(0))
    bound = 50**-0.5
    assert A[0].abs().max() <= bound and b[0].abs().max() <= bound
    # U[-c, c] has variance c^2 / 3; 20,000 draws give a relative standard error of about 1%.
    torch.testing.assert_close(A[0].var().item(), bound**2 / 3, rtol=0.05, atol=0)
    assert [tuple(A_l.shape) for A_l in A] == [(400, 50), (400, 400), (1, 400)]


def test_init_draws_from_its_generator_alone():
    # The global random state is not consulted: reseeding it changes nothing.
    draws = []
    for global_seed in (1, 2):
        with torch.random.fork_rng():
            torch.manual_seed(global_seed)
            draws.append(init_parameters(3, 4, 3, generator=torch.Generator().manual_seed(0)))
    (A_1, b_1), (A_2, b_2) = draws
    for mine, theirs in zip(A_1 + b_1, A_2 + b_2, strict=True):
        assert torch.equal(mine, theirs)


def test_bad_shapes_and_sizes_are_refused():
    x, A, b = network(0, 3)
    with pytest.raises(ValueError, match=r"^b "):
        forward(x, A, b[:2])
    with pytest.raises(ValueError, match=r"^A\[-1\] "):
        forward(x, [*A[:2], A[1]], [*b[:2], b[1]])
    with pytest.raises(ValueError, match=r"^A\[1\] "):
        forward(x, A, [b[0], b[1][:2], b[2]])
    with pytest.raises(ValueError, match=r"^L "):
        init_parameters(3, 4, 1, generator=torch.Generator())
    with pytest.raises(TypeError, match=r"^width "):
        init_parameters(3, 4.0, 3, generator=torch.Generator())


def test_every_function_defaults_to_the_network_forward_runs():
    # One default network (tanh, residual) throughout the module.
    x, A, b = network(0, 4)
    y = forward(x, A, b)
    torch.testing.assert_close(hidden_stack(y[1], A, b), y[-2], rtol=0, atol=0)
    assert torch.equal(y[-1], forward(x, A, b, activation="tanh", residual=True)[-1])
    with pytest.raises(TypeError, match=r"^y_1 "):
        hidden_stack(y[1].long(), A, b)


def network_with(position: int, A_l: torch.Tensor) -> tuple[list, list]:
    """A valid 4-layer network of width 3 on 2 inputs, with one weight replaced."""
    A = [torch.ones(3, 2), torch.ones(3, 3), torch.ones(3, 3), torch.ones(1, 3)]
    A[position] = A_l
    return A, [torch.ones(a.shape[0]) for a in A]


@pytest.mark.parametrize(
    ("A", "b", "error", "message"),
    [
        (
            torch.ones(4, 3, 3),
            [torch.ones(3)] * 4,
            TypeError,
            r"^A must be a list of tensors, got Tensor$",
        ),
        (
            *network_with(1, torch.ones(3, 2)),
            ValueError,
            r"^A\[1\] must have shape \(3, 3\), got \(3, 2\)",
        ),
        (
            *network_with(2, torch.ones(3, 2)),
            ValueError,
            r"^A\[2\] must have shape \(3, 3\), got \(3, 2\)",
        ),
        (
            *network_with(3, torch.ones(2, 3)),
            ValueError,
            r"^A\[-1\] must have shape \(1, m\) = \(1, 3\) \(a scalar output\), got \(2, 3\)$",
        ),
    ],
)
def test_a_network_is_refused_by_the_weight_that_breaks_it(A, b, error, message):
    with pytest.raises(error, match=message):
        forward(torch.ones(2), A, b)
