"""Families of bad arguments: for one valid value, a strategy of values the callee must refuse.

Each family is a callable ``kind(valid) -> strategy``. A tensor family perturbs the valid tensor
(wrong dtype, NaN, inf, empty, a dimension more or less, a size off by one); a number family
draws from outside the valid range; every family also offers values of the wrong type.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st
from torch import nn

NAN, INF = float("nan"), float("inf")
# Values of a type no argument of the library accepts in place of a number, string or tensor.
STRANGERS = (object(), b"bytes", {"a": 1})


def _strangers(optional: bool) -> list:
    return [*STRANGERS] if optional else [None, *STRANGERS]


def _with(v: torch.Tensor, value: float):
    """Strategy: ``v`` with one entry, at a drawn position, replaced by ``value``."""

    def put(i: int) -> torch.Tensor:
        out = v.detach().clone()
        out.view(-1)[i] = value
        return out

    return st.integers(0, v.numel() - 1).map(put)


def _grow(v: torch.Tensor, dim: int) -> torch.Tensor:
    """``v`` with dimension ``dim`` one longer (its first slice repeated)."""
    return torch.cat([v, v.narrow(dim, 0, 1)], dim)


@dataclass(frozen=True)
class T:
    """A tensor argument.

    ``lead``: an extra leading dimension is wrong; ``drop``: one dimension fewer is wrong;
    ``grow``: the dimensions whose size is fixed by the other arguments; ``optional``: ``None``
    is valid.
    """

    lead: bool = True
    drop: bool = True
    grow: tuple[int, ...] | None = None  # None: every dimension
    optional: bool = False
    outside: float | None = None  # a finite entry out of the valid range

    def __call__(self, v: torch.Tensor):
        wrong = [v.tolist(), "tensor", 1.5, v.numpy(), *_strangers(self.optional)]
        wrong += [v.to(torch.int64), v.to(torch.complex128), v != 0]
        shapes = [v[:0] if v.dim() else v.new_empty(0)]
        if self.lead:
            shapes.append(torch.stack([v, v]))
        if self.drop and v.dim():
            shapes.append(v[0])
        if self.drop and v.dim() > 1:
            shapes.append(v.reshape(-1)[0])  # a scalar where an array is due
        grow = range(v.dim()) if self.grow is None else self.grow
        shapes += [_grow(v, d) for d in grow]
        values = [] if self.outside is None else [_with(v, self.outside)]
        return st.one_of(
            st.sampled_from(wrong + shapes),
            *values,
            _with(v, NAN),
            _with(v, INF),
            _with(v, -INF),
        )


@dataclass(frozen=True)
class Int:
    """An integer argument, valid from ``low``; ``extra``: other invalid integers."""

    low: int = 1
    extra: tuple[int, ...] = ()

    def __call__(self, v: int):
        wrong = [float(v), v + 0.5, True, str(v), torch.tensor(v), *self.extra]
        return st.one_of(
            st.integers(self.low - 10**6, self.low - 1), st.sampled_from(wrong + _strangers(False))
        )


@dataclass(frozen=True)
class Real:
    """A real argument, valid in the interval (``low``, ``high``), ends included if ``closed``."""

    low: float = -INF
    high: float = INF
    closed: tuple[bool, bool] = (True, True)
    extra: tuple = ()  # other invalid values

    def __call__(self, v: float):
        below = st.floats(max_value=self.low, exclude_max=self.closed[0], allow_nan=False)
        above = st.floats(min_value=self.high, exclude_min=self.closed[1], allow_nan=False)
        wrong = [NAN, INF, -INF, True, str(v), [v], complex(v, 1), *self.extra, *_strangers(False)]
        parts = [st.sampled_from(wrong)]
        parts += [below] if self.low > -INF else []
        parts += [above] if self.high < INF else []
        return st.one_of(parts)


@dataclass(frozen=True)
class Scalar:
    """A real number or a tensor of them that broadcasts against the other arguments."""

    extra: tuple = ()

    def __call__(self, v):
        tensors = [torch.tensor(NAN), torch.ones(3), torch.ones((), dtype=torch.complex128)]
        return st.one_of(Real(extra=self.extra)(v), st.sampled_from(tensors))


def penalty(v):
    """A positive number, or a 1-d tensor of them."""
    tensors = [torch.ones(2, 2), torch.tensor([1.0, -1.0]), torch.tensor([1.0, NAN])]
    tensors += [torch.tensor([1.0, INF]), torch.ones(2, dtype=torch.complex128)]
    return st.one_of(Real(0, closed=(False, True))(0.5), st.sampled_from(tensors))


def choice(v: str):
    """One of a set of names."""
    return st.sampled_from([v.upper() + "x", "", "nonsense", 1, *_strangers(False)])


def flag(v: bool):
    """A bool switch: nothing else is read as true or false."""
    return st.sampled_from(["yes", "", 1, 0, 1.0, *_strangers(False)])


def function(v):
    """A callable argument."""
    return st.sampled_from([3, "tanh", torch.ones(2), *_strangers(False)])


def functions(v):
    """A non-empty list of callables: not one callable, nor a list holding something else."""
    wrong = [[], v[0], "tanh", 3, [*v[:-1], 3], [*v[:-1], "tanh"], *_strangers(False)]
    return st.sampled_from(wrong)


def generator(v: torch.Generator | None):
    """A ``torch.Generator``; ``None`` where the default is ``None``."""
    return st.sampled_from([0, 12345, "seed", np.random.default_rng(0), *_strangers(v is None)])


def dtype(v):
    """A floating-point ``torch.dtype`` (``None``, PyTorch's default, is one)."""
    return st.sampled_from(
        [torch.int64, torch.bool, torch.complex128, "float64", float, *STRANGERS]
    )


def device(v):
    """A ``torch.device`` or its name; ``None`` is valid."""
    return st.sampled_from(["nonsense", "cpu:x", 1.5, [], *STRANGERS])


@dataclass(frozen=True)
class Ints:
    """A list (or tuple) of ints valid from ``low``, of ``size`` entries or more (``fixed``)."""

    low: int = 1
    size: int = 1
    fixed: bool = False

    def __call__(self, v):
        same = type(v)
        bad_entries = [self.low - 1, -5, 1.5, True, "2", None]
        wrong = [3, "3", torch.tensor(list(v)), *_strangers(False)]
        wrong += [same([*v[:-1], e]) for e in bad_entries]
        wrong += [same(v[: self.size - 1])] if self.size else []
        wrong += [same([*v, v[-1]])] if self.fixed else []
        return st.sampled_from(wrong)


@dataclass(frozen=True)
class Pair:
    """An int valid from ``low``, or a pair of them."""

    low: int = 1

    def __call__(self, v: int | tuple[int, int]):
        v = v[0] if isinstance(v, tuple) else v
        pairs = [(v, v, v), (v,), (v, self.low - 1), (1.5, v), (v, "2"), (v, None)]
        return st.one_of(Int(self.low)(v), st.sampled_from(pairs))


@dataclass(frozen=True)
class Tensors:
    """A list of tensors, each of the kind ``item``; ``length`` fixed or ``low`` at least."""

    item: T
    low: int = 1
    length: bool = False

    def __call__(self, v):
        v = list(v)
        wrong = [v[0], "A", 3, *_strangers(False)]
        wrong += [v[: self.low - 1]] + ([v + v[-1:]] if self.length else [])
        return st.one_of(
            st.sampled_from(wrong),
            st.integers(0, len(v) - 1).flatmap(
                lambda i: self.item(v[i]).map(lambda bad: [*v[:i], bad, *v[i + 1 :]])
            ),
        )


def module(v):
    """An ``nn.Module``."""
    return st.sampled_from([3, "module", nn.Linear(2, 2).weight, *_strangers(False)])


def paths(v):
    """A ``SplitTransformMerge``: another module is refused too."""
    return st.one_of(module(v), st.just(nn.Linear(2, 2)))


@dataclass(frozen=True)
class Record:
    """A NamedTuple of tensors from a forward pass: each field of the kind ``field``."""

    field: Callable

    def __call__(self, v):
        def bad_field(i: int):
            return self.field(v[i]).map(lambda bad: v._replace(**{v._fields[i]: bad}))

        return st.one_of(
            st.sampled_from([tuple(v), tuple(v)[:-1], "trace", *_strangers(False)]),
            st.integers(0, len(v) - 1).flatmap(bad_field),
        )


def integers_array(v: np.ndarray):
    """A 1-d object array of Python ints."""
    return st.sampled_from(
        [
            list(v),
            v.astype(np.float64),
            v[:-1],
            np.stack([v, v]),
            "v",
            *_strangers(False),
        ]
    )


def layers(v):
    """MDRNN layers: a list of ``(W_in, W_W, W_N)``, one weight of which may be bad."""
    bad_weight = st.integers(0, len(v) - 1).flatmap(
        lambda i: st.integers(0, 2).flatmap(
            lambda j: T()(v[i][j]).map(
                lambda w: [*v[:i], (*v[i][:j], w, *v[i][j + 1 :]), *v[i + 1 :]]
            )
        )
    )
    wrong = [[], 3, "layers", None, [v[0][:2]], [list(v[0]), v[0][0]], v[0]]
    return st.one_of(st.sampled_from(wrong), bad_weight)
