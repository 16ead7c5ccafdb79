"""The checker of page ``momentum-inverse``: round trips through PyTorch's SGD with momentum."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.checkers import momentum_inverse
from derived.checkers.momentum_inverse import CASES, INVERSE_STEP, check
from derived.reversible import momentum_step, momentum_step_inverse


def names() -> set[str]:
    return {m.name for m in INVERSE_STEP.mistakes}


def test_the_known_mistakes_are_recognized_by_name():
    # problems.md: the velocity formula listed first, before the theta it needs is known.
    assert "The velocity first, with the gradient at the new parameters" in names()
    # the page's Common mistake and the other slips of solving the two updates
    assert {
        "The parameters from the old velocity",
        "β multiplied, not divided",
        "β not undone",
        "The gradient term's sign",
        "The parameters stepped forward",
        "The state returned as (p, θ)",
    } <= names()


def _velocity_first_in_place(theta, p, grad_J, alpha, beta):
    """The velocity-first slip, written differently: in place, with the division split."""
    p_prev = p / beta + alpha / beta * grad_J(theta)
    theta.sub_(p)
    return theta, p_prev


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        (_velocity_first_in_place, "The velocity first, with the gradient at the new parameters"),
        (
            lambda theta, p, grad_J, alpha, beta: (
                theta - p,
                beta * p + alpha * beta * grad_J(theta - p),
            ),
            "β multiplied, not divided",
        ),
        (
            lambda theta, p, grad_J, alpha, beta: (
                (theta - p).numpy(),
                ((p + alpha * grad_J(theta - p)) / beta).tolist(),
            )[::-1],
            "The state returned as (p, θ)",
        ),
    ],
)
def test_a_mistake_is_recognized_however_it_is_written(answer, name):
    result = INVERSE_STEP.check(answer)
    assert result.status == "wrong" and result.mistake == name, result


def test_the_books_inverse_passes_in_other_forms_and_the_cases_survive_in_place_changes():
    def in_place(theta, p, grad_J, alpha, beta):
        theta.sub_(p)
        p.add_(alpha * grad_J(theta)).div_(beta)
        return theta, p

    assert INVERSE_STEP.check(in_place).passed
    as_arrays = lambda theta, p, grad_J, alpha, beta: tuple(  # noqa: E731
        np.asarray(v)
        for v in momentum_step_inverse(theta, p, grad_J=grad_J, alpha=alpha, beta=beta)
    )
    assert INVERSE_STEP.check(as_arrays).passed
    assert check(inverse_step=momentum_step_inverse).passed  # the cases were not changed


def test_float32_is_not_float64_precision():
    def in_float32(theta, p, grad_J, alpha, beta):
        theta, p = theta.float(), p.float()
        theta_prev = theta - p
        return theta_prev, (p + alpha * grad_J(theta_prev.double()).float()) / beta

    result = INVERSE_STEP.check(in_float32)
    assert result.status == "wrong" and result.mistake is None


def test_the_forward_step_is_the_exercises_step():
    """PyTorch's SGD, as the checker runs it, is the momentum step of the exercise."""
    for case in CASES:
        A, b, theta, p = momentum_inverse._problem(case["D"], case["seed"])
        grad_J = momentum_inverse.gradient(A, b)
        p_next = case["beta"] * p - case["alpha"] * grad_J(theta)
        theta_1, p_1 = momentum_inverse.sgd_step(
            case["D"], case["alpha"], case["beta"], case["seed"]
        )
        torch.testing.assert_close(p_1, p_next, rtol=0, atol=1e-15)
        torch.testing.assert_close(theta_1, theta + p_next, rtol=0, atol=1e-15)
        kw = {"grad_J": grad_J, "alpha": case["alpha"], "beta": case["beta"]}
        torch.testing.assert_close(
            momentum_step(theta, p, **kw), (theta_1, p_1), rtol=0, atol=1e-15
        )


