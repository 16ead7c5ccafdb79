"""The autograd reference that every closed form in the book is checked against."""

import pytest
import torch

from derived.jacobian import assert_matches_autograd, autograd_jacobian

generator = torch.Generator().manual_seed(0)
A = torch.randn(3, 4, dtype=torch.float64, generator=generator)
x = torch.randn(4, dtype=torch.float64, generator=generator)


def test_jacobian_of_a_linear_map_is_its_matrix_in_numerator_layout():
    torch.testing.assert_close(autograd_jacobian(lambda v: A @ v, x), A, rtol=0, atol=0)


def test_elementwise_returns_the_derivative_in_the_shape_of_x():
    z = torch.linspace(-2, 2, 12, dtype=torch.float64).reshape(3, 4)
    slope = autograd_jacobian(torch.sin, z, elementwise=True)
    assert slope.shape == z.shape
    torch.testing.assert_close(slope, torch.cos(z), rtol=1e-14, atol=0)


def test_a_correct_closed_form_passes_and_returns_autograds_value():
    reference = assert_matches_autograd(A, lambda v: A @ v, x)
    assert torch.equal(reference, A)


def test_a_wrong_closed_form_fails():
    z = torch.linspace(-2, 2, 9, dtype=torch.float64)
    with pytest.raises(AssertionError):
        assert_matches_autograd(torch.cos(z) * (1 + 1e-8), torch.sin, z, elementwise=True)
    with pytest.raises(AssertionError):
        assert_matches_autograd(A.T, lambda v: A @ v, x)


@pytest.mark.parametrize(
    ("point", "error"),
    [
        (x.float(), TypeError),
        (x.tolist(), TypeError),
        (torch.tensor([], dtype=torch.float64), ValueError),
        (torch.tensor([float("nan")], dtype=torch.float64), ValueError),
    ],
)
def test_bad_points_are_refused_naming_x(point, error):
    with pytest.raises(error, match=r"^x "):
        autograd_jacobian(torch.sin, point)


def test_closed_form_must_be_a_floating_tensor():
    with pytest.raises(TypeError, match=r"^closed_form "):
        assert_matches_autograd([1.0], torch.sin, x, elementwise=True)


@pytest.mark.parametrize("magnitude", [1e-300, 1e-40, 1e-12, 1.0, 1e40])
@pytest.mark.parametrize("wrong", [0.0, 2.0, -1.0, 1 + 1e-8])
def test_a_zeroed_doubled_or_negated_closed_form_fails_at_every_magnitude(magnitude, wrong):
    # Rejecting 0 * derivative is what an absolute tolerance cannot do once |derivative| < atol.
    z = torch.linspace(-2, 2, 9, dtype=torch.float64)
    f = lambda t: magnitude * torch.sin(t)  # noqa: E731
    assert_matches_autograd(magnitude * torch.cos(z), f, z, elementwise=True)
    with pytest.raises(AssertionError):
        assert_matches_autograd(wrong * magnitude * torch.cos(z), f, z, elementwise=True)
    g = lambda v: magnitude * (A @ v)  # noqa: E731
    assert_matches_autograd(magnitude * A, g, x)
    with pytest.raises(AssertionError):
        assert_matches_autograd(wrong * magnitude * A, g, x)


def test_a_deep_sigmoid_chain_rejects_a_zero_slope():
    # At depth 40 the slopes are below 1e-24: far below any absolute tolerance.
    from derived.activation_chain import chain, chain_derivative

    z = torch.linspace(-3, 3, 7, dtype=torch.float64)
    slope = chain_derivative(z, 40, activation="sigmoid")
    assert slope.abs().max() < 1e-24
    f = lambda t: chain(t, 40, activation="sigmoid")  # noqa: E731
    assert_matches_autograd(slope, f, z, elementwise=True)
    for wrong in (torch.zeros_like(slope), 2 * slope):
        with pytest.raises(AssertionError, match="relative to each entry"):
            assert_matches_autograd(wrong, f, z, elementwise=True)


def test_exact_zeros_of_a_jacobian_pass_and_a_wrong_small_entry_fails():
    # diag(cos z): the off-diagonal zeros of autograd's Jacobian must equal the closed form's.
    z = torch.linspace(-1, 1, 4, dtype=torch.float64)
    closed = torch.diag(torch.cos(z)) * 1e-20
    f = lambda t: 1e-20 * torch.sin(t)  # noqa: E731
    assert_matches_autograd(closed, f, z)
    wrong = closed.clone()
    wrong[0, 1] = 1e-22  # one percent of the scale, in an entry that should be zero
    with pytest.raises(AssertionError, match="largest"):
        assert_matches_autograd(wrong, f, z)
