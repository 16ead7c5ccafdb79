"""The checker of page ``momentum-jacobian-det``: the Jacobian against autograd, the determinant
against ``torch.linalg.det`` of autograd's Jacobian."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.checkers import momentum_jacobian_det
from derived.checkers.momentum_jacobian_det import CASES, DET, JACOBIAN, POINTS, check


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def right(hessian, alpha, beta):
    """The Jacobian written out by hand, as a reader would."""
    eye = torch.eye(len(hessian), dtype=torch.float64)
    top = torch.cat([eye - alpha * hessian, beta * eye], 1)
    return torch.cat([top, torch.cat([-alpha * hessian, beta * eye], 1)])


def swapped(jacobian: torch.Tensor) -> torch.Tensor:
    """The Jacobian with the state reordered as (p, θ), rows and columns alike."""
    D = len(jacobian) // 2
    order = torch.cat([torch.arange(D, 2 * D), torch.arange(D)])
    return jacobian[order][:, order]


def test_the_known_mistakes_are_recognized_by_name():
    # problems.md: the seed labels the Hessian block as a derivative with respect to the
    # velocity, writes the state as (p, θ), and puts a scalar β in the velocity factor.
    assert {
        "The Hessian block read as a derivative with respect to p",
        "The state ordered (p, θ)",
    } <= names(JACOBIAN)
    assert "A scalar β in the corner" in names(DET)
    # the page's Common mistake (the factors in the wrong order) and other slips
    assert {
        "The two factors multiplied in the wrong order",
        "The Hessian's sign",
        "The parameter update read with the old velocity",
    } <= names(JACOBIAN)
    assert {
        "det(βI) taken as Dβ",
        "β applied to the whole state",
        "Only the shear",
        "The inverse step's determinant",
        "The sign of β dropped",
    } <= names(DET)


def test_the_truths_are_what_the_page_derives():
    """Guards the independent computations: autograd's Jacobian is the product of the factors,
    and its determinant is β^D, whatever the learning rate, J and the state."""
    for case in CASES:
        hessian = momentum_jacobian_det.autograd_hessian(case["D"], case["seed"])
        truth = momentum_jacobian_det.autograd_jacobian(
            case["D"], case["alpha"], case["beta"], case["seed"]
        )
        torch.testing.assert_close(truth, right(hessian, case["alpha"], case["beta"]))
    for point in POINTS:
        det = momentum_jacobian_det.autograd_det(point["beta"], point["D"])
        assert math.isclose(det, point["beta"] ** point["D"], rel_tol=1e-12)


@pytest.mark.parametrize(
    "answer", ["beta**D", "beta^D", "(beta)**(D)", "1/beta**(-D)", "beta**(2*D)/beta**D"]
)
def test_a_determinant_is_accepted_however_it_is_written(answer):
    assert DET.check(answer).passed
    assert DET.check(lambda beta, D: beta**D).passed


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("beta", "A scalar β in the corner"),
        ("D*beta", "det(βI) taken as Dβ"),
        ("beta + beta*(D - 1)", "det(βI) taken as Dβ"),
        ("(beta**2)**D", "β applied to the whole state"),
        ("beta**D * beta**D", "β applied to the whole state"),
        ("beta/beta", "Only the shear"),
        ("(1/beta)**D", "The inverse step's determinant"),
        ("sqrt(beta**2)**D", "The sign of β dropped"),
    ],
)
def test_a_determinant_mistake_is_recognized_however_it_is_written(answer, name):
    result = DET.check(answer)
    assert result.status == "wrong" and result.mistake == name, result


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        (lambda hessian, alpha, beta: right(0 * hessian, alpha, beta),
         "The Hessian block read as a derivative with respect to p"),
        (lambda hessian, alpha, beta: swapped(right(hessian, alpha, beta)),
         "The state ordered (p, θ)"),
        (lambda hessian, alpha, beta: right(-hessian, alpha, beta).numpy(), "The Hessian's sign"),
    ],
)  # fmt: skip
def test_a_jacobian_mistake_is_recognized_however_it_is_written(answer, name):
    result = JACOBIAN.check(answer)
    assert result.status == "wrong" and result.mistake == name, result


def test_the_jacobian_is_accepted_as_a_tensor_an_array_or_nested_lists():
    assert JACOBIAN.check(right).passed
    assert JACOBIAN.check(lambda hessian, alpha, beta: right(hessian, alpha, beta).numpy()).passed
    assert JACOBIAN.check(lambda hessian, alpha, beta: right(hessian, alpha, beta).tolist()).passed

    def in_place(hessian, alpha, beta):
        h = hessian.mul_(-alpha).numpy()  # changes the reader's copy only
        eye = np.eye(len(h))
        return np.block([[eye + h, beta * eye], [h, beta * eye]])

    assert JACOBIAN.check(in_place).passed
    assert check(**momentum_jacobian_det.book_answers()).passed


def test_the_counterexamples_are_computed_cases():
    result = DET.check("beta")
    # at β = 0.5, D = 2: det = 0.25 (β = 0.5 at D = 1 agrees with the answer)
    assert result.counterexample.startswith("At beta = 0.5, D = 2")
    assert "is 0.25, your expression gives 0.5." in result.counterexample
    result = JACOBIAN.check(lambda hessian, alpha, beta: right(0 * hessian, alpha, beta))
    case = CASES[0]  # D = 1: the Hessian and the matrices are shown
    A, b, s = momentum_jacobian_det._problem(case["D"], case["seed"])
    theta = s[0].item()
    # J'' of the log-cosh and quartic objective, by hand
    h = sum(
        a**2 / math.cosh(a * theta - c) ** 2
        for a, c in zip(A[:, 0].tolist(), b.tolist(), strict=True)
    )
    h += 3 * theta**2
    alpha, beta = case["alpha"], case["beta"]
    shown = result.counterexample
    assert shown.startswith("For D = 1, alpha = 0.3, beta = 0.9")
    assert f"at the Hessian {h:.6g}" in shown
    assert f"is [{1 - alpha * h:.6g}, {beta:.6g}; {-alpha * h:.6g}, {beta:.6g}]" in shown
    assert f"gives [1, {beta:.6g}; 0, {beta:.6g}]" in shown


def test_a_larger_case_names_the_block_that_differs():
    def wrong_from_d_3(hessian, alpha, beta):
        jacobian = right(hessian, alpha, beta)
        D = len(hessian)
        if D >= 3:
            jacobian[D:, D:] += 0.5 * torch.eye(D, dtype=torch.float64)
        return jacobian

    result = JACOBIAN.check(wrong_from_d_3)
    assert result.status == "wrong" and result.mistake is None
    assert result.counterexample.startswith("For D = 3, alpha = 0.2, beta = -0.7")
    assert "differs from autograd's by 0.5 in the block ∂p'/∂p" in result.counterexample


@settings(max_examples=40, deadline=None)
@given(
    form=st.sampled_from(
        ["{c}*beta**D", "beta**(D+{k})", "beta**D + {c}/10", "(beta + {c}/10)**D",
         "beta**D*(1 + D/{c})", "beta**(D*{c})"]
    ),
    c=st.integers(2, 9),
    k=st.integers(-3, 3).filter(bool),
)  # fmt: skip
def test_changed_determinants_are_rejected_with_a_counterexample(form, c, k):
    result = DET.check(form.format(c=c, k=k))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("At beta = ")
    assert "torch.linalg.det of autograd's Jacobian of the step is" in result.counterexample


@settings(max_examples=30, deadline=None)
@given(
    block=st.sampled_from([(0, 0), (0, 1), (1, 0), (1, 1)]),
    change=st.sampled_from(["scale", "drop", "transpose-add"]),
    c=st.sampled_from([-1.0, 0.5, 2.0]),
)
def test_changed_jacobians_are_rejected_with_a_counterexample(block, change, c):
    def answer(hessian, alpha, beta):
        jacobian = right(hessian, alpha, beta)
        D = len(hessian)
        rows, cols = (
            slice(block[0] * D, (block[0] + 1) * D),
            slice(block[1] * D, (block[1] + 1) * D),
        )
        if change == "scale":  # a scaled block
            jacobian[rows, cols] *= c
        elif change == "drop":  # a block dropped
            jacobian[rows, cols] = 0
        else:  # a term added
            jacobian[rows, cols] += c * hessian
        return jacobian

    result = JACOBIAN.check(answer)
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For D = ")
    assert "autograd's" in result.counterexample


def test_a_function_that_raises_is_a_wrong_answer():
    result = check(jacobian=lambda hessian, alpha, beta: hessian @ torch.ones(2, 3))["jacobian"]
    assert result.status == "wrong"
    assert "raised RuntimeError" in result.counterexample


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        ("jacobian", 3),
        ("jacobian", "I - alpha*H"),
        ("jacobian", lambda hessian: hessian),
        ("jacobian", lambda H, alpha, beta: H),
        ("jacobian", lambda hessian, alpha, beta: "matrix"),
        ("jacobian", lambda hessian, alpha, beta: {"J": hessian}),
        ("jacobian", lambda hessian, alpha, beta: None),
        ("jacobian", lambda hessian, alpha, beta: right(hessian, alpha, beta)[:-1]),
        ("jacobian", lambda hessian, alpha, beta: hessian),
        ("jacobian", lambda hessian, alpha, beta: beta),
        ("det", "beta**"),
        ("det", "alpha * beta"),
        ("det", "beta**n"),
        ("det", "f(beta)"),
        ("det", "__import__('os')"),
        ("det", [1, 2]),
        ("det", {"n": 1}),
        ("det", lambda beta: beta),
    ],
    ids=lambda x: x if isinstance(x, str) else type(x).__name__,
)
def test_malformed_answers_are_refused_naming_the_slot(slot, answer):
    result = check(**{slot: answer})[slot]
    assert result.status == "malformed", result
    assert result.feedback.startswith(f"{slot} must be ")
