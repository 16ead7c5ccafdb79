"""The answer checkers: the book's answers pass, every known mistake is named, any other wrong
answer gets a counterexample, malformed answers are refused by slot, and a verdict is quick."""

import importlib
import pkgutil
import time

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import derived.checkers
from derived.checkers import batchnorm_resnet_placement, conv_output_size, lstm_bptt, rnn_jacobian
from derived.checkers.expression import Growth, parse_expression
from derived.checkers.slots import Malformed, Mistake
from derived.checkers.verdict import Verdict
from derived.conv_arithmetic import output_shape
from derived.lstm import backward_step

#: Every page's checker, found by its ``PAGE``; the pages' own tests sit in this file (the
#: first four) or in ``test_checker_<page>.py``.
CHECKERS = [
    module
    for info in pkgutil.iter_modules(derived.checkers.__path__)
    if hasattr(module := importlib.import_module(f"derived.checkers.{info.name}"), "PAGE")
]
SLOTS = [slot for checker in CHECKERS for slot in checker.SLOTS]


def page(module) -> str:
    return module.PAGE


@pytest.mark.parametrize("checker", CHECKERS, ids=page)
def test_the_books_answers_pass(checker):
    verdict = checker.check(**checker.book_answers())
    assert verdict.passed and verdict.answered, verdict
    assert all(r.mistake is None and r.counterexample is None for r in verdict.results)


@pytest.mark.parametrize("checker", CHECKERS, ids=page)
def test_placeholders_are_not_answered_yet(checker):
    verdict = checker.check()
    assert not verdict.answered and not verdict.passed
    assert {r.status for r in verdict.results} == {"unanswered"}
    assert "not answered yet" in str(verdict)


@pytest.mark.parametrize(
    ("slot", "mistake"),
    [(slot, mistake) for slot in SLOTS for mistake in slot.mistakes],
    ids=lambda x: getattr(x, "name", ""),
)
def test_every_known_mistake_is_named_with_a_counterexample(slot, mistake):
    result = slot.check(mistake.answer)
    assert result.status == "wrong"
    assert result.mistake == mistake.name
    assert result.feedback.startswith(mistake.name) and mistake.explanation in result.feedback
    assert result.counterexample and result.counterexample in result.feedback


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_known_mistakes_of_the_pages_are_recognized():
    """The wrong answers of the seeds and the handouts, by the names the feedback gives them."""
    assert "One factor too many" in names(rnn_jacobian.BOUND)  # the handout's (1/2)^n
    assert {"A factor C in the output", "No floor", "A factor C, and no floor"} <= names(
        conv_output_size.OUTPUT_SHAPE
    )
    assert "The direct loss term is missing from h̄" in names(lstm_bptt.BACKWARD_STEP)
    assert any(m.answer == "right" for m in batchnorm_resnet_placement.EASIER.mistakes)


@pytest.mark.parametrize("spelling", ["(1/2)**n", "0.5^n", "2**(-n)", "1/2**n", "(0.5)**(n)"])
def test_an_expression_is_recognized_however_it_is_written(spelling):
    assert rnn_jacobian.BOUND.check(spelling).mistake == "One factor too many"


def test_the_counterexample_is_a_computed_case():
    result = rnn_jacobian.BOUND.check("(1/2)**n")
    # at n = 2, W = I/2 and x_1 = 0: sigma_max of dx_2/dx_1 = I/2 is 0.5, above 0.25
    assert "At n = 2" in result.counterexample and "0.5" in result.counterexample
    assert "0.25" in result.counterexample


@given(
    form=st.sampled_from(
        ["{c}*(1/2)**(n-1)", "(1/2)**(n-1+{k})", "({c}/3)**(n-1)", "(1/2)**(n-1) + {c}/n**2"]
    ),
    c=st.integers(2, 9),
    k=st.integers(-3, 3).filter(bool),
)
def test_changed_expressions_are_rejected_with_a_counterexample(form, c, k):
    result = rnn_jacobian.BOUND.check(form.format(c=c, k=k))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("At n = ")


