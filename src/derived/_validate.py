"""Argument checks shared by the public functions: fail early, and name the argument."""

from collections.abc import Collection

import torch


def positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an ``int`` >= 1; otherwise raise, naming ``name``."""
    # bool is a subclass of int, but depth=True is a bug, not a depth of 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


def one_of(name: str, value: object, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise naming ``name`` otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def float_tensor(name: str, x: object) -> torch.Tensor:
    """Return ``x`` if it is a non-empty, finite, floating-point tensor; raise naming ``name``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return x


def positive_int_list(name: str, values: object) -> list[int]:
    """Return ``values`` if it is a non-empty list of positive ints; raise naming ``name``."""
    if not isinstance(values, list | tuple):
        raise TypeError(f"{name} must be a list of ints, got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty")
    for value in values:
        positive_int(name, value)
    return list(values)
