"""The shared argument checks: what they accept, and that every refusal names the argument."""

from typing import NamedTuple

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from derived import _validate
from derived._validate import float_tensor, one_of, positive_int, positive_int_list


@given(st.integers(min_value=1))
def test_positive_int_accepts_positive_integers(value):
    assert positive_int("n", value) == value


@given(st.integers(max_value=0))
def test_positive_int_refuses_zero_and_negatives(value):
    with pytest.raises(ValueError, match=r"^depth must be a positive integer"):
        positive_int("depth", value)


@pytest.mark.parametrize("value", [True, 1.0, "3", None])
def test_positive_int_refuses_non_integers(value):
    with pytest.raises(TypeError, match=r"^depth must be an int"):
        positive_int("depth", value)


def test_one_of_accepts_a_choice_and_names_the_argument_otherwise():
    assert one_of("activation", "tanh", {"tanh", "sigmoid"}) == "tanh"
    with pytest.raises(ValueError, match=r"^activation must be one of \['sigmoid', 'tanh'\]"):
        one_of("activation", "relu", {"tanh", "sigmoid"})
    with pytest.raises(TypeError, match=r"^activation must be a str"):
        one_of("activation", 1, {"tanh"})


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_float_tensor_accepts_finite_floating_tensors(dtype):
    x = torch.ones(3, dtype=dtype)
    assert float_tensor("x", x) is x


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ([1.0], TypeError, "must be a torch.Tensor"),
        (torch.ones(2, dtype=torch.int64), TypeError, "must have a floating-point dtype"),
        (torch.ones(0), ValueError, "must not be empty"),
        (torch.tensor([0.0, float("nan")]), ValueError, "must be finite"),
        (torch.tensor([float("-inf")]), ValueError, "must be finite"),
    ],
)
def test_float_tensor_refusals_name_the_argument(value, error, message):
    with pytest.raises(error, match=rf"^z {message}"):
        float_tensor("z", value)


def test_has_shape_accepts_the_shape_and_refusals_name_the_argument():
    from derived._validate import has_shape

    x = torch.zeros(2, 3)
    assert has_shape("x", x, (2, 3)) is x
    with pytest.raises(ValueError, match=r"^W_h must have shape \(3, 3\), got \(2, 3\)"):
        has_shape("W_h", x, (3, 3))


def test_positive_int_list_accepts_positive_ints_and_names_the_argument_otherwise():
    assert positive_int_list("dilations", (1, 2, 4)) == [1, 2, 4]
    with pytest.raises(TypeError, match=r"^dilations must be a list of ints"):
        positive_int_list("dilations", 3)
    with pytest.raises(ValueError, match=r"^dilations must not be empty"):
        positive_int_list("dilations", [])
    with pytest.raises(ValueError, match=r"^dilations must be a positive integer, got 0"):
        positive_int_list("dilations", [1, 0])
    with pytest.raises(TypeError, match=r"^dilations must be an int"):
        positive_int_list("dilations", [1, 2.0])


def test_type_refusals_say_what_was_given():
    from derived._validate import probability

    with pytest.raises(TypeError, match=r"^p must be a float, got str$"):
        probability("p", "0.5")
    with pytest.raises(TypeError, match=r"^dilations must be a list of ints, got int$"):
        positive_int_list("dilations", 3)


@pytest.mark.parametrize(
    ("check", "good", "bad", "error", "message"),
    [
        (_validate.real, -2.5, float("nan"), ValueError, "must be finite"),
        (_validate.real, 3, True, TypeError, "must be a float"),
        (_validate.positive_float, 0.5, 0.0, ValueError, "must be positive"),
        (_validate.positive_float, 1, "1", TypeError, "must be a float"),
        (_validate.boolean, False, 0, TypeError, "must be a bool"),
        (_validate.function, torch.sin, "sin", TypeError, "must be callable"),
        (_validate.generator, torch.Generator(), 0, TypeError, "must be a Generator"),
        (_validate.float_dtype, torch.float32, torch.int64, TypeError, "must be a floating"),
        (_validate.device, "cpu", "nowhere", ValueError, "must name a device"),
        (_validate.device, torch.device("cpu"), 1.5, TypeError, "must be a torch.device"),
        (_validate.shape, (2, 0), (2, -1), ValueError, "must be a non-negative integer"),
        (_validate.shape, [], 3, TypeError, "must be a tuple of ints"),
    ],
)
def test_a_check_accepts_the_good_value_and_refuses_the_bad_naming_it(
    check, good, bad, error, message
):
    check("arg", good)
    with pytest.raises(error, match=rf"^arg {message}"):
        check("arg", bad)


def test_real_returns_a_float_and_none_is_a_valid_dtype_and_device():
    assert type(_validate.real("x", 2)) is float
    assert _validate.float_dtype("dtype", None) is None
    assert _validate.device("device", None) is None
    assert _validate.device("device", "cpu") == torch.device("cpu")
    assert _validate.shape("size", [2, 3]) == (2, 3)


def test_instance_names_the_class():
    assert _validate.instance("module", torch.nn.ReLU(), torch.nn.Module) is not None
    with pytest.raises(TypeError, match=r"^module must be a Module, got int"):
        _validate.instance("module", 3, torch.nn.Module)