def _changed_output_shape(change: str, delta: int):
    def answer(C, H, W, K, P, S, D, F):
        right = output_shape((C, H, W), F, K, stride=S, padding=P, dilation=D)
        if change == "offset":  # a constant changed
            return (right[0], right[1] + delta, right[2])
        if change == "divide":  # an operator swapped: / for //
            return (F, (H + 2 * P - D * (K - 1) - 1) / S + 1, right[2])
        if change == "kernel":  # an exponent of sorts: K for the dilated span
            return (F, right[1], (W + 2 * P - delta * (K - 1) - 1) // S + 1)
        return (F, (H + 2 * P - D * (K - 1)) // S + 1, right[2])  # a term missing

    return answer


@given(
    change=st.sampled_from(["offset", "divide", "kernel", "term"]), delta=st.sampled_from([-1, 3])
)
def test_changed_output_shapes_are_rejected_with_a_counterexample(change, delta):
    result = conv_output_size.OUTPUT_SHAPE.check(_changed_output_shape(change, delta))
    assert result.status == "wrong", result
    assert "F.conv2d gives an output of shape" in result.counterexample


@given(bar=st.integers(0, 5), scale=st.sampled_from([0.0, 0.5, -1.0, 2.0]))
def test_changed_backward_steps_are_rejected_with_a_counterexample(bar, scale):
    def answer(dL_dh, now, after, after_bars, w_h):
        bars = list(backward_step(dL_dh, now, after, after_bars, w_h))
        bars[bar] = scale * bars[bar]
        return tuple(bars)

    result = lstm_bptt.BACKWARD_STEP.check(answer)
    assert result.status == "wrong", result
    assert "autograd gives" in result.counterexample


def test_a_function_that_raises_is_a_wrong_answer_not_a_traceback():
    result = conv_output_size.OUTPUT_SHAPE.check(lambda C, H, W, K, P, S, D, F: 1 / 0)
    assert result.status == "wrong"
    assert "raised ZeroDivisionError" in result.counterexample


MALFORMED = [
    (rnn_jacobian.BOUND, ["n +", "x**n", "exp(", [1, 2], object(), "__import__('os')", "f(n)"]),
    (
        rnn_jacobian.COUNTEREXAMPLE,
        ["W", (torch.eye(2), torch.zeros(3)), (torch.ones(2, 3), torch.zeros(2)), (1, 2, 3)],
    ),
    (
        conv_output_size.OUTPUT_SHAPE,
        [
            3,
            lambda C, H: C,
            lambda C, H, W, K, P, S, D, F: "F",
            lambda C, H, W, K, P, S, D, F: (F, H),
        ],
    ),
    (
        lstm_bptt.BACKWARD_STEP,
        [lambda: 0, lambda dL_dh, now, after, after_bars, w_h: (1, 2, 3, 4, 5), "h"],
    ),
    (batchnorm_resnet_placement.EASIER, ["middle", 3, ("left",)]),
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


def test_a_justification_is_kept_not_graded():
    verdict = batchnorm_resnet_placement.check(easier="left", why="  anything at all ")
    assert verdict.passed and verdict["easier"].justification == "anything at all"
    refused = batchnorm_resnet_placement.check(easier="left", why=3)
    assert refused["easier"].status == "malformed"


def test_unknown_symbols_are_named():
    with pytest.raises(Malformed, match="unknown symbol m; use only n"):
        parse_expression("m * n", ("n",))


def test_a_verdict_shows_as_html_and_as_text():
    verdict = rnn_jacobian.check(bound="(1/2)**n")
    html = verdict._repr_html_()
    assert 'aria-label="wrong"' in html and 'aria-label="unanswered"' in html
    assert "<code>bound</code>" in html and "(1/2)" in html
    text = str(verdict)
    assert text.startswith("rnn-jacobian: 0 of 2 answers correct")
    assert "✗ bound (wrong): One factor too many." in text
    with pytest.raises(KeyError, match="slot must be one of"):
        verdict["nothing"]


def test_html_is_escaped():
    verdict = batchnorm_resnet_placement.check(easier="left", why="<script>x</script>")
    assert "<script>" not in verdict._repr_html_()


@pytest.mark.parametrize("checker", CHECKERS, ids=page)
def test_a_verdict_takes_well_under_a_second_per_slot(checker):
    checker.check(**checker.book_answers())  # the independent computation, done once
    start = time.perf_counter()
    verdict = checker.check(**checker.book_answers())
    assert isinstance(verdict, Verdict)
    assert time.perf_counter() - start < 0.5 * len(verdict.results)


#: A big-O slot on the pattern of the autoregressive pages: a count with lower-order terms.
CONNECTIONS = Growth(
    name="connections",
    form="an expression in d, H, W and k",
    symbols=("d", "H", "W", "k"),
    points=(
        {"d": 4, "H": 32, "W": 32, "k": 3},
        {"d": 16, "H": 32, "W": 32, "k": 3},
        {"d": 4, "H": 128, "W": 32, "k": 3},
        {"d": 4, "H": 32, "W": 128, "k": 3},
        {"d": 4, "H": 32, "W": 32, "k": 12},
    ),
    truth=lambda p: p["d"] * p["H"] * p["W"] * p["k"] ** 2 - p["H"] * p["W"] * p["k"],
    mistakes=(Mistake("The kernel counted once", "d*H*W*k", "A k x k kernel has k^2 taps."),),
)


@pytest.mark.parametrize("answer", ["d*H*W*k**2", "5*d*H*W*k^2", "d*H*W*k**2 + H*W"])
def test_a_big_o_answer_is_compared_by_its_growth(answer):
    assert CONNECTIONS.check(answer).passed


def test_a_wrong_order_of_growth_gets_the_change_that_shows_it():
    result = CONNECTIONS.check("d*H*W")
    assert result.status == "wrong" and result.mistake is None
    assert result.counterexample.startswith("With k from 3 to 12, the count grows by a factor")
    assert CONNECTIONS.check("d*H*W*k").mistake == "The kernel counted once"
    assert CONNECTIONS.check("d*H*W*q").status == "malformed"
