"""The default device, and that the library computes where its inputs live."""

import torch

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
