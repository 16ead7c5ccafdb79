r"""The longest chain of dependencies in a computation: a lower bound on its sequential steps.

A network is a set of units (every input and every hidden or output value) and a map that
recomputes each unit from the others. Unit :math:`u` *reads* unit :math:`v` when the Jacobian entry
:math:`\partial F_u / \partial z_v` is non-zero. With unlimited parallel hardware a unit can be
computed only after every unit it reads, so the number of sequential steps is at least the length
of the longest chain :math:`v_0 \to v_1 \to \dots \to v_L` in which each unit reads the one before;
computing every unit at its level

.. math::

    \ell(u) = 0 \ \text{if $u$ reads nothing}, \qquad
    \ell(u) = 1 + \max_{v:\ \partial F_u / \partial z_v \ne 0} \ell(v) \ \text{otherwise},

achieves it, so :math:`\max_u \ell(u)` is the minimum number of sequential steps. The dependencies
come from the Jacobian of the computation, not from the order in which a program evaluates it.
"""

from collections.abc import Callable, Sequence

import torch

from derived import _validate


def longest_chains(jacobian: torch.Tensor) -> torch.Tensor:
    r"""The level :math:`\ell(u)` of every unit: the length of the longest chain ending at it.

    Args:
        jacobian: :math:`\partial F / \partial z`, whose non-zero entry :math:`(u, v)` says that
            unit :math:`u` reads unit :math:`v`; the chains must not close into a cycle.

    Shape:
        ``jacobian``: :math:`(n, n)`; output: :math:`(n,)`, integers.

    Returns:
        :math:`\ell(u)`: 0 for a unit that reads nothing, otherwise one more than the largest
        level among the units it reads.
    """
    _validate.has_ndim("jacobian", _validate.float_tensor("jacobian", jacobian), 2, "(n, n)")
    n = jacobian.shape[0]
    if jacobian.shape != (n, n):
        raise ValueError(f"jacobian must be square, got shape {tuple(jacobian.shape)}")
    reads = (jacobian != 0).cpu()
    level = torch.zeros(n, dtype=torch.long)
    # Each sweep lengthens the chains found by one link; a chain has at most n - 1 links unless
    # the dependencies close into a cycle.
    for _ in range(n + 1):
        longest_read = torch.where(reads, level[None, :], -1).amax(dim=1)
        new = longest_read + 1
        if torch.equal(new, level):
            return level
        level = new
    raise ValueError("jacobian has a cycle of dependencies: no unit of the cycle can come first")


def stack_jacobian(
    layers: Sequence[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]],
    states: Sequence[torch.Tensor],
) -> torch.Tensor:
    r"""The Jacobian :math:`\partial F / \partial z` of one application of a stack of layers.

    The units are :math:`z = (h_0, h_1, \dots, h_d)`, the input :math:`h_0` and each layer's
    states, flattened in that order. :math:`F` leaves the input alone (it reads nothing) and
    recomputes layer :math:`l` as :math:`h_l \leftarrow f_l(h_{l-1}, h_l)`: a feed-forward layer
    ignores its second argument, a recurrent one reads its own states there.

    Args:
        layers: :math:`f_1, \dots, f_d`, each mapping (the layer below, the layer's own states)
            to new states of the layer's shape.
        states: :math:`h_0, \dots, h_d`, the point at which the Jacobian is taken (values in
            general position, so that no entry vanishes by accident).

    Shape:
        output :math:`(n, n)` with :math:`n = \sum_l` ``states[l].numel()``.
    """
    if not isinstance(layers, list | tuple) or not layers:
        raise TypeError(f"layers must be a non-empty list of functions, got {layers!r}")
    for ell, f in enumerate(layers):
        _validate.function(f"layers[{ell}]", f)
    if not isinstance(states, list | tuple):
        raise TypeError(f"states must be a list of tensors, got {type(states).__name__}")
    if len(states) != len(layers) + 1:
        raise ValueError(
            f"states must hold the input and one tensor per layer, {len(layers) + 1}, "
            f"got {len(states)}"
        )
    for ell, h in enumerate(states):
        _validate.float_tensor(f"states[{ell}]", h)
    shapes = [h.shape for h in states]
    sizes = [h.numel() for h in states]

    def update(z: torch.Tensor) -> torch.Tensor:
        h = [part.reshape(shape) for part, shape in zip(z.split(sizes), shapes, strict=True)]
        new = [torch.zeros_like(h[0])]  # the input reads nothing
        for ell, f in enumerate(layers):
            out = f(h[ell], h[ell + 1])
            if out.shape != shapes[ell + 1]:
                raise ValueError(
                    f"layers[{ell}] must return the shape of states[{ell + 1}], "
                    f"{tuple(shapes[ell + 1])}, got {tuple(out.shape)}"
                )
            new.append(out)
        return torch.cat([part.reshape(-1) for part in new])

    z = torch.cat([h.reshape(-1) for h in states])
    return torch.func.jacrev(update)(z)
