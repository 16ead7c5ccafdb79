r"""Exactly reversible momentum: fixed-point arithmetic and an information buffer.

Maclaurin, Duvenaud and Adams (2015) make the momentum step of :mod:`derived.reversible`
reversible *exactly*, for any number of steps. The state is kept in fixed point,
:math:`\theta = \theta^* 2^{-r}` and :math:`p = p^* 2^{-r}` with integers :math:`\theta^*, p^*`,
and :math:`\beta = n/2^{b}` is a dyadic fraction. Adding :math:`p^*` to :math:`\theta^*` and
subtracting the rounded integer :math:`\operatorname{round}(\alpha\nabla J(\theta) 2^r)` are undone
exactly by the opposite operations. Only :math:`p^* \mapsto \beta p^*` loses information, about
:math:`\log_2(1/\beta)` bits per component; those bits are pushed onto an *information buffer*
:math:`B` (one arbitrary-precision integer per component) and popped when dividing back
(page ``momentum-inverse``, "The exact remedy").
"""

from typing import NamedTuple

import numpy as np
import torch

from derived import _validate
from derived.reversible import Gradient, Hypergradient, _state, momentum_step_vjp

#: The number of bits :math:`b` of the momentum, a multiple of :math:`2^{-b}`.
BETA_BITS = 16


class ExactState(NamedTuple):
    """Fixed-point parameters and velocity, and the information buffer (Python integers)."""

    theta: np.ndarray
    p: np.ndarray
    buffer: np.ndarray


def beta_numerator(beta: float) -> int:
    r"""The integer :math:`n` with :math:`\beta = n / 2^{b}` and :math:`0 < n < 2^{b}`.

    Raises:
        ValueError: if ``beta`` is not a multiple of :math:`2^{-b}` (``BETA_BITS``) in (0, 1).
    """
    n = _validate.real("beta", beta) * 2**BETA_BITS
    if not (0 < n < 2**BETA_BITS and n == int(n)):
        raise ValueError(f"beta must be a multiple of 2**-{BETA_BITS} in (0, 1), got {beta!r}")
    return int(n)


def _check_digits(v: np.ndarray, buffer: np.ndarray, n: int) -> None:
    _validate.int_array("v", v)
    if _validate.int_array("buffer", buffer).shape != v.shape:
        raise ValueError(
            f"buffer must have the shape of v, {tuple(v.shape)}, got {tuple(buffer.shape)}"
        )
    _validate.positive_int("n", n)


