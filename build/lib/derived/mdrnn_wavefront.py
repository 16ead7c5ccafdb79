r"""The MDRNN recurrence evaluated by anti-diagonal wavefronts, and stacked layers pipelined.

Cell :math:`(i, j)` of the recurrence of :mod:`derived.mdrnn` (page equation ``mdrnn-cell``) reads
only cells on the anti-diagonal :math:`i + j - 1`, so all cells of one anti-diagonal can be
computed at once: :math:`H + W - 1` sequential steps instead of :math:`HW`. Skewing the grid (row
:math:`i` moved right by :math:`i`) puts each anti-diagonal in one column, so a step is one batched
product. Stacked layers pipeline: cell :math:`(i, j)` of layer :math:`l` (from 0) is computed at
step :math:`i + j + l`, so :math:`d` layers take :math:`H + W + d - 2` steps (page equation
``mdrnn-pipeline``), the length of the longest chain of dependencies.
"""

from typing import NamedTuple

import torch

from derived import _validate

Weights = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class Evaluation(NamedTuple):
    """Hidden states :math:`(N, k, H, W)`, the sequential steps that made them, and the step
    (from 0) at which each cell of the last layer was computed, :math:`(H, W)`."""

    h: torch.Tensor
    steps: int
    schedule: torch.Tensor


def _check(x: torch.Tensor, W_in: torch.Tensor, W_W: torch.Tensor, W_N: torch.Tensor) -> None:
    _validate.has_ndim("x", _validate.float_tensor("x", x), 4, "(N, D, H, W)")
    _check_layer((W_in, W_W, W_N), x.shape[1], "x")


def _check_layer(weights: Weights, size: int, source: str, prefix: str = "") -> int:
    """Check one layer's ``(W_in, W_W, W_N)`` for inputs of ``size`` from ``source``; return k."""
    names = [f"{prefix}{name}" for name in ("W_in", "W_W", "W_N")]
    for name, w in zip(names, weights, strict=True):
        _validate.float_tensor(name, w)
    k = weights[1].shape[0] if weights[1].dim() else 0
    for name, w, shape in zip(names, weights, ((k, size), (k, k), (k, k)), strict=True):
        if w.shape != shape:
            raise ValueError(
                f"{name} must have shape {shape} for {names[1]} and {source}, got {tuple(w.shape)}"
            )
    return k


def _skew_index(height: int, width: int) -> torch.Tensor:
    """``index[i, j] = i + j``: cell (i, j) sits in column i + j of the skewed layout."""
    return torch.arange(height)[:, None] + torch.arange(width)[None, :]


def _diagonal(u: torch.Tensor, W_WN_T: torch.Tensor, prev, rows: tuple[int, int, int]):
    r"""Diagonal :math:`s` of one layer from diagonal :math:`s-1`: one batched product.

    A skewed column is :math:`(N, H, k)`, one row vector per cell. Only its rows ``lo:hi`` are
    cells of the grid; only they are computed (``u`` holds just those rows), and the others
    stay zero, like the padding. ``W_WN_T`` is :math:`[W_W\; W_N]^\top`; ``rows`` is
    ``(lo, hi, height)``.
    """
    lo, hi, height = rows
    if prev is not None:
        # In skewed coordinates (i, s = i + j) the west neighbour is (i, s-1) and the north one
        # (i-1, s-1): both in the previous column, the north one shifted down a row.
        west = prev[:, lo:hi]
        north = torch.nn.functional.pad(prev, (0, 0, 1, 0))[:, lo:hi]
        u = u + torch.cat([west, north], dim=-1) @ W_WN_T
    return torch.nn.functional.pad(torch.tanh(u), (0, 0, lo, height - hi))


def _skew(u: torch.Tensor) -> torch.Tensor:
    """``(N, H, W, k)`` to the skewed ``(N, H, H + W - 1, k)``: cell (i, j) to column i + j.

    Pad each row to length :math:`W + H` and reread the flat array with rows of length
    :math:`W + H - 1`: flat index :math:`i(W+H) + j = i(W+H-1) + (i+j)`.
    """
    n, height, width, k = u.shape
    flat = torch.nn.functional.pad(u, (0, 0, 0, height)).reshape(n, -1, k)
    return flat[:, : height * (width + height - 1)].reshape(n, height, -1, k)


