"""Batch normalization: the forward pass and the closed-form Jacobian against torch."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.func import jacrev

from derived.batch_norm import (
    batch_norm,
    batch_norm_backward,
    batch_norm_jacobian,
    batch_norm_jacobian_diagonal,
    normalize,
    whole_batch_jacobian,
)

EPS = [1e-10, 1e-5, 0.3]  # PyTorch refuses eps = 0 in training mode


def batch(m: int, c: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(m, c, dtype=torch.float64, generator=generator) * 3 + 1


def scale(c: int, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(c, dtype=torch.float64, generator=generator) + 0.5


def torch_batch_norm(weight, bias, eps):
    """PyTorch's own layer in training mode: the independent reference."""
    return lambda x: F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)


@pytest.mark.parametrize("eps", EPS)
def test_forward_matches_torch_in_training_mode(eps):
    x, weight, bias = batch(7, 3), scale(3), scale(3, seed=2)
    expected = torch_batch_norm(weight, bias, eps)(x)
    torch.testing.assert_close(batch_norm(x, weight, bias, eps=eps), expected)


def test_leading_dimensions_are_independent_batches():
    x = torch.stack([batch(5, 2, seed=s) for s in range(3)])
    for k in range(3):
        torch.testing.assert_close(batch_norm(x)[k], batch_norm(x[k]))
        torch.testing.assert_close(batch_norm_jacobian(x)[k], batch_norm_jacobian(x[k]))


@pytest.mark.parametrize("eps", EPS)
@pytest.mark.parametrize("with_weight", [False, True])
def test_whole_batch_jacobian_matches_autograd_through_torch(eps, with_weight):
    m, c = 6, 3
    x = batch(m, c)
    weight = scale(c) if with_weight else None
    # jacrev of F.batch_norm: shape (m, C, m, C), flattened example-major.
    reference = jacrev(torch_batch_norm(weight, scale(c, seed=3), eps))(x)
    closed_form = whole_batch_jacobian(x, weight, eps=eps)
    torch.testing.assert_close(closed_form, reference.reshape(m * c, m * c), rtol=1e-10, atol=1e-12)


@given(
    m=st.integers(min_value=2, max_value=9),
    seed=st.integers(min_value=0, max_value=2**16),
    eps=st.sampled_from(EPS),
)
def test_per_feature_jacobian_and_diagonal_match_autograd(m, seed, eps):
    x, weight = batch(m, 2, seed), scale(2, seed)
    reference = jacrev(torch_batch_norm(weight, None, eps))(x)  # (m, C, m, C)
    blocks = batch_norm_jacobian(x, weight, eps=eps)
    for k in range(2):
        torch.testing.assert_close(blocks[k], reference[:, k, :, k], rtol=1e-9, atol=1e-10)
    diagonal = torch.diagonal(reference.reshape(2 * m, 2 * m))
    torch.testing.assert_close(
        batch_norm_jacobian_diagonal(x, weight, eps=eps).flatten(), diagonal, rtol=1e-9, atol=1e-10
    )


@given(m=st.integers(min_value=2, max_value=9), seed=st.integers(min_value=0, max_value=2**16))
def test_backward_matches_autograd(m, seed):
    x, weight = batch(m, 3, seed), scale(3, seed)
    g = batch(m, 3, seed + 1)
    x_leaf = x.clone().requires_grad_()
    (reference,) = torch.autograd.grad(
        torch_batch_norm(weight, None, 1e-5)(x_leaf), x_leaf, grad_outputs=g
    )
    torch.testing.assert_close(batch_norm_backward(g, x, weight), reference, rtol=1e-9, atol=1e-11)


@given(
    m=st.integers(min_value=2, max_value=12),
    seed=st.integers(min_value=0, max_value=2**16),
    eps=st.sampled_from(EPS),
)
def test_jacobian_kills_shifts_and_is_symmetric(m, seed, eps):
    # y is unchanged when every x_i moves by the same amount: the rows sum to zero.
    blocks = batch_norm_jacobian(batch(m, 2, seed), scale(2, seed), eps=eps)
    ones = torch.ones(m, dtype=torch.float64)
    torch.testing.assert_close(
        blocks @ ones, torch.zeros(2, m, dtype=torch.float64), atol=1e-10, rtol=0
    )
    torch.testing.assert_close(blocks, blocks.mT)


@given(m=st.integers(min_value=3, max_value=12), seed=st.integers(min_value=0, max_value=2**16))
def test_scaling_direction_is_damped_by_eps_over_s_squared(m, seed):
    # J x_hat = (gamma / s) (eps / s^2) x_hat: without eps, rescaling the batch changes nothing.
    x, eps = batch(m, 1, seed), 1e-5
    x_hat, s = normalize(x, eps=eps)
    J = batch_norm_jacobian(x, eps=eps)[0]
    expected = x_hat[:, 0] * eps / s[0, 0] ** 3
    torch.testing.assert_close(J @ x_hat[:, 0], expected, rtol=1e-6, atol=1e-14)


