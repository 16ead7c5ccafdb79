"""The gated RNN's hand-written backward pass and step Jacobian against autograd, in float64."""

import pytest
import torch
from defaults import assert_computed_where_the_inputs_live, default_dtype
from hypothesis import given
from hypothesis import strategies as st
from torch.func import jacrev

from derived.gated_rnn import (
    GatedRNNGradients,
    gated_rnn_backward,
    gated_rnn_forward,
    input_weight_grad,
    step_jacobian,
)

LOSSES = ("every-step", "last-step")


def draw(T: int, n: int, m: int, seed: int, scale: float = 1.0):
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    return {
        "x": randn(T, n),
        "W_c": scale * randn(m, n) / n**0.5,
        "W_h": scale * randn(m, m) / m**0.5,
        "W_x": randn(m, n),
        "h0": randn(m),
        "y": randn(T, m),
    }


def loss_of(h: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "every-step":
        return 0.5 * ((h - y) ** 2).sum()
    return 0.5 * ((h[-1] - y[-1]) ** 2).sum()


def direct_grad_h(h: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    grad = h - y
    if loss == "last-step":
        grad[:-1] = 0
    return grad


def one_step(x_t, W_c, W_h, W_x):
    """The cell, written from its definition, as a function of the previous state."""

    def step(h_prev):
        c = torch.sigmoid(W_c @ x_t + W_h @ h_prev)
        return c * h_prev + (1 - c) * (W_x @ x_t)

    return step


@given(
    T=st.integers(1, 12),
    n=st.integers(1, 5),
    m=st.integers(1, 6),
    seed=st.integers(0, 2**31),
    scale=st.sampled_from([0.5, 1.0, 4.0]),
)
def test_forward_and_step_jacobian_follow_the_definition(T, n, m, seed, scale):
    d = draw(T, n, m, seed, scale)
    weights = (d["W_c"], d["W_h"], d["W_x"])
    trace = gated_rnn_forward(d["x"], *weights, h0=d["h0"])
    jacobians = step_jacobian(trace, d["W_h"], h0=d["h0"])
    assert jacobians.shape == (T, m, m)
    h_prev = d["h0"]
    for t in range(T):
        step = one_step(d["x"][t], *weights)
        torch.testing.assert_close(trace.h[t], step(h_prev), rtol=1e-14, atol=1e-14)
        torch.testing.assert_close(jacobians[t], jacrev(step)(h_prev), rtol=1e-10, atol=1e-12)
        h_prev = trace.h[t]


@pytest.mark.parametrize("loss", LOSSES)
@given(
    T=st.integers(1, 15),
    n=st.integers(1, 5),
    m=st.integers(1, 6),
    seed=st.integers(0, 2**31),
    scale=st.sampled_from([0.5, 1.0, 4.0]),
)
def test_every_gradient_matches_autograd(loss, T, n, m, seed, scale):
    d = draw(T, n, m, seed, scale)
    names = ("x", "W_c", "W_h", "W_x", "h0")
    trace = gated_rnn_forward(d["x"], d["W_c"], d["W_h"], d["W_x"], h0=d["h0"])
    grad_h = direct_grad_h(trace.h, d["y"], loss)
    hand = gated_rnn_backward(trace, d["x"], d["W_c"], d["W_h"], d["W_x"], grad_h, h0=d["h0"])

    leaves = {k: d[k].clone().requires_grad_() for k in names}
    probe = torch.zeros(T, m, dtype=torch.float64, requires_grad=True)
    h = gated_rnn_forward(
        leaves["x"], leaves["W_c"], leaves["W_h"], leaves["W_x"], h0=leaves["h0"], probe=probe
    ).h
    grads = torch.autograd.grad(loss_of(h, d["y"], loss), [probe, *leaves.values()])
    auto = {"delta": grads[0]} | {f"{k}_bar": g for k, g in zip(names, grads[1:], strict=True)}
    assert set(auto) == set(GatedRNNGradients._fields)
    for name in GatedRNNGradients._fields:
        torch.testing.assert_close(
            getattr(hand, name), auto[name], rtol=1e-10, atol=1e-12, msg=name
        )


@given(T=st.integers(2, 10), m=st.integers(1, 5), seed=st.integers(0, 2**31))
def test_delta_obeys_the_recursion_through_the_step_jacobians(T, m, seed):
    d = draw(T, 3, m, seed)
    trace = gated_rnn_forward(d["x"], d["W_c"], d["W_h"], d["W_x"], h0=d["h0"])
    grad_h = direct_grad_h(trace.h, d["y"], "every-step")
    hand = gated_rnn_backward(trace, d["x"], d["W_c"], d["W_h"], d["W_x"], grad_h, h0=d["h0"])
    J = step_jacobian(trace, d["W_h"], h0=d["h0"])
    for t in range(T - 1):
        torch.testing.assert_close(hand.delta[t], grad_h[t] + J[t + 1].T @ hand.delta[t + 1])
    torch.testing.assert_close(hand.h0_bar, J[0].T @ hand.delta[0])


def test_W_x_gradient_pairs_each_gate_with_its_own_unit():
    # dl/dW_x = sum_t (delta[t] * (1 - c[t])) x[t]^T, entrywise: delta_i (1 - c_i) x_j.
    d = draw(5, 2, 3, 11)
    trace = gated_rnn_forward(d["x"], d["W_c"], d["W_h"], d["W_x"], h0=d["h0"])
    grad_h = direct_grad_h(trace.h, d["y"], "every-step")
    hand = gated_rnn_backward(trace, d["x"], d["W_c"], d["W_h"], d["W_x"], grad_h, h0=d["h0"])
    outer = torch.einsum("ti,tj->ij", hand.delta * (1 - trace.c), d["x"])
    torch.testing.assert_close(hand.W_x_bar, outer)
    summed = (1 - trace.c).sum(dim=1)  # the gate collapsed to one number per step
    collapsed = torch.einsum("t,ti,tj->ij", summed, hand.delta, d["x"])
    assert not torch.allclose(collapsed, hand.W_x_bar)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"x": [[0.0]]}, TypeError, "x"),
        ({"x": torch.zeros(4, dtype=torch.float64)}, ValueError, "x"),
        ({"W_c": torch.zeros(3, 3, dtype=torch.float64)}, ValueError, "W_c"),
        ({"W_h": torch.zeros(3, 2, dtype=torch.float64)}, ValueError, "W_h"),
        ({"W_x": torch.zeros(3, 1, dtype=torch.float64)}, ValueError, "W_x"),
        ({"W_x": torch.zeros(3, 2, dtype=torch.int64)}, TypeError, "W_x"),
        ({"h0": torch.zeros(2, dtype=torch.float64)}, ValueError, "h0"),
        ({"grad_h": torch.zeros(4, 2, dtype=torch.float64)}, ValueError, "grad_h"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(kwargs, error, name):
    args = {
        "x": torch.zeros(4, 2, dtype=torch.float64),
        "W_c": torch.zeros(3, 2, dtype=torch.float64),
        "W_h": torch.zeros(3, 3, dtype=torch.float64),
        "W_x": torch.zeros(3, 2, dtype=torch.float64),
        "h0": None,
        "grad_h": torch.zeros(4, 3, dtype=torch.float64),
    }
    good_trace = gated_rnn_forward(args["x"], args["W_c"], args["W_h"], args["W_x"])
    args |= kwargs
    grad_h = args.pop("grad_h")
    with pytest.raises(error, match=rf"^{name} "):
        if name != "grad_h":
            gated_rnn_forward(**args)
        gated_rnn_backward(good_trace, grad_h=grad_h, **args)
    if name in ("W_h", "h0"):
        with pytest.raises(error, match=rf"^{name} "):
            step_jacobian(good_trace, args["W_h"], h0=args["h0"])


def test_step_jacobian_names_a_non_float_state_or_weight():
    d = draw(4, 2, 3, seed=0)
    trace = gated_rnn_forward(d["x"], d["W_c"], d["W_h"], d["W_x"], h0=d["h0"])
    with pytest.raises(TypeError, match=r"^h0 "):
        step_jacobian(trace, d["W_h"], h0=d["h0"].long())
    with pytest.raises(TypeError, match=r"^W_h "):
        step_jacobian(trace, d["W_h"].long(), h0=d["h0"])


def test_the_forward_and_backward_passes_name_a_refused_weight_or_gradient():
    d = draw(4, 2, 3, seed=0)
    with pytest.raises(TypeError, match=r"^W_h "):
        gated_rnn_forward(d["x"], d["W_c"], d["W_h"].long(), d["W_x"])
    with pytest.raises(ValueError, match=r"^W_h "):
        gated_rnn_forward(d["x"], d["W_c"], d["W_h"][:, :2], d["W_x"])
    trace = gated_rnn_forward(d["x"], d["W_c"], d["W_h"], d["W_x"])
    with pytest.raises(TypeError, match=r"^grad_h "):
        gated_rnn_backward(trace, d["x"], d["W_c"], d["W_h"], d["W_x"], grad_h=d["y"].long())


@pytest.mark.parametrize(
    ("change", "error", "name"),
    [
        ({"W_c": torch.zeros(3, 2, dtype=torch.int64)}, TypeError, "W_c"),
        ({"h0": torch.zeros(3, dtype=torch.int64)}, TypeError, "h0"),
        ({"probe": torch.zeros(4, 2, dtype=torch.float64)}, ValueError, "probe"),
    ],
)
def test_the_forward_pass_names_each_refused_input(change, error, name):
    d = draw(4, 2, 3, seed=0)
    args = {"W_c": d["W_c"], "h0": d["h0"], "probe": None} | change
    with pytest.raises(error, match=rf"^{name} "):
        gated_rnn_forward(
            d["x"], args["W_c"], d["W_h"], d["W_x"], h0=args["h0"], probe=args["probe"]
        )


def test_the_state_size_is_read_from_the_rows_of_W_h():
    d = draw(4, 2, 3, seed=0)
    with pytest.raises(ValueError, match=r"^W_h must have shape \(3, 3\), got \(3, 2\)"):
        gated_rnn_forward(d["x"], d["W_c"], d["W_h"][:, :2], d["W_x"])


def test_step_jacobian_of_one_step_starts_from_zero_by_default():
    d = draw(1, 2, 3, seed=5)
    trace = gated_rnn_forward(d["x"], d["W_c"], d["W_h"], d["W_x"])
    step = one_step(d["x"][0], d["W_c"], d["W_h"], d["W_x"])
    expected = jacrev(step)(torch.zeros(3, dtype=torch.float64))
    torch.testing.assert_close(step_jacobian(trace, d["W_h"]), expected[None])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        # the trace has m = 3 units, so W_h must be 3 x 3, whatever its columns say
        (
            lambda d: step_jacobian(
                gated_rnn_forward(d["x"], d["W_c"], d["W_h"], d["W_x"]),
                torch.cat((d["W_h"], d["W_h"][:, :1]), dim=1),
            ),
            ValueError,
            r"^W_h must have shape \(3, 3\), got \(3, 4\)",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call(draw(4, 2, 3, seed=0))


def run_with_defaults(d: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """The forward pass with the default initial state and offsets, so it builds its own zeros."""
    return list(gated_rnn_forward(d["x"], d["W_c"], d["W_h"], d["W_x"]))


def test_default_state_and_offsets_are_built_where_the_inputs_live():
    """A reader whose default device is a GPU may still pass CPU tensors: nothing moves."""
    d = draw(4, 2, 3, seed=5)
    assert_computed_where_the_inputs_live(lambda: run_with_defaults(d))


def test_float32_inputs_give_float32_results_whatever_the_default_dtype():
    d = {k: v.float() for k, v in draw(4, 2, 3, seed=6).items()}
    with default_dtype(torch.float64):
        got = run_with_defaults(d)
    assert [g.dtype for g in got] == [torch.float32] * len(got)


@pytest.mark.parametrize("loss", LOSSES)
def test_the_input_weight_gradient_pairs_each_gate_with_its_unit(loss):
    """gated-rnn-weights from autograd's total derivatives equals autograd's dl/dW_x."""
    data = draw(T=6, n=3, m=4, seed=11)
    W_x = data["W_x"].clone().requires_grad_()
    probe = torch.zeros(6, 4, dtype=torch.float64, requires_grad=True)
    trace = gated_rnn_forward(data["x"], data["W_c"], data["W_h"], W_x, h0=data["h0"], probe=probe)
    delta, W_x_bar = torch.autograd.grad(loss_of(trace.h, data["y"], loss), (probe, W_x))
    torch.testing.assert_close(
        input_weight_grad(data["x"], trace.c.detach(), delta), W_x_bar, rtol=1e-12, atol=1e-14
    )
    assert input_weight_grad(data["x"], trace.c.detach(), delta).shape == W_x.shape


def test_the_input_weight_gradient_refuses_rows_that_do_not_match():
    with pytest.raises(ValueError, match="c must have one row per row of x"):
        input_weight_grad(torch.ones(3, 2), torch.ones(4, 5), torch.ones(4, 5))
    with pytest.raises(ValueError, match="delta must have the shape of c"):
        input_weight_grad(torch.ones(3, 2), torch.ones(3, 5), torch.ones(3, 4))
