"""The default device, and that the library computes where its inputs live."""

import pytest
import torch
from defaults import assert_computed_where_the_inputs_live
from fuzz_cases import CASES
from test_fuzz import resolve

from derived.activation_chain import chain_derivative
from derived.device import default_device


def test_default_device_is_cuda_exactly_when_available():
    assert default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_results_stay_on_the_default_device():
    x = torch.linspace(-1, 1, 5, dtype=torch.float64, device=default_device())
    assert chain_derivative(x, 4, activation="sigmoid").device == x.device


def test_default_device_follows_what_torch_reports(monkeypatch):
    for available, expected in [(True, "cuda"), (False, "cpu")]:
        monkeypatch.setattr(torch.cuda, "is_available", lambda a=available: a)
        assert default_device() == torch.device(expected)


# The functions that build tensors of their own (an identity, a zero to start a sum) beside
# their inputs' results.
BUILDERS = [
    "batch_norm.whole_batch_jacobian",
    "conv1d.input_jacobian",
    "conv1d.weight_jacobian",
    "gated_rnn.gated_rnn_forward",
    "residual_block.kaiming_weight",
    "residual_block.stack_jacobians",
    "residual_jacobian.residual_jacobian",
    "residual_mlp_backprop.hidden_jacobian",
    "residual_mlp_backprop.layer_jacobian",
    "reversible.momentum_jacobian_factors",
    "hypergradient.reversible_hypergradient",
    "reversible_learning.from_fixed_point",
    "reversible_learning.exact_reversible_hypergradient",
    "ridge.ridge_primal",
    "ridge.ridge_dual",
    "ridge.ridge",
    "singular_values.with_singular_values",
    "tanh_rnn.input_output_jacobian",
]


def tensors(result) -> list[torch.Tensor]:
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, tuple | list):
        return [t for item in result for t in tensors(item)]
    return []


@pytest.mark.parametrize("key", BUILDERS)
def test_results_are_computed_where_the_inputs_live_whatever_the_default_device(key):
    """A reader whose default device is a GPU may still pass CPU tensors: nothing moves."""
    function, calls = resolve(key), iter([CASES[key].args(), CASES[key].args()])
    assert_computed_where_the_inputs_live(lambda: tensors(function(**next(calls))))
