"""The checker of page ``residual-mlp-backprop``: the reader's layer Jacobian and backward pass,
run against autograd, and the dead-layer question."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.checkers import residual_mlp_backprop as checker
from derived.checkers.residual_mlp_backprop import (
    DEAD_LAYER,
    LAYER_JACOBIAN,
    NETWORK_CASES,
    PARAMETER_GRADIENTS,
    autograd_gradients,
    draw_network,
)
from derived.residual_mlp import ACTIVATIONS, forward
from derived.residual_mlp_backprop import layer_jacobian, parameter_gradients


def names(slot) -> set[str]:
    return {m.name for m in slot.mistakes}


def test_the_known_mistakes_are_recognized_by_name():
    # the seed's "no vanishing occurs" (problems.md), and the page's two slips
    assert {"Residual connections end all vanishing", "A dead layer's factor taken as zero"} == (
        names(DEAD_LAYER)
    )
    assert "The layer Jacobians multiplied in the wrong order" in names(PARAMETER_GRADIENTS)
    assert {"The skip connection left out", "The slopes on the wrong side"} <= names(LAYER_JACOBIAN)
    verdict = checker.check(dead_layer="No vanishing")
    assert verdict["dead_layer"].mistake == "Residual connections end all vanishing"
    assert checker.check(dead_layer="zero")["dead_layer"].mistake == (
        "A dead layer's factor taken as zero"
    )


def _written_differently(x, A, b, activation):
    """The backward pass with the factors in increasing order, written with the library's
    layer Jacobian and matrix products instead of the checker's loop."""
    y = forward(x, A, b, activation=activation)
    L = len(A)
    factors = [layer_jacobian(y[j - 1], A[j - 1], b[j - 1], activation=activation)
               for j in range(2, L)]  # fmt: skip
    slope = ACTIVATIONS[activation][1]
    grad_A, grad_b = [], []
    for ell in range(1, L):
        rest = factors[ell - 1 :]
        product = torch.linalg.multi_dot(rest) if len(rest) > 1 else (
            rest[0] if rest else torch.eye(len(b[0]), dtype=x.dtype))  # fmt: skip
        delta = slope(A[ell - 1] @ y[ell - 1] + b[ell - 1]) * (A[-1] @ product)[0]
        grad_A.append(delta[:, None] * y[ell - 1][None, :])
        grad_b.append(delta)
    return [*grad_A, y[-2][None, :]], [*grad_b, torch.ones(1, dtype=x.dtype)]


def test_the_wrong_order_is_recognized_however_it_is_written():
    result = PARAMETER_GRADIENTS.check(_written_differently)
    assert result.mistake == "The layer Jacobians multiplied in the wrong order"


def test_the_plain_networks_gradients_are_wrong_here():
    def plain(x, A, b, activation):
        return parameter_gradients(x, A, b, activation=activation, residual=False)

    # the forward pass is the plain one too: not the known slip, but wrong all the same
    result = PARAMETER_GRADIENTS.check(plain)
    assert result.status == "wrong" and "autograd gives" in result.counterexample


@settings(max_examples=25, deadline=None)
@given(k=st.integers(0, 11), scale=st.sampled_from([0.0, 0.5, -1.0, 2.0]))
def test_a_scaled_gradient_is_rejected_with_a_counterexample(k, scale):
    def answer(x, A, b, activation):
        grads = [*parameter_gradients(x, A, b, activation=activation)]
        flat = grads[0] + grads[1]
        flat[k % len(flat)] = scale * flat[k % len(flat)]
        return flat[: len(A)], flat[len(A) :]

    result = PARAMETER_GRADIENTS.check(answer)
    assert result.status == "wrong", result
    assert "autograd gives ∂y_L/∂" in result.counterexample


@settings(max_examples=20, deadline=None)
@given(c=st.sampled_from([0.0, 0.5, 2.0, -1.0]), power=st.sampled_from([1, 2, 3]))
def test_a_changed_layer_jacobian_is_rejected_with_a_counterexample(c, power):
    def answer(y_prev, A_l, b_l, activation):
        slope = ACTIVATIONS[activation][1](A_l @ y_prev + b_l)
        return slope[:, None] ** power * A_l + c * torch.eye(len(b_l), dtype=A_l.dtype)

    result = LAYER_JACOBIAN.check(answer)  # c = 1 and power = 1 would be right: not drawn
    assert result.status == "wrong", result
    assert result.counterexample.startswith("For a hidden layer of width m = ")


def test_the_counterexample_is_a_computed_case():
    zero = checker.check(
        parameter_gradients=lambda x, A, b, activation: (
            [torch.zeros_like(a) for a in A],
            [torch.zeros_like(v) for v in b],
        )
    )["parameter_gradients"]
    case = NETWORK_CASES[0]
    truth = autograd_gradients(case)
    assert torch.allclose(truth[0], parameter_gradients(**draw_network(**case))[0][0])
    i = truth[0].abs().argmax()  # the largest entry of dy_L/dA_1 differs most from zero
    shown = f"{truth[0].flatten()[i].item():.6g}"
    assert zero.counterexample.startswith("For the network with n = 2, m = 2, L = 3")
    assert "∂y_L/∂A_1" in zero.counterexample and shown in zero.counterexample


def test_a_function_that_raises_is_a_wrong_answer():
    result = LAYER_JACOBIAN.check(lambda y_prev, A_l, b_l, activation: 1 / 0)
    assert result.status == "wrong" and "raised ZeroDivisionError" in result.counterexample


def ok_layer(y_prev, A_l, b_l, activation):
    return layer_jacobian(y_prev, A_l, b_l, activation=activation)


MALFORMED = [
    (
        LAYER_JACOBIAN,
        [
            3,
            lambda y_prev: y_prev,
            lambda y_prev, A_l, b_l, activation: "J",
            lambda y_prev, A_l, b_l, activation: y_prev,  # a vector, not a matrix
        ],
    ),
    (
        PARAMETER_GRADIENTS,
        [
            "grad",
            lambda x, A, b: A,
            lambda x, A, b, activation: 3,
            lambda x, A, b, activation: list(A),  # one list, not a pair
            lambda x, A, b, activation: (A[:-1], b[:-1]),  # L - 1 gradients
            lambda x, A, b, activation: (A, ["g"] * len(b)),
            lambda x, A, b, activation: ([a.T for a in A], b),  # wrong shapes
        ],
    ),
    (DEAD_LAYER, ["maybe", 1, None]),
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
