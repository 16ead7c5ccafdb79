"""Argument checks shared by the public functions: fail early, and name the argument."""

import math
from collections.abc import Callable, Collection
from typing import Any

import numpy as np
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


def real(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number; raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def positive_float(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number > 0; raise naming ``name``."""
    if real(name, value) <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return float(value)


def boolean(name: str, value: object) -> bool:
    """Return ``value`` if it is a ``bool``: a flag given as 1 or "no" is a mistake."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def function(name: str, value: object) -> Callable:
    """Return ``value`` if it can be called; raise naming ``name`` otherwise."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def instance(name: str, value: object, cls: type) -> Any:
    """Return ``value`` if it is an instance of ``cls``; raise ``TypeError`` naming ``name``."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")
    return value


def generator(name: str, value: object) -> torch.Generator:
    """Return ``value`` if it is a ``torch.Generator``: every random draw names its source."""
    return instance(name, value, torch.Generator)


def float_dtype(name: str, value: object) -> torch.dtype | None:
    """Return ``value`` if it is a floating-point ``torch.dtype`` or ``None`` (the default)."""
    if value is not None and not (isinstance(value, torch.dtype) and value.is_floating_point):
        raise TypeError(f"{name} must be a floating-point torch.dtype, got {value!r}")
    return value


def device(name: str, value: object) -> torch.device | None:
    """Return ``value`` as a ``torch.device`` (``None`` stays ``None``); raise naming ``name``."""
    if value is None or isinstance(value, torch.device):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a torch.device or str, got {type(value).__name__}")
    try:
        return torch.device(value)
    except RuntimeError:
        raise ValueError(f"{name} must name a device, got {value!r}") from None


def shape(name: str, values: object) -> tuple[int, ...]:
    """Return ``values`` as a tuple if it is a list or tuple of ints >= 0 (a tensor shape)."""
    if not isinstance(values, list | tuple):
        raise TypeError(f"{name} must be a tuple of ints, got {type(values).__name__}")
    return tuple(non_negative_int(name, value) for value in values)


def has_ndim(name: str, x: torch.Tensor, ndim: int, layout: str) -> torch.Tensor:
    """Return ``x`` if it has ``ndim`` dimensions; else raise, naming ``name`` and ``layout``."""
    if x.dim() != ndim:
        raise ValueError(f"{name} must have shape {layout}, got {tuple(x.shape)}")
    return x


def broadcasts_to(name: str, x: torch.Tensor, target: torch.Size, to: str) -> torch.Tensor:
    """Return ``x`` if it broadcasts to the shape ``target`` of the argument ``to``."""
    try:
        fits = torch.broadcast_shapes(x.shape, target) == target
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name} must broadcast to the shape of {to}, {tuple(target)}, got {tuple(x.shape)}"
        )
    return x


def scalar(
    name: str, value: object, like: torch.Tensor | None, to: str = ""
) -> float | torch.Tensor:
    """Return ``value`` if it is a finite real number or, unless ``like`` is ``None``, a finite
    floating-point tensor that broadcasts against ``like`` (the argument ``to``); raise naming
    ``name`` otherwise."""
    if like is None or not isinstance(value, torch.Tensor):
        return real(name, value)
    float_tensor(name, value)
    try:
        torch.broadcast_shapes(value.shape, like.shape)
    except RuntimeError:
        raise ValueError(
            f"{name} must broadcast against {to}, {tuple(like.shape)}, got {tuple(value.shape)}"
        ) from None
    return value


def int_array(name: str, value: object) -> np.ndarray:
    """Return ``value`` if it is a 1-d NumPy array of Python ints (dtype ``object``)."""
    if not isinstance(value, np.ndarray) or value.dtype != object:
        raise TypeError(
            f"{name} must be a NumPy array of Python ints (dtype object), got {value!r}"
        )
    if value.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got shape {value.shape}")
    return value


def record(name: str, value: object, cls: type, shape: tuple[int, ...]) -> Any:
    """Return ``value`` if it is a ``cls`` (a NamedTuple) whose every field is a finite float
    tensor of shape ``shape``; raise naming ``name`` (and the field) otherwise."""
    instance(name, value, cls)
    for field, x in zip(value._fields, value, strict=True):
        has_shape(f"{name}.{field}", float_tensor(f"{name}.{field}", x), shape)
    return value


def channels_first(name: str, x: object, layout: str, channels: int) -> torch.Tensor:
    """Return ``x`` if it is a float tensor of ``layout`` (such as ``"(N, C, H, W)"``) with
    ``channels`` entries along dimension 1; raise naming ``name`` otherwise."""
    has_ndim(name, float_tensor(name, x), layout.count(",") + 1, layout)
    if x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels (dimension 1), got {x.shape[1]}")
    return x
