r"""An MLP with residual connections, and its gradients written out by hand.

With :math:`y_0 = x` the network computes (page ``residual-mlp-backprop``)

.. math::

    y_1 = \sigma(A_1 x + b_1),

    y_\ell = \sigma(A_\ell y_{\ell-1} + b_\ell) + y_{\ell-1} \quad (\ell = 2, \dots, L-1),

    y_L = A_L y_{L-1} + b_L \in \mathbb{R},

with :math:`x \in \mathbb{R}^n`, :math:`A_1 \in \mathbb{R}^{m\times n}`,
:math:`A_\ell \in \mathbb{R}^{m\times m}` and :math:`A_L \in \mathbb{R}^{1\times m}`. With
``residual=False`` the skip term :math:`+\,y_{\ell-1}` is dropped: the plain MLP of the same shape.
In code the parameters are lists, ``A[ell - 1]`` holding :math:`A_\ell`; ``y[ell]`` holds
:math:`y_\ell`.
"""

import itertools
from collections.abc import Callable, Sequence

import torch

from derived import _validate

#: The activations :math:`\sigma` and their derivatives :math:`\sigma'`, by name.
ACTIVATIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], ...]] = {
    "tanh": (torch.tanh, lambda z: 1 - torch.tanh(z) ** 2),
    "relu": (torch.relu, lambda z: (z > 0).to(z.dtype)),
}


def _check(
    A: Sequence[torch.Tensor], b: Sequence[torch.Tensor], activation: str, residual: bool
) -> int:
    """Check the parameters of an L-layer network of width m; return m."""
    _validate.one_of("activation", activation, ACTIVATIONS)
    _validate.boolean("residual", residual)
    for name, params in (("A", A), ("b", b)):
        if not isinstance(params, list | tuple):
            raise TypeError(f"{name} must be a list of tensors, got {type(params).__name__}")
    if len(A) < 2:
        raise ValueError(f"A must hold L >= 2 matrices, got {len(A)}")
    if len(b) != len(A):
        raise ValueError(f"b must hold one vector per layer, {len(A)}, got {len(b)}")
    for ell, (A_l, b_l) in enumerate(zip(A, b, strict=True)):
        _validate.float_tensor(f"A[{ell}]", A_l)
        _validate.float_tensor(f"b[{ell}]", b_l)
        if A_l.dim() != 2 or b_l.shape != A_l.shape[:1]:
            raise ValueError(
                f"A[{ell}] and b[{ell}] must have shapes (out, in) and (out,), "
                f"got {tuple(A_l.shape)} and {tuple(b_l.shape)}"
            )
    m = A[0].shape[0]
    if A[-1].shape != (1, m):
        raise ValueError(
            f"A[-1] must have shape (1, m) = (1, {m}) (a scalar output), got {tuple(A[-1].shape)}"
        )
    for ell in range(1, len(A) - 1):
        _validate.has_shape(f"A[{ell}]", A[ell], (m, m))
    return m


