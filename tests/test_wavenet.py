"""Causal dilated convolutions: receptive field, connections and steps against autograd."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.critical_path import longest_chains, stack_jacobian
from derived.wavenet import (
    CausalDilatedStack,
    causal_conv1d,
    dilation_schedule,
    receptive_field,
)


def stack(dilations, *, channels=2, kernel_size=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return CausalDilatedStack(channels, dilations, kernel_size=kernel_size, generator=g)


def dependency(net, length, *, channels=2):
    """Which inputs have a non-zero gradient for the last output (all channels summed)."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn(1, channels, length, generator=g, dtype=torch.float64)
    x.requires_grad_()
    net(x)[0, :, -1].sum().backward()
    return x.grad[0].abs().sum(0) != 0


dilation_lists = st.lists(st.integers(1, 6), min_size=1, max_size=4)


@settings(max_examples=25)
@given(dilations=dilation_lists, kernel_size=st.integers(1, 3))
def test_receptive_field_is_the_span_autograd_sees(dilations, kernel_size):
    net = stack(dilations, kernel_size=kernel_size)
    r = net.receptive_field()
    seen = dependency(net, r + 7)
    # The lags reachable through one tap per layer, enumerated without the network.
    lags = {0}
    for dilation in dilations:
        lags = {a + m * dilation for a in lags for m in range(kernel_size)}
    assert {r + 7 - 1 - t for t in seen.nonzero().flatten().tolist()} == lags
    assert max(lags) + 1 == r  # the span: the oldest input seen is R - 1 steps back


@pytest.mark.parametrize("schedule", ["linear", "doubling", "none"])
@pytest.mark.parametrize("d", [1, 3, 5])
def test_the_schedules_leave_no_holes(schedule, d):
    net = stack(dilation_schedule(d, schedule=schedule))
    r = net.receptive_field()
    seen = dependency(net, r + 4)
    assert seen[-r:].all()
    assert not seen[:-r].any()


def test_schedules():
    assert dilation_schedule(4, schedule="linear") == [1, 2, 3, 4]
    assert dilation_schedule(4, schedule="doubling") == [1, 2, 4, 8]
    assert dilation_schedule(3, schedule="none") == [1, 1, 1]


@pytest.mark.parametrize("d", [1, 2, 5, 9])
def test_linear_schedule_is_quadratic_and_doubling_is_exponential(d):
    linear = receptive_field(dilation_schedule(d, schedule="linear"))
    doubling = receptive_field(dilation_schedule(d, schedule="doubling"))
    assert linear == 1 + d * (d + 1) // 2
    assert doubling == 2**d