def test_the_counterexample_is_a_computed_case():
    result = INVERSE_STEP.check(
        lambda theta, p, grad_J, alpha, beta: (theta - p, (p + alpha * grad_J(theta)) / beta)
    )
    case = CASES[0]  # D = 1: the states are shown
    A, b, theta, p = momentum_inverse._problem(case["D"], case["seed"])
    grad_J = momentum_inverse.gradient(A, b)
    p_1 = case["beta"] * p - case["alpha"] * grad_J(theta)
    theta_1 = theta + p_1
    wrong_p = (p_1 + case["alpha"] * grad_J(theta_1)) / case["beta"]
    shown = result.counterexample
    assert shown.startswith("For D = 1, alpha = 0.3, beta = 0.9")
    assert f"steps (θ, p) = ([{theta.item():.6g}], [{p.item():.6g}])" in shown
    assert f"to ([{theta_1.item():.6g}], [{p_1.item():.6g}])" in shown
    assert f"returns ([{theta.item():.6g}], [{wrong_p.item():.6g}])" in shown


def test_a_larger_case_shows_the_largest_errors():
    def wrong_from_d_5(theta, p, grad_J, alpha, beta):
        theta_prev, p_prev = momentum_step_inverse(theta, p, grad_J=grad_J, alpha=alpha, beta=beta)
        return theta_prev, p_prev + (len(p) >= 5) * 0.01

    result = INVERSE_STEP.check(wrong_from_d_5)
    assert result.status == "wrong" and result.mistake is None
    assert result.counterexample.startswith("For D = 5, alpha = 0.05, beta = 0.99")
    assert "misses the previous θ by " in result.counterexample
    assert "and the previous p by 0.01 (largest entry)" in result.counterexample


def _changed(change: str, c: float):
    def answer(theta, p, grad_J, alpha, beta):
        theta_prev = theta - p
        gradient = grad_J(theta_prev)
        if change == "scaled velocity":  # a scaled output
            return theta_prev, c * (p + alpha * gradient) / beta
        if change == "shifted parameters":  # a constant added
            return theta_prev + c / 10, (p + alpha * gradient) / beta
        if change == "learning rate":  # a constant changed
            return theta_prev, (p + c * alpha * gradient) / beta
        if change == "beta squared":  # an exponent shifted
            return theta_prev, (p + alpha * gradient) / beta**2
        if change == "no gradient":  # a term dropped
            return theta_prev, p / beta
        return theta_prev, (p + alpha * gradient) / beta + c * p  # a term added

    return answer


@settings(max_examples=30, deadline=None)
@given(
    change=st.sampled_from(
        [
            "scaled velocity",
            "shifted parameters",
            "learning rate",
            "beta squared",
            "no gradient",
            "term added",
        ]
    ),
    c=st.sampled_from([-1.0, 0.5, 2.0, 3.0]),
)
def test_changed_inverses_are_rejected_with_a_counterexample(change, c):
    result = INVERSE_STEP.check(_changed(change, c))
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For D = ")
    assert result.counterexample in result.feedback


def test_a_function_that_raises_is_a_wrong_answer():
    result = check(inverse_step=lambda theta, p, grad_J, alpha, beta: grad_J(theta, p))
    assert result["inverse_step"].status == "wrong"
    assert "raised TypeError" in result["inverse_step"].counterexample


@pytest.mark.parametrize(
    "answer",
    [
        3,
        "theta - p",
        torch.zeros(2),
        lambda theta, p: (theta, p),
        lambda theta, p, grad_J, alpha: (theta, p),
        lambda theta, p, grad_J, alpha, beta: theta,
        lambda theta, p, grad_J, alpha, beta: (theta, p, p),
        lambda theta, p, grad_J, alpha, beta: {"theta": theta, "p": p},
        lambda theta, p, grad_J, alpha, beta: ("theta", "p"),
        lambda theta, p, grad_J, alpha, beta: (theta, torch.cat([p, p])),
        lambda theta, p, grad_J, alpha, beta: (1.0, 2.0),
        lambda theta, p, grad_J, alpha, beta: (theta[None], p[None]),
    ],
    ids=lambda a: type(a).__name__,
)
def test_malformed_answers_are_refused_naming_the_slot(answer):
    result = check(inverse_step=answer)["inverse_step"]
    assert result.status == "malformed", result
    assert result.feedback.startswith("inverse_step must be a function inverse_step(")
