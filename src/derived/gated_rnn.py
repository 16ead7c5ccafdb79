r"""A recurrent network with one gate, and its backward pass written out by hand.

.. math::

    c[t] = \sigma(W_c x[t] + W_h h[t-1]), \qquad
    h[t] = c[t] \odot h[t-1] + (1 - c[t]) \odot W_x x[t],

with :math:`x[t] \in \mathbb{R}^n`, :math:`h[t], c[t] \in \mathbb{R}^m` and weights of shape
(out, in). The gate :math:`c[t]` decides, unit by unit, how much of the old state to keep and how
much of the new input :math:`u[t] = W_x x[t]` to let in. :func:`gated_rnn_backward` runs the
backward recursion of page ``gated-rnn`` (equations ``gated-rnn-delta`` and
``gated-rnn-weights``), not autograd; :func:`step_jacobian` is the numerator-layout Jacobian
:math:`\partial h[t]/\partial h[t-1]` (equation ``gated-rnn-jacobian``).
"""

from typing import NamedTuple

import torch

from derived import _validate


class GatedRNNTrace(NamedTuple):
    r"""What the forward pass keeps: :math:`c[t]`, :math:`u[t] = W_x x[t]` and :math:`h[t]`."""

    c: torch.Tensor  #: gates :math:`c[t]`, (T, m)
    u: torch.Tensor  #: candidate inputs :math:`u[t] = W_x x[t]`, (T, m)
    h: torch.Tensor  #: states :math:`h[t]`, (T, m)


class GatedRNNGradients(NamedTuple):
    r"""Total derivatives of the loss :math:`\ell`, each with the shape of its variable."""

    delta: torch.Tensor  #: :math:`\delta[t] = (\partial\ell/\partial h[t])^\top`, total, (T, m)
    x_bar: torch.Tensor  #: :math:`\partial\ell/\partial x[t]`, (T, n)
    W_c_bar: torch.Tensor  #: :math:`\partial\ell/\partial W_c`, (m, n)
    W_h_bar: torch.Tensor  #: :math:`\partial\ell/\partial W_h`, (m, m)
    W_x_bar: torch.Tensor  #: :math:`\partial\ell/\partial W_x`, (m, n)
    h0_bar: torch.Tensor  #: :math:`\partial\ell/\partial h[0]`, (m,)


def _check_inputs(x, W_c, W_h, W_x, h0) -> torch.Tensor:
    _validate.float_tensor("x", x)
    if x.dim() != 2:
        raise ValueError(f"x must have shape (T, n), got {tuple(x.shape)}")
    n = x.shape[1]
    m = _validate.float_tensor("W_h", W_h).shape[0]
    _validate.has_shape("W_h", W_h, (m, m))
    for name, W in (("W_c", W_c), ("W_x", W_x)):
        if _validate.float_tensor(name, W).shape != (m, n):
            raise ValueError(
                f"{name} must have shape (m, n) = {(m, n)} for W_h and x, got {tuple(W.shape)}"
            )
    if h0 is None:
        return torch.zeros(m, dtype=x.dtype, device=x.device)
    return _validate.has_shape("h0", _validate.float_tensor("h0", h0), (m,))


def gated_rnn_forward(
    x: torch.Tensor,
    W_c: torch.Tensor,
    W_h: torch.Tensor,
    W_x: torch.Tensor,
    *,
    h0: torch.Tensor | None = None,
    probe: torch.Tensor | None = None,
) -> GatedRNNTrace:
    r"""Run the network: :math:`h[t] = c[t]\odot h[t-1] + (1 - c[t])\odot W_x x[t]`.

    Args:
        x: inputs :math:`x[1], \dots, x[T]`, one per row.
        W_c: gate weights :math:`W_c`, applied to the input.
        W_h: gate weights :math:`W_h`, applied to the previous state.
        W_x: input weights :math:`W_x`.
        h0: the initial state :math:`h[0]`; zero by default.
        probe: offsets added to each :math:`h[t]` right after it is computed (zero offsets
            change nothing). The gradient of a loss with respect to ``probe`` is, by definition,
            the total derivative :math:`\delta[t]`, so autograd can check
            :func:`gated_rnn_backward`.

    Shape:
        ``x``: :math:`(T, n)`; ``W_c``, ``W_x``: :math:`(m, n)`; ``W_h``: :math:`(m, m)`;
        ``h0``: :math:`(m,)`; ``probe`` and every field of the result: :math:`(T, m)`.
    """
    h_prev = _check_inputs(x, W_c, W_h, W_x, h0)
    if probe is None:
        probe = torch.zeros(x.shape[0], h_prev.shape[0], dtype=x.dtype, device=x.device)
    _validate.has_shape("probe", _validate.float_tensor("probe", probe), (x.shape[0], len(h_prev)))
    u = x @ W_x.T  # u[t] = W_x x[t] does not depend on the state: all steps at once
    gates, states = [], []
    for t in range(x.shape[0]):
        c = torch.sigmoid(W_c @ x[t] + W_h @ h_prev)
        h_prev = c * h_prev + (1 - c) * u[t] + probe[t]
        gates.append(c)
        states.append(h_prev)
    return GatedRNNTrace(c=torch.stack(gates), u=u, h=torch.stack(states))


