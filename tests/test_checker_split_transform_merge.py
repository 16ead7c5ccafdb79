"""The checker of page ``split-transform-merge``: the shared-convolution count of the worked
solution is named, other wrong counts get a computed counterexample, malformed answers are
refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from derived.checkers import split_transform_merge as checker
from derived.checkers.split_transform_merge import (
    BOTTLENECK_PARAMETERS,
    SPLIT_TRANSFORM_MERGE_PARAMETERS,
    nn_split_transform_merge,
)
from derived.split_transform_merge import (
    bottleneck_parameter_count,
    split_transform_merge_parameter_count,
)

RIGHT = checker.book_answers()


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_known_wrong_answers_have_names():
    assert "One set of convolutions for all the paths" in names(SPLIT_TRANSFORM_MERGE_PARAMETERS)
    assert {"No biases", "The kernel area left out"} <= names(BOTTLENECK_PARAMETERS)
    assert "The last convolutions merged into one" in names(SPLIT_TRANSFORM_MERGE_PARAMETERS)


def test_the_shared_convolutions_give_2456_and_are_named():
    def shared(in_channels, cardinality, bottleneck_width):
        c, b = in_channels, bottleneck_width  # one path, whatever the cardinality
        return (c + 1) * b + (9 * b + 1) * b + (b + 1) * c

    assert shared(256, 32, 4) == 2_456  # the count of the module that shares one set
    result = SPLIT_TRANSFORM_MERGE_PARAMETERS.check(shared)
    assert result.mistake == "One set of convolutions for all the paths"


def test_a_count_is_recognized_however_it_is_written():
    def as_float(in_channels, cardinality, bottleneck_width):  # 78592.0: still a whole number
        return float(
            RIGHT["split_transform_merge_parameters"](in_channels, cardinality, bottleneck_width)
        )

    assert SPLIT_TRANSFORM_MERGE_PARAMETERS.check(as_float).passed

    def no_biases(in_channels, width):
        return in_channels * width + 9 * width**2 + width * in_channels

    assert BOTTLENECK_PARAMETERS.check(no_biases).mistake == "No biases"


def test_the_counterexample_is_a_computed_case():
    result = SPLIT_TRANSFORM_MERGE_PARAMETERS.check(
        lambda in_channels, cardinality, bottleneck_width: 0
    )
    # the smallest case: one path of width 1 on one channel, counted from nn.Conv2d layers
    assert result.counterexample.startswith(
        "For in_channels = 1, cardinality = 1, bottleneck_width = 1"
    )
    assert f"registers {nn_split_transform_merge(1, 1, 1):,} parameters" in result.counterexample


@given(
    change=st.sampled_from(["offset", "scale", "area", "bias", "paths"]),
    k=st.sampled_from([-1, 2, 3]),
)
def test_changed_counts_are_rejected_with_a_counterexample(change, k):
    def answer(in_channels, cardinality, bottleneck_width):
        c, g, b = in_channels, cardinality, bottleneck_width
        right = split_transform_merge_parameter_count(c, cardinality=g, bottleneck_width=b)
        if change == "offset":  # a constant changed
            return right + k
        if change == "scale":  # a scaled count
            return k * right
        if change == "area":  # an exponent shifted: k^(2+k) for k^2
            return g * ((c + 1) * b + (b * 3 ** (2 + k) + 1) * b + (b + 1) * c)
        if change == "bias":  # a term dropped: the last biases
            return g * ((c + 1) * b + (9 * b + 1) * b + b * c)
        return (g + k) * bottleneck_parameter_count(c, b)  # the number of paths changed

    result = SPLIT_TRANSFORM_MERGE_PARAMETERS.check(answer)
    assert result.status == "wrong", result
    assert "built from nn.Conv2d layers registers" in result.counterexample


def test_a_function_that_raises_is_a_wrong_answer():
    result = BOTTLENECK_PARAMETERS.check(lambda in_channels, width: in_channels // 0)
    assert result.status == "wrong"
    assert "raised ZeroDivisionError" in result.counterexample


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        (BOTTLENECK_PARAMETERS, 213_504),
        (BOTTLENECK_PARAMETERS, "213,504"),
        (BOTTLENECK_PARAMETERS, lambda in_channels: 1),
        (BOTTLENECK_PARAMETERS, lambda in_channels, width: "many"),
        (BOTTLENECK_PARAMETERS, lambda in_channels, width: 1.5),
        (BOTTLENECK_PARAMETERS, lambda in_channels, width: True),
        (SPLIT_TRANSFORM_MERGE_PARAMETERS, lambda in_channels, cardinality: 1),
        (SPLIT_TRANSFORM_MERGE_PARAMETERS, lambda in_channels, cardinality, bottleneck_width: [1]),
        (
            SPLIT_TRANSFORM_MERGE_PARAMETERS,
            lambda in_channels, cardinality, bottleneck_width: float("nan"),
        ),
    ],
)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")


def test_the_checker_rejects_a_wrong_library_formula(monkeypatch):
    import derived.checkers.split_transform_merge as module

    # a library count that forgot the biases of the last convolutions must fail
    monkeypatch.setattr(
        module,
        "bottleneck_parameter_count",
        lambda in_channels, width: bottleneck_parameter_count(in_channels, width) - in_channels,
    )
    assert not module.check(**module.book_answers()).passed
