"""The residual layer's Jacobian I + F: Weyl's bound always, sigma_min's only for normal F."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.jacobian import assert_matches_autograd
from derived.residual_jacobian import (
    normal_residual_singular_values,
    residual_jacobian,
    shear,
    shear_sigma_min,
    sigma_max_lower_bound,
    sigma_min_lower_bound,
)
from derived.singular_values import sigma_max, sigma_min, with_singular_values

seeds = st.integers(min_value=0, max_value=2**31 - 1)
halves = st.integers(min_value=1, max_value=4)
smalls = st.floats(min_value=0.0, max_value=0.5)
bigs = st.floats(min_value=2.0, max_value=50.0)


def split_spectrum(generator, k, sigma_small, sigma_big):
    """k singular values in [0, sigma_small] and k in [sigma_big, 2 sigma_big]."""
    u = torch.rand(2, k, dtype=torch.float64, generator=generator)
    return torch.cat([sigma_small * u[0], sigma_big * (1 + u[1])])


def test_residual_jacobian_is_the_jacobian_of_z_plus_f():
    generator = torch.Generator().manual_seed(0)
    W = torch.randn(4, 4, dtype=torch.float64, generator=generator)
    z = torch.randn(4, dtype=torch.float64, generator=generator)
    F = (1 - torch.tanh(W @ z) ** 2)[:, None] * W  # the Jacobian of tanh(W z)
    assert_matches_autograd(residual_jacobian(F), lambda t: t + torch.tanh(W @ t), z)


def test_residual_jacobian_adds_the_identity_to_each_matrix_of_a_stack():
    F = torch.randn(2, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(residual_jacobian(F), F + torch.eye(4, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_residual_jacobian_keeps_the_dtype_of_f(dtype):
    F = torch.tensor([[0.5, -2.0], [0.25, 1.0]], dtype=dtype)
    J = residual_jacobian(F)
    assert J.dtype == dtype
    assert torch.equal(J, torch.tensor([[1.5, -2.0], [0.25, 2.0]], dtype=dtype))


@pytest.mark.parametrize("symmetric", [False, True])
@given(seed=seeds, k=halves, sigma_small=smalls, sigma_big=bigs)
def test_weyl_sigma_max_bound_holds_for_every_f(symmetric, seed, k, sigma_small, sigma_big):
    generator = torch.Generator().manual_seed(seed)
    s = split_spectrum(generator, k, sigma_small, sigma_big)
    F = with_singular_values(s, generator=generator, symmetric=symmetric)
    assert sigma_max(residual_jacobian(F)) >= sigma_max_lower_bound(sigma_big) - 1e-9


@given(seed=seeds, k=halves, sigma_small=smalls, sigma_big=bigs)
def test_sigma_min_bound_holds_for_symmetric_f(seed, k, sigma_small, sigma_big):
    generator = torch.Generator().manual_seed(seed)
    s = split_spectrum(generator, k, sigma_small, sigma_big)
    F = with_singular_values(s, generator=generator, symmetric=True)
    assert sigma_min(residual_jacobian(F)) >= sigma_min_lower_bound(sigma_small) - 1e-9


@given(seed=seeds, n=st.integers(min_value=1, max_value=6))
def test_normal_residual_singular_values_match_svdvals(seed, n):
    generator = torch.Generator().manual_seed(seed)
    G = torch.randn(n, n, dtype=torch.float64, generator=generator)
    F = (G + G.T) / 2
    torch.testing.assert_close(
        normal_residual_singular_values(F),
        torch.linalg.svdvals(residual_jacobian(F)),
        rtol=1e-10,
        atol=1e-12,
    )


@given(b=st.floats(min_value=1e-3, max_value=1e4))
def test_shear_sigma_min_is_the_smallest_singular_value(b):
    F = shear(b)
    torch.testing.assert_close(torch.linalg.svdvals(F), torch.tensor([b, 0.0], dtype=F.dtype))
    torch.testing.assert_close(
        sigma_min(residual_jacobian(F)).item(), shear_sigma_min(b), rtol=1e-9, atol=0
    )


def test_shear_breaks_the_sigma_min_bound_once_b_exceeds_zero():
    # sigma_small = 0 for the shear, so the claim would be sigma_min(I + F) >= 1.
    for b in (0.5, 2.0, 10.0):
        assert sigma_min(residual_jacobian(shear(b))) < sigma_min_lower_bound(0.0)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: residual_jacobian(torch.ones(2, 3)), ValueError, "F"),
        (lambda: residual_jacobian(torch.ones(3)), ValueError, "F"),
        (lambda: residual_jacobian(torch.eye(2, dtype=torch.int64)), TypeError, "F"),
        (lambda: normal_residual_singular_values(shear(1.0)), ValueError, "F"),
        (lambda: sigma_max_lower_bound(-1.0), ValueError, "sigma_big"),
        (lambda: sigma_min_lower_bound(1.5), ValueError, "sigma_small"),
        (lambda: shear(0.0), ValueError, "b"),
        (lambda: shear_sigma_min(-2.0), ValueError, "b"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


def test_refusals_name_the_matrix_and_the_shear():
    with pytest.raises(TypeError, match=r"^F "):
        normal_residual_singular_values(torch.eye(2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"^F must be a symmetric matrix"):
        normal_residual_singular_values(torch.tensor([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"^b "):
        shear_sigma_min(0.0)


def test_the_shear_is_built_on_the_requested_device():
    assert shear(0.5, device="meta").device.type == "meta"


@pytest.mark.parametrize("sigma", [1.0, 3.0, 10.0])
def test_weyl_sigma_max_bound_is_attained_by_minus_sigma_times_the_identity(sigma):
    F = -sigma * torch.eye(3, dtype=torch.float64)  # I + F = (1 - sigma) I
    assert sigma_max(residual_jacobian(F)).item() == pytest.approx(sigma_max_lower_bound(sigma))


@pytest.mark.parametrize("sigma", [0.0, 0.5, 1.0])
def test_sigma_min_bound_is_attained_up_to_sigma_small_one(sigma):
    F = -sigma * torch.eye(3, dtype=torch.float64)  # symmetric, I + F = (1 - sigma) I
    assert sigma_min(residual_jacobian(F)).item() == pytest.approx(sigma_min_lower_bound(sigma))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: normal_residual_singular_values(torch.ones(3)), r"^F must be a symmetric matrix"),
        (
            lambda: normal_residual_singular_values(torch.ones(2, 3)),
            r"^F must be a symmetric matrix",
        ),
        (
            lambda: residual_jacobian(torch.ones(2, 3, 4)),
            r"^F must be a square matrix, got shape \(2, 3, 4\)",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
