"""The checker of page ``tanh-chain``: the seeds' wrong answers are named, changed answers are
rejected with a computed counterexample, malformed answers are refused by slot, and the book's
answers pass only because autograd agrees with them."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived import activation_chain
from derived.checkers import tanh_chain
from derived.checkers._chain import DEEP, largest
from derived.checkers.tanh_chain import BOUND, DERIVATIVE, EXPONENT, OUTCOME


def test_the_wrong_answers_of_the_seeds_are_named():
    # seed 001: "(1 - tanh')^n", tanh' confused with tanh², however it is written
    for confused in (
        lambda x, n: (1 - (1 - torch.tanh(x) ** 2)) ** n,
        lambda x, n: torch.tanh(x) ** (2 * n),
    ):
        assert DERIVATIVE.check(confused).mistake == "tanh' confused with tanh²"
    # seed 000: the gradient must vanish
    assert OUTCOME.check("vanish").mistake == "A bound of one does not force vanishing"
    assert OUTCOME.check("explode").mistake == "Explosion from slopes at most one"
    assert DERIVATIVE.check(lambda x, n: (1 - torch.tanh(x) ** 2) ** n).mistake == (
        "Every factor taken at the input"
    )


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("0.25^n", "The sigmoid's slope"),
        ("4**(-n)", "The sigmoid's slope"),
        ("1/(n*sqrt(n))", "The decay away from zero is not a bound"),
        ("-1/2", "The decay of the iterates, not of the gradient"),
        (-0.5, "The decay of the iterates, not of the gradient"),
        ("-1", "h_i^2 without its constant"),
        ("-2/3", "The step of 1/h^2, not the exponent"),
        ("1.5", "The sign of the exponent"),
        (0, "No decay: the case x = 0"),
    ],
)
def test_the_tempting_slips_are_named_however_they_are_written(answer, name):
    slot = EXPONENT if "n" not in str(answer) else BOUND
    assert slot.check(answer).mistake == name


@pytest.mark.parametrize("answer", ["-3/2", "-1.5", -1.5, "-3*2**(-1)", "-1.49", lambda: -1.5])
def test_the_exponent_passes_however_it_is_written(answer):
    assert EXPONENT.check(answer).passed


@pytest.mark.parametrize("answer", ["1", "1**n", "n**0", 1, lambda n: 1])
def test_the_bound_passes_however_it_is_written(answer):
    assert BOUND.check(answer).passed


@given(k=st.integers(-6, 6).filter(bool))
def test_changed_exponents_are_rejected_with_a_counterexample(k):
    result = EXPONENT.check(f"-3/2 + {k}/10")
    assert result.status == "wrong", result
    assert "ten times the depth divides the gradient by" in result.counterexample


@given(
    form=st.sampled_from(
        ["{c}**n", "{d}/({d} + 1)", "1 + {c}/n**2", "(1 - 1/{d})**n", "n**(-{c})"]
    ),
    c=st.integers(2, 5),
    d=st.integers(2, 9),
)
def test_changed_bounds_are_rejected_with_a_counterexample(form, c, d):
    result = BOUND.check(form.format(c=c, d=d))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("At n = ")


@given(change=st.sampled_from(["scaled", "depth", "term", "sigmoid"]), k=st.sampled_from([2, 3]))
def test_changed_derivatives_are_rejected_with_a_counterexample(change, k):
    def answer(x, n):
        right = activation_chain.chain_derivative(x, n, activation="tanh")
        if change == "scaled":
            return right / k
        if change == "depth":
            return activation_chain.chain_derivative(x, n + k, activation="tanh")
        if change == "term":
            return right + k * 1e-3
        return activation_chain.chain_derivative(x, n, activation="sigmoid")

    result = DERIVATIVE.check(answer)
    assert result.status == "wrong", result
    assert "autograd gives f'(x) = " in result.counterexample


def test_the_counterexample_is_a_computed_case():
    result = DERIVATIVE.check(lambda x, n: torch.tanh(x) ** (2 * n))
    # at n = 1 and x = -2, f'(x) = 1 - tanh²(-2), the answer gives tanh²(-2)
    t = math.tanh(-2.0) ** 2
    assert f"At n = 1 and x = -2, autograd gives f'(x) = {1 - t:.6g}" in result.counterexample
    assert f"your function gives {t:.6g}" in result.counterexample
    # the exponent's case: autograd through 1000 and 10 000 layers at x = 1
    one = torch.tensor([1.0], dtype=torch.float64)
    g_1, g_2 = (
        activation_chain.chain_derivative(one, n, activation="tanh").item() for n in (1000, 10_000)
    )
    shown = EXPONENT.check("-1/2").counterexample
    assert f"|f'(x)| = {g_1:.4g} through 1000 tanh layers and {g_2:.4g}" in shown
    assert f"divides the gradient by {g_1 / g_2:.3g}" in shown
    assert "divides it by 3.16" in shown  # 10^(1/2)
    # a bound that fails: at x = 0, |f'| = 1 at every depth
    assert "At n = 1, autograd finds |f'(x)| = 1 at x = 0, above your bound 0.5" in (
        BOUND.check("(1/2)**n").counterexample
    )


def test_the_exponent_is_measured_close_to_its_limit():
    p, g_1, g_2 = tanh_chain.measured_exponent()
    assert abs(p - activation_chain.TANH_DECAY_EXPONENT) < 0.01
    assert len(g_1) == len(g_2) == len(tanh_chain.PROBES)


def test_the_outcome_is_measured():
    top, where = largest(DEEP, "tanh")
    assert top == 1.0 and where == 0.0  # f'(0) = 1 at every depth
    assert f"{top:.3g} (at x = {where:g}) at depth {DEEP}" in OUTCOME.check("neither").feedback


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        (DERIVATIVE, 1.0),
        (DERIVATIVE, lambda n: n),
        (DERIVATIVE, lambda x, n: None),
        (DERIVATIVE, lambda x, n: x.sum()),
        (BOUND, "n**"),
        (BOUND, "h**n"),
        (BOUND, {"n": 1}),
        (OUTCOME, "vanishes slowly"),
        (OUTCOME, None),
        (EXPONENT, "n**(-3/2)"),
        (EXPONENT, "p"),
        (EXPONENT, ""),
        (EXPONENT, [-1.5]),
        (EXPONENT, "-3/2; import os"),
        (EXPONENT, lambda n: n),
    ],
)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


def test_an_exponent_with_a_symbol_is_told_to_give_the_number_alone():
    assert "the exponent p alone" in EXPONENT.check("n**(-3/2)").feedback


def test_a_function_that_raises_is_a_wrong_answer():
    result = DERIVATIVE.check(lambda x, n: x[10])
    assert result.status == "wrong" and "raised IndexError" in result.counterexample


def test_a_wrong_library_formula_makes_the_checker_reject_the_books_answers(monkeypatch):
    assert tanh_chain.check(**tanh_chain.book_answers()).passed
    monkeypatch.setitem(activation_chain.MAX_DERIVATIVE, "tanh", 0.99)
    monkeypatch.setattr(activation_chain, "TANH_DECAY_EXPONENT", -1.0)
    monkeypatch.setattr(
        activation_chain, "local_derivative", lambda z, *, activation: 1 - torch.tanh(z)
    )
    answers = tanh_chain.book_answers()
    answers["exponent"] = activation_chain.TANH_DECAY_EXPONENT
    verdict = tanh_chain.check(**answers)
    assert [r.status for r in verdict.results] == ["wrong", "wrong", "correct", "wrong"]
