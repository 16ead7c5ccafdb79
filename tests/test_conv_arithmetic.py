"""Convolution arithmetic against the shapes and parameters of real torch.nn convolutions."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from torch import nn

from derived.conv_arithmetic import (
    effective_kernel_size,
    output_shape,
    output_size,
    parameter_count,
)

small = st.integers(min_value=1, max_value=5)


@given(
    n=st.integers(min_value=1, max_value=24),
    k=small,
    s=small,
    p=st.integers(min_value=0, max_value=4),
    d=st.integers(min_value=1, max_value=4),
)
def test_output_size_is_the_length_conv1d_returns(n, k, s, p, d):
    assume(d * (k - 1) + 1 <= n + 2 * p)
    x = torch.zeros(1, 1, n)
    w = torch.zeros(1, 1, k)
    expected = F.conv1d(x, w, stride=s, padding=p, dilation=d).shape[-1]
    assert output_size(n, k, s, p, d) == expected


@given(
    c=st.integers(min_value=1, max_value=3),
    f=st.integers(min_value=1, max_value=4),
    h=st.integers(min_value=1, max_value=16),
    w=st.integers(min_value=1, max_value=16),
    k=st.tuples(small, small),
    s=st.tuples(small, small),
    p=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    d=st.tuples(st.integers(1, 3), st.integers(1, 3)),
)
def test_output_shape_is_the_shape_conv2d_returns(c, f, h, w, k, s, p, d):
    assume(all(d[i] * (k[i] - 1) + 1 <= n + 2 * p[i] for i, n in enumerate((h, w))))
    x = torch.zeros(c, h, w)
    weight = torch.zeros(f, c, *k)
    expected = F.conv2d(x, weight, stride=s, padding=p, dilation=d).shape
    assert output_shape((c, h, w), f, k, stride=s, padding=p, dilation=d) == tuple(expected)


@given(c=st.integers(1, 64), f=st.integers(1, 8), n=st.integers(3, 12))
def test_the_number_of_input_channels_does_not_change_the_shape(c, f, n):
    assert output_shape((c, n, n), f, 3) == output_shape((1, n, n), f, 3)


def test_square_int_arguments_mean_the_same_on_both_axes():
    assert output_shape((3, 10, 11), 5, 3, stride=2) == output_shape(
        (3, 10, 11), 5, (3, 3), stride=(2, 2), padding=(0, 0), dilation=(1, 1)
    )


@given(k=small, d=st.integers(1, 6))
def test_effective_kernel_size_is_the_dilated_span(k, d):
    # Spreading one impulse through a dilated kernel of ones draws the kernel's footprint.
    footprint = F.conv_transpose1d(torch.ones(1, 1, 1), torch.ones(1, 1, k), dilation=d)
    assert effective_kernel_size(k, d) == footprint.shape[-1]
    assert footprint.flatten().nonzero().flatten().tolist() == list(range(0, d * k, d))


@given(k=small, d=st.integers(1, 6))
def test_a_dilated_kernel_fits_exactly_its_span_and_not_one_less(k, d):
    span = effective_kernel_size(k, d)
    assert output_size(span, k, dilation=d) == 1
    if span > 1:
        with pytest.raises(ValueError, match=r"^kernel_size "):
            output_size(span - 1, k, dilation=d)


@given(
    groups=st.integers(1, 4),
    c_per_group=st.integers(1, 4),
    f_per_group=st.integers(1, 4),
    k=st.tuples(small, small),
    bias=st.booleans(),
)
def test_parameter_count_is_what_conv2d_registers(groups, c_per_group, f_per_group, k, bias):
    c, f = groups * c_per_group, groups * f_per_group
    conv = nn.Conv2d(c, f, k, groups=groups, bias=bias, device="meta")
    expected = sum(p.numel() for p in conv.parameters())
    assert parameter_count(c, f, k, groups=groups, bias=bias) == expected


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"n": 0}, ValueError, "n"),
        ({"n": 10.0}, TypeError, "n"),
        ({"kernel_size": 0}, ValueError, "kernel_size"),
        ({"kernel_size": -3}, ValueError, "kernel_size"),
        ({"kernel_size": 3.0}, TypeError, "kernel_size"),
        ({"stride": 0}, ValueError, "stride"),
        ({"stride": 1.5}, TypeError, "stride"),
        ({"padding": -1}, ValueError, "padding"),
        ({"padding": "same"}, TypeError, "padding"),
        ({"dilation": 0}, ValueError, "dilation"),
        ({"dilation": True}, TypeError, "dilation"),
        ({"kernel_size": 11}, ValueError, "kernel_size"),
        ({"kernel_size": 4, "dilation": 4}, ValueError, "kernel_size"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(kwargs, error, name):
    arguments = {"n": 10, "kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1} | kwargs
    with pytest.raises(error, match=rf"^{name} "):
        output_size(**arguments)


def test_where_pytorch_is_opaque_the_refusal_is_clear():
    # PyTorch refuses a kernel longer than the input with a message about sizes, not names.
    with pytest.raises(RuntimeError):
        F.conv1d(torch.zeros(1, 1, 10), torch.zeros(1, 1, 11))
    with pytest.raises(ValueError, match=r"^kernel_size 11 .* padded input length"):
        output_size(10, 11)


@pytest.mark.parametrize(
    ("arguments", "error", "name"),
    [
        (((3, 10), 4, 3), ValueError, "input_shape"),
        (([3, 10, 11], 4, 3), ValueError, "input_shape"),
        (((0, 10, 11), 4, 3), ValueError, "input_shape"),
        (((3, 10, 11), 0, 3), ValueError, "out_channels"),
        (((3, 10, 11), 4, (3, 3, 3)), ValueError, "kernel_size"),
        (((3, 10, 11), 4, (3, 12)), ValueError, "kernel_size"),
    ],
)
def test_output_shape_refuses_bad_arguments(arguments, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        output_shape(*arguments)


@pytest.mark.parametrize(
    ("arguments", "kwargs", "error", "name"),
    [
        ((6, 4, 3), {"groups": 4}, ValueError, "in_channels"),
        ((8, 6, 3), {"groups": 4}, ValueError, "out_channels"),
        ((8, 8, 3), {"groups": 0}, ValueError, "groups"),
        ((8, 8, 0), {}, ValueError, "kernel_size"),
        ((8, 8, 3), {"bias": 1}, TypeError, "bias"),
    ],
)
def test_parameter_count_refuses_bad_arguments(arguments, kwargs, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        parameter_count(*arguments, **kwargs)


def test_a_parameter_count_is_an_integer():
    count = parameter_count(6, 4, 3, groups=2)
    assert isinstance(count, int)
    assert count == 4 * (6 // 2 * 3 * 3 + 1)  # F filters of C/g x k x k weights and a bias


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"in_channels": 0}, ValueError, "in_channels"),
        ({"out_channels": 0}, ValueError, "out_channels"),
        ({"kernel_size": (3, 3, 3)}, ValueError, "kernel_size"),
        ({"kernel_size": (3, 0)}, ValueError, "kernel_size"),
    ],
)
def test_parameter_count_names_each_refused_argument(kwargs, error, name):
    args = {"in_channels": 4, "out_channels": 4, "kernel_size": 3} | kwargs
    with pytest.raises(error, match=rf"^{name} "):
        parameter_count(args["in_channels"], args["out_channels"], args["kernel_size"])
    with pytest.raises(TypeError, match=r"^bias must be a bool, got int"):
        parameter_count(4, 4, 3, bias=1)


def test_output_shape_defaults_are_those_of_conv2d():
    conv = nn.Conv2d(3, 5, 3, device="meta")
    assert output_shape((3, 9, 7), 5, 3) == tuple(
        conv(torch.zeros(1, 3, 9, 7, device="meta")).shape[1:]
    )


@pytest.mark.parametrize("name", ["stride", "padding", "dilation"])
def test_output_shape_names_a_malformed_pair(name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        output_shape((3, 9, 7), 5, 3, **{name: (1, 1, 1)})


def test_output_size_defaults_are_those_of_conv1d():
    # Unit stride, no padding and no dilation unless asked, as in F.conv1d.
    assert effective_kernel_size(3) == 3
    expected = F.conv1d(torch.zeros(1, 1, 10, device="meta"), torch.zeros(1, 1, 3, device="meta"))
    assert output_size(10, 3) == expected.shape[-1] == 8


@given(n=small, p=st.integers(1, 4))
def test_a_kernel_fits_exactly_the_padded_input_and_not_one_more(n, p):
    # Padding p on each side adds 2p inputs: a kernel of size n + 2p fits once, n + 2p + 1 not.
    assert output_size(n, n + 2 * p, padding=p) == 1
    with pytest.raises(ValueError, match=r"^kernel_size "):
        output_size(n, n + 2 * p + 1, padding=p)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        # n = 2 with padding 1 on each side: 4 inputs, fewer than the kernel's 5.
        (
            lambda: output_size(2, 5, padding=1),
            ValueError,
            r"^kernel_size 5 .* spans 5 inputs, .* padded input length n \+ 2\*padding = 4$",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()
