"""The checker of page ``pixelcnn``: connections and steps measured from the Jacobians of a
masked ``torch.nn`` stack, the field by autograd, the known slips named, any other wrong answer
refuted."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived.checkers import pixelcnn
from derived.masked_conv import causal_mask


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def field(d):
    """The book's field, written out: the row to the left, and each row m above up to m
    columns to the right."""
    row = {(0, c) for c in range(-d, 0)}
    return row | {(-m, c) for m in range(1, d + 1) for c in range(-d, m + 1)}


def test_the_known_mistakes_are_recognized_by_name():
    # seed 000's "raster scan by altering the mask", and the page's blind-spot slip
    assert {"One step per pixel", "Sampling counted"} <= names(pixelcnn.STEPS)
    assert pixelcnn.STEPS.check("H*W").mistake == "One step per pixel"
    assert pixelcnn.STEPS.check("d*H*W").mistake == "Sampling counted"
    assert pixelcnn.CONNECTIONS.check("d*k**2").mistake == "Weights counted instead of connections"

    def square(d):
        above = {(-m, c) for m in range(1, d + 1) for c in range(-d, d + 1)}
        return above | {(0, c) for c in range(-d, 0)}

    assert pixelcnn.FIELD.check(square).mistake == "No blind spot"
    assert pixelcnn.FIELD.check(lambda d: field(d) | {(0, 0)}).mistake == "The centre included"


def test_the_masks_are_the_librarys_masks():
    for mask_type in "AB":
        assert torch.equal(pixelcnn.raster_mask(mask_type), causal_mask(3, mask_type=mask_type))


def test_the_independent_measurements_agree_with_the_closed_forms():
    for d in range(1, 6):
        assert pixelcnn.measured_field(d) == frozenset(field(d))
        assert len(pixelcnn.measured_field(d)) == d + 3 * d * (d + 1) // 2
    for p in pixelcnn.STEPS.points:
        assert pixelcnn.measured_steps(p["d"], p["k"], p["H"], p["W"]) == p["d"]
    # one mask A, d - 1 masks B; tap offsets (da, db) link (H - |da|)(W - |db|) pixels
    for p in pixelcnn.CONNECTIONS.points:
        d, k, H, W = p["d"], p["k"], p["H"], p["W"]
        a = H * (W - 1) + (H - 1) * (3 * W - 2)
        assert pixelcnn.measured_connections(d, k, H, W) == k**2 * (a + (d - 1) * (a + H * W))


@pytest.mark.parametrize("spelling", ["H*W", "W*H", "4*H*W + 3", "(H*W)**1"])
def test_a_mistake_is_recognized_however_it_is_written(spelling):
    assert pixelcnn.STEPS.check(spelling).mistake == "One step per pixel"


@pytest.mark.parametrize("answer", ["d*k**2*H*W", "9*d*k^2*H*W", "5*d*H*W*k**2 - k**2*H*W"])
def test_equivalent_big_o_answers_pass(answer):
    # seed 000's 3^2 k^2 per pixel ignores the mask: a valid bound of the same order
    assert pixelcnn.CONNECTIONS.check(answer).passed


def test_the_counterexample_is_a_computed_case():
    result = pixelcnn.FIELD.check(lambda d: field(d) | {(-1, d + 1)})
    # at d = 1 the output sees 4 pixels; (-1, 2) is beyond the reach of one layer
    assert result.counterexample == (
        "For d = 1, autograd finds that one output depends on 4 input pixels; your set "
        "includes (-1, 2), where the gradient is exactly zero."
    )
    missing = pixelcnn.FIELD.check(lambda d: field(d) - {(0, -d)})
    assert "lacks (0, -1), where it is not" in missing.counterexample


@given(
    change=st.sampled_from(["drop", "add", "shift", "mirror"]),
    d0=st.integers(1, 5),
)
def test_changed_fields_are_rejected_with_a_counterexample(change, d0):
    def answer(d):
        seen = field(d)
        if d != d0:
            return seen
        if change == "drop":
            return seen - {max(seen)}
        if change == "add":
            return seen | {(1, 0)}
        if change == "shift":
            return {(a, b - 1) for a, b in seen}
        return {(a, -b) for a, b in seen}

    result = pixelcnn.FIELD.check(answer)
    assert result.status == "wrong", result
    assert result.counterexample.startswith(f"For d = {d0}, autograd finds")


@given(
    form=st.sampled_from(["d**{e}*k**2*H*W", "d*k**{e}*H*W", "d*k**2*H**{e}*W", "d*k**2*H*W**{e}"]),
    e=st.sampled_from([0, 3]),
)
def test_changed_connection_counts_are_rejected_with_a_counterexample(form, e):
    result = pixelcnn.CONNECTIONS.check(form.format(e=e))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("With ")


@given(extra=st.sampled_from(["H", "W", "k", "d", "log(H)", "sqrt(W)"]))
def test_a_step_count_that_grows_too_fast_is_rejected(extra):
    result = pixelcnn.STEPS.check(f"d*{extra}")
    assert result.status == "wrong", result


MALFORMED = ["d +", "x*d", [1, 2], {"n": 1}, "f(d)", "d*q", True]


@pytest.mark.parametrize("slot", [pixelcnn.CONNECTIONS, pixelcnn.STEPS], ids=lambda s: s.name)
@pytest.mark.parametrize("answer", MALFORMED, ids=repr)
def test_malformed_expressions_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


@pytest.mark.parametrize(
    "answer",
    [
        {(0, -1)},  # not a function
        lambda: set(),  # wrong signature
        lambda d, k: set(),
        lambda d: 3,  # not a set
        lambda d: "(0, -1)",
        lambda d: {(0, -1, 2)},  # not pairs
        lambda d: [(0.5, 1)],
        lambda d: [(True, 1)],
    ],
)
def test_a_malformed_field_is_refused_naming_the_slot(answer):
    result = pixelcnn.FIELD.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith("field must be ")


def test_a_field_that_raises_is_a_wrong_answer():
    result = pixelcnn.FIELD.check(lambda d: 1 / 0)
    assert result.status == "wrong"
    assert "raised ZeroDivisionError" in result.counterexample


def test_a_list_of_pairs_is_read_as_a_set():
    assert pixelcnn.FIELD.check(lambda d: sorted(field(d)) * 2).passed
    assert pixelcnn.FIELD.check(lambda d: [list(p) for p in field(d)]).passed
