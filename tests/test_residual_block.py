"""The four residual blocks: forward, and Jacobians by autograd, against torch.nn layers."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.func import jacrev

from derived.checkers.batchnorm_resnet_placement import nn_stack
from derived.residual_block import VARIANTS, block, kaiming_weight, stack, stack_jacobians


def inputs(m: int, d: int, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(m, d, dtype=torch.float64, generator=generator)
    return x, kaiming_weight(n, d, generator=generator)


@pytest.mark.parametrize("m", [2, 10])  # two examples are the fewest batch norm accepts
@pytest.mark.parametrize("variant", VARIANTS)
def test_stack_matches_torch_nn_layers_in_training_mode(variant, m):
    x, weight = inputs(m, 4, 3)
    torch.testing.assert_close(stack(x, weight, variant=variant), nn_stack(x, weight, variant))
    torch.testing.assert_close(
        block(x, weight[0, 0], weight[0, 1], variant=variant), nn_stack(x, weight[:1], variant)
    )


@pytest.mark.parametrize("variant", VARIANTS)
@given(seed=st.integers(min_value=0, max_value=2**16), m=st.integers(min_value=3, max_value=6))
def test_stack_jacobians_match_autograd(variant, seed, m):
    d, n = 3, 3
    x, weight = inputs(m, d, n, seed)
    closed_form = stack_jacobians(x, weight, variant=variant)
    assert closed_form.shape == (n, m * d, m * d)
    for k in range(n):
        # Through the torch.nn layers, not the library's forward pass: a batch norm wrong in the
        # library must not pass in both.
        reference = jacrev(lambda t, k=k: nn_stack(t, weight[: k + 1], variant))(x)
        torch.testing.assert_close(
            closed_form[k], reference.reshape(m * d, m * d), rtol=1e-9, atol=1e-10
        )


@pytest.mark.parametrize("variant", VARIANTS)
def test_leading_dimensions_are_independent_networks(variant):
    pairs = [inputs(5, 3, 2, seed) for seed in range(3)]
    x = torch.stack([p[0] for p in pairs])
    weight = torch.stack([p[1] for p in pairs])
    batched = stack_jacobians(x, weight, variant=variant)
    for k, (x_k, weight_k) in enumerate(pairs):
        torch.testing.assert_close(
            stack(x, weight, variant=variant)[k], stack(x_k, weight_k, variant=variant)
        )
        torch.testing.assert_close(batched[k], stack_jacobians(x_k, weight_k, variant=variant))


@pytest.mark.parametrize("variant", VARIANTS)
def test_two_leading_dimensions_are_a_grid_of_independent_networks(variant):
    pairs = [inputs(4, 3, 2, seed) for seed in range(6)]
    x = torch.stack([p[0] for p in pairs]).reshape(2, 3, 4, 3)
    weight = torch.stack([p[1] for p in pairs]).reshape(2, 3, 2, 2, 3, 3)
    batched = stack_jacobians(x, weight, variant=variant)
    assert batched.shape == (2, 3, 2, 12, 12)
    for k, (x_k, weight_k) in enumerate(pairs):
        torch.testing.assert_close(
            batched[k // 3, k % 3], stack_jacobians(x_k, weight_k, variant=variant)
        )


def test_a_feature_constant_over_the_batch_normalizes_to_the_kink_of_the_relu():
    # BN maps a constant feature to exactly 0, where ReLU's derivative is taken as 0 (as by
    # autograd): the preactivation block's first ReLU passes no change of that feature on.
    x, weight = inputs(5, 3, 1)
    x[:, 0] = 1.0
    closed_form = stack_jacobians(x, weight, variant="preact")[0]
    reference = jacrev(lambda t: stack(t, weight, variant="preact"))(x)
    torch.testing.assert_close(closed_form, reference.reshape(15, 15), rtol=1e-9, atol=1e-10)


def test_kaiming_weight_is_moved_to_the_device_asked_for():
    generator = torch.Generator().manual_seed(0)
    assert kaiming_weight(2, 3, generator=generator).device == generator.device
    assert kaiming_weight(2, 3, generator=generator, device="meta").device.type == "meta"


@pytest.mark.parametrize("variant", ["left", "preact"])
def test_a_silent_branch_leaves_the_identity(variant):
    # With W_2 = 0 the branch is constant, so the skip alone carries the input: J = I.
    x, weight = inputs(6, 3, 2)
    weight[:, 1] = 0
    J = stack_jacobians(x, weight, variant=variant)[-1]
    torch.testing.assert_close(J, torch.eye(18, dtype=torch.float64))


@pytest.mark.parametrize("variant", ["right", "plain"])
def test_after_a_relu_the_jacobian_has_a_zero_row_per_silent_output(variant):
    x, weight = inputs(8, 4, 2)
    J = stack_jacobians(x, weight, variant=variant)[-1]
    silent = stack(x, weight, variant=variant).flatten() == 0
    assert silent.any()
    assert (J[silent] == 0).all()
    assert torch.linalg.matrix_rank(J) <= (~silent).sum()


def test_kaiming_weight_has_variance_two_over_d():
    d = 16
    w = kaiming_weight(200, d, generator=torch.Generator().manual_seed(0))
    assert w.shape == (200, 2, d, d)
    # The sample variance of N = 102,400 normal draws has standard error var * sqrt(2 / N).
    n_draws = w.numel()
    standard_error = (2 / d) * math.sqrt(2 / n_draws)
    assert abs(w.var().item() - 2 / d) < 5 * standard_error
    again = kaiming_weight(200, d, generator=torch.Generator().manual_seed(0))
    assert torch.equal(w, again)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (
            lambda: stack(torch.ones(4, 3), torch.ones(1, 2, 3, 3), variant="middle"),
            ValueError,
            "variant",
        ),
        (
            lambda: stack(torch.ones(4, 3), torch.ones(1, 2, 2, 2), variant="left"),
            ValueError,
            "weight",
        ),
        (lambda: stack(torch.ones(1, 3), torch.ones(1, 2, 3, 3), variant="left"), ValueError, "x"),
        (lambda: stack([[1.0]], torch.ones(1, 2, 1, 1), variant="left"), TypeError, "x"),
        (
            lambda: stack_jacobians(torch.ones(4, 3), torch.ones(1, 2, 3, 3), variant=1),
            TypeError,
            "variant",
        ),
        (
            lambda: stack(torch.ones(4, 3), torch.ones(1, 2, 3, 3), variant="left", eps=-1),
            ValueError,
            "eps",
        ),
        (lambda: kaiming_weight(0, 3, generator=torch.Generator()), ValueError, "n"),
        (lambda: kaiming_weight(2, 3.0, generator=torch.Generator()), TypeError, "d"),
        (lambda: kaiming_weight(2, 3, generator=0), TypeError, "generator"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_block_is_a_stack_of_one_with_the_same_epsilon(variant):
    x, weight = inputs(6, 4, 1)
    for eps in (1e-5, 0.5):
        torch.testing.assert_close(
            block(x, weight[0, 0], weight[0, 1], variant=variant, eps=eps),
            stack(x, weight, variant=variant, eps=eps),
        )
    assert not torch.allclose(
        block(x, weight[0, 0], weight[0, 1], variant=variant, eps=0.5),
        block(x, weight[0, 0], weight[0, 1], variant=variant),
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_batch_of_blocks_is_the_blocks_of_the_batch(variant):
    pairs = [inputs(5, 3, 1, seed) for seed in range(3)]
    x = torch.stack([p[0] for p in pairs])
    W_1, W_2 = (torch.stack([p[1][0, i] for p in pairs]) for i in (0, 1))  # (3, d, d) each
    batched = block(x, W_1, W_2, variant=variant)
    for k in range(3):
        torch.testing.assert_close(batched[k], block(x[k], W_1[k], W_2[k], variant=variant))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: block(torch.ones(4, 3), torch.eye(3), torch.ones(2, 3, 3), variant="left"),
            r"^W_2 must have the shape of W_1, \(3, 3\)",
        ),
        (
            lambda: stack(torch.ones(4, 3), torch.ones(1, 2, 2, 2), variant="left"),
            r"^weight must have shape \(\*, n, 2, d, d\) with d = 3 ",
        ),
        (
            lambda: block(torch.ones(4, 3), torch.ones(2, 2), torch.ones(2, 2), variant="left"),
            r"^W_1 must have shape \(\*, d, d\) with d = 3 ",
        ),
        (
            lambda: stack(torch.ones(1, 3), torch.ones(1, 2, 3, 3), variant="left"),
            r"^x must have shape \(\*, m, d\) with m >= 2",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