def step_jacobian(
    trace: GatedRNNTrace, W_h: torch.Tensor, *, h0: torch.Tensor | None = None
) -> torch.Tensor:
    r"""The Jacobians :math:`J[t] = \partial h[t]/\partial h[t-1]` in numerator layout.

    .. math::

        J[t] = \operatorname{diag}(c[t])
             + \operatorname{diag}\big((h[t-1] - u[t]) \odot c[t] \odot (1 - c[t])\big) W_h .

    Args:
        trace: :func:`gated_rnn_forward` of the network.
        W_h: the gate's recurrent weights.
        h0: the initial state, as given to the forward pass.

    Shape:
        output :math:`(T, m, m)`; ``J[t - 1]`` holds :math:`J[t]`, entries
        :math:`\partial h_i[t]/\partial h_j[t-1]`.
    """
    m = _validate.float_tensor("W_h", W_h).shape[0]
    _validate.has_shape("W_h", W_h, (m, m))
    _validate.instance("trace", trace, GatedRNNTrace)
    steps = len(
        _validate.has_ndim("trace.h", _validate.float_tensor("trace.h", trace.h), 2, "(T, m)")
    )
    c, u, h = _validate.record("trace", trace, GatedRNNTrace, (steps, m))
    if h0 is None:
        h0 = torch.zeros_like(h[0])
    _validate.has_shape("h0", _validate.float_tensor("h0", h0), (m,))
    h_prev = torch.cat((h0[None], h[:-1]))
    gain = (h_prev - u) * c * (1 - c)
    return torch.diag_embed(c) + gain[:, :, None] * W_h


def input_weight_grad(x: torch.Tensor, c: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    r""":math:`\partial\ell/\partial W_x = \sum_t \big(\delta[t] \odot (1 - c[t])\big)\, x[t]^\top`.

    Page equation ``gated-rnn-weights``: :math:`W_x` reaches :math:`h[t]` only through
    :math:`u[t] = W_x x[t]`, with :math:`\partial h[t]/\partial u[t] =
    \operatorname{diag}(1 - c[t])`, so each gate pairs with its own unit, and the steps add up
    because the weight is shared.

    Args:
        x: inputs :math:`x[1], \dots, x[T]`, one per row.
        c: gates :math:`c[t]`, one per row.
        delta: total derivatives :math:`\delta[t] = (\partial\ell/\partial h[t])^\top`, one
            per row, through every path (see :func:`gated_rnn_backward`).

    Shape:
        ``x``: :math:`(T, n)`; ``c``, ``delta``: :math:`(T, m)`; output: :math:`(m, n)`, the
        shape of :math:`W_x`.
    """
    _validate.has_ndim("x", _validate.float_tensor("x", x), 2, "(T, n)")
    _validate.has_ndim("c", _validate.float_tensor("c", c), 2, "(T, m)")
    if len(c) != len(x):
        raise ValueError(f"c must have one row per row of x, {len(x)}, got {len(c)}")
    if _validate.float_tensor("delta", delta).shape != c.shape:
        raise ValueError(
            f"delta must have the shape of c, {tuple(c.shape)}, got {tuple(delta.shape)}"
        )
    for name, v in (("c", c), ("delta", delta)):
        if v.dtype != x.dtype:
            raise TypeError(f"{name} must have the dtype of x, {x.dtype}, got {v.dtype}")
    return (delta * (1 - c)).T @ x


def gated_rnn_backward(
    trace: GatedRNNTrace,
    x: torch.Tensor,
    W_c: torch.Tensor,
    W_h: torch.Tensor,
    W_x: torch.Tensor,
    grad_h: torch.Tensor,
    *,
    h0: torch.Tensor | None = None,
) -> GatedRNNGradients:
    r"""The backward pass by hand: :math:`\delta[t] = e[t] + J[t+1]^\top\delta[t+1]`.

    With :math:`\bar a[t] = \delta[t]\odot(h[t-1] - u[t])\odot c[t]\odot(1 - c[t])` (the gate's
    pre-activation) and :math:`\bar u[t] = \delta[t]\odot(1 - c[t])`:

    .. math::

        \frac{\partial\ell}{\partial W_x} = \sum_t \bar u[t]\, x[t]^\top, \quad
        \frac{\partial\ell}{\partial W_c} = \sum_t \bar a[t]\, x[t]^\top, \quad
        \frac{\partial\ell}{\partial W_h} = \sum_t \bar a[t]\, h[t-1]^\top,

    and :math:`J[t]^\top\delta[t] = c[t]\odot\delta[t] + W_h^\top \bar a[t]`, so no Jacobian is
    formed.

    Args:
        trace: :func:`gated_rnn_forward` of the same inputs.
        x, W_c, W_h, W_x, h0: as in :func:`gated_rnn_forward`.
        grad_h: the direct derivatives :math:`e[t] = \partial\ell/\partial h[t]`, through the
            loss alone (zero at the steps the loss does not read).

    Shape:
        ``grad_h``: :math:`(T, m)`; see :class:`GatedRNNGradients` for the result.
    """
    h0 = _check_inputs(x, W_c, W_h, W_x, h0)
    c, u, h = _validate.record("trace", trace, GatedRNNTrace, (len(x), len(h0)))
    _validate.has_shape("grad_h", _validate.float_tensor("grad_h", grad_h), tuple(h.shape))
    h_prev = torch.cat((h0[None], h[:-1]))
    delta = torch.empty_like(h)
    a_bar = torch.empty_like(h)
    from_next = torch.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        # gated-rnn-delta: the direct term plus J[t+1]^T delta[t+1]
        delta[t] = grad_h[t] + from_next
        a_bar[t] = delta[t] * (h_prev[t] - u[t]) * c[t] * (1 - c[t])
        from_next = c[t] * delta[t] + W_h.T @ a_bar[t]
    # gated-rnn-weights: u[t] = W_x x[t] reaches h[t] through diag(1 - c[t]) only.
    u_bar = delta * (1 - c)
    return GatedRNNGradients(
        delta=delta,
        x_bar=a_bar @ W_c + u_bar @ W_x,
        W_c_bar=a_bar.T @ x,
        W_h_bar=a_bar.T @ h_prev,
        W_x_bar=input_weight_grad(x, c, delta),
        h0_bar=from_next,
    )
