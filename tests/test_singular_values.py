"""Singular-value helpers: against torch.linalg, and the product and Weyl inequalities."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.singular_values import (
    product_bounds,
    scale_to_sigma_max,
    sigma_max,
    sigma_min,
    weyl_lower_bound,
    with_singular_values,
)

GENERATOR = torch.Generator()
seeds = st.integers(min_value=0, max_value=2**31 - 1)
sizes = st.integers(min_value=1, max_value=6)


def random_matrix(seed: int, n: int, scale: float = 1.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, n, dtype=torch.float64, generator=generator)


@given(seed=seeds, n=sizes)
def test_sigma_max_and_min_are_the_extreme_stretches(seed, n):
    A = random_matrix(seed, n)
    # sigma_max^2 and sigma_min^2 are the extreme eigenvalues of A^T A.
    eigenvalues = torch.linalg.eigvalsh(A.T @ A)
    torch.testing.assert_close(sigma_max(A) ** 2, eigenvalues[-1], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(sigma_min(A) ** 2, eigenvalues[0], rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(sigma_max(A), torch.linalg.matrix_norm(A, ord=2))


def test_sigma_min_is_zero_for_a_singular_matrix():
    A = torch.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=torch.float64)
    assert sigma_min(A).item() == pytest.approx(0.0, abs=1e-15)


@given(seed=seeds, n=sizes, sigma=st.floats(min_value=1e-3, max_value=1e3))
def test_scale_to_sigma_max_hits_the_target(seed, n, sigma):
    A = scale_to_sigma_max(random_matrix(seed, n), sigma)
    torch.testing.assert_close(sigma_max(A).item(), sigma, rtol=1e-12, atol=0)


@pytest.mark.parametrize("symmetric", [False, True])
@given(seed=seeds, n=sizes)
def test_with_singular_values_has_those_singular_values(symmetric, seed, n):
    generator = torch.Generator().manual_seed(seed)
    s = torch.rand(n, dtype=torch.float64, generator=generator) * 5
    M = with_singular_values(s, generator=generator, symmetric=symmetric)
    torch.testing.assert_close(
        torch.linalg.svdvals(M), s.sort(descending=True).values, rtol=1e-10, atol=1e-12
    )
    if symmetric:
        torch.testing.assert_close(M, M.T, rtol=0, atol=1e-13)


def test_with_singular_values_is_not_symmetric_by_default():
    s = torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64)
    M = with_singular_values(s, generator=torch.Generator().manual_seed(0))
    # U and V are drawn independently, so U diag(s) V^T is not symmetric.
    assert not torch.allclose(M, M.T)
    explicit = with_singular_values(s, generator=torch.Generator().manual_seed(0), symmetric=False)
    assert torch.equal(M, explicit)


@pytest.mark.parametrize("symmetric", [False, True])
def test_with_singular_values_draws_only_from_the_generator(symmetric):
    s = torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64)
    first = with_singular_values(s, generator=torch.Generator().manual_seed(4), symmetric=symmetric)
    with torch.random.fork_rng():  # the global generator plays no part
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(4)
        again = with_singular_values(s, generator=generator, symmetric=symmetric)
        torch.manual_seed(1)
    assert torch.equal(first, again)
    assert torch.equal(
        again,
        with_singular_values(s, generator=torch.Generator().manual_seed(4), symmetric=symmetric),
    )


def test_symmetric_matrices_have_eigenvalues_of_both_signs():
    s = torch.ones(32, dtype=torch.float64)
    M = with_singular_values(s, generator=torch.Generator().manual_seed(0), symmetric=True)
    eigenvalues = torch.linalg.eigvalsh(M)
    # each sign is +1 or -1 with probability 1/2: 32 draws of one sign have probability 2^-31
    assert (eigenvalues < 0).any() and (eigenvalues > 0).any()
    torch.testing.assert_close(eigenvalues.abs(), s)


@pytest.mark.parametrize("symmetric", [False, True])
def test_with_singular_values_draws_a_batch_of_different_matrices(symmetric):
    generator = torch.Generator().manual_seed(0)
    s = torch.rand(5, 3, 4, dtype=torch.float64, generator=generator)
    M = with_singular_values(s, generator=generator, symmetric=symmetric)
    assert M.shape == (5, 3, 4, 4)
    torch.testing.assert_close(torch.linalg.svdvals(M), s.sort(descending=True).values)
    assert not torch.allclose(M[0, 0], M[1, 0])
    if symmetric:
        torch.testing.assert_close(M, M.mT, rtol=0, atol=1e-13)


@given(seed=seeds, n=sizes, scale=st.floats(min_value=0.01, max_value=10))
def test_weyl_lower_bound_holds_for_every_singular_value(seed, n, scale):
    A, B = random_matrix(seed, n), random_matrix(seed + 1, n, scale)
    assert (torch.linalg.svdvals(A + B) >= weyl_lower_bound(A, B) - 1e-10).all()


def test_weyl_lower_bound_is_attained_by_aligned_diagonals():
    A = torch.diag(torch.tensor([5.0, 3.0], dtype=torch.float64))
    B = -torch.eye(2, dtype=torch.float64)
    torch.testing.assert_close(weyl_lower_bound(A, B), torch.linalg.svdvals(A + B))


@given(seed=seeds, n=sizes, k=st.integers(min_value=1, max_value=5))
def test_product_bounds_bracket_the_product(seed, n, k):
    factors = [random_matrix(seed + i, n) for i in range(k)]
    product = torch.linalg.multi_dot(factors) if k > 1 else factors[0]
    s = torch.linalg.svdvals(product)
    lower, upper = product_bounds(factors)
    assert s[-1] >= lower * (1 - 1e-9) - 1e-300
    assert s[0] <= upper * (1 + 1e-9)


def test_product_bounds_are_exact_for_commuting_diagonals():
    factors = [torch.diag(torch.tensor([2.0, 0.5], dtype=torch.float64))] * 3
    lower, upper = product_bounds(factors)
    assert (lower.item(), upper.item()) == (0.125, 8.0)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: sigma_max(torch.ones(3)), ValueError, "A"),
        (lambda: sigma_min(torch.ones(2, 2, dtype=torch.int64)), TypeError, "A"),
        (lambda: scale_to_sigma_max(torch.eye(2), 0.0), ValueError, "sigma"),
        (lambda: scale_to_sigma_max(torch.zeros(2, 2), 1.0), ValueError, "A"),
        (lambda: with_singular_values(torch.tensor(1.0), generator=GENERATOR), ValueError, "s"),
        (lambda: with_singular_values(-torch.ones(2), generator=GENERATOR), ValueError, "s"),
        (lambda: weyl_lower_bound(torch.eye(2), torch.eye(3)), ValueError, "B"),
        (lambda: product_bounds([]), ValueError, "matrices"),
        (lambda: product_bounds([torch.ones(2, 3)]), ValueError, "matrices"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


def test_the_absolute_value_form_of_weyl_is_not_a_bound():
    A = torch.zeros(2, 2, dtype=torch.float64)
    B = torch.diag(torch.tensor([1.0, 0.0], dtype=torch.float64))
    s = torch.linalg.svdvals(A + B)
    assert s[-1] < (torch.linalg.svdvals(A) - sigma_max(B)).abs()[-1]
    assert (s >= weyl_lower_bound(A, B)).all()


def test_product_bounds_name_the_argument_when_the_factors_are_not_floats():
    with pytest.raises(TypeError, match=r"^matrices "):
        product_bounds([torch.ones(2, 2, dtype=torch.int64)])


def test_each_matrix_argument_is_named_when_refused():
    for A, B, name in [(torch.ones(2), torch.eye(2), "A"), (torch.eye(2), torch.ones(2), "B")]:
        with pytest.raises(ValueError, match=rf"^{name} "):
            weyl_lower_bound(A, B)
    with pytest.raises(ValueError, match=r"^matrices must be square, .*got \(2, 3\)"):
        product_bounds([torch.ones(2, 3)])


def test_scaling_the_zero_matrix_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^A must not be the zero matrix"):
        scale_to_sigma_max(torch.zeros(2, 2), 1.0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: scale_to_sigma_max(torch.ones(2, 2, 2), 1.0),
            ValueError,
            r"^A must have shape \(m, n\)",
        ),
        (
            lambda: product_bounds(torch.eye(2)),
            TypeError,
            r"^matrices must be a list of tensors, got Tensor",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()
