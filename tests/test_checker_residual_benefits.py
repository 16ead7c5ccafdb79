"""The checker of page ``residual-benefits``: the seeds' wrong answers are named, stacks are
judged by the Jacobian autograd gives, with a computed counterexample, and malformed answers are
refused by slot."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.checkers import residual_benefits
from derived.checkers.residual_benefits import (
    CLAIM,
    EXPLODING,
    STACK,
    STACK_BIG,
    VANISHING,
    measurement,
)
from derived.residual_jacobian import shear


def rotation(angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s], [s, c]], dtype=torch.float64)


def branch(big: float, small: float, angle: float = 0.0) -> torch.Tensor:
    """A symmetric 2 x 2 branch Jacobian, -R diag(big, small) R^T."""
    R = rotation(angle)
    return -R @ torch.diag(torch.tensor([big, small], dtype=torch.float64)) @ R.T


def gain(F_1: torch.Tensor, F_2: torch.Tensor) -> float:
    """sigma_max of (I + F_2)(I + F_1), by the explicit product."""
    eye = torch.eye(F_1.shape[0], dtype=torch.float64)
    return torch.linalg.matrix_norm((eye + F_2) @ (eye + F_1), ord=2).item()


def test_the_wrong_answers_of_the_seeds_are_named():
    # seed 001: sigma_max of the product = product of the sigma_max >= (sigma_big - 1)^n,
    # so no stack can stay below it
    result = STACK.check(None)
    assert result.mistake == "σ_max of a product taken as the product of the σ_max"
    assert "Submultiplicativity bounds σ_max of a product from above" in result.feedback
    assert VANISHING.check("no").mistake == "The identity path overlooked"
    assert EXPLODING.check("yes").mistake == "A skip connection does not cap the branch"


@pytest.mark.parametrize(
    "pair",
    [
        (shear(STACK_BIG), -shear(STACK_BIG)),  # the book's: (I - S)(I + S) = I
        (branch(10, 0.01), branch(10, 0.01, math.pi / 2)),  # normal, shrinking in turn
        (shear(STACK_BIG), shear(STACK_BIG)),  # (I + S)^2 = I + 2S
        ([[0, 10], [0, 0]], [[0, -10], [0, 0]]),  # nested lists
        (torch.block_diag(shear(10.0), shear(12.0)), torch.block_diag(-shear(10.0), -shear(12.0))),
    ],
)
def test_stacks_below_the_claim_pass(pair):
    F_1, F_2 = (torch.as_tensor(F, dtype=torch.float64) for F in pair)
    assert gain(F_1, F_2) < CLAIM  # the test's own computation agrees
    assert STACK.check(pair).passed


def test_stretches_that_line_up_are_named():
    result = STACK.check((branch(10, 0.01), branch(10, 0.01)))
    assert result.mistake == "Stretches that line up"
    assert "autograd gives σ_max(∂z_3/∂z_1) = 81, against (σ_big − 1)^2 = 81" in result.feedback


@given(
    big=st.floats(10, 30),
    small=st.floats(0, 0.01),
    angle=st.floats(0, math.pi / 2),
    sign=st.sampled_from([1.0, -1.0]),
)
def test_a_stack_is_judged_by_its_jacobian(big, small, angle, sign):
    F_1, F_2 = branch(big, small), sign * branch(big, small, angle)
    result = STACK.check((F_1, F_2))
    if gain(F_1, F_2) < CLAIM * (1 - 1e-6):
        assert result.passed, result
    elif gain(F_1, F_2) > CLAIM * (1 + 1e-6):
        assert result.status == "wrong", result
        assert f"σ_max(∂z_3/∂z_1) = {gain(F_1, F_2):.6g}" in result.counterexample


@given(b=st.floats(0.5, 9.9), which=st.sampled_from([0, 1]))
def test_branches_outside_the_hypotheses_are_rejected(b, which):
    pair = [shear(STACK_BIG), -shear(STACK_BIG)]
    pair[which] = shear(b)  # its big singular value b is below sigma_big
    result = STACK.check(tuple(pair))
    assert result.status == "wrong" and result.mistake == "A branch outside the hypotheses"
    assert f"F_{which + 1} has the singular values [0.0, {round(b, 6)}]" in result.feedback


def test_a_small_singular_value_too_big_is_rejected():
    result = STACK.check((branch(10, 0.02), branch(10, 0.02, math.pi / 2)))
    assert result.mistake == "A branch outside the hypotheses"


def test_the_counterexample_is_a_computed_case():
    F_1, F_2 = branch(20, 0.0), branch(20, 0.0, 0.3)
    result = STACK.check((F_1, F_2))
    assert result.status == "wrong" and result.mistake is None
    expected = f"autograd gives σ_max(∂z_3/∂z_1) = {gain(F_1, F_2):.6g}"
    assert expected in result.counterexample and "does not refute it" in result.counterexample
    # the hint after None: the diagonal pair, multiplied out
    assert "σ_max = 10 for A = diag(10, 0.001)" in STACK.check(None).feedback
    assert "but 0.01 for AB" in STACK.check(None).feedback


def test_the_choices_are_measured():
    m = measurement()
    # the aligned stack attains (1 - sigma_small)^30 exactly, the random ones stay above it;
    # svdvals gets the smallest singular value of a product with condition number about 1e9
    # to a relative 1e-8 or so
    assert m["min"] == pytest.approx(0.99**30, rel=1e-6)
    assert m["max"] >= 2.0**30  # the aligned stack alone gives (sigma_big - 1)^30
    assert f"at least {m['min']:.3g} in every stack" in VANISHING.check("yes").feedback
    assert f"reaches {m['max']:.3g}" in EXPLODING.check("no").feedback


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        (STACK, "F"),
        (STACK, (torch.eye(2),)),
        (STACK, (torch.eye(2), torch.eye(2), torch.eye(2))),
        (STACK, (torch.eye(2), torch.eye(4))),
        (STACK, (torch.ones(2, 3), torch.ones(2, 3))),
        (STACK, (torch.eye(3), torch.eye(3))),
        (STACK, (torch.ones(2), torch.ones(2))),
        (STACK, ("a", "b")),
        (STACK, (torch.full((2, 2), math.nan), torch.eye(2))),
        (STACK, 0),
        (VANISHING, "solved"),
        (VANISHING, True),
        (EXPLODING, ["no"]),
        (EXPLODING, None),
    ],
)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


def test_each_justification_is_kept_with_its_choice():
    verdict = residual_benefits.check(
        vanishing="YES", why_vanishing=" the identity ", exploding="no", why_exploding="stretch"
    )
    assert verdict["vanishing"].passed and verdict["vanishing"].justification == "the identity"
    assert verdict["exploding"].passed and verdict["exploding"].justification == "stretch"
    refused = residual_benefits.check(vanishing="yes", why_vanishing=1)
    assert refused["vanishing"].status == "malformed"