def test_has_ndim_names_the_layout():
    x = torch.zeros(2, 3)
    assert _validate.has_ndim("x", x, 2, "(N, d)") is x
    with pytest.raises(ValueError, match=r"^x must have shape \(N, C, T\), got \(2, 3\)"):
        _validate.has_ndim("x", x, 3, "(N, C, T)")


def test_broadcasts_to_accepts_what_broadcasts_to_the_target_only():
    target = torch.Size([2, 3])
    for shape in [(3,), (1, 3), (2, 1), (2, 3), ()]:
        _validate.broadcasts_to("mask", torch.ones(shape), target, "y")
    for shape in [(2,), (3, 3), (1, 2, 3)]:
        with pytest.raises(ValueError, match=r"^mask must broadcast to the shape of y, \(2, 3\)"):
            _validate.broadcasts_to("mask", torch.ones(shape), target, "y")


def test_scalar_accepts_numbers_and_broadcasting_tensors():
    theta = torch.zeros(4)
    assert _validate.scalar("alpha", 0.5, theta, "theta") == 0.5
    column = torch.ones(3, 1)
    assert _validate.scalar("alpha", column, theta, "theta") is column
    with pytest.raises(ValueError, match=r"^alpha must broadcast against theta, \(4,\)"):
        _validate.scalar("alpha", torch.ones(3), theta, "theta")
    with pytest.raises(ValueError, match=r"^alpha must be finite"):
        _validate.scalar("alpha", torch.tensor(float("inf")), theta, "theta")
    with pytest.raises(TypeError, match=r"^alpha must be a float"):
        _validate.scalar("alpha", "0.5", theta, "theta")
    with pytest.raises(TypeError, match=r"^alpha must be a float, got Tensor"):
        _validate.scalar("alpha", torch.tensor(0.5), None)


def test_int_array_wants_a_1d_object_array():
    v = np.array([1, 2**70], dtype=object)
    assert _validate.int_array("v", v) is v
    with pytest.raises(TypeError, match=r"^v must be a NumPy array of Python ints"):
        _validate.int_array("v", v.astype(np.float64))
    with pytest.raises(TypeError, match=r"^v must be a NumPy array of Python ints"):
        _validate.int_array("v", [1, 2])
    with pytest.raises(ValueError, match=r"^v must be 1-d"):
        _validate.int_array("v", np.stack([v, v]))


class Pair(NamedTuple):
    a: torch.Tensor
    b: torch.Tensor


def test_record_checks_the_type_and_every_field():
    good = Pair(torch.zeros(2), torch.ones(2))
    assert _validate.record("trace", good, Pair, (2,)) is good
    with pytest.raises(TypeError, match=r"^trace must be a Pair, got tuple"):
        _validate.record("trace", tuple(good), Pair, (2,))
    with pytest.raises(ValueError, match=r"^trace\.b must have shape \(2,\), got \(3,\)"):
        _validate.record("trace", good._replace(b=torch.ones(3)), Pair, (2,))
    with pytest.raises(ValueError, match=r"^trace\.a must be finite"):
        _validate.record("trace", good._replace(a=torch.tensor([0.0, float("nan")])), Pair, (2,))


def test_channels_first_checks_the_layout_and_the_channels():
    x = torch.zeros(1, 3, 5)
    assert _validate.channels_first("x", x, "(N, C, T)", 3) is x
    with pytest.raises(ValueError, match=r"^x must have shape \(N, C, H, W\), got \(1, 3, 5\)"):
        _validate.channels_first("x", x, "(N, C, H, W)", 3)
    with pytest.raises(ValueError, match=r"^x must have 2 channels \(dimension 1\), got 3"):
        _validate.channels_first("x", x, "(N, C, T)", 2)
    with pytest.raises(TypeError, match=r"^x must be a torch.Tensor"):
        _validate.channels_first("x", [1.0], "(N, C, T)", 2)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        # A type refusal names the type that was given, not a placeholder.
        (lambda: _validate.device("device", 3), TypeError, r"^device must be .* got int$"),
        (lambda: _validate.non_negative_int("padding", 1.5), TypeError, r"^padding .* got float$"),
        (lambda: _validate.shape("size", 3), TypeError, r"^size must be .* got int$"),
        (
            lambda: _validate.boolean("residual", 1),
            TypeError,
            r"^residual must be a bool, got int$",
        ),
        (lambda: _validate.float_tensor("x", [1.0]), TypeError, r"^x must be .* got list$"),
        (lambda: _validate.function("grad_J", 3), TypeError, r"^grad_J must be callable, got int$"),
        (lambda: _validate.non_negative_float("lam", "1"), TypeError, r"^lam must be .* got str$"),
        (
            lambda: _validate.one_of("activation", 3, ("tanh",)),
            TypeError,
            r"^activation .* got int$",
        ),
        (lambda: _validate.positive_int("n", 1.5), TypeError, r"^n must be an int, got float$"),
        # Without the name of the argument it broadcasts against, only that shape is given.
        (
            lambda: _validate.scalar("alpha", torch.zeros(3), torch.zeros(4)),
            ValueError,
            r"^alpha must broadcast against\W+\(4,\), got \(3,\)$",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()
