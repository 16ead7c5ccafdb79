"""The shared argument checks: what they accept, and that every refusal names the argument."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

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
