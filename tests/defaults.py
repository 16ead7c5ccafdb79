"""Run library code under another default device or dtype, as a reader's session may have."""

import contextlib
from collections.abc import Callable, Iterator

import torch


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    """torch's default dtype is ``dtype`` inside the block and restored after it."""
    saved = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


def assert_computed_where_the_inputs_live(run: Callable[[], list[torch.Tensor]]) -> None:
    """``run()`` gives the same CPU tensors again when torch's default device is ``meta``.

    A tensor the code builds without ``device=`` lands on ``meta``, which holds no data, and
    fails to mix with the CPU inputs. ``run`` takes inputs built before it is called.
    """
    expected = run()
    with torch.device("meta"):
        got = run()
    assert expected and len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.device.type == "cpu" and torch.equal(g, e)
