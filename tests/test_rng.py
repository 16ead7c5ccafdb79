"""Draws made by torch.nn inside default_rng_from come from the explicit generator."""

import pytest
import torch

from derived.rng import default_rng_from


def test_draws_come_from_the_generator_and_advance_it():
    g, reference = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    with default_rng_from(g):
        first = torch.rand(5, dtype=torch.float64)
    assert torch.equal(first, torch.rand(5, dtype=torch.float64, generator=reference))
    with default_rng_from(g):
        second = torch.rand(5, dtype=torch.float64)
    assert torch.equal(second, torch.rand(5, dtype=torch.float64, generator=reference))


def test_global_state_is_restored():
    before = torch.get_rng_state()
    with default_rng_from(torch.Generator().manual_seed(0)):
        torch.rand(10)
    assert torch.equal(torch.get_rng_state(), before)


def test_refuses_a_non_generator():
    with pytest.raises(TypeError, match=r"^generator "):
        with default_rng_from(0):
            pass
