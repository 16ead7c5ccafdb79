r"""The univariate LSTM without biases, and backpropagation through time written out by hand.

One unit, scalar input :math:`x^{(t)}`, gates in PyTorch's order :math:`(i, f, g, o)`
{cite}`hochreiter1997long`:

.. math::

    i^{(t)} = \sigma(w_{ix} x^{(t)} + w_{ih} h^{(t-1)}),\quad
    f^{(t)} = \sigma(w_{fx} x^{(t)} + w_{fh} h^{(t-1)}),

    g^{(t)} = \tanh(w_{gx} x^{(t)} + w_{gh} h^{(t-1)}),\quad
    o^{(t)} = \sigma(w_{ox} x^{(t)} + w_{oh} h^{(t-1)}),

.. math::

    c^{(t)} = f^{(t)} c^{(t-1)} + i^{(t)} g^{(t)}, \qquad h^{(t)} = o^{(t)} \tanh c^{(t)}.

A bar is the *total* derivative of the loss: :math:`\bar v = \partial L/\partial v`, through
every path. :func:`lstm_backward` computes the bars by the recursions of page ``lstm-bptt``
(equations ``lstm-bptt-h`` to ``lstm-bptt-gates`` and ``lstm-bptt-weights``), not by autograd.
The weights are the rows of ``torch.nn.LSTM(1, 1, bias=False)``, flattened.
"""

from typing import NamedTuple

import torch

from derived import _validate

#: The gates in PyTorch's order, the order of the rows of ``weight_ih`` and ``weight_hh``.
GATES = ("i", "f", "g", "o")
#: The quantities of one step, in the order of the rows of ``probe`` in :func:`lstm_forward`.
QUANTITIES = ("i", "f", "g", "o", "c", "h")


class LSTMTrace(NamedTuple):
    """What the forward pass keeps for the backward pass: every quantity at every step, (T,)."""

    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor
    c: torch.Tensor
    h: torch.Tensor


class LSTMGradients(NamedTuple):
    r"""The bars :math:`\bar v = \partial L/\partial v` of every quantity and weight."""

    h_bar: torch.Tensor  #: :math:`\bar h^{(t)}`, (T,)
    c_bar: torch.Tensor  #: :math:`\bar c^{(t)}`, (T,)
    i_bar: torch.Tensor  #: :math:`\bar\imath^{(t)}`, (T,)
    f_bar: torch.Tensor  #: :math:`\bar f^{(t)}`, (T,)
    g_bar: torch.Tensor  #: :math:`\bar g^{(t)}`, (T,)
    o_bar: torch.Tensor  #: :math:`\bar o^{(t)}`, (T,)
    x_bar: torch.Tensor  #: :math:`\bar x^{(t)}`, (T,)
    weight_ih_bar: torch.Tensor  #: :math:`(\bar w_{ix}, \bar w_{fx}, \bar w_{gx}, \bar w_{ox})`
    weight_hh_bar: torch.Tensor  #: :math:`(\bar w_{ih}, \bar w_{fh}, \bar w_{gh}, \bar w_{oh})`
    h0_bar: torch.Tensor  #: :math:`\bar h^{(0)}`, 0-d
    c0_bar: torch.Tensor  #: :math:`\bar c^{(0)}`, 0-d


def _check_inputs(
    x: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor, h0, c0
) -> tuple[torch.Tensor, torch.Tensor]:
    _validate.has_ndim("x", _validate.float_tensor("x", x), 1, "(T,)")
    _validate.has_shape("weight_ih", _validate.float_tensor("weight_ih", weight_ih), (4,))
    _validate.has_shape("weight_hh", _validate.float_tensor("weight_hh", weight_hh), (4,))
    start = []
    for name, value in (("h0", h0), ("c0", c0)):
        if value is None:
            value = torch.zeros((), dtype=x.dtype, device=x.device)
        start.append(_validate.has_shape(name, _validate.float_tensor(name, value), ()))
    return start[0], start[1]


def lstm_forward(
    x: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    *,
    h0: torch.Tensor | None = None,
    c0: torch.Tensor | None = None,
    probe: torch.Tensor | None = None,
) -> LSTMTrace:
    r"""Run the LSTM: :math:`c^{(t)} = f^{(t)} c^{(t-1)} + i^{(t)} g^{(t)}`,
    :math:`h^{(t)} = o^{(t)}\tanh c^{(t)}`.

    Args:
        x: the inputs :math:`x^{(1)}, \dots, x^{(T)}`.
        weight_ih: :math:`(w_{ix}, w_{fx}, w_{gx}, w_{ox})`.
        weight_hh: :math:`(w_{ih}, w_{fh}, w_{gh}, w_{oh})`.
        h0, c0: the initial state :math:`h^{(0)}, c^{(0)}` (0-d); zero by default.
        probe: offsets added to :math:`i, f, g, o, c, h` right after each is computed (zero
            offsets change nothing). The gradient of a loss with respect to ``probe`` is, by
            definition, the bars of those quantities, so autograd can check
            :func:`lstm_backward`.

    Shape:
        ``x``: :math:`(T,)`; ``weight_ih``, ``weight_hh``: :math:`(4,)`; ``probe``: :math:`(6, T)`,
        rows in the order of :data:`QUANTITIES`; every field of the result: :math:`(T,)`.
    """
    h_prev, c_prev = _check_inputs(x, weight_ih, weight_hh, h0, c0)
    T = x.shape[0]
    if probe is None:
        probe = torch.zeros(6, T, dtype=x.dtype, device=x.device)
    _validate.has_shape("probe", _validate.float_tensor("probe", probe), (6, T))
    steps = []
    for t in range(T):
        # The four pre-activations z = w_x x + w_h h, rows in the order i, f, g, o.
        z = weight_ih * x[t] + weight_hh * h_prev
        i = torch.sigmoid(z[0]) + probe[0, t]
        f = torch.sigmoid(z[1]) + probe[1, t]
        g = torch.tanh(z[2]) + probe[2, t]
        o = torch.sigmoid(z[3]) + probe[3, t]
        c = f * c_prev + i * g + probe[4, t]
        h = o * torch.tanh(c) + probe[5, t]
        steps.append(torch.stack((i, f, g, o, c, h)))
        h_prev, c_prev = h, c
    return LSTMTrace(*torch.stack(steps, dim=1))


