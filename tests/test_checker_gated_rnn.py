"""The checker of page ``gated-rnn``: the wrong gradients of the worked solution are named, other
wrong answers get a computed counterexample, malformed answers are refused, and the choice is
the one autograd's measurement shows."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.checkers import gated_rnn as checker
from derived.checkers.gated_rnn import DL_DW_X, GRADIENTS
from derived.gated_rnn import input_weight_grad


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_known_wrong_answers_have_names():
    # the gate collapsed to sum(1 - c[t]) and no sum over t; the gate for one minus the gate
    assert {"The gate summed to one number", "One step only"} <= names(DL_DW_X)
    assert "The gate in place of one minus the gate" in names(DL_DW_X)
    assert "Laid out as n × m" in names(DL_DW_X)  # strict numerator layout
    assert {m.answer for m in GRADIENTS.mistakes} == {"vanishing", "neither"}


def test_the_scalar_gate_is_named_however_it_is_written():
    def loop(x, c, delta):  # entry by entry, as sum(1 - c[t]) x[t][j] dl/dh[t][i]
        K, m, n = len(x), delta.shape[1], x.shape[1]
        out = torch.zeros(m, n, dtype=x.dtype)
        for t in range(K):
            for i in range(m):
                for j in range(n):
                    out[i, j] += (1 - c[t]).sum() * x[t, j] * delta[t, i]
        return out

    assert DL_DW_X.check(loop).mistake == "The gate summed to one number"


def test_one_step_is_named():
    result = DL_DW_X.check(lambda x, c, delta: torch.outer(delta[-1] * (1 - c[-1]), x[-1]))
    assert result.mistake == "One step only"
    assert result.counterexample.startswith("For K = 2 steps")  # one step is right for K = 1


def test_the_counterexample_is_a_computed_case():
    result = DL_DW_X.check(lambda x, c, delta: 2 * input_weight_grad(x, c, delta))
    assert result.status == "wrong" and result.mistake is None
    truth = checker.network(K=1, m=1, n=1)["dl_dW_x"][0, 0].item()
    assert result.counterexample.startswith("For K = 1 step, m = 1 unit and n = 1 input")
    assert f"autograd gives dl/dW_x[0, 0] = {truth:.6g}" in result.counterexample
    assert f"your function gives {2 * truth:.6g}" in result.counterexample


@given(
    change=st.sampled_from(["scale", "shift", "square", "mean", "drop", "h"]),
    k=st.sampled_from([-1.0, 0.5, 2.0]),
)
def test_changed_answers_are_rejected_with_a_counterexample(change, k):
    def answer(x, c, delta):
        if change == "scale":  # a scaled output
            return k * input_weight_grad(x, c, delta)
        if change == "shift":  # a constant changed: (k - c) for (1 - c)
            return (delta * (k - c)).T @ x
        if change == "square":  # an exponent shifted
            return (delta * (1 - c) ** 2).T @ x
        if change == "mean":  # the mean over t for the sum
            return input_weight_grad(x, c, delta) / len(x)
        if change == "drop":  # a term dropped: the gate left out
            return delta.T @ x
        return input_weight_grad(x, c, delta) + k * (delta * c).T @ x  # a term added

    result = DL_DW_X.check(answer)
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For K = ")


def test_a_function_that_raises_is_a_wrong_answer():
    result = DL_DW_X.check(lambda x, c, delta: x[99])
    assert result.status == "wrong"
    assert "raised IndexError" in result.counterexample


def test_the_choice_is_what_autograd_measures():
    found = checker.measurement()
    assert found["vanished"] < 1e-6 < 10 < found["grew"]
    assert checker.check(gradients=" Both ")["gradients"].passed
    exploding = checker.check(gradients="exploding")["gradients"]
    assert exploding.status == "wrong" and exploding.mistake is None
    assert "grew in" in exploding.counterexample
    assert checker.check(gradients="vanishing")["gradients"].mistake == "Only vanishing"


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        (DL_DW_X, "delta * (1 - c)"),
        (DL_DW_X, lambda x, c: x),
        (DL_DW_X, lambda x, c, delta: "W"),
        (DL_DW_X, lambda x, c, delta: torch.zeros(7)),
        (DL_DW_X, lambda x, c, delta: torch.zeros(7, 7)),
        (DL_DW_X, lambda x, c, delta: {"W_x": x}),
        (GRADIENTS, "sometimes"),
        (GRADIENTS, True),
        (GRADIENTS, ["both"]),
    ],
)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


def test_a_justification_is_kept_not_graded():
    verdict = checker.check(gradients="both", why=" the W_h term ")
    assert verdict["gradients"].justification == "the W_h term"
    assert checker.check(gradients="both", why=3)["gradients"].status == "malformed"


def test_the_checker_rejects_a_wrong_library_formula(monkeypatch):
    # the book's answer is the library's function: a slip there must fail the Check
    monkeypatch.setattr(checker, "input_weight_grad", lambda x, c, delta: (delta * c).T @ x)
    assert checker.check(**checker.book_answers())["dl_dW_x"].status == "wrong"
