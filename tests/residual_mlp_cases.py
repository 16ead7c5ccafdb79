"""What the two residual-MLP test modules share: a seeded network and input."""

import torch

from derived.residual_mlp import init_parameters


def network(seed: int, L: int, n: int = 3, m: int = 4):
    generator = torch.Generator().manual_seed(seed)
    A, b = init_parameters(n, m, L, generator=generator)
    x = torch.randn(n, dtype=torch.float64, generator=generator)
    return x, A, b
