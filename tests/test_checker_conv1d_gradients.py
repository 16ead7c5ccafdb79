"""The checker of page ``conv1d-gradients``: the wrong answers of the handout's worked solutions
are named, other wrong answers get a computed counterexample, malformed answers are refused."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived import conv1d
from derived.checkers import conv1d_gradients as checker
from derived.checkers.conv1d_gradients import (
    FORWARD,
    INPUT_JACOBIAN,
    WEIGHT_GRAD,
    WEIGHT_JACOBIAN,
)

RIGHT = checker.book_answers()


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_known_wrong_answers_have_names():
    # the stride ignored in part 1, and the Jacobians of parts 2 and 3 summed over the outputs
    assert "The stride ignored" in names(FORWARD)
    assert "The Jacobian summed over the outputs" in names(WEIGHT_JACOBIAN)
    assert "The Jacobian summed over the outputs" in names(INPUT_JACOBIAN)
    # part 4 with the right numbers laid out (K, C), and the stride kept as a stride
    assert {"The right numbers in another layout", "The stride not turned into a dilation"} <= (
        names(WEIGHT_GRAD)
    )


def test_the_stride_ignored_is_named_in_the_forward_pass():
    def answer(x, W, stride):  # window j at positions j, j+1, ..., K-1+j
        out_length = (x.shape[1] - W.shape[2]) // stride + 1
        return torch.stack(
            [
                (W[:, :, :] * x[None, :, j : j + W.shape[2]]).sum(dim=(1, 2))
                for j in range(out_length)
            ],
            dim=1,
        )

    result = FORWARD.check(answer)
    assert result.mistake == "The stride ignored"
    assert "stride 2" in result.counterexample


@pytest.mark.parametrize("layout", ["(K, C)", "(C, K)", "(F, C, K)", "(F, K, C)"])
def test_the_summed_jacobian_is_named_in_any_layout(layout):
    def answer(x, W, stride):
        summed = conv1d.weight_jacobian(x, W, stride=stride).sum(dim=(0, 1))  # (F, C, K)
        if layout == "(F, C, K)":
            return summed
        if layout == "(F, K, C)":
            return summed.transpose(1, 2)
        if W.shape[0] > 1:  # a reader who wrote it for one filter fails elsewhere
            return summed
        return summed[0].T if layout == "(K, C)" else summed[0]

    assert WEIGHT_JACOBIAN.check(answer).mistake == "The Jacobian summed over the outputs"


def test_the_summed_input_jacobian_is_named_as_5_by_2():
    def answer(x, W, stride):
        return conv1d.input_jacobian(x, W, stride=stride).sum(dim=(0, 1)).T  # (L, C)

    assert INPUT_JACOBIAN.check(answer).mistake == "The Jacobian summed over the outputs"


def test_the_gradient_laid_out_as_k_by_c_is_named():
    def answer(x, g, kernel_size, stride):
        out = conv1d.weight_grad(x, g, kernel_size=kernel_size, stride=stride)
        return out[0].T if len(out) == 1 else out.transpose(1, 2)  # 3 x 2 in the exercise

    result = WEIGHT_GRAD.check(answer)
    assert result.mistake == "The right numbers in another layout"


def test_the_counterexample_is_a_computed_case():
    result = FORWARD.check(lambda x, W, stride: 2 * conv1d.conv1d(x, W, stride=stride))
    assert result.status == "wrong" and result.mistake is None
    # the exercise's sizes come first; the entry shown is F.conv1d's, next to the answer's
    data = checker.draw(checker.EXERCISE)
    f = torch.nn.functional.conv1d(data["x"], data["W"], stride=2)
    assert result.counterexample.startswith("For C = 2 channels, L = 5, F = 1 filter of size K = 3")
    assert f"{f[0, 0].item():.6g}" in result.counterexample
    assert f"{2 * f[0, 0].item():.6g}" in result.counterexample


def _changed(slot: str, change: str, k: float):
    right = RIGHT[slot]

    def answer(**arguments):
        out = right(**arguments)
        if change == "scaled":
            return k * out
        if change == "shifted":
            return out + k
        if change == "one entry":
            out = out.clone()
            out.view(-1)[-1] += k
            return out
        return out.flip(-1)  # the last axis reversed

    return answer


@settings(max_examples=30, deadline=None)
@given(
    slot=st.sampled_from(list(RIGHT)),
    change=st.sampled_from(["scaled", "shifted", "one entry", "flipped"]),
    k=st.sampled_from([-1.0, 0.5, 2.0, 3.0]),
)
def test_changed_answers_are_rejected_with_a_counterexample(slot, change, k):
    result = getattr(checker, slot.upper()).check(_changed(slot, change, k))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For C = ")


def test_the_wrong_step_of_the_window_is_rejected():
    def answer(x, W, stride):  # windows that start at (s + 1) j
        K, out_length = W.shape[2], (x.shape[1] - W.shape[2]) // stride + 1
        starts = [min((stride + 1) * j, x.shape[1] - K) for j in range(out_length)]
        return torch.stack([(W * x[None, :, a : a + K]).sum(dim=(1, 2)) for a in starts], dim=1)

    assert FORWARD.check(answer).status == "wrong"


def test_a_function_that_raises_is_a_wrong_answer():
    result = WEIGHT_GRAD.check(lambda x, g, kernel_size, stride: x[99])
    assert result.status == "wrong"
    assert "raised IndexError" in result.counterexample


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        (FORWARD, 3),
        (FORWARD, "F.conv1d"),
        (FORWARD, lambda x, W: x),
        (FORWARD, lambda x, W, stride: "f"),
        (FORWARD, lambda x, W, stride: torch.zeros(3)),
        (WEIGHT_JACOBIAN, lambda x, W, stride: torch.zeros(7, 7)),
        (INPUT_JACOBIAN, torch.zeros(2)),
        (WEIGHT_GRAD, lambda x, W, stride: W),
        (WEIGHT_GRAD, lambda x, g, kernel_size, stride: {"W": g}),
    ],
)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


def test_the_checker_rejects_a_wrong_library_formula(monkeypatch):
    # what the book's Check relies on: a slip in derived.conv1d makes its own answer fail
    wrong = conv1d.weight_grad

    def slipped(x, g, *, kernel_size, stride=1, dilation=1):
        return wrong(x, g, kernel_size=kernel_size, stride=stride, dilation=dilation) * 1.001

    monkeypatch.setattr(conv1d, "weight_grad", slipped)
    assert checker.check(**checker.book_answers())["weight_grad"].status == "wrong"
