"""The checker of page ``pixelcnn-vs-mdrnn``: each row decided by measuring both networks as
they grow, seed 000's wrong verdicts named, malformed choices refused."""

import pytest

from derived.checkers import pixelcnn_vs_mdrnn as checker


def test_seed_000s_wrong_verdicts_are_recognized_by_name():
    # problems.md: PixelCNN lower compute and memory, and the larger context ("MDRNN's is 3")
    verdict = checker.check(computation="pixelcnn", memory="pixelcnn", context="pixelcnn")
    assert verdict["computation"].mistake == "Lower arithmetic claimed for PixelCNN"
    assert verdict["memory"].mistake == "Lower memory claimed for PixelCNN"
    assert verdict["context"].mistake == "Direct inputs taken as context"
    assert verdict["parallelism"].status == "unanswered"


def test_seed_001s_verdicts_pass():
    verdict = checker.check(
        computation="same", memory="same", parallelism="pixelcnn", context="mdrnn"
    )
    assert verdict.passed, verdict


def test_each_row_is_decided_by_the_measurement():
    pairs = checker.measurement()
    # computation: a constant ratio of multiply-adds (4 or 5 taps against 3 blocks)
    ratios = [cnn / rnn for cnn, rnn in pairs["computation"]]
    assert 1 < min(ratios) and max(ratios) < 5 / 3
    # parallelism: PixelCNN takes d steps, the MDRNN H + W + d - 2
    assert pairs["parallelism"] == [(d, 2 * size + d - 2) for size, _, d in checker.POINTS]
    # context: the MDRNN's quadrant grows with the image, PixelCNN's window does not
    (cnn_small, rnn_small), (cnn_large, rnn_large) = pairs["context"][:2]
    assert cnn_small == cnn_large == 11 and rnn_large > rnn_small
    assert {row: checker.verdict_of(row) for row in checker.ROWS} == {
        "computation": "same",
        "memory": "same",
        "parallelism": "pixelcnn",
        "context": "mdrnn",
    }


def test_the_evidence_is_a_computed_case():
    result = checker.CONTEXT.check("pixelcnn")
    # the centre of a 24 x 24 image: (12 + 1)^2 = 169 pixels for the MDRNN, 11 for PixelCNN
    assert "24×24, k = 2, d = 2: 11 against 169" in result.counterexample
    assert result.feedback.startswith("Direct inputs taken as context. ")
    steps = checker.PARALLELISM.check("same")
    assert steps.mistake == "Same arithmetic taken as the same number of steps"
    assert "12×12, k = 2, d = 2: 2 against 24" in steps.counterexample


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        (checker.COMPUTATION, "mdrnn"),
        (checker.MEMORY, "mdrnn"),
        (checker.PARALLELISM, "mdrnn"),
        (checker.CONTEXT, "same"),
    ],
)
def test_every_other_wrong_option_gets_the_measurement(slot, answer):
    result = slot.check(answer)
    assert result.status == "wrong"
    assert result.counterexample.startswith("Measured ")


@pytest.mark.parametrize("answer", [" Same ", "SAME"])
def test_an_option_is_read_whatever_its_case_and_spacing(answer):
    assert checker.COMPUTATION.check(answer).passed


@pytest.mark.parametrize("slot", checker.SLOTS, ids=lambda s: s.name)
@pytest.mark.parametrize("answer", ["both", "PixelCNN is faster", 1, ("same",), None])
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = slot.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot.name} must be ")
