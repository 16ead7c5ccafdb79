"""The checker of page ``sigmoid-chain``: the seeds' wrong answers are named, changed answers are
rejected with a computed counterexample, malformed answers are refused by slot, and the book's
answers pass only because autograd agrees with them."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived import activation_chain
from derived.checkers import sigmoid_chain
from derived.checkers._chain import DEEP, VANISHED, largest
from derived.checkers.sigmoid_chain import BOUND, DERIVATIVE, OUTCOME


def sigmoid_slope(z):
    return torch.sigmoid(z) * (1 - torch.sigmoid(z))


def test_the_wrong_answers_of_the_seeds_are_named():
    # seed 001: "(σ')^n", every factor at the input
    assert DERIVATIVE.check(lambda x, n: sigmoid_slope(x) ** n).mistake == (
        "Every factor taken at the input"
    )
    # seed 001: "σ <= 1, so ..." read as a bound on the slope
    assert BOUND.check("1").mistake == "The range of σ, not of its slope"
    assert {m.name for m in BOUND.mistakes} >= {
        "The range of σ, not of its slope",
        "σ(0), not σ'(0)",
        "One factor too few",
        "A sum instead of a product",
    }
    assert OUTCOME.check("neither").mistake == "The bound was not followed to the end"
    assert OUTCOME.check("explode").mistake == "Explosion from slopes below one"


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("0.5^n", "σ(0), not σ'(0)"),
        ("2**(-n)", "σ(0), not σ'(0)"),
        ("4**(1-n)", "One factor too few"),
        ("0.25**(n - 1)", "One factor too few"),
        ("0.25*n", "A sum instead of a product"),
        ("1 + 0*n", "The range of σ, not of its slope"),
    ],
)
def test_a_wrong_bound_is_named_however_it_is_written(spelling, name):
    assert BOUND.check(spelling).mistake == name


@pytest.mark.parametrize("spelling", ["(1/4)**n", "0.25^n", "4**(-n)", "2**(-2*n)", "1/4**n"])
def test_the_bound_passes_however_it_is_written(spelling):
    assert BOUND.check(spelling).passed


def test_a_number_is_no_bound_at_every_depth():
    result = BOUND.check(0.25)  # right for one layer only
    assert result.status == "wrong" and result.counterexample.startswith("At n = 2, ")


def test_the_derivative_is_accepted_in_any_correct_form():
    def by_hand(x, n):
        slope, h = torch.ones_like(x), x
        for _ in range(n):
            slope, h = slope * torch.sigmoid(h) * (1 - torch.sigmoid(h)), torch.sigmoid(h)
        return slope

    assert DERIVATIVE.check(by_hand).passed
    assert DERIVATIVE.check(lambda x, n: by_hand(x, n).tolist()).passed  # a list is a tensor


@given(
    form=st.sampled_from(
        ["{c}*(1/4)**n", "(1/4)**(n+{k})", "(1/{c})**n", "(1/4)**n + {c}/n**2", "(1/4)**({c}*n)"]
    ),
    c=st.integers(2, 9).filter(lambda c: c != 4),
    k=st.integers(-3, 3).filter(bool),
)
def test_changed_bounds_are_rejected_with_a_counterexample(form, c, k):
    result = BOUND.check(form.format(c=c, k=k))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("At n = ")
    assert "autograd finds |f'(x)| = " in result.counterexample


def _changed_derivative(change: str, k: int):
    def answer(x, n):
        right = activation_chain.chain_derivative(x, n, activation="sigmoid")
        if change == "scaled":
            return k * right
        if change == "depth":  # the depth shifted
            return activation_chain.chain_derivative(x, n + k, activation="sigmoid")
        if change == "term":  # a term added
            return right + k * 1e-3 * x
        return activation_chain.chain_derivative(-x, n, activation="sigmoid") * (1 + k / 10)

    return answer


@given(change=st.sampled_from(["scaled", "depth", "term", "mirror"]), k=st.sampled_from([2, 3]))
def test_changed_derivatives_are_rejected_with_a_counterexample(change, k):
    result = DERIVATIVE.check(_changed_derivative(change, k))
    assert result.status == "wrong", result
    assert "autograd gives f'(x) = " in result.counterexample


def test_the_counterexample_is_a_computed_case():
    result = DERIVATIVE.check(lambda x, n: sigmoid_slope(x) ** n)
    # at n = 2 and x = -2, the chain's derivative is σ'(-2) σ'(σ(-2))
    x = torch.tensor(-2.0, dtype=torch.float64)
    truth = (sigmoid_slope(x) * sigmoid_slope(torch.sigmoid(x))).item()
    assert f"At n = 2 and x = -2, autograd gives f'(x) = {truth:.6g}" in result.counterexample
    assert f"your function gives {sigmoid_slope(x).item() ** 2:.6g}" in result.counterexample
    low = BOUND.check("(0.24)**n")
    assert "At n = 1, autograd finds |f'(x)| = 0.25 at x = 0, above your bound 0.24" in (
        low.counterexample
    )


def test_a_bound_that_holds_at_the_depth_checked_but_not_at_every_depth_is_told_so():
    result = BOUND.check("(1/4)**n * (1 - (n - 1)/100)")
    assert result.status == "wrong"
    assert "At n = 2" in result.counterexample and "must hold for one layer too" in (
        result.counterexample
    )


def test_a_function_that_raises_is_a_wrong_answer():
    result = DERIVATIVE.check(lambda x, n: 1 / 0)
    assert result.status == "wrong"
    assert "raised ZeroDivisionError" in result.counterexample


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        (DERIVATIVE, 3),
        (DERIVATIVE, "sigmoid'(x)^n"),
        (DERIVATIVE, lambda x: x),
        (DERIVATIVE, lambda x, n: "slope"),
        (DERIVATIVE, lambda x, n: x[:2]),
        (DERIVATIVE, lambda x, n: torch.ones(2, 2)),
        (BOUND, "n +"),
        (BOUND, "x**n"),
        (BOUND, [0.25]),
        (BOUND, {"n": 1}),
        (OUTCOME, "maybe"),
        (OUTCOME, 3),
        (OUTCOME, ("vanish",)),
    ],
)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


def test_a_justification_is_kept_and_must_be_text():
    verdict = sigmoid_chain.check(outcome=" Vanish ", why=" slopes at most a quarter ")
    assert verdict["outcome"].passed
    assert verdict["outcome"].justification == "slopes at most a quarter"
    assert sigmoid_chain.check(outcome="vanish", why=4)["outcome"].status == "malformed"


def test_the_outcome_is_measured():
    evidence = OUTCOME.check("vanish").feedback
    top, where = largest(DEEP, "sigmoid")
    assert top < VANISHED
    assert f"{top:.3g} (at x = {where:g}) at depth {DEEP}" in evidence


def test_a_wrong_library_formula_makes_the_checker_reject_the_books_answers(monkeypatch):
    assert sigmoid_chain.check(**sigmoid_chain.book_answers()).passed
    monkeypatch.setitem(activation_chain.MAX_DERIVATIVE, "sigmoid", 0.3)
    monkeypatch.setattr(
        activation_chain,
        "local_derivative",
        lambda z, *, activation: torch.sigmoid(z) * (1 - torch.sigmoid(z)) ** 2,
    )
    verdict = sigmoid_chain.check(**sigmoid_chain.book_answers())
    assert verdict["derivative"].status == "wrong"
    assert verdict["bound"].status == "wrong"
