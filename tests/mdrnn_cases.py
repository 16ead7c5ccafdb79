"""What the two MDRNN test modules share: a seeded network, seeded inputs, and every hidden
unit's level measured from the Jacobian of one application of the layers."""

import torch

from derived.critical_path import longest_chains, stack_jacobian
from derived.mdrnn import MDRNN, preactivation


def model(D=2, k=3, d=1, seed=0):
    return MDRNN(D, k, d, generator=torch.Generator().manual_seed(seed))


def inputs(n, D, height, width, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, D, height, width, generator=g, dtype=torch.float64)


def cell_levels(net, height, width, *, D=2, k=3):
    """The level of every hidden unit, (d, k, H, W): its longest chain of dependencies."""
    layers = [
        lambda below, own, w=w: torch.tanh(preactivation(below, own, *w)) for w in net.layers()
    ]
    g = torch.Generator().manual_seed(5)
    shapes = [(1, D, height, width)] + [(1, k, height, width)] * len(layers)
    states = [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
    levels = longest_chains(stack_jacobian(layers, states))
    return levels[D * height * width :].reshape(len(layers), k, height, width)
