r"""A chain of scalar activations: the one-unit, :math:`n`-layer network of *Gradient flow*.

Every layer has one unit, weight 1 and no bias, so the network computes

.. math::

    h_0 = x, \qquad h_i = \phi(h_{i-1}) \quad (i = 1, \dots, n), \qquad f(x) = h_n,

and the chain rule gives its derivative as the product of the :math:`n` local derivatives,
each taken at its own pre-activation (page equations ``sigmoid-chain-rule``,
``tanh-chain-rule``):

.. math::

    f'(x) = \prod_{i=1}^{n} \phi'(h_{i-1}).

Since :math:`|\phi'| \le \max \phi'`, the derivative obeys :math:`|f'(x)| \le (\max\phi')^n`
(page equations ``sigmoid-bound`` and ``tanh-bound``).
"""

from collections.abc import Callable

import torch

from derived import _validate

#: The activations the chain supports, by name.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}

#: :math:`\sup_z \phi'(z)`, attained at :math:`z = 0`: :math:`\sigma'(0) = 1/4` and
#: :math:`\tanh'(0) = 1`.
MAX_DERIVATIVE: dict[str, float] = {"sigmoid": 1 / 4, "tanh": 1.0}

#: For tanh with :math:`x \ne 0`, :math:`h_i \approx \sqrt{3/(2i)}`, so
#: :math:`|f'(x)| \sim C(x)\, n^{-3/2}` (page equation ``tanh-decay``).
TANH_DECAY_EXPONENT = -3 / 2


def local_derivative(z: torch.Tensor, *, activation: str) -> torch.Tensor:
    r"""The derivative of the activation, :math:`\phi'(z)`, written through :math:`\phi` itself.

    :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))` and :math:`\tanh'(z) = 1 - \tanh^2(z)`.

    Args:
        z: pre-activations :math:`z`, any shape.
        activation: ``"sigmoid"`` or ``"tanh"``.

    Returns:
        :math:`\phi'(z)`, the shape of ``z``.
    """
    _validate.float_tensor("z", z)
    phi = ACTIVATIONS[_validate.one_of("activation", activation, ACTIVATIONS)]
    a = phi(z)
    return a * (1 - a) if activation == "sigmoid" else 1 - a**2


def pre_activations(x: torch.Tensor, n: int, *, activation: str) -> torch.Tensor:
    r"""The inputs :math:`h_0 = x, h_1, \dots, h_{n-1}` of the :math:`n` layers.

    Args:
        x: network inputs :math:`x`, any shape; each element is an independent network input.
        n: number of layers :math:`n \ge 1`.
        activation: ``"sigmoid"`` or ``"tanh"``.

    Shape:
        ``x``: :math:`(*)`; output: :math:`(n, *)`, row :math:`i` holds :math:`h_i`.
    """
    _validate.float_tensor("x", x)
    _validate.positive_int("n", n)
    phi = ACTIVATIONS[_validate.one_of("activation", activation, ACTIVATIONS)]
    h = [x]
    for _ in range(n - 1):
        h.append(phi(h[-1]))
    return torch.stack(h)


def chain(x: torch.Tensor, n: int, *, activation: str) -> torch.Tensor:
    r"""The network output :math:`f(x) = \phi(\phi(\cdots\phi(x)))`, :math:`n` times.

    Args:
        x: network inputs, any shape.
        n: number of layers :math:`n \ge 1`.
        activation: ``"sigmoid"`` or ``"tanh"``.

    Returns:
        :math:`f(x)`, the shape of ``x``.
    """
    h = pre_activations(x, n, activation=activation)
    return ACTIVATIONS[activation](h[-1])


def chain_derivative(x: torch.Tensor, n: int, *, activation: str) -> torch.Tensor:
    r"""The exact derivative :math:`f'(x) = \prod_{i=1}^{n} \phi'(h_{i-1})`.

    Page equations ``sigmoid-chain-rule`` and ``tanh-chain-rule``.

    Args:
        x: network inputs, any shape.
        n: number of layers :math:`n \ge 1`.
        activation: ``"sigmoid"`` or ``"tanh"``.

    Returns:
        :math:`f'(x)`, the shape of ``x``.
    """
    h = pre_activations(x, n, activation=activation)
    return local_derivative(h, activation=activation).prod(dim=0)


def derivative_bound(n: int, *, activation: str) -> float:
    r"""The bound :math:`|f'(x)| \le (\max\phi')^n`: :math:`(1/4)^n` for sigmoid, 1 for tanh.

    Args:
        n: number of layers :math:`n \ge 1`.
        activation: ``"sigmoid"`` or ``"tanh"``.
    """
    _validate.positive_int("n", n)
    return MAX_DERIVATIVE[_validate.one_of("activation", activation, ACTIVATIONS)] ** n


def tanh_iterate(i: torch.Tensor) -> torch.Tensor:
    r"""The asymptote :math:`|h_i| \approx \sqrt{3/(2i)}` of the tanh iterates (``tanh-iterate``).

    From :math:`h_{i} = \tanh h_{i-1} = h_{i-1} - h_{i-1}^3/3 + O(h^5)`, so that
    :math:`h_i^{-2} - h_{i-1}^{-2} \to 2/3`. It describes :math:`|h_i|` for large :math:`i` and any
    input :math:`x \ne 0` (tanh is odd, so the sign of :math:`x` is kept).

    Args:
        i: layer indices :math:`i \ge 1`, floating point, any shape.

    Returns:
        :math:`\sqrt{3/(2i)}`, the shape of ``i``.
    """
    _validate.float_tensor("i", i)
    if (i < 1).any():
        raise ValueError(f"i must be >= 1, got {i.min().item()}")
    return torch.sqrt(3 / (2 * i))
