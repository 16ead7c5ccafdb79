"""The checker of page ``residual-singular-values``: the claim about sigma_min and a matrix that
breaks it."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.checkers import residual_singular_values as checker
from derived.checkers.residual_singular_values import ABSOLUTE_HINT, CLAIM, COUNTEREXAMPLE
from derived.residual_jacobian import shear


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_handouts_claim_is_recognized_by_name():
    # the handout states sigma_min(I + F) >= 1 - sigma_small for every F
    assert names(CLAIM) == {"The identity does not shift singular values"}
    result = checker.check(claim=" True ")["claim"]
    assert result.status == "wrong"
    assert result.mistake == "The identity does not shift singular values"


def test_the_handouts_hint_with_an_absolute_value_is_recognized_by_name():
    # the handout writes Weyl's inequality as sigma_i(A + B) >= |sigma_i(A) - sigma_max(B)|
    result = checker.check(absolute_hint="true")["absolute_hint"]
    assert result.mistake == "The absolute value in Weyl's inequality"
    assert checker.check(absolute_hint="FALSE ")["absolute_hint"].passed


def test_the_weyl_evidence_is_a_computed_case():
    count, (A, B, i), plain_holds = checker.weyl_search()
    assert count == 3**8 and plain_holds
    s_sum = torch.linalg.svdvals(A + B)[i - 1]
    bound = (torch.linalg.svdvals(A)[i - 1] - torch.linalg.svdvals(B)[0]).abs()
    assert s_sum < bound  # the pair found does break the absolute-value form
    evidence = checker.absolute_hint_evidence()
    assert str(A.int().tolist()) in evidence and str(B.int().tolist()) in evidence
    assert f"{bound.item():.4g}" in evidence


@pytest.mark.parametrize(
    "F",
    [
        [[4.0, 0.0], [0.0, 0.1]],  # diagonal
        [[3.0, 0.5], [0.5, 0.2]],  # symmetric
    ],
)
def test_a_symmetric_f_is_no_counterexample_and_is_named(F):
    result = COUNTEREXAMPLE.check(F)
    assert result.status == "wrong"
    assert result.mistake == "A symmetric or normal F"
    assert "σ_min(I + F)" in result.feedback


def test_an_f_outside_the_premise_is_named():
    result = COUNTEREXAMPLE.check([[0.0, 1.5], [0.0, 0.0]])  # sigma_big = 1.5 < 2
    assert result.mistake == "The premise is not met"
    assert "σ_big = 1.5" in result.feedback


def test_a_non_normal_f_that_keeps_the_claim_is_wrong_without_a_name():
    F = torch.tensor([[3.0, 0.1], [0.0, 0.5]])  # not normal; the skew is too weak to cancel
    assert not torch.allclose(F @ F.T, F.T @ F)
    result = COUNTEREXAMPLE.check(F)
    assert result.status == "wrong" and result.mistake is None
    assert "no counterexample" in result.feedback


@settings(max_examples=40, deadline=None)
@given(b=st.floats(2.01, 1e3), size=st.sampled_from([2, 4]), sign=st.sampled_from([1, -1]))
def test_every_shear_beyond_the_premise_breaks_the_claim(b, size, sign):
    F = torch.zeros(size, size, dtype=torch.float64)
    F[: size // 2, size // 2 :] = sign * b * torch.eye(size // 2)
    assert COUNTEREXAMPLE.check(F).passed


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    big=st.floats(2.01, 50.0),
    small=st.floats(0.0, 0.99),
)
def test_random_symmetric_matrices_meeting_the_premise_are_rejected(seed, big, small):
    generator = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64, generator=generator))
    signs = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    F = Q @ torch.diag(signs * torch.tensor([big, big, small, small / 2])) @ Q.T
    result = COUNTEREXAMPLE.check(F)
    assert result.status == "wrong" and result.mistake == "A symmetric or normal F"


@settings(max_examples=30, deadline=None)
@given(b=st.floats(0.01, 2.0))
def test_a_shear_too_small_for_the_premise_is_rejected(b):
    assert COUNTEREXAMPLE.check(shear(b)).mistake == "The premise is not met"


def test_the_evidence_is_a_computed_case():
    count, first = checker.search()
    assert first is not None and count > 0
    s = torch.linalg.svdvals(first)
    low = torch.linalg.svdvals(first + torch.eye(2, dtype=torch.float64))[-1]
    assert s[0] > 2 and s[1] < 1 and low < 1 - s[1]  # it does break the claim
    evidence = checker.evidence()
    assert str(first.int().tolist()) in evidence and f"{low.item():.4g}" in evidence
    # the shear's sigma_min is computed, not stored
    low_shear = torch.linalg.svdvals(shear(10.0) + torch.eye(2, dtype=torch.float64))[-1]
    assert f"{low_shear.item():.4g}" in COUNTEREXAMPLE.check(shear(10.0)).feedback


MALFORMED = [
    (CLAIM, ["maybe", 3, ("true",), None]),
    (ABSOLUTE_HINT, ["yes", True, ["false"]]),
    (
        COUNTEREXAMPLE,
        [
            "F",
            [[1.0, 2.0, 3.0]],
            torch.eye(3),  # odd size
            torch.zeros(2, 2, 2),
            [[float("nan"), 0.0], [0.0, 0.0]],
            {"F": 1},
            None,
            [[1, "a"], [0, 0]],
        ],
    ),
]


@pytest.mark.parametrize(
    ("slot", "answer"),
    [(slot, answer) for slot, answers in MALFORMED for answer in answers],
    ids=lambda x: getattr(x, "name", None) or type(x).__name__,
)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")