def lstm_backward(
    trace: LSTMTrace,
    x: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    grad_h: torch.Tensor,
    *,
    h0: torch.Tensor | None = None,
    c0: torch.Tensor | None = None,
) -> LSTMGradients:
    r"""Backpropagation through time by the hand-derived recursions (page ``lstm-bptt``).

    .. math::

        \bar h^{(t)} = \frac{\partial L}{\partial h^{(t)}}\Big|_{\text{direct}}
            + \sum_{k\in\{i,f,g,o\}} \bar z_k^{(t+1)} w_{kh},

        \bar c^{(t)} = \bar h^{(t)} o^{(t)} (1 - \tanh^2 c^{(t)}) + \bar c^{(t+1)} f^{(t+1)},

    with :math:`\bar o = \bar h\tanh c`, :math:`\bar g = \bar c\, i`,
    :math:`\bar f = \bar c\, c^{(t-1)}`, :math:`\bar\imath = \bar c\, g`, the pre-activation bars
    :math:`\bar z_i = \bar\imath\, i(1-i)` (likewise :math:`f, o`) and
    :math:`\bar z_g = \bar g (1 - g^2)`, and :math:`\bar w_{kx} = \sum_t \bar z_k^{(t)} x^{(t)}`,
    :math:`\bar w_{kh} = \sum_t \bar z_k^{(t)} h^{(t-1)}`.

    Args:
        trace: :func:`lstm_forward` of the same inputs.
        x, weight_ih, weight_hh, h0, c0: as in :func:`lstm_forward`.
        grad_h: the direct derivative :math:`\partial L/\partial h^{(t)}|_\text{direct}` of the
            loss with respect to each output, through the loss alone; zero at the steps the loss
            does not read.

    Shape:
        ``grad_h``: :math:`(T,)`; see :class:`LSTMGradients` for the result.
    """
    h0, c0 = _check_inputs(x, weight_ih, weight_hh, h0, c0)
    T = x.shape[0]
    _validate.has_shape("grad_h", _validate.float_tensor("grad_h", grad_h), (T,))
    i, f, g, o, c, h = _validate.record("trace", trace, LSTMTrace, (T,))
    h_prev = torch.cat((h0.reshape(1), h[:-1]))
    c_prev = torch.cat((c0.reshape(1), c[:-1]))
    # Local derivative of each gate with respect to its pre-activation, rows i, f, g, o.
    slope = torch.stack((i * (1 - i), f * (1 - f), 1 - g**2, o * (1 - o)))
    bars = {name: torch.zeros_like(x) for name in ("h", "c", "i", "f", "g", "o")}
    z_bar = torch.zeros(4, T, dtype=x.dtype, device=x.device)
    h_from_next = torch.zeros((), dtype=x.dtype, device=x.device)
    c_from_next = torch.zeros((), dtype=x.dtype, device=x.device)
    for t in reversed(range(T)):
        # lstm-bptt-h: the direct loss term, plus every path through the gates of step t+1.
        h_bar = grad_h[t] + h_from_next
        # lstm-bptt-c: through h^(t) = o tanh c, and through c^(t+1) = f c^(t) + ...
        c_bar = h_bar * o[t] * (1 - torch.tanh(c[t]) ** 2) + c_from_next
        # lstm-bptt-gates
        gate_bar = torch.stack(
            (c_bar * g[t], c_bar * c_prev[t], c_bar * i[t], h_bar * torch.tanh(c[t]))
        )
        z_bar[:, t] = gate_bar * slope[:, t]
        for name, value in zip(bars, (h_bar, c_bar, *gate_bar), strict=True):
            bars[name][t] = value
        h_from_next = (z_bar[:, t] * weight_hh).sum()
        c_from_next = c_bar * f[t]
    return LSTMGradients(
        h_bar=bars["h"],
        c_bar=bars["c"],
        i_bar=bars["i"],
        f_bar=bars["f"],
        g_bar=bars["g"],
        o_bar=bars["o"],
        x_bar=weight_ih @ z_bar,
        # lstm-bptt-weights: each weight is shared by every step, so its bar sums over t.
        weight_ih_bar=z_bar @ x,
        weight_hh_bar=z_bar @ h_prev,
        h0_bar=h_from_next,
        c0_bar=c_from_next,
    )
