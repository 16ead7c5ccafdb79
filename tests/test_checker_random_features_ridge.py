"""The checker of page ``random-features-ridge``: a solver is judged by the gradient of the
objective at what it returns, by autograd; every correct form passes, the slips in the penalty
are named, any other wrong answer gets a computed counterexample, malformed answers are
refused."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.checkers import random_features_ridge as checker
from derived.checkers.random_features_ridge import CASES, THETA_STAR, problem

RIGHT = checker.book_answers()["theta_star"]


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def eye(n, X):
    return torch.eye(n, dtype=X.dtype)


def test_the_tempting_wrong_answers_have_names():
    # the page's slip "lambda = 0.01 is unregularised", taken to the end: no penalty at all
    assert "The penalty left out" in names(THETA_STAR)
    # the 1/2 of the objective mishandled, a sign slip, and a dual form missing X^T
    assert {
        "The penalty halved",
        "The penalty doubled",
        "The penalty's gradient with the wrong sign",
        "The dual form without Xᵀ",
    } <= names(THETA_STAR)


@pytest.mark.parametrize(
    "answer",
    [
        # the seed's normal equations, with an explicit inverse
        lambda X, y, lam: torch.linalg.inv(X.T @ X + lam * eye(X.shape[1], X)) @ X.T @ y,
        # the dual form, for every p
        lambda X, y, lam: X.T @ torch.linalg.solve(X @ X.T + lam * eye(X.shape[0], X), y),
        # least squares on the stacked system
        lambda X, y, lam: torch.linalg.lstsq(
            torch.cat([X, lam**0.5 * eye(X.shape[1], X)]),
            torch.cat([y, torch.zeros(X.shape[1], dtype=X.dtype)])[:, None],
        ).solution[:, 0],
        # a list of floats
        lambda X, y, lam: RIGHT(X, y, lam=lam).tolist(),
    ],
)
def test_every_correct_form_passes(answer):
    assert THETA_STAR.check(answer).passed


@pytest.mark.parametrize(
    ("answer", "mistake"),
    [
        (lambda X, y, lam: RIGHT(X, y, lam=lam / 2), "The penalty halved"),
        (  # the halved penalty in the dual form
            lambda X, y, lam: X.T @ torch.linalg.solve(X @ X.T + lam / 2 * eye(len(y), X), y),
            "The penalty halved",
        ),
        (lambda X, y, lam: RIGHT(X, y, lam=2 * lam), "The penalty doubled"),
        (lambda X, y, lam: torch.linalg.lstsq(X, y[:, None]).solution[:, 0], None),
        (lambda X, y, lam: torch.linalg.pinv(X) @ y, "The penalty left out"),
        (
            lambda X, y, lam: torch.linalg.solve(X @ X.T + lam * eye(len(y), X), y),
            "The dual form without Xᵀ",
        ),
    ],
)
def test_a_slip_is_named_however_it_is_written(answer, mistake):
    result = THETA_STAR.check(answer)
    assert result.status in ("wrong", "malformed"), result
    if mistake is not None:
        assert result.mistake == mistake


def test_the_counterexample_is_a_computed_case():
    result = THETA_STAR.check(lambda X, y, lam: 2 * RIGHT(X, y, lam=lam))
    assert result.status == "wrong" and result.mistake is None
    assert result.counterexample.startswith("For N = 1 point, p = 1 feature and λ = 0.5")
    # one point, one feature: J'(theta) = x (x theta - y) + lam theta, theta* = x y / (x^2 + lam)
    prob = problem(**CASES[0])
    x, y, lam = prob.X.item(), prob.y.item(), prob.lam
    theta = 2 * x * y / (x**2 + lam)
    assert f"is [{x * (x * theta - y) + lam * theta:.4g}]" in result.counterexample
    assert f"θ* = [{x * y / (x**2 + lam):.4g}]" in result.counterexample


def test_a_large_case_shows_the_gradient_norm():
    # right on the small problems, a little off on the homework's sizes
    def answer(X, y, lam):
        theta = RIGHT(X, y, lam=lam)
        return theta if X.shape[0] < 300 else 1.001 * theta

    result = THETA_STAR.check(answer)
    assert result.counterexample.startswith("For N = 300 points, p = 100 features")
    assert "has norm" in result.counterexample and "θ*" not in result.counterexample


@settings(max_examples=30, deadline=None)
@given(
    change=st.sampled_from(["scaled", "shifted", "one entry", "lam", "flipped"]),
    k=st.sampled_from([-1.0, 0.5, 0.99, 1.01, 2.0]),
)
def test_changed_answers_are_rejected_with_a_counterexample(change, k):
    def answer(X, y, lam):
        theta = RIGHT(X, y, lam=lam)
        if change == "scaled":
            return k * theta
        if change == "shifted":
            return theta + (k - 1) * 1e-3
        if change == "one entry":
            return torch.cat([theta[:-1], k * theta[-1:]])
        if change == "lam":
            return RIGHT(X, y, lam=lam * abs(k))
        return theta.flip(0) if len(theta) > 1 else k * theta

    result = THETA_STAR.check(answer)
    if change == "lam" and abs(k) == 1:
        assert result.passed
        return
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For N = ")
    assert "the gradient of J at your θ" in result.counterexample


def test_a_function_that_raises_is_a_wrong_answer():
    result = THETA_STAR.check(lambda X, y, lam: RIGHT(X, y, lam=lam.item()))  # lam is a float
    assert result.status == "wrong"
    assert "your function raised AttributeError" in result.counterexample


@pytest.mark.parametrize(
    "answer",
    [
        "solve",
        torch.zeros(3),
        lambda X, y: y,
        lambda X, y, lam, W: y,
        lambda X, y, lam: "theta",
        lambda X, y, lam: None,
        lambda X, y, lam: X,
        lambda X, y, lam: torch.zeros(X.shape[1] + 1),
    ],
)
def test_malformed_answers_are_refused_naming_the_slot(answer):
    result = THETA_STAR.check(answer)
    assert result.status == "malformed", result
    assert result.feedback.startswith("theta_star must be ")


def test_the_small_problems_are_not_degenerate():
    # a feature matrix with a zero row or column would let a wrong answer pass there
    for case in CASES[:4]:
        X = problem(**case).X
        assert (X.abs().sum(0) > 0).all() and (X.abs().sum(1) > 0).all()