def test_two_examples_leave_nothing_to_learn_from():
    # With m = 2 and eps = 0 the outputs are -1 and +1 whatever x is: the Jacobian is zero.
    x = torch.tensor([[0.3], [2.0]], dtype=torch.float64)
    torch.testing.assert_close(
        batch_norm_jacobian(x, eps=0.0), torch.zeros(1, 2, 2, dtype=torch.float64)
    )


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: batch_norm([[1.0], [2.0]]), TypeError, "x"),
        (lambda: batch_norm(torch.ones(3)), ValueError, "x"),
        (lambda: batch_norm(torch.ones(1, 3)), ValueError, "x"),
        (lambda: batch_norm(torch.ones(3, 2, dtype=torch.int64)), TypeError, "x"),
        (lambda: batch_norm(batch(3, 2), torch.ones(3)), ValueError, "weight"),
        (lambda: batch_norm(batch(3, 2), eps=-1.0), ValueError, "eps"),
        (lambda: batch_norm(batch(3, 2), eps="small"), TypeError, "eps"),
        (lambda: batch_norm_jacobian(batch(3, 2), eps=float("nan")), ValueError, "eps"),
        (lambda: batch_norm_jacobian_diagonal(torch.ones(1, 2)), ValueError, "x"),
        (lambda: whole_batch_jacobian(torch.ones(2, 2), torch.ones(3)), ValueError, "weight"),
        (lambda: batch_norm_backward(torch.ones(2, 3), batch(3, 2)), ValueError, "grad_output"),
        (lambda: batch_norm_backward(None, batch(3, 2)), TypeError, "grad_output"),
        (lambda: normalize(torch.ones(2, 2), eps=True), TypeError, "eps"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


def test_the_default_epsilon_is_pytorchs():
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(batch_norm(x), F.batch_norm(x, None, None, training=True))


def test_normalize_shares_batch_norms_default_epsilon():
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(normalize(x)[0], batch_norm(x))


def test_whole_batch_jacobian_of_a_batch_of_batches_with_the_default_epsilon():
    x = torch.randn(2, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    expected = torch.stack([jacrev(batch_norm)(b).reshape(12, 12) for b in x])
    torch.testing.assert_close(whole_batch_jacobian(x), expected)


def test_jacobian_diagonal_has_pytorchs_default_epsilon():
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    reference = jacrev(lambda t: F.batch_norm(t, None, None, training=True))(x)  # (m, C, m, C)
    torch.testing.assert_close(
        batch_norm_jacobian_diagonal(x).flatten(), torch.diagonal(reference.reshape(12, 12))
    )


def test_per_feature_jacobian_has_pytorchs_default_epsilon():
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    reference = jacrev(lambda t: F.batch_norm(t, None, None, training=True))(x)  # (m, C, m, C)
    # J[k, i, j] = dy[i, k]/dx[j, k], the diagonal over features of the full Jacobian
    expected = torch.diagonal(reference, dim1=1, dim2=3).permute(2, 0, 1)
    torch.testing.assert_close(batch_norm_jacobian(x), expected)


@pytest.mark.parametrize("jacobian", [batch_norm_jacobian, whole_batch_jacobian])
@pytest.mark.parametrize(("dtype", "atol"), [(torch.float16, 1e-2), (torch.bfloat16, 5e-2)])
def test_jacobians_keep_a_half_precision_dtype(jacobian, dtype, atol):
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(10)).to(dtype)
    J = jacobian(x)
    assert J.dtype == dtype
    # The same Jacobian as in double precision, up to half precision's rounding.
    torch.testing.assert_close(J.double(), jacobian(x.double()), rtol=0, atol=atol)


def test_a_batch_of_batches_shares_one_weight_and_bias_per_feature():
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(2, 3, 4, dtype=torch.float64, generator=generator)
    weight, bias = scale(4), torch.randn(4, dtype=torch.float64, generator=generator)
    expected = torch.stack([torch_batch_norm(weight, bias, 1e-5)(b) for b in x])
    torch.testing.assert_close(batch_norm(x, weight, bias), expected)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        # x of shape (2, 3, 4): C = 4 is the last size, not the first or the batch's m = 3
        (
            lambda: batch_norm(torch.ones(2, 3, 4), torch.ones(3)),
            ValueError,
            r"^weight must have shape \(C,\) = \(4,\) to match x",
        ),
        (
            lambda: batch_norm(torch.ones(2, 3, 4), None, torch.ones(2)),
            ValueError,
            r"^bias must have shape \(C,\) = \(4,\) to match x",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()