def _unskew(h: torch.Tensor, width: int) -> torch.Tensor:
    """The skewed ``(N, H, S, k)``, :math:`S = H + W - 1`, back to ``(N, k, H, W)``."""
    n, height, columns, k = h.shape
    flat = torch.nn.functional.pad(h.reshape(n, -1, k), (0, 0, 0, height))
    return flat.reshape(n, height, columns + 1, k)[:, :, :width].permute(0, 3, 1, 2)


def pipelined(x: torch.Tensor, layers: list[Weights], *, pipeline: bool = True) -> Evaluation:
    r"""Stacked layers by anti-diagonal wavefronts on a skewed layout.

    Layer :math:`l` (from 0) computes its diagonal :math:`s` at step :math:`s + l` when
    ``pipeline``, so :math:`d` layers take :math:`H + W + d - 2` steps; otherwise each layer
    finishes before the next starts, :math:`d(H + W - 1)` steps. Every step reads only what
    earlier steps wrote.

    Args:
        x: inputs :math:`(N, D, H, W)`.
        layers: :math:`(W_{in}, W_W, W_N)` for each layer; layer :math:`l > 0` has input size
            :math:`k`.
    """
    _validate.has_ndim("x", _validate.float_tensor("x", x), 4, "(N, D, H, W)")
    _validate.boolean("pipeline", pipeline)
    if not isinstance(layers, list | tuple):
        raise TypeError(f"layers must be a list of (W_in, W_W, W_N), got {type(layers).__name__}")
    if len(layers) == 0:
        raise ValueError("layers must be a non-empty list of (W_in, W_W, W_N)")
    size, source = x.shape[1], "x"
    for ell, weights in enumerate(layers):
        if not isinstance(weights, list | tuple) or len(weights) != 3:
            raise TypeError(f"layers[{ell}] must be a tuple (W_in, W_W, W_N), got {weights!r}")
        size, source = _check_layer(weights, size, source, f"layers[{ell}] "), f"layer {ell}"
    _, _, height, width = x.shape
    columns = height + width - 1
    # The input products W_in x of the first layer, for all cells at once.
    u0 = _skew(torch.einsum("kd,ndhw->nhwk", layers[0][0], x))
    mixes = [torch.cat([W_W, W_N], dim=1).T for _, W_W, W_N in layers]
    done: list[list[torch.Tensor]] = [[] for _ in layers]
    when = torch.empty(columns, dtype=torch.long)  # the step of each diagonal, last layer
    d = len(layers)
    lag = 1 if pipeline else columns  # how many steps after layer l-1 layer l starts
    steps = 0
    for t in range(columns + lag * (d - 1)):
        new = {}
        for ell, (W_in, _, _) in enumerate(layers):
            s = t - lag * ell
            if not 0 <= s < columns:
                continue
            # Cell (i, s - i) is on the grid for max(0, s - W + 1) <= i <= min(H - 1, s).
            lo, hi = max(0, s - width + 1), min(height, s + 1)
            below = u0[:, lo:hi, s] if ell == 0 else done[ell - 1][s][:, lo:hi] @ W_in.T
            prev = done[ell][s - 1] if s else None
            new[ell] = _diagonal(below, mixes[ell], prev, (lo, hi, height))
        for ell, column in new.items():
            done[ell].append(column)
        if len(layers) - 1 in new:
            when[len(done[-1]) - 1] = steps
        steps += 1
    h = _unskew(torch.stack(done[-1], dim=2), width)
    return Evaluation(h, steps, when[_skew_index(height, width)])


def wavefront(x: torch.Tensor, W_in, W_W, W_N) -> Evaluation:
    """One layer by anti-diagonals: :math:`H + W - 1` sequential steps (``mdrnn-steps``)."""
    _check(x, W_in, W_W, W_N)
    return pipelined(x, [(W_in, W_W, W_N)])