def init_parameters(
    in_features: int,
    width: int,
    L: int,
    *,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    r"""Weights and biases drawn as :class:`torch.nn.Linear` draws them, on the CPU.

    Every entry of :math:`A_\ell` and :math:`b_\ell` is
    :math:`U[-1/\sqrt{n_{\ell-1}}, 1/\sqrt{n_{\ell-1}}]`, with :math:`n_{\ell-1}` the layer's
    fan-in.

    Args:
        in_features: :math:`n`, the size of :math:`x`.
        width: :math:`m`, the size of :math:`y_1, \dots, y_{L-1}`.
        L: the number of layers, :math:`L \ge 2`.
        generator: the source of randomness.
        dtype: the dtype of the parameters.

    Returns:
        The lists ``A`` and ``b``, of length :math:`L`.
    """
    _validate.positive_int("in_features", in_features)
    _validate.positive_int("width", width)
    if _validate.positive_int("L", L) < 2:
        raise ValueError(f"L must be at least 2, got {L}")
    _validate.generator("generator", generator)
    _validate.float_dtype("dtype", dtype)
    sizes = [in_features] + [width] * (L - 1) + [1]
    A, b = [], []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = fan_in**-0.5
        for shape, out in (((fan_out, fan_in), A), ((fan_out,), b)):
            u = torch.rand(shape, dtype=dtype, generator=generator)
            out.append((2 * u - 1) * bound)
    return A, b


def forward(
    x: torch.Tensor,
    A: Sequence[torch.Tensor],
    b: Sequence[torch.Tensor],
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> list[torch.Tensor]:
    r"""The activations :math:`y_0 = x, y_1, \dots, y_L`.

    Shape:
        ``x``: :math:`(n)`; output: :math:`L + 1` tensors, of shapes :math:`(n)`, :math:`(m)`, ...,
        :math:`(m)`, :math:`(1)`.
    """
    _validate.float_tensor("x", x)
    _check(A, b, activation, residual)
    _validate.has_shape("x", x, A[0].shape[1:])
    sigma = ACTIVATIONS[activation][0]
    y = [x, sigma(A[0] @ x + b[0])]
    for A_l, b_l in zip(A[1:-1], b[1:-1], strict=True):
        branch = sigma(A_l @ y[-1] + b_l)
        y.append(branch + y[-1] if residual else branch)
    y.append(A[-1] @ y[-1] + b[-1])
    return y


def hidden_stack(
    y_1: torch.Tensor,
    A: Sequence[torch.Tensor],
    b: Sequence[torch.Tensor],
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> torch.Tensor:
    r"""The map :math:`y_1 \mapsto y_{L-1}` of the hidden layers :math:`\ell = 2, \dots, L - 1`.

    ``A`` and ``b`` are the whole network's parameters; the first and last layers are not used.

    Shape:
        ``y_1``: :math:`(m)`; output: :math:`(m)`.
    """
    _validate.has_shape(
        "y_1", _validate.float_tensor("y_1", y_1), (_check(A, b, activation, residual),)
    )
    sigma = ACTIVATIONS[activation][0]
    y = y_1
    for A_l, b_l in zip(A[1:-1], b[1:-1], strict=True):
        branch = sigma(A_l @ y + b_l)
        y = branch + y if residual else branch
    return y


def layer_jacobian(
    y_prev: torch.Tensor,
    A_l: torch.Tensor,
    b_l: torch.Tensor,
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> torch.Tensor:
    r"""The hidden layer's Jacobian :math:`\partial y_\ell/\partial y_{\ell-1} = D_\ell A_\ell + I`.

    :math:`D_\ell = \operatorname{diag}(\sigma'(A_\ell y_{\ell-1} + b_\ell))`; without the
    residual connection the :math:`I` is absent (page equation ``residual-mlp-backprop-layer``).

    Shape:
        ``y_prev``: :math:`(m)`; ``A_l``: :math:`(m, m)`; ``b_l``: :math:`(m)`; output
        :math:`(m, m)`.
    """
    _validate.float_tensor("A_l", A_l)
    m = A_l.shape[0] if A_l.dim() else 0
    _validate.has_shape("A_l", A_l, (m, m))
    _validate.has_shape("y_prev", _validate.float_tensor("y_prev", y_prev), (m,))
    _validate.has_shape("b_l", _validate.float_tensor("b_l", b_l), (m,))
    _validate.boolean("residual", residual)
    slope = ACTIVATIONS[_validate.one_of("activation", activation, ACTIVATIONS)][1]
    D_A = slope(A_l @ y_prev + b_l)[:, None] * A_l
    if residual:
        return D_A + torch.eye(A_l.shape[0], dtype=A_l.dtype, device=A_l.device)
    return D_A


def output_gradients(
    x: torch.Tensor,
    A: Sequence[torch.Tensor],
    b: Sequence[torch.Tensor],
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> list[torch.Tensor]:
    r"""The row vectors :math:`\partial y_L/\partial y_\ell`, :math:`\ell = 1, \dots, L - 1`.

    :math:`\partial y_L/\partial y_{L-1} = A_L` and, going back,
    :math:`\partial y_L/\partial y_{\ell} = (\partial y_L/\partial y_{\ell+1})(D_{\ell+1}A_{\ell+1}
    + I)` (page equation ``residual-mlp-backprop-chain``).

    Returns:
        :math:`L - 1` tensors of shape :math:`(m)`; entry ``ell - 1`` is
        :math:`\partial y_L/\partial y_\ell`.
    """
    y = forward(x, A, b, activation=activation, residual=residual)
    L = len(A)
    g = [A[-1][0]]
    for ell in range(L - 1, 1, -1):  # the layers ell = L-1, ..., 2
        J = layer_jacobian(
            y[ell - 1], A[ell - 1], b[ell - 1], activation=activation, residual=residual
        )
        g.insert(0, g[0] @ J)
    return g


def parameter_gradients(
    x: torch.Tensor,
    A: Sequence[torch.Tensor],
    b: Sequence[torch.Tensor],
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    r"""The gradients :math:`\partial y_L/\partial A_\ell` and :math:`\partial y_L/\partial b_\ell`.

    For :math:`\ell < L`, with :math:`\delta_\ell = \sigma'(A_\ell y_{\ell-1} + b_\ell) \odot
    (\partial y_L/\partial y_\ell)^\top`:
    :math:`\partial y_L/\partial b_\ell = \delta_\ell` and
    :math:`\partial y_L/\partial A_\ell = \delta_\ell\, y_{\ell-1}^\top`; for the output layer
    :math:`\partial y_L/\partial b_L = 1` and :math:`\partial y_L/\partial A_L = y_{L-1}^\top`
    (page equations ``residual-mlp-backprop-b`` and ``residual-mlp-backprop-A``).

    Returns:
        The lists of gradients, each in the shape of its parameter, as ``.grad`` would hold them.
    """
    y = forward(x, A, b, activation=activation, residual=residual)
    g = output_gradients(x, A, b, activation=activation, residual=residual)
    slope = ACTIVATIONS[activation][1]
    grad_A, grad_b = [], []
    for ell in range(1, len(A)):
        delta = slope(A[ell - 1] @ y[ell - 1] + b[ell - 1]) * g[ell - 1]
        grad_b.append(delta)
        grad_A.append(torch.outer(delta, y[ell - 1]))
    grad_b.append(torch.ones_like(b[-1]))
    grad_A.append(y[-2][None, :].clone())
    return grad_A, grad_b


def hidden_jacobian(
    x: torch.Tensor,
    A: Sequence[torch.Tensor],
    b: Sequence[torch.Tensor],
    *,
    activation: str = "tanh",
    residual: bool = True,
) -> torch.Tensor:
    r"""The Jacobian of the hidden stack,
    :math:`\partial y_{L-1}/\partial y_1 = \prod_{\ell=L-1}^{2} (D_\ell A_\ell + I)`.

    The product of the :math:`L - 2` hidden layers' Jacobians, the last on the left; the identity
    for :math:`L = 2` (page ``residual-benefits``).

    Shape:
        output: :math:`(m, m)`.
    """
    y = forward(x, A, b, activation=activation, residual=residual)
    jacobian = torch.eye(y[1].shape[0], dtype=y[1].dtype, device=y[1].device)
    for ell in range(2, len(A)):
        J = layer_jacobian(
            y[ell - 1], A[ell - 1], b[ell - 1], activation=activation, residual=residual
        )
        jacobian = J @ jacobian
    return jacobian