def multiply(v: np.ndarray, buffer: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Multiply by :math:`\beta = n/2^b` reversibly, keeping the bits that are lost in the buffer.

    Push the low :math:`b` bits of :math:`v` (:math:`B \gets 2^b B + (v \bmod 2^b)`), divide
    :math:`v` by :math:`2^b`, multiply by :math:`n`, and fill the new low digit from the buffer
    (:math:`v \gets v + (B \bmod n)`, :math:`B \gets \lfloor B/n \rfloor`). Net, the buffer grows
    by :math:`\log_2(2^b/n) = \log_2(1/\beta)` bits. Undone by :func:`divide`.

    Args:
        v: integers :math:`v` (object array of Python ints).
        buffer: the information buffer :math:`B \ge 0`, the shape of ``v``.
        n: the numerator of :math:`\beta = n/2^b`.
    """
    _check_digits(v, buffer, n)
    d = 2**BETA_BITS
    buffer = buffer * d + v % d
    v = (v // d) * n + buffer % n
    return v, buffer // n


def divide(v: np.ndarray, buffer: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact inverse of :func:`multiply`: the same operations in reverse order."""
    _check_digits(v, buffer, n)
    d = 2**BETA_BITS
    buffer = buffer * n + v % n
    v = (v // n) * d + buffer % d
    return v, buffer // d


def to_fixed_point(x: torch.Tensor, *, radix_bits: int) -> np.ndarray:
    r""":math:`x^* = \operatorname{round}(x\, 2^r)`, as Python integers."""
    _validate.float_tensor("x", x)
    _validate.non_negative_int("radix_bits", radix_bits)
    scaled = torch.round(x.detach().double().cpu() * 2.0**radix_bits)
    return np.array([int(v) for v in scaled.flatten().tolist()], dtype=object)


def from_fixed_point(x: np.ndarray, *, radix_bits: int, like: torch.Tensor) -> torch.Tensor:
    r""":math:`x = x^* 2^{-r}` as a float64 tensor with the shape and device of ``like``."""
    _validate.int_array("x", x)
    _validate.non_negative_int("radix_bits", radix_bits)
    if _validate.float_tensor("like", like).numel() != len(x):
        raise ValueError(f"like must have one entry per entry of x, {len(x)}, got {like.numel()}")
    values = torch.tensor([float(v) for v in x], dtype=torch.float64, device=like.device)
    return (values * 2.0**-radix_bits).reshape(like.shape)


def _rounded_update(theta: np.ndarray, grad_J: Gradient, alpha: float, r: int, like: torch.Tensor):
    # round(alpha grad J(theta) 2^r): a deterministic function of the integers theta*.
    g = grad_J(from_fixed_point(theta, radix_bits=r, like=like))
    return to_fixed_point(alpha * g, radix_bits=r)


def _check_state(state: ExactState, like: torch.Tensor, name: str = "like") -> None:
    """Check the fields of ``state`` and that ``like`` has one entry per parameter."""
    _validate.instance("state", state, ExactState)
    for field, digits in zip(state._fields, state, strict=True):
        if _validate.int_array(f"state.{field}", digits).shape != state.theta.shape:
            raise ValueError(
                f"state.{field} must have the shape of state.theta, got {tuple(digits.shape)}"
            )
    if _validate.float_tensor(name, like).numel() != len(state.theta):
        shapes = f"{len(state.theta)}, got {like.numel()}"
        raise ValueError(f"{name} must have one entry per parameter of state, {shapes}")


def exact_momentum_descent(
    theta: torch.Tensor,
    p: torch.Tensor,
    *,
    grad_J: Gradient,
    alpha: float,
    beta: float,
    steps: int,
    radix_bits: int = 64,
) -> ExactState:
    r""":math:`K` momentum steps in fixed point, recording lost bits in an information buffer.

    Each step is :math:`p^* \gets \beta p^*` (exactly, with :func:`multiply`), then
    :math:`p^* \gets p^* - \operatorname{round}(\alpha\nabla J(\theta)2^r)` and
    :math:`\theta^* \gets \theta^* + p^*`.

    Args:
        theta, p: the initial state, rounded to multiples of :math:`2^{-r}`.
        grad_J, alpha: as in :func:`derived.reversible.momentum_step`.
        beta: a multiple of :math:`2^{-16}` in :math:`(0, 1)`.
        steps: :math:`K \ge 1`.
        radix_bits: :math:`r`, the fractional bits of the fixed-point numbers.

    Returns:
        The :class:`ExactState` after :math:`K` steps.
    """
    _state(theta, p)
    _validate.function("grad_J", grad_J)
    _validate.real("alpha", alpha)
    _validate.positive_int("steps", steps)
    _validate.positive_int("radix_bits", radix_bits)
    n = beta_numerator(beta)
    theta_i, p_i = (
        to_fixed_point(theta, radix_bits=radix_bits),
        to_fixed_point(p, radix_bits=radix_bits),
    )
    buffer = np.array([0] * len(p_i), dtype=object)
    for _ in range(steps):
        p_i, buffer = multiply(p_i, buffer, n)
        p_i = p_i - _rounded_update(theta_i, grad_J, alpha, radix_bits, theta)
        theta_i = theta_i + p_i
    return ExactState(theta_i, p_i, buffer)


def exact_momentum_inverse(
    state: ExactState,
    *,
    grad_J: Gradient,
    alpha: float,
    beta: float,
    radix_bits: int,
    like: torch.Tensor,
) -> ExactState:
    r"""One exact inverse step, undoing one step of :func:`exact_momentum_descent`.

    :math:`\theta^* \gets \theta^* - p^*`; then, with the gradient at the recovered
    :math:`\theta`, :math:`p^* \gets p^* + \operatorname{round}(\alpha\nabla J(\theta)2^r)`;
    then :func:`divide` by :math:`\beta`, popping the buffer.

    Args:
        state: the :class:`ExactState` after the step.
        grad_J, alpha, beta, radix_bits: as in :func:`exact_momentum_descent`.
        like: a tensor whose device the float64 parameters passed to ``grad_J`` take.
    """
    _check_state(state, like)
    _validate.function("grad_J", grad_J)
    _validate.real("alpha", alpha)
    _validate.positive_int("radix_bits", radix_bits)
    n = beta_numerator(beta)
    theta_i = state.theta - state.p
    p_i = state.p + _rounded_update(theta_i, grad_J, alpha, radix_bits, like)
    p_i, buffer = divide(p_i, state.buffer, n)
    return ExactState(theta_i, p_i, buffer)


def exact_reversible_hypergradient(
    state: ExactState,
    grad_theta: torch.Tensor,
    grad_p: torch.Tensor,
    *,
    grad_J: Gradient,
    alpha: float,
    beta: float,
    steps: int,
    radix_bits: int = 64,
) -> tuple[Hypergradient, ExactState]:
    r"""Backpropagate through :math:`K` exact steps, recovering each state exactly.

    As :func:`derived.reversible.reversible_hypergradient`, but the states come from
    :func:`exact_momentum_inverse`, so they are the forward states bit for bit, for any :math:`K`.

    Returns:
        The :class:`~derived.reversible.Hypergradient` (its ``theta``, ``p`` the recovered initial
        state as float64), and the recovered :class:`ExactState` (whose buffer is empty again).
    """
    _state(grad_theta, grad_p, ("grad_theta", "grad_p"))
    _check_state(state, grad_theta, "grad_theta")
    _validate.positive_int("steps", steps)
    grad_alpha = torch.zeros((), dtype=torch.float64, device=grad_theta.device)
    grad_beta = torch.zeros_like(grad_alpha)
    kw = {"grad_J": grad_J, "alpha": alpha, "beta": beta}
    for _ in range(steps):
        state = exact_momentum_inverse(state, radix_bits=radix_bits, like=grad_theta, **kw)
        theta = from_fixed_point(state.theta, radix_bits=radix_bits, like=grad_theta)
        p = from_fixed_point(state.p, radix_bits=radix_bits, like=grad_theta)
        grad_theta, grad_p, d_alpha, d_beta = momentum_step_vjp(theta, p, grad_theta, grad_p, **kw)
        grad_alpha, grad_beta = grad_alpha + d_alpha, grad_beta + d_beta
    result = Hypergradient(theta, p, grad_theta, grad_p, grad_alpha, grad_beta)
    return result, state
