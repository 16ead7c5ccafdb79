"""The checker of page ``dropout-activation-order``: the set of activations that commute with
dropout is decided by running both orders of ``torch.nn`` layers; the tempting wrong sets are
named, any other wrong set gets a computed unit on which the orders differ (or agree), malformed
answers are refused."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from derived.checkers import dropout_activation_order as checker
from derived.checkers.dropout_activation_order import ACTIVATIONS, EQUIVALENT, both_orders

RIGHT = checker.book_answers()["equivalent"]


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_measurement_picks_relu_and_leaky_relu():
    # a wrong measurement (another mask in each order, say) would change this set
    assert checker.commuting() == {"relu", "leaky_relu"} == RIGHT


def test_both_orders_use_the_same_mask():
    # the sigmoid is never zero: a zero output is a dropped unit, in either order
    _, after, before = both_orders("sigmoid", 0.4)
    assert torch.equal(after == 0, checker.mask(0.4) == 0)
    assert torch.equal(before == 0.5, checker.mask(0.4) == 0)
    assert 0.3 < (checker.mask(0.4) == 0).double().mean() < 0.5  # about p of the units
    # and the mask is nn.Dropout's: 0 or 1/(1 - p)
    torch.testing.assert_close(checker.mask(0.4).unique(), torch.tensor([0, 1 / 0.6]).double())


def test_the_tempting_wrong_sets_have_names():
    # the page's Common mistake: the activations with phi(0) = 0, tanh among them
    assert "Checking only the dropped units" in names(EQUIVALENT)
    assert {
        "Dropout treated as the identity",
        "LeakyReLU's negative side",
        "Only a linear activation commutes",
    } <= names(EQUIVALENT)


@pytest.mark.parametrize(
    ("answer", "mistake"),
    [
        ({"relu", "leaky_relu", "tanh"}, "Checking only the dropped units"),
        (["ReLU", "LeakyReLU", "Tanh"], "Checking only the dropped units"),
        (("a", "c", "d"), "Checking only the dropped units"),
        ({"a", "b", "c", "d"}, "Dropout treated as the identity"),
        (["relu"], "LeakyReLU's negative side"),
        (set(), "Only a linear activation commutes"),
        ([], "Only a linear activation commutes"),
    ],
)
def test_a_wrong_set_is_named_however_it_is_written(answer, mistake):
    assert EQUIVALENT.check(answer).mistake == mistake


@pytest.mark.parametrize(
    "answer", [{"relu", "leaky_relu"}, ["LeakyReLU", "ReLU"], ("a", "c"), frozenset({"relu", "c"})]
)
def test_the_right_set_passes_however_it_is_written(answer):
    assert EQUIVALENT.check(answer).passed


def test_the_counterexample_is_a_computed_case():
    result = EQUIVALENT.check({"relu", "sigmoid", "leaky_relu"})
    assert result.status == "wrong" and result.mistake is None
    # the sigmoid's unit is one where the two nn.Sequential orders really differ
    y, after, before = both_orders("sigmoid", 0.4)
    assert result.counterexample.startswith("With nn.Sigmoid and the same dropout mask (p = 0.4)")
    units = zip(y.flatten(), before.flatten(), after.flatten(), strict=True)
    shown = [
        (b, a)
        for u, b, a in units
        if f"y = {u.item():.6g} outputs {b.item():.6g} " in result.counterexample
    ]
    assert shown and f"{shown[0][1].item():.6g} when it comes last" in result.counterexample
    assert shown[0][0] != shown[0][1]


def test_a_commuting_activation_left_out_is_shown_agreeing():
    result = EQUIVALENT.check({"relu", "tanh"})  # LeakyReLU missing, tanh wrongly in
    assert "With nn.LeakyReLU, both orders" in result.counterexample
    assert "they are the same layer" in result.counterexample
    assert "With nn.Tanh and the same dropout mask" in result.counterexample


@given(st.sets(st.sampled_from(sorted(ACTIVATIONS))).filter(lambda s: s != RIGHT))
def test_every_other_set_is_rejected_with_a_counterexample(answer):
    result = EQUIVALENT.check(answer)
    assert result.status == "wrong", result
    assert result.counterexample.startswith("With nn.")
    # one piece of evidence for each activation the set gets wrong
    assert result.counterexample.count("With nn.") == len(answer ^ RIGHT)


@pytest.mark.parametrize(
    "answer",
    ["relu", "relu, leaky_relu", {"relu": 1}, {"gelu"}, {"relu", 3}, 3, None, nn.ReLU(), {"e"}],
)
def test_malformed_answers_are_refused_naming_the_slot(answer):
    result = EQUIVALENT.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith("equivalent must be ")


def test_the_page_verdict_shows_the_mistake():
    verdict = checker.check(equivalent={"relu", "leaky_relu", "tanh"})
    assert not verdict.passed
    assert "✗ equivalent (wrong): Checking only the dropped units." in str(verdict)
