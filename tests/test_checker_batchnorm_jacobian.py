"""The checker of page ``batchnorm-jacobian``, and the library's diagonal entry from the batch
statistics that gives the book's answer."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.batch_norm import batch_norm_jacobian_diagonal, jacobian_diagonal_entry
from derived.checkers import batchnorm_jacobian as checker
from derived.checkers.batchnorm_jacobian import (
    BATCHES,
    DIAGONAL,
    JACOBIAN,
    POINTS,
    draw,
    torch_bn,
)

RIGHT = "gamma / sqrt(sigma_B**2 + eps) * (1 - (1 + x_hat**2) / m)"


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


@pytest.mark.parametrize("m", [2, 3, 7])
def test_the_diagonal_entry_agrees_with_the_batch_function_and_autograd(m):
    generator = torch.Generator().manual_seed(m)
    x = 3 * torch.randn(m, 1, dtype=torch.float64, generator=generator) - 1
    gamma, eps = -1.7, 0.3
    variance, mean = torch.var_mean(x[:, 0], correction=0)
    weight = torch.tensor([gamma], dtype=torch.float64)
    from_batch = batch_norm_jacobian_diagonal(x, weight, eps=eps)[:, 0]
    autograd = torch.diagonal(
        torch.autograd.functional.jacobian(lambda t: torch_bn(t, gamma, 0.0, eps), x[:, 0])
    )
    for i in range(m):
        entry = jacobian_diagonal_entry(
            x[i, 0].item(), mean.item(), variance.sqrt().item(), m=m, weight=gamma, eps=eps
        )
        assert entry == pytest.approx(from_batch[i].item(), rel=1e-12)
        assert entry == pytest.approx(autograd[i].item(), rel=1e-10)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"m": 1}, "m must be at least 2"),
        ({"m": 0}, "m must be a positive"),
        ({"m": 3, "eps": 0.0, "sigma_B": 0.0}, "must be positive"),
        ({"m": 3, "sigma_B": -1.0}, "sigma_B must be"),
        ({"m": 3, "eps": -1e-5}, "eps must be"),
    ],
)
def test_the_diagonal_entry_refuses_bad_input(options, error):
    arguments = {"x_i": 1.0, "mu_B": 0.0, "sigma_B": 1.0, **options}
    x_i, mu_B, sigma_B = arguments.pop("x_i"), arguments.pop("mu_B"), arguments.pop("sigma_B")
    with pytest.raises((ValueError, TypeError), match=error):
        jacobian_diagonal_entry(x_i, mu_B, sigma_B, **arguments)


def test_the_tempting_slips_are_recognized_by_name():
    # the page's common mistake (mu_B and sigma_B as constants) and the other slips of the
    # derivation; problems.md lists no seed answer for this problem
    assert names(DIAGONAL) == {
        "The batch statistics held constant",
        "The mean's dependence on x_i left out",
        "The variance's dependence on x_i left out",
        "The ½ of the square root lost",
        "ε left out of the scale",
    }
    assert "The batch statistics held constant" in names(JACOBIAN)


@pytest.mark.parametrize(
    "spelling",
    ["gamma/sqrt(sigma_B^2+eps)", "gamma*(sigma_B**2 + eps)**(-1/2)", "gamma*x_hat/(x_i-mu_B)"],
)
def test_the_constant_statistics_answer_is_recognized_however_written(spelling):
    result = DIAGONAL.check(spelling)
    assert result.mistake == "The batch statistics held constant"


@pytest.mark.parametrize(
    "spelling",
    [
        RIGHT,
        "gamma/sqrt(sigma_B^2+eps)*(1 - 1/m - (x_i - mu_B)^2/(m*(sigma_B^2 + eps)))",
        "gamma*(m - 1 - x_hat**2)/(m*sqrt(sigma_B**2+eps))",
    ],
)
def test_the_right_answer_passes_however_written(spelling):
    assert DIAGONAL.check(spelling).passed


@settings(max_examples=40, deadline=None)
@given(
    form=st.sampled_from(
        [
            "{c} * " + RIGHT,
            "gamma / sqrt(sigma_B**2 + eps) * (1 - ({c} + x_hat**2) / m)",
            "gamma / sqrt(sigma_B**2 + eps) * (1 - (1 + x_hat**{k}) / m)",
            "gamma / sqrt(sigma_B**2 + eps) * (1 - (1 + x_hat**2) / m**({k} + 1))",
            RIGHT + " + {c} / m**2",
        ]
    ),
    c=st.integers(2, 9),
    k=st.sampled_from([1, 3, 4]),
)
def test_changed_diagonals_are_rejected_with_a_counterexample(form, c, k):
    result = DIAGONAL.check(form.format(c=c, k=k))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For the batch x = (")
    assert "autograd through F.batch_norm gives ∂y_" in result.counterexample


@settings(max_examples=30, deadline=None)
@given(scale=st.sampled_from([0.0, 0.5, -1.0, 2.0]), shift=st.sampled_from([0.0, 0.1]))
def test_changed_jacobians_are_rejected_with_a_counterexample(scale, shift):
    right = checker.book_answers()["jacobian"]

    def answer(x, gamma, eps):
        return scale * right(x, gamma, eps) + shift  # scale 1 with shift 0 is not drawn

    result = JACOBIAN.check(answer)
    assert result.status == "wrong", result
    assert "autograd through F.batch_norm gives ∂y_" in result.counterexample


def test_the_counterexample_is_a_computed_case():
    result = DIAGONAL.check("gamma / sqrt(sigma_B**2 + eps)")
    batch = BATCHES[0]  # the smallest batch, m = 2
    b = draw(**batch)
    i = batch["i"] - 1
    truth = torch.autograd.functional.jacobian(
        lambda t: torch_bn(t, b["gamma"], b["beta"], batch["eps"]), b["x"]
    )[i, i]
    assert f"of m = {batch['m']} examples" in result.counterexample
    assert f"{truth.item():.9g}" in result.counterexample
    # the points are the statistics of the drawn batch
    variance, mean = torch.var_mean(b["x"], correction=0)
    assert POINTS[0]["mu_B"] == mean.item() and POINTS[0]["sigma_B"] == variance.sqrt().item()


def test_a_function_that_raises_is_a_wrong_answer():
    result = JACOBIAN.check(lambda x, gamma, eps: 1 / 0)
    assert result.status == "wrong" and "raised ZeroDivisionError" in result.counterexample


MALFORMED = [
    (DIAGONAL, ["gamma +", "y", "sigma", [1, 2], {"n": 1}, "__import__('os')", "f(m)"]),
    (
        JACOBIAN,
        [
            3,
            lambda x: x,
            lambda x, gamma, eps: "J",
            lambda x, gamma, eps: x,  # the diagonal only, not the matrix
            lambda x, gamma, eps: torch.zeros(1, 1),
        ],
    ),
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
