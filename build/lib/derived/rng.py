"""Random draws that go through an explicit generator, even inside ``torch.nn``.

``torch.nn.Linear`` initialises itself and ``torch.nn.Dropout`` draws its mask from PyTorch's
global (default) generator; neither accepts a ``generator`` argument. :func:`default_rng_from`
lends the state of an explicit :class:`torch.Generator` to the global generator for the duration
of a ``with`` block, so that those layers run unchanged, reproducibly, and without touching the
caller's global random state.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def default_rng_from(generator: torch.Generator) -> Iterator[None]:
    """Run the block with the global CPU generator in ``generator``'s state, then restore it.

    Draws made in the block by code that uses the global generator (``nn.Linear``'s
    initialisation, ``nn.Dropout``) come from ``generator``, which is advanced past them, exactly
    as if they had been drawn from it directly. The global state is restored on exit.

    Args:
        generator: a CPU :class:`torch.Generator`; it is advanced by the draws made in the block.
    """
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if generator.device.type != "cpu":
        raise ValueError(f"generator must be a CPU generator, got device {generator.device}")
    with torch.random.fork_rng(devices=[]):
        torch.set_rng_state(generator.get_state())
        yield
        generator.set_state(torch.get_rng_state())
