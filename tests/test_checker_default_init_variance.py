"""The checker of page ``default-init-variance``: a function of the widths is judged by Monte
Carlo over PyTorch's own initialisation, tightly enough that each term of the closed form
matters; the known slips are named, any other wrong answer gets a computed counterexample,
malformed answers are refused."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.checkers import default_init_variance as checker
from derived.checkers.default_init_variance import CASES, VARIANCE, Z, monte_carlo

RIGHT = checker.book_answers()["variance"]


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def closed_form(widths, *, base=3.0, shift=0, drop=None, fan_in=lambda widths, k: widths[k]):
    """The closed form with one part changed: the base, the exponent, one term dropped."""
    L = len(widths) - 1
    terms = [base ** -(L + shift)] + [
        1 / (base ** (L - k + shift) * fan_in(widths, k)) for k in range(L)
    ]
    if drop is not None:
        terms.pop(drop)
    return sum(terms)


def test_the_known_wrong_answers_have_names():
    # the seed's "n = num input features": the input's width as every layer's fan-in
    assert "The input's fan-in for every layer" in names(VARIANCE)
    assert {
        "The fan-out for the fan-in",
        "The biases left out",
        "The input's share left out",
        "The variance of U[-B, B] taken as B²",
        "The bias's variance taken as 1/n_in",
    } <= names(VARIANCE)


@pytest.mark.parametrize(
    "answer",
    [
        lambda widths: closed_form(widths, fan_in=lambda w, k: w[0]),
        # the equal-widths formula with n = n_0
        lambda widths: (
            3.0 ** -(len(widths) - 1) + (1 - 3.0 ** -(len(widths) - 1)) / (2 * widths[0])
        ),
    ],
)
def test_the_seeds_fan_in_is_named_however_it_is_written(answer):
    assert VARIANCE.check(answer).mistake == "The input's fan-in for every layer"


def test_the_seeds_nested_recursion_passes():
    def recursion(widths):  # v_l = (v_{l-1} + 1/n_{l-1}) / 3, v_0 = 1, left unsimplified
        v = 1
        for n in widths[:-1]:
            v = (v + 1 / n) / 3
        return v

    assert VARIANCE.check(recursion).passed
    assert VARIANCE.check(lambda widths: torch.tensor(RIGHT(widths))).passed  # a 0-d tensor


def test_monte_carlo_is_pytorchs_initialisation():
    # one layer n_0 -> 1: Var = n_0 Var(a) + Var(b) with a, b ~ U[-1/sqrt(n_0), 1/sqrt(n_0)];
    # a wrong fan-in or a wrong bound in the simulation moves this
    for n_0 in (1, 4):
        estimate = monte_carlo((n_0, 1))
        assert abs(estimate - (1 / 3 + 1 / (3 * n_0))) < Z * estimate.se
    # the simulation is seeded: a second run from scratch gives the same numbers
    again = monte_carlo.__wrapped__((2, 8, 1))
    assert again == monte_carlo((2, 8, 1)) and again.se == monte_carlo((2, 8, 1)).se


def test_the_tolerance_is_tight():
    # within a few percent on every case, and within 2% on one, so that an answer scaled
    # by 1.05 cannot pass
    relative = [Z * monte_carlo(c["widths"]).se / monte_carlo(c["widths"]) for c in CASES]
    assert max(relative) < 0.06 and min(relative) < 0.02
    assert VARIANCE.check(lambda widths: 1.05 * RIGHT(widths)).status == "wrong"


@pytest.mark.parametrize("drop", [0, 1, -1])
def test_each_term_matters(drop):
    # the input's share, the first layer's bias, the last layer's bias
    result = VARIANCE.check(lambda widths: closed_form(widths, drop=drop))
    assert result.status == "wrong", result


def test_the_counterexample_is_a_computed_case():
    result = VARIANCE.check(lambda widths: 2 * RIGHT(widths))
    assert result.status == "wrong" and result.mistake is None
    estimate = monte_carlo((1, 1))  # the smallest case first
    assert result.counterexample.startswith("For widths (n_0, ..., n_L) = (1, 1) (L = 1)")
    assert f"Var(y_L) = {estimate:.5f} ± {estimate.se:.5f}" in result.counterexample
    assert f"gives {2 * RIGHT((1, 1)):.5g}" in result.counterexample


@given(
    change=st.sampled_from(["base", "shift", "drop", "scale", "add"]),
    k=st.sampled_from([-1, 1, 2]),
)
def test_changed_answers_are_rejected_with_a_counterexample(change, k):
    def answer(widths):
        if change == "base":  # a constant changed: 3 -> 2, 4 or 5
            return closed_form(widths, base=3.0 + k)
        if change == "shift":  # an exponent shifted
            return closed_form(widths, shift=k)
        if change == "drop":  # a term dropped
            return closed_form(widths, drop=min(k, 1))
        if change == "scale":  # the output scaled by 0.9, 1.1 or 1.2
            return (1 + k / 10) * RIGHT(widths)
        return RIGHT(widths) + 3.0 ** -(len(widths) - 1) / (k + 2)  # a term added

    result = VARIANCE.check(answer)
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For widths (n_0, ..., n_L) = ")
    assert "standard errors away" in result.counterexample


def test_a_function_that_raises_is_a_wrong_answer():
    result = VARIANCE.check(lambda widths: widths[5])
    assert result.status == "wrong"
    assert "your function raised IndexError" in result.counterexample


@pytest.mark.parametrize(
    "answer",
    [
        0.5,
        "3**-L",
        lambda: 1,
        lambda widths, L: 1,
        lambda widths: "1/3",
        lambda widths: (0, RIGHT(widths)),
        lambda widths: torch.ones(2),
        lambda widths: None,
        lambda widths: True,
    ],
)
def test_malformed_answers_are_refused_naming_the_slot(answer):
    result = VARIANCE.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith("variance must be ")


def test_a_nan_is_wrong_not_right():
    result = VARIANCE.check(lambda widths: math.nan)
    assert result.status == "wrong"
