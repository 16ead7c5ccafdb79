"""The hand-written 1-D convolution and its derivatives against F.conv1d and torch.func.jacrev."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.func import jacrev, vjp

from derived.conv1d import conv1d, input_grad, input_jacobian, weight_grad, weight_jacobian
from derived.jacobian import assert_matches_autograd


@st.composite
def settings(draw):
    """A convolution (C, L, F, K, s, d) whose dilated kernel fits in the input."""
    channels = draw(st.integers(1, 3))
    filters = draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    d = draw(st.integers(1, 3))
    length = draw(st.integers(d * (k - 1) + 1, d * (k - 1) + 9))
    seed = draw(st.integers(0, 2**16))
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(channels, length, dtype=torch.float64, generator=generator)
    W = torch.randn(filters, channels, k, dtype=torch.float64, generator=generator)
    return x, W, s, d, generator


def reference(s, d):
    return lambda x, W: F.conv1d(x, W, stride=s, dilation=d)


@given(settings())
def test_forward_is_pytorchs_conv1d(setting):
    x, W, s, d, _ = setting
    torch.testing.assert_close(
        conv1d(x, W, stride=s, dilation=d), reference(s, d)(x, W), rtol=1e-12, atol=1e-12
    )


@given(settings())
def test_weight_jacobian_matches_jacrev(setting):
    x, W, s, d, _ = setting
    assert_matches_autograd(
        weight_jacobian(x, W, stride=s, dilation=d), lambda w: reference(s, d)(x, w), W
    )


@given(settings())
def test_input_jacobian_matches_jacrev(setting):
    x, W, s, d, _ = setting
    assert_matches_autograd(
        input_jacobian(x, W, stride=s, dilation=d), lambda v: reference(s, d)(v, W), x
    )


@given(settings())
def test_jacobians_are_those_of_the_hand_written_forward(setting):
    x, W, s, d, _ = setting
    ours = jacrev(lambda w: conv1d(x, w, stride=s, dilation=d))(W)
    torch.testing.assert_close(weight_jacobian(x, W, stride=s, dilation=d), ours)
    ours = jacrev(lambda v: conv1d(v, W, stride=s, dilation=d))(x)
    torch.testing.assert_close(input_jacobian(x, W, stride=s, dilation=d), ours)


@given(settings())
def test_gradients_are_the_vector_jacobian_products_of_pytorchs_conv1d(setting):
    x, W, s, d, generator = setting
    out, pullback = vjp(reference(s, d), x, W)
    g = torch.randn(out.shape, dtype=torch.float64, generator=generator)
    dx, dW = pullback(g)
    k, length = W.shape[-1], x.shape[-1]
    torch.testing.assert_close(weight_grad(x, g, kernel_size=k, stride=s, dilation=d), dW)
    torch.testing.assert_close(input_grad(g, W, length=length, stride=s, dilation=d), dx)


@given(settings())
def test_gradients_contract_the_full_jacobians(setting):
    x, W, s, d, generator = setting
    g = torch.randn(
        conv1d(x, W, stride=s, dilation=d).shape, dtype=torch.float64, generator=generator
    )
    via_jacobian = torch.tensordot(g, weight_jacobian(x, W, stride=s, dilation=d), dims=2)
    torch.testing.assert_close(
        weight_grad(x, g, kernel_size=W.shape[-1], stride=s, dilation=d), via_jacobian
    )
    via_jacobian = torch.tensordot(g, input_jacobian(x, W, stride=s, dilation=d), dims=2)
    torch.testing.assert_close(
        input_grad(g, W, length=x.shape[-1], stride=s, dilation=d), via_jacobian
    )


@given(settings())
def test_input_grad_is_a_transposed_convolution(setting):
    x, W, s, d, generator = setting
    g = torch.randn(
        conv1d(x, W, stride=s, dilation=d).shape, dtype=torch.float64, generator=generator
    )
    covered = (g.shape[-1] - 1) * s + d * (W.shape[-1] - 1) + 1
    expected = F.conv_transpose1d(g, W, stride=s, dilation=d, output_padding=x.shape[-1] - covered)
    torch.testing.assert_close(input_grad(g, W, length=x.shape[-1], stride=s, dilation=d), expected)


@given(settings())
def test_weight_grad_is_a_convolution_whose_dilation_is_the_forward_stride(setting):
    x, W, s, d, generator = setting
    g = torch.randn(
        conv1d(x, W, stride=s, dilation=d).shape, dtype=torch.float64, generator=generator
    )
    # F.conv1d with the roles swapped: channels of x as a batch, rows of g as filters.
    swapped = F.conv1d(x[:, None, :], g[:, None, :], stride=d, dilation=s)
    expected = swapped[..., : W.shape[-1]].transpose(0, 1)
    torch.testing.assert_close(
        weight_grad(x, g, kernel_size=W.shape[-1], stride=s, dilation=d), expected
    )


def test_forward_accepts_a_batch():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(4, 2, 9, dtype=torch.float64, generator=generator)
    W = torch.randn(3, 2, 3, dtype=torch.float64, generator=generator)
    torch.testing.assert_close(conv1d(x, W, stride=2), F.conv1d(x, W, stride=2))


x0 = torch.zeros(2, 5, dtype=torch.float64)
W0 = torch.zeros(1, 2, 3, dtype=torch.float64)


@pytest.mark.parametrize(
    ("arguments", "kwargs", "error", "name"),
    [
        (([0.0], W0), {}, TypeError, "x"),
        ((torch.zeros(5, dtype=torch.float64), W0), {}, ValueError, "x"),
        ((x0, W0.float()), {}, TypeError, "W"),
        ((x0, torch.zeros(2, 3, dtype=torch.float64)), {}, ValueError, "W"),
        ((x0, torch.zeros(1, 3, 3, dtype=torch.float64)), {}, ValueError, "W"),
        ((x0, torch.zeros(1, 2, 6, dtype=torch.float64)), {}, ValueError, "W"),
        ((x0, W0), {"dilation": 3}, ValueError, "W"),
        ((x0, W0), {"stride": 0}, ValueError, "stride"),
        ((x0, W0), {"dilation": 1.0}, TypeError, "dilation"),
    ],
)
@pytest.mark.parametrize("function", [conv1d, weight_jacobian, input_jacobian])
def test_bad_input_is_refused_naming_the_argument(function, arguments, kwargs, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        function(*arguments, **kwargs)


def test_gradients_refuse_bad_input():
    g = torch.zeros(1, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^grad_output "):
        weight_grad(x0, torch.zeros(1, 3, dtype=torch.float64), kernel_size=3, stride=2)
    with pytest.raises(ValueError, match=r"^grad_output "):
        weight_grad(x0, torch.zeros(2, dtype=torch.float64), kernel_size=3, stride=2)
    with pytest.raises(TypeError, match=r"^grad_output "):
        weight_grad(x0, g.float(), kernel_size=3, stride=2)
    with pytest.raises(ValueError, match=r"^kernel_size "):
        weight_grad(x0, g, kernel_size=0, stride=2)
    with pytest.raises(TypeError, match=r"^x "):
        weight_grad([0.0], g, kernel_size=3, stride=2)
    with pytest.raises(ValueError, match=r"^grad_output "):
        input_grad(torch.zeros(1, 3, dtype=torch.float64), W0, length=5, stride=2)
    with pytest.raises(TypeError, match=r"^grad_output "):
        input_grad(g.float(), W0, length=5, stride=2)
    with pytest.raises(ValueError, match=r"^length "):
        input_grad(g, W0, length=0, stride=2)
    with pytest.raises(ValueError, match=r"^W "):
        input_grad(g, W0, length=2, stride=2)
    with pytest.raises(ValueError, match=r"^W "):
        input_grad(g, W0[0], length=5, stride=2)


def test_defaults_are_those_of_pytorchs_conv1d():
    # Unit stride and no dilation unless asked, as in F.conv1d.
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2, 9, dtype=torch.float64, generator=generator)
    W = torch.randn(3, 2, 3, dtype=torch.float64, generator=generator)
    out, pullback = vjp(F.conv1d, x, W)
    g = torch.randn(out.shape, dtype=torch.float64, generator=generator)
    dx, dW = pullback(g)
    torch.testing.assert_close(conv1d(x, W), out)
    assert_matches_autograd(weight_jacobian(x, W), lambda w: F.conv1d(x, w), W)
    assert_matches_autograd(input_jacobian(x, W), lambda v: F.conv1d(v, W), x)
    torch.testing.assert_close(weight_grad(x, g, kernel_size=3), dW)
    torch.testing.assert_close(input_grad(g, W, length=9), dx)


def test_weight_jacobian_keeps_the_dtype_of_x():
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(2, 7, generator=generator).to(torch.bfloat16)
    W = torch.randn(2, 2, 3, generator=generator).to(torch.bfloat16)
    J = weight_jacobian(x, W, stride=2)
    assert J.dtype == torch.bfloat16
    # The Jacobian only copies entries of x: exact in any dtype.
    expected = jacrev(lambda w: F.conv1d(x.double(), w, stride=2))(W.double())
    assert torch.equal(J.double(), expected)


batch = torch.zeros(4, 2, 5, dtype=torch.float64)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        # The Jacobians and gradients are of one signal: a batch is refused as x.
        (lambda: weight_jacobian(batch, W0), ValueError, r"^x must have shape \(C, L\), got"),
        (lambda: input_jacobian(batch, W0), ValueError, r"^x must have shape \(C, L\), got"),
        (
            lambda: weight_grad(batch, torch.zeros(2, dtype=torch.float64), kernel_size=3),
            ValueError,
            r"^x must have shape \(C, L\), got",
        ),
        # With x (2, 5), K = 3 and stride 2, L' = 2.
        (
            lambda: weight_grad(x0, W0[:, 0], kernel_size=3, stride=2),
            ValueError,
            r"^grad_output must have L' = 2 columns, got 3",
        ),
        (
            lambda: input_grad(torch.zeros(1, 3, dtype=torch.float64), W0, length=5, stride=2),
            ValueError,
            r"^grad_output must have shape \(F, L'\) = \(1, 2\) for W and length, got \(1, 3\)",
        ),
        # conv1d takes a batch: a 1-d x is refused naming both layouts.
        (
            lambda: conv1d(x0[0], W0),
            ValueError,
            r"^x must have shape \(C, L\) or \(\*, C, L\), got \(5,\)",
        ),
        # W's dimension 1 counts its input channels: 3 here (with K = 2), against x's 2.
        (
            lambda: conv1d(x0, torch.zeros(1, 3, 2, dtype=torch.float64)),
            ValueError,
            r"^W has 3 input channels, but x has 2",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()
