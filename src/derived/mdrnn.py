r"""The two-dimensional (multidimensional) RNN: the recurrence, its raster loop and its counts.

On an :math:`H \times W` grid with input :math:`x^{(i,j)} \in \mathbb{R}^D` (row :math:`i`,
column :math:`j`), one layer with :math:`k` hidden units computes (page equation ``mdrnn-cell``)

.. math::

    h^{(i,j)} = \tanh\big(W_{in}\, x^{(i,j)} + W_W\, h^{(i,j-1)} + W_N\, h^{(i-1,j)}\big),

with :math:`h = 0` outside the grid. :func:`raster` computes one cell per step; the wavefront
and the pipeline of :mod:`derived.mdrnn_wavefront` compute the same states in
:math:`H + W - 1` steps for one layer and :math:`H + W + d - 2` for :math:`d`.
"""

import torch
from torch import nn

from derived import _validate
from derived.mdrnn_wavefront import Evaluation, Weights, _check, pipelined, wavefront

METHODS = ("raster", "wavefront", "pipelined")


def preactivation(x: torch.Tensor, h: torch.Tensor, W_in, W_W, W_N) -> torch.Tensor:
    r"""The argument of tanh at every cell, given all hidden states: ``mdrnn-cell`` applied once.

    :math:`a^{(i,j)} = W_{in} x^{(i,j)} + W_W h^{(i,j-1)} + W_N h^{(i-1,j)}`. The hidden states of
    the layer are the solution of :math:`h = \tanh a(x, h)`.

    Shape:
        ``x``: :math:`(N, D, H, W)`; ``h`` and output: :math:`(N, k, H, W)`, the batch dimension
        :math:`N` broadcast between ``x`` and ``h``.
    """
    _check(x, W_in, W_W, W_N)
    n, _, height, width = x.shape
    shape = (n, W_W.shape[0], height, width)
    _validate.has_ndim("h", _validate.float_tensor("h", h), 4, "(N, k, H, W)")
    if h.shape[1:] != shape[1:] or len({n, h.shape[0]} - {1}) > 1:  # N broadcasts
        raise ValueError(f"h must have shape {shape} (N may be 1 in x or h), got {tuple(h.shape)}")
    west = torch.nn.functional.pad(h, (1, 0))[..., :, :-1]  # h^(i, j-1), zero at j = 0
    north = torch.nn.functional.pad(h, (0, 0, 1, 0))[..., :-1, :]  # h^(i-1, j), zero at i = 0
    mix = "kc,nchw->nkhw"
    return torch.einsum(mix, W_in, x) + torch.einsum(mix, W_W, west) + torch.einsum(mix, W_N, north)


def raster(x: torch.Tensor, W_in, W_W, W_N) -> Evaluation:
    r"""One layer, one cell at a time in raster order: :math:`HW` sequential steps.

    Shape:
        ``x``: :math:`(N, D, H, W)`; ``W_in``: :math:`(k, D)`; ``W_W``, ``W_N``: :math:`(k, k)`.
    """
    _check(x, W_in, W_W, W_N)
    n, _, height, width = x.shape
    zero = x.new_zeros(n, W_W.shape[0])
    cells: list[list[torch.Tensor]] = []
    schedule = torch.empty(height, width, dtype=torch.long)
    steps = 0
    for i in range(height):
        row: list[torch.Tensor] = []
        for j in range(width):
            west = row[j - 1] if j > 0 else zero
            north = cells[i - 1][j] if i > 0 else zero
            row.append(torch.tanh(x[:, :, i, j] @ W_in.T + west @ W_W.T + north @ W_N.T))
            schedule[i, j] = steps
            steps += 1
        cells.append(row)
    h = torch.stack([torch.stack(row, dim=-1) for row in cells], dim=-2)
    return Evaluation(h, steps, schedule)


def weight_count(input_size: int, hidden_size: int) -> int:
    r"""Weights of one layer, :math:`Dk + 2k^2` (page equation ``mdrnn-weights``)."""
    _validate.positive_int("input_size", input_size)
    _validate.positive_int("hidden_size", hidden_size)
    return input_size * hidden_size + 2 * hidden_size**2


class MDRNN(nn.Module):
    r"""A stack of :math:`d` MDRNN layers, :math:`D \to k \to \cdots \to k`, without biases.

    Args:
        input_size: :math:`D`.
        hidden_size: :math:`k`.
        d: number of layers.
        generator: draws the weights.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        d: int = 1,
        *,
        generator: torch.Generator,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        _validate.positive_int("input_size", input_size)
        _validate.positive_int("hidden_size", hidden_size)
        _validate.positive_int("d", d)
        _validate.generator("generator", generator)
        _validate.float_dtype("dtype", dtype)

        def draw(rows: int, cols: int) -> nn.Parameter:
            w = torch.randn(rows, cols, generator=generator, dtype=dtype) * cols**-0.5
            return nn.Parameter(w)

        self.W_in = nn.ParameterList(
            draw(hidden_size, input_size if ell == 0 else hidden_size) for ell in range(d)
        )
        self.W_W = nn.ParameterList(draw(hidden_size, hidden_size) for _ in range(d))
        self.W_N = nn.ParameterList(draw(hidden_size, hidden_size) for _ in range(d))

    def layers(self) -> list[Weights]:
        return list(zip(self.W_in, self.W_W, self.W_N, strict=True))

    def evaluate(self, x: torch.Tensor, *, method: str = "pipelined") -> Evaluation:
        """The last layer's hidden states and the sequential steps ``method`` took."""
        _validate.channels_first("x", x, "(N, D, H, W)", self.W_in[0].shape[1])
        _validate.one_of("method", method, METHODS)
        if method == "pipelined":
            return pipelined(x, self.layers())
        step = raster if method == "raster" else wavefront
        steps = 0
        for weights in self.layers():
            x, n, schedule = step(x, *weights)
            steps += n
        return Evaluation(x, steps, schedule + (steps - n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.evaluate(x).h

    def sequential_steps(self, height: int, width: int, *, method: str = "pipelined") -> int:
        """The steps ``method`` takes on an :math:`H \\times W` grid, counted by running it."""
        _validate.positive_int("height", height)
        _validate.positive_int("width", width)
        w = self.W_in[0]
        x = w.new_zeros(1, w.shape[1], height, width)
        with torch.no_grad():
            return self.evaluate(x, method=method).steps

    def connections(self, height: int, width: int) -> int:
        r"""Weighted (unit, unit) pairs: :math:`HW\,Dk + (2HW - H - W)k^2` for one layer.

        Every cell takes :math:`W_{in}`; the west link exists for :math:`H(W-1)` cells and the
        north link for :math:`(H-1)W` (page equation ``mdrnn-connections``).
        """
        _validate.positive_int("height", height)
        _validate.positive_int("width", width)
        total = 0
        for W_in, W_W, W_N in self.layers():
            total += W_in.numel() * height * width
            total += W_W.numel() * height * (width - 1) + W_N.numel() * (height - 1) * width
        return total