def test_causal_conv_never_sees_the_future():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(3, 2, 3, generator=g, dtype=torch.float64)
    x = torch.randn(1, 2, 20, generator=g, dtype=torch.float64)
    y = causal_conv1d(x, w, dilation=2)
    assert y.shape == (1, 3, 20)
    later = x.clone()
    later[..., 12:] += 1.0
    torch.testing.assert_close(causal_conv1d(later, w, dilation=2)[..., :12], y[..., :12])
    # Agrees with a torch.nn.Conv1d padded on both sides and cropped to the causal part.
    conv = torch.nn.Conv1d(2, 3, 3, dilation=2, padding=4, bias=False, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(w)
        torch.testing.assert_close(conv(x)[..., :20], y)


@pytest.mark.parametrize("dilations", [[1, 1, 1], [1, 2, 3], [1, 2, 4, 8], [5]])
@pytest.mark.parametrize("length", [3, 10])
def test_connections_are_the_nonzero_entries_of_each_layer_jacobian(dilations, length):
    net = stack(dilations, channels=2, kernel_size=2)
    total = 0
    for w, r in zip(net.weights, net.dilations, strict=True):
        x = torch.zeros(1, 2, length, dtype=torch.float64)  # the map is linear
        jac = torch.func.jacrev(lambda t, w=w, r=r: causal_conv1d(t, w, dilation=r))(x)
        total += int((jac != 0).sum())
    assert net.connections(length) == total
    assert net.connections(length) <= len(dilations) * length * 2**2 * 2


@pytest.mark.parametrize(("d", "length"), [(1, 5), (4, 8), (4, 20)])
def test_sequential_steps_are_the_longest_chain_of_dependencies(d, length):
    # Measured from the Jacobian of the layers, whatever the length: no unit reads its own layer.
    net = stack(dilation_schedule(d, schedule="doubling"))
    layers = [
        lambda below, own, w=w, r=r: torch.tanh(causal_conv1d(below, w, dilation=r))
        for w, r in zip(net.weights, net.dilations, strict=True)
    ]
    g = torch.Generator().manual_seed(3)
    states = [torch.randn(1, 2, length, generator=g, dtype=torch.float64) for _ in range(d + 1)]
    levels = longest_chains(stack_jacobian(layers, states))
    assert (levels[-2 * length :] == d).all()  # every output, d links from the input
    assert net.sequential_steps() == int(levels.max()) == d


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: dilation_schedule(0, schedule="linear"), ValueError, "d"),
        (lambda: dilation_schedule(2, schedule="square"), ValueError, "schedule"),
        (lambda: receptive_field([]), ValueError, "dilations"),
        (lambda: receptive_field([1, 0]), ValueError, "dilations"),
        (lambda: receptive_field(3), TypeError, "dilations"),
        (lambda: receptive_field([1], kernel_size=0), ValueError, "kernel_size"),
        (lambda: causal_conv1d(torch.zeros(2, 5), torch.zeros(1, 2, 2)), ValueError, "x"),
        (
            lambda: causal_conv1d(torch.zeros(1, 1, 5), torch.zeros(1, 1, 2), dilation=0),
            ValueError,
            "dilation",
        ),
        (lambda: stack([1, 2]).connections(0), ValueError, "length"),
        (lambda: stack([1], channels=0), ValueError, "channels"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


def direct_causal_conv(x, w, r):
    # y[t] = sum_m w[m] x[t - (K-1-m) r], with x = 0 before the start.
    y = torch.zeros(x.shape[0], w.shape[0], x.shape[-1], dtype=x.dtype)
    K, T = w.shape[-1], x.shape[-1]
    for m in range(K):
        lag = (K - 1 - m) * r
        if lag < T:
            y[..., lag:] += torch.einsum("oc,nct->not", w[:, :, m], x[..., : T - lag])
    return y


@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_the_stack_is_its_causal_convolutions_each_followed_by_the_activation(activation):
    g = torch.Generator().manual_seed(1)
    net = CausalDilatedStack(3, [1, 2, 4], kernel_size=3, activation=activation, generator=g)
    x = torch.randn(2, 3, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    phi = torch.tanh if activation == "tanh" else (lambda h: h)
    h = x
    for w, r in zip(net.weights, [1, 2, 4], strict=True):
        h = phi(direct_causal_conv(h, w, r))
    torch.testing.assert_close(net(x), h)
    torch.testing.assert_close(
        causal_conv1d(x, net.weights[0]), direct_causal_conv(x, net.weights[0], 1)
    )


def test_weights_have_variance_one_over_the_fan_in_and_are_reproducible():
    channels, kernel_size = 8, 4
    a = stack([1] * 32, channels=channels, kernel_size=kernel_size, seed=5)
    b = stack([1] * 32, channels=channels, kernel_size=kernel_size, seed=5)
    weights = torch.cat([w.detach().flatten() for w in a.weights])  # 8192 draws
    assert abs(weights.var().item() * channels * kernel_size - 1) < 0.05
    assert abs(weights.mean().item()) < 0.02
    assert all(torch.equal(u, v) for u, v in zip(a.weights, b.weights, strict=True))


def test_the_stack_and_the_formula_share_the_default_kernel_size():
    net = CausalDilatedStack(2, [1, 2], generator=torch.Generator().manual_seed(0))
    assert net.receptive_field() == receptive_field([1, 2])


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (
            lambda: causal_conv1d(torch.zeros(1, 2, 3, dtype=torch.int64), torch.zeros(2, 2, 2)),
            TypeError,
            "x",
        ),
        (lambda: stack([1, 0]), ValueError, "dilations"),
        (lambda: stack([1], kernel_size=0), ValueError, "kernel_size"),
        (
            lambda: CausalDilatedStack(2, [1], activation="relu", generator=torch.Generator()),
            ValueError,
            "activation",
        ),
    ],
)
def test_each_argument_is_named_when_refused(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: causal_conv1d(torch.zeros(2, 5), torch.zeros(1, 2, 2)),
            r"^x must have shape \(N, C, T\)",
        ),
        (
            lambda: causal_conv1d(torch.zeros(1, 2, 5), torch.zeros(2, 2)),
            r"^weight must have shape \(C_out, C_in, K\)",
        ),
        (
            lambda: causal_conv1d(torch.zeros(1, 2, 5), torch.zeros(1, 3, 4)),
            r"^weight has 3 input channels, but x has 2$",
        ),
        (lambda: stack([1, 2])(torch.zeros(2, 5)), r"^x must have shape \(N, k, T\)"),
    ],
)
def test_refusals_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
