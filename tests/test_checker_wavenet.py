"""The checker of page ``wavenet``: receptive fields measured by autograd, connections and steps
by the layers' Jacobians, the known slips named, any other wrong answer refuted."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from derived.checkers import wavenet


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_known_mistakes_are_recognized_by_name():
    # the handout's claim: dilations growing by one make the field exponential
    assert "Exponential growth claimed" in names(wavenet.RECEPTIVE_LINEAR)
    assert wavenet.RECEPTIVE_LINEAR.check("2**d").mistake == "Exponential growth claimed"
    assert wavenet.RECEPTIVE_DOUBLING.check("2**d - 1").mistake == (
        "The output's own sample left out"
    )
    assert wavenet.CONNECTIONS.check("d**2*k**2*T").mistake == "Dilation counted as extra links"
    assert wavenet.STEPS.check("T").mistake == "One step per sample"
    assert wavenet.STEPS.check("d*T").mistake == "The layers scanned sample by sample"


@pytest.mark.parametrize("spelling", ["2**d", "2^d", "exp(d*log(2))", "4**(d/2)"])
def test_a_mistake_is_recognized_however_it_is_written(spelling):
    assert wavenet.RECEPTIVE_LINEAR.check(spelling).mistake == "Exponential growth claimed"


def test_the_independent_measurements_agree_with_the_closed_forms():
    for d in range(1, 9):
        assert wavenet.measured_field(d, "linear") == 1 + d * (d + 1) // 2
        assert wavenet.measured_field(d, "doubling") == 2**d
    for p in wavenet.CONNECTIONS.points:
        d, k, T = p["d"], p["k"], p["T"]
        assert wavenet.measured_connections(d, k, T) == k**2 * (2 * d * T - d * (d + 1) // 2)
    for p in wavenet.STEPS.points:
        assert wavenet.measured_steps(p["d"], p["k"], p["T"]) == p["d"]


def test_the_counterexample_is_a_computed_case():
    result = wavenet.RECEPTIVE_LINEAR.check("2**d")
    # 2^d agrees at d = 1, 2; at d = 3 the dilations 1, 2, 3 reach 1 + 6 = 7 samples, not 8
    assert result.counterexample.startswith("With d = 3, dilations [1, 2, 3]")
    assert "depends on 7 input samples; your expression gives 8." in result.counterexample
    growth = wavenet.CONNECTIONS.check("d*k*T")
    assert growth.counterexample == (
        "With k from 2 to 8, the count grows by a factor 16, your expression by 4."
    )


@pytest.mark.parametrize(
    "answer", ["d*k**2*T", "2*d*k^2*T", "2*d*k**2*T - k**2*d**2/2", "d*k**2*T + d + k"]
)
def test_equivalent_big_o_answers_pass(answer):
    assert wavenet.CONNECTIONS.check(answer).passed


@pytest.mark.parametrize("answer", ["d", "2*d + 1", "d + k/k"])
def test_equivalent_step_counts_pass(answer):
    assert wavenet.STEPS.check(answer).passed


@given(
    form=st.sampled_from(
        ["1 + d*(d+1)/2 + {c}", "1 + {c}*d*(d+1)/2", "1 + d*(d+{c})/2", "{c} + d**2"]
    ),
    c=st.integers(2, 9),
)
def test_changed_linear_fields_are_rejected_with_a_counterexample(form, c):
    result = wavenet.RECEPTIVE_LINEAR.check(form.format(c=c))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("With d = ")


@given(
    form=st.sampled_from(["2**(d+{k})", "{c}*2**d", "2**d + {k}", "{c}**d"]),
    c=st.integers(3, 9),
    k=st.integers(-3, 3).filter(bool),
)
def test_changed_doubling_fields_are_rejected_with_a_counterexample(form, c, k):
    result = wavenet.RECEPTIVE_DOUBLING.check(form.format(c=c, k=k))
    assert result.status == "wrong", result
    assert "autograd finds that the last output depends on" in result.counterexample


@given(
    form=st.sampled_from(["d**{e}*k**2*T", "d*k**{e}*T", "d*k**2*T**{e}", "d*k**2*T*log(T)"]),
    e=st.sampled_from([0, 3, 4]),
)
def test_changed_orders_of_growth_are_rejected_with_a_counterexample(form, e):
    for slot in (wavenet.CONNECTIONS, wavenet.STEPS):
        result = slot.check(form.format(e=e))
        assert result.status == "wrong", result
        assert result.counterexample.startswith("With ")


@given(extra=st.sampled_from(["T", "k", "log(T)", "d", "T/8"]))
def test_a_step_count_that_grows_with_another_symbol_is_rejected(extra):
    result = wavenet.STEPS.check(f"d*{extra}")
    assert result.status == "wrong", result


MALFORMED = ["d +", "x**d", [1, 2], {"n": 1}, "__import__('os')", "f(d)", "d*q", True]


@pytest.mark.parametrize("slot", wavenet.SLOTS, ids=lambda s: s.name)
@pytest.mark.parametrize("answer", MALFORMED, ids=repr)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


def test_a_function_of_the_wrong_symbols_is_refused():
    result = wavenet.RECEPTIVE_LINEAR.check(lambda n: n)
    assert result.status == "malformed"
    assert result.feedback.startswith("receptive_linear must be ")


def test_the_page_verdict_names_each_slot():
    verdict = wavenet.check(receptive_linear="1 + d*(d+1)/2", steps="T")
    assert verdict["receptive_linear"].passed
    assert verdict["receptive_doubling"].status == "unanswered"
    assert verdict["steps"].mistake == "One step per sample"
    assert not verdict.passed
