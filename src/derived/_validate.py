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


def non_negative_float(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number >= 0; raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return float(value)


def probability(name: str, value: object) -> float:
    """Return ``value`` if it is a real number in ``[0, 1)``; otherwise raise, naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def has_shape(name: str, x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """Return ``x`` if its shape is ``shape``; raise ``ValueError`` naming ``name`` otherwise."""
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(x.shape)}")
    return x


def non_negative_int(name: str, value: object) -> int:
    """Return ``value`` if it is an ``int`` >= 0; otherwise raise, naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return value


def positive_int_list(name: str, values: object) -> list[int]:
    """Return ``values`` if it is a non-empty list of positive ints; raise naming ``name``."""
    if not isinstance(values, list | tuple):
        raise TypeError(f"{name} must be a list of ints, got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty")
    for value in values:
        positive_int(name, value)
    return list(values)
