r"""What autograd keeps for the backward pass, counted in bytes.

Reverse-mode differentiation saves some of the forward pass's tensors until the backward pass
uses them. :class:`peak_saved_bytes` counts them through
:class:`torch.autograd.graph.saved_tensors_hooks`: a count that is the same on every run and every
allocator, unlike a reading of the process's memory. It is how the book compares backpropagation
through :math:`K` unrolled steps (memory linear in :math:`K`) with the reversible method of
:mod:`derived.reversible` (memory independent of :math:`K`).

``torch.func`` transforms refuse to run under these hooks; use :func:`torch.autograd.grad` inside.
"""

import weakref
from typing import Any

import torch


class _Saved:
    """A tensor held for the backward pass; its byte count is released when autograd drops it."""

    def __init__(self, tensor: torch.Tensor, meter: "peak_saved_bytes") -> None:
        self.tensor = tensor
        key = (tensor.untyped_storage().data_ptr(), tensor.device)
        meter._hold(key, tensor.untyped_storage().nbytes())
        weakref.finalize(self, meter._release, key)


class peak_saved_bytes:
    """Count the bytes autograd keeps for backward: ``with peak_saved_bytes() as m: ...; m.peak``.

    Installs :class:`torch.autograd.graph.saved_tensors_hooks` that record every tensor saved
    for the backward pass (each storage counted once) until autograd frees it. ``m.peak`` is the
    largest total held at any moment, a deterministic count that does not depend on the
    allocator; ``m.current`` is what is still held.
    """

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0
        self._held: dict[Any, list[int]] = {}

    def _hold(self, key: Any, nbytes: int) -> None:
        if key in self._held:
            self._held[key][0] += 1
            return
        self._held[key] = [1, nbytes]
        self.current += nbytes
        self.peak = max(self.peak, self.current)

    def _release(self, key: Any) -> None:
        entry = self._held[key]
        entry[0] -= 1
        if entry[0] == 0:
            self.current -= entry[1]
            del self._held[key]

    def __enter__(self) -> "peak_saved_bytes":
        self._hooks = torch.autograd.graph.saved_tensors_hooks(
            lambda t: _Saved(t, self), lambda saved: saved.tensor
        )
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.__exit__(*exc)
