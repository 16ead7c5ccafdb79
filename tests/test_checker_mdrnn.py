"""The checker of page ``mdrnn``: weights counted on ``torch.nn`` layers, connections and
steps measured from the Jacobians of the recurrence, the known slips named, any other wrong
answer refuted."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from derived.checkers import mdrnn


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_known_mistakes_are_recognized_by_name():
    # the page's slips: no parallelism at all, and layers one after another
    assert "One cell per step" in names(mdrnn.STEPS_ONE_LAYER)
    assert mdrnn.STEPS_ONE_LAYER.check("G**2").mistake == "One cell per step"
    assert mdrnn.STEPS_PIPELINED.check("d*(H+W-1)").mistake == "Layers one after another"
    assert mdrnn.STEPS_PIPELINED.check("d*H*W").mistake == "One cell per step in every layer"
    assert mdrnn.WEIGHTS.check("D*k + k**2").mistake == "One recurrent matrix"
    assert mdrnn.CONNECTIONS.check("d*k**2").mistake == "Weights counted instead of connections"


def test_the_answer_key_counts_pass():
    # seed 003's 2G - 1, and the 2020 key's O(dHWk^2) and H + W + d - 2
    assert mdrnn.STEPS_ONE_LAYER.check("2*G - 1").passed
    assert mdrnn.STEPS_PIPELINED.check("H + W + d - 2").passed
    assert mdrnn.CONNECTIONS.check("3*d*H*W*k**2").passed
    assert mdrnn.WEIGHTS.check("k*(D + 2*k)").passed


def test_the_independent_measurements_agree_with_the_closed_forms():
    for D, k in [(1, 1), (3, 2), (7, 4)]:
        assert mdrnn.measured_weights(D, k) == D * k + 2 * k**2
    for G in range(1, 9):
        assert mdrnn.measured_steps(1, G, G) == 2 * G - 1
    for d, H, W in mdrnn.PIPELINE_SIZES:
        assert mdrnn.measured_steps(d, H, W) == H + W + d - 2
    for p in mdrnn.CONNECTIONS.points:
        d, k, H, W = p["d"], p["k"], p["H"], p["W"]
        assert mdrnn.measured_connections(d, k, H, W) == d * (
            H * W * k**2 + (2 * H * W - H - W) * k**2
        )


def test_the_counterexample_is_a_computed_case():
    result = mdrnn.STEPS_ONE_LAYER.check("G**2")
    # G**2 agrees at G = 1; at G = 2 the chain (0,0) -> (0,1) -> (1,1) has 3 cells, not 4
    assert result.counterexample.startswith("For G = 2, the minimum number of steps")
    assert result.counterexample.endswith("is 3; your expression gives 4.")
    weights = mdrnn.WEIGHTS.check("D*k + k**2")
    assert weights.counterexample == (
        "For D = 1, k = 1, a layer built from nn.Linear maps has 3 parameters; your "
        "expression gives 2."
    )


@pytest.mark.parametrize("spelling", ["d*(H+W-1)", "d*H + d*W - d", "(W + H - 1)*d"])
def test_a_mistake_is_recognized_however_it_is_written(spelling):
    assert mdrnn.STEPS_PIPELINED.check(spelling).mistake == "Layers one after another"


@given(
    form=st.sampled_from(["{c}*G - 1", "2*G - 1 + {k}", "2*G - 1 + {k}*(G-1)", "G + {c}"]),
    c=st.integers(3, 9),
    k=st.integers(-3, 3).filter(bool),
)
def test_changed_step_counts_of_one_layer_are_rejected(form, c, k):
    result = mdrnn.STEPS_ONE_LAYER.check(form.format(c=c, k=k))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For G = ")


@given(
    form=st.sampled_from(
        ["H + W + {c}*d - {c}", "H + W + d - 2 + {k}", "{c}*(H + W) + d - 2", "H*W + d - 1"]
    ),
    c=st.integers(2, 5),
    k=st.integers(-3, 3).filter(bool),
)
def test_changed_pipelined_counts_are_rejected(form, c, k):
    result = mdrnn.STEPS_PIPELINED.check(form.format(c=c, k=k))
    assert result.status == "wrong", result
    assert "the minimum number of steps" in result.counterexample


@given(
    form=st.sampled_from(
        ["D*k + {c}*k**2", "{c}*D*k + 2*k**2", "D*k + 2*k**{e}", "D**{e}*k + 2*k**2"]
    ),
    c=st.sampled_from([0, 3, 4]),
    e=st.sampled_from([0, 3]),
)
def test_changed_weight_counts_are_rejected(form, c, e):
    result = mdrnn.WEIGHTS.check(form.format(c=c, e=e))
    assert result.status == "wrong", result
    assert "a layer built from nn.Linear maps has" in result.counterexample


@given(
    form=st.sampled_from(["d**{e}*k**2*H*W", "d*k**{e}*H*W", "d*k**2*H**{e}*W", "d*k**2*(H+W)"]),
    e=st.sampled_from([0, 3]),
)
def test_changed_connection_counts_are_rejected(form, e):
    result = mdrnn.CONNECTIONS.check(form.format(e=e))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("With ")


MALFORMED = ["G +", "x*G", [1, 2], {"n": 1}, "f(G)", "G*q", None]


@pytest.mark.parametrize("slot", mdrnn.SLOTS, ids=lambda s: s.name)
@pytest.mark.parametrize("answer", MALFORMED, ids=repr)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


def test_a_symbol_of_another_part_is_refused():
    # the 2019 handout's G is not a symbol of the pipelined count, and H, W not of one layer's
    assert mdrnn.STEPS_PIPELINED.check("2*G + d - 2").status == "malformed"
    assert mdrnn.STEPS_ONE_LAYER.check("H + W - 1").status == "malformed"
