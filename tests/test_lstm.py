"""The hand-written BPTT of the univariate LSTM against autograd and torch.nn.LSTM, in float64."""

import pytest
import torch
from defaults import assert_computed_where_the_inputs_live, default_dtype
from hypothesis import given
from hypothesis import strategies as st

from derived.lstm import QUANTITIES, LSTMGradients, lstm_backward, lstm_forward

LOSSES = ("every-step", "last-step")


def draw(T: int, seed: int, scale: float = 1.0):
    """Random inputs, weights, initial state and targets for a length-T sequence."""
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    return {
        "x": randn(T),
        "weight_ih": scale * randn(4),
        "weight_hh": scale * randn(4),
        "h0": 0.5 * randn(()),
        "c0": randn(()),
        "y": randn(T),
    }


def loss_of(h: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Squared error against y at every step, or at the last step only."""
    if loss == "every-step":
        return 0.5 * ((h - y) ** 2).sum()
    return 0.5 * (h[-1] - y[-1]) ** 2


def direct_grad_h(h: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """dL/dh^(t) through the loss alone: the loss's own derivative, no recurrent paths."""
    grad = h - y
    if loss == "last-step":
        grad = torch.cat((torch.zeros_like(h[:-1]), grad[-1:]))
    return grad


def hand_and_autograd(T: int, seed: int, loss: str, scale: float = 1.0):
    d = draw(T, seed, scale)
    start = {"h0": d["h0"], "c0": d["c0"]}
    trace = lstm_forward(d["x"], d["weight_ih"], d["weight_hh"], **start)
    grad_h = direct_grad_h(trace.h, d["y"], loss)
    hand = lstm_backward(trace, d["x"], d["weight_ih"], d["weight_hh"], grad_h, **start)

    leaves = {k: d[k].clone().requires_grad_() for k in ("x", "weight_ih", "weight_hh", "h0", "c0")}
    probe = torch.zeros(6, T, dtype=torch.float64, requires_grad=True)
    h = lstm_forward(
        leaves["x"],
        leaves["weight_ih"],
        leaves["weight_hh"],
        h0=leaves["h0"],
        c0=leaves["c0"],
        probe=probe,
    ).h
    grads = torch.autograd.grad(loss_of(h, d["y"], loss), [probe, *leaves.values()])
    auto = dict(zip([f"{q}_bar" for q in QUANTITIES], grads[0], strict=True))
    auto |= {f"{k}_bar": g for k, g in zip(leaves, grads[1:], strict=True)}
    return hand, auto, d


@pytest.mark.parametrize("loss", LOSSES)
@given(T=st.integers(1, 25), seed=st.integers(0, 2**31), scale=st.sampled_from([0.3, 1.0, 3.0]))
def test_every_bar_matches_autograd(loss, T, seed, scale):
    hand, auto, _ = hand_and_autograd(T, seed, loss, scale)
    assert set(auto) == set(LSTMGradients._fields)
    for name in LSTMGradients._fields:
        torch.testing.assert_close(
            getattr(hand, name), auto[name], rtol=1e-10, atol=1e-12, msg=name
        )


def test_the_last_step_bar_is_the_direct_term_and_not_zero():
    hand, _, d = hand_and_autograd(6, 1, "last-step")
    trace = lstm_forward(d["x"], d["weight_ih"], d["weight_hh"], h0=d["h0"], c0=d["c0"])
    assert hand.h_bar[-1] == trace.h[-1] - d["y"][-1] != 0


@pytest.mark.parametrize("loss", LOSSES)
def test_forward_and_weight_gradients_match_torch_nn_lstm(loss):
    T = 9
    d = draw(T, 7)
    lstm = torch.nn.LSTM(1, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(d["weight_ih"][:, None])
        lstm.weight_hh_l0.copy_(d["weight_hh"][:, None])
    x = d["x"].clone().requires_grad_()
    start = (d["h0"].reshape(1, 1), d["c0"].reshape(1, 1))
    out, _ = lstm(x[:, None], start)
    loss_of(out[:, 0], d["y"], loss).backward()

    trace = lstm_forward(d["x"], d["weight_ih"], d["weight_hh"], h0=d["h0"], c0=d["c0"])
    torch.testing.assert_close(trace.h, out[:, 0].detach(), rtol=1e-12, atol=1e-14)
    grad_h = direct_grad_h(trace.h, d["y"], loss)
    hand = lstm_backward(
        trace, d["x"], d["weight_ih"], d["weight_hh"], grad_h, h0=d["h0"], c0=d["c0"]
    )
    torch.testing.assert_close(hand.weight_ih_bar, lstm.weight_ih_l0.grad[:, 0])
    torch.testing.assert_close(hand.weight_hh_bar, lstm.weight_hh_l0.grad[:, 0])
    torch.testing.assert_close(hand.x_bar, x.grad)


def test_saturated_gates_carry_the_cell_gradient_unchanged():
    # f ~ 1, i ~ 0, o ~ 0 (through a constant input x = 1 acting as a bias): c_bar is passed back
    # almost unchanged and h_bar is almost only the direct term.
    T = 40
    x = torch.ones(T, dtype=torch.float64)
    weight_ih = torch.tensor([-12.0, 12.0, 0.0, -12.0], dtype=torch.float64)
    weight_hh = torch.tensor([1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    trace = lstm_forward(x, weight_ih, weight_hh)
    grad_h = torch.randn(T, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    hand = lstm_backward(trace, x, weight_ih, weight_hh, grad_h)
    torch.testing.assert_close(hand.h_bar, grad_h, rtol=0, atol=1e-4)
    assert (hand.c_bar[:-1] - hand.c_bar[1:]).abs().max() < 1e-4 * grad_h.abs().max()


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"x": [0.0, 1.0]}, TypeError, "x"),
        ({"x": torch.zeros(2, 1, dtype=torch.float64)}, ValueError, "x"),
        ({"x": torch.tensor([1, 2])}, TypeError, "x"),
        ({"weight_ih": torch.zeros(3, dtype=torch.float64)}, ValueError, "weight_ih"),
        ({"weight_hh": torch.zeros(4, 1, dtype=torch.float64)}, ValueError, "weight_hh"),
        ({"h0": torch.zeros(1, dtype=torch.float64)}, ValueError, "h0"),
        ({"c0": torch.tensor(float("nan"), dtype=torch.float64)}, ValueError, "c0"),
        ({"grad_h": torch.zeros(3, dtype=torch.float64)}, ValueError, "grad_h"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(kwargs, error, name):
    args = {
        "x": torch.zeros(2, dtype=torch.float64),
        "weight_ih": torch.zeros(4, dtype=torch.float64),
        "weight_hh": torch.zeros(4, dtype=torch.float64),
        "h0": None,
        "c0": None,
        "grad_h": torch.zeros(2, dtype=torch.float64),
    }
    good_trace = lstm_forward(args["x"], args["weight_ih"], args["weight_hh"])
    args |= kwargs
    grad_h = args.pop("grad_h")
    with pytest.raises(error, match=rf"^{name} "):
        if name != "grad_h":
            lstm_forward(**args)
        lstm_backward(good_trace, grad_h=grad_h, **args)


def test_probe_of_the_wrong_shape_is_refused():
    x = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^probe "):
        lstm_forward(x, torch.zeros(4), torch.zeros(4), probe=torch.zeros(6, 2))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        # x is one scalar input per step, so a column of inputs is refused with the layout (T,)
        (
            lambda x, w: lstm_forward(x[:, None], w, w),
            ValueError,
            r"^x must have shape \(T,\), got \(3, 1\)",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call(torch.zeros(3, dtype=torch.float64), torch.zeros(4, dtype=torch.float64))


def run_with_defaults(d: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """Both passes with the default initial state and offsets, so they build their own zeros."""
    x, weight_ih, weight_hh = d["x"], d["weight_ih"], d["weight_hh"]
    trace = lstm_forward(x, weight_ih, weight_hh)
    return [*trace, *lstm_backward(trace, x, weight_ih, weight_hh, d["y"])]


def test_default_state_and_offsets_are_built_where_the_inputs_live():
    """A reader whose default device is a GPU may still pass CPU tensors: nothing moves."""
    d = draw(5, 11)
    assert_computed_where_the_inputs_live(lambda: run_with_defaults(d))


def test_float32_inputs_give_float32_results_whatever_the_default_dtype():
    d = {k: v.float() for k, v in draw(5, 12).items()}
    with default_dtype(torch.float64):
        got = run_with_defaults(d)
    assert [g.dtype for g in got] == [torch.float32] * len(got)
