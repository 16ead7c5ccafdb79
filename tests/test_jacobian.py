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
