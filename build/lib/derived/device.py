"""Where the book's tensors live."""

import torch


def default_device() -> torch.device:
    """Return ``cuda`` when a GPU is available, else ``cpu``.

    Every function in :mod:`derived` computes on the device of its inputs, so the same page runs
    unchanged on a laptop and on a GPU machine; pages create their tensors on this device.
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
