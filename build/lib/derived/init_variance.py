r"""How the variance of a linear network's output depends on the weight initialisation.

For the network :math:`y_\ell = A_\ell y_{\ell-1} + b_\ell` (:math:`\ell = 1, \dots, L`,
:math:`y_0 = x`, widths :math:`n_0, \dots, n_L`) with independent, zero-mean weights and biases
of variances :math:`s_\ell^2` and :math:`t_\ell^2`, and an input with IID zero-mean, unit-variance
entries, every entry of :math:`y_\ell` has mean zero and variance

.. math::

    v_\ell = n_{\ell-1} s_\ell^2 \, v_{\ell-1} + t_\ell^2, \qquad v_0 = 1

(page equation ``default-init-variance-recursion``). PyTorch's default ``nn.Linear``
initialisation has :math:`s_\ell^2 = t_\ell^2 = 1/(3 n_{\ell-1})`, which gives the closed form

.. math::

    v_L = 3^{-L} + \sum_{k=0}^{L-1} \frac{1}{3^{L-k} n_k}

(page equation ``default-init-variance-closed-form``).
"""

import copy
import itertools
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from derived import _validate
from derived.rng import default_rng_from

#: The initialisations compared, by name. PyTorch's ``nn.Linear`` default, Glorot (Xavier)
#: uniform and He (Kaiming) normal for ReLU, both of the latter with zero biases.
INITS = ("default", "glorot", "he")


def _widths(widths: Sequence[int]) -> list[int]:
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence):
        raise TypeError(f"widths must be a sequence of ints, got {type(widths).__name__}")
    if len(widths) < 2:
        raise ValueError(f"widths must list at least n_0 and n_1, got {list(widths)}")
    return [_validate.positive_int("widths", n) for n in widths]


def weight_variance(fan_in: int, fan_out: int, *, init: str) -> float:
    r"""The variance :math:`s^2` of one weight of an ``(fan_out, fan_in)`` matrix.

    ``"default"``: :math:`U[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]`, variance :math:`1/(3 n_{in})`;
    ``"glorot"``: :math:`2/(n_{in} + n_{out})`; ``"he"``: :math:`2/n_{in}`.

    Args:
        fan_in: :math:`n_{\ell-1}`, the number of inputs of the layer.
        fan_out: :math:`n_\ell`, the number of outputs.
        init: one of :data:`INITS`.
    """
    _validate.positive_int("fan_in", fan_in)
    _validate.positive_int("fan_out", fan_out)
    init = _validate.one_of("init", init, INITS)
    return {"default": 1 / (3 * fan_in), "glorot": 2 / (fan_in + fan_out), "he": 2 / fan_in}[init]


def bias_variance(fan_in: int, *, init: str) -> float:
    r"""The variance :math:`t^2` of one bias: :math:`1/(3 n_{in})` by default, else 0.

    Args:
        fan_in: :math:`n_{\ell-1}`.
        init: one of :data:`INITS`.
    """
    _validate.positive_int("fan_in", fan_in)
    init = _validate.one_of("init", init, INITS)
    return 1 / (3 * fan_in) if init == "default" else 0.0


def output_variance(widths: Sequence[int], *, init: str = "default") -> list[float]:
    r"""The variances :math:`v_0 = 1, v_1, \dots, v_L` by the recursion.

    :math:`v_\ell = n_{\ell-1} s_\ell^2 v_{\ell-1} + t_\ell^2`
    (page equation ``default-init-variance-recursion``).

    Args:
        widths: :math:`(n_0, n_1, \dots, n_L)`.
        init: one of :data:`INITS`.

    Returns:
        the list :math:`[v_0, \dots, v_L]`, of length ``len(widths)``.
    """
    n = _widths(widths)
    v = [1.0]
    for fan_in, fan_out in itertools.pairwise(n):
        s2 = weight_variance(fan_in, fan_out, init=init)
        v.append(fan_in * s2 * v[-1] + bias_variance(fan_in, init=init))
    return v


def default_init_variance(widths: Sequence[int]) -> float:
    r"""The closed form :math:`\operatorname{Var}(y_L) = 3^{-L} + \sum_{k=0}^{L-1} 3^{-(L-k)}/n_k`.

    Page equation ``default-init-variance-closed-form``; :math:`n_L` does not enter.

    Args:
        widths: :math:`(n_0, n_1, \dots, n_L)`, so that :math:`L` = ``len(widths) - 1``.
    """
    n = _widths(widths)
    L = len(n) - 1
    return 3.0**-L + sum(1 / (3.0 ** (L - k) * n[k]) for k in range(L))


def linear_stack(
    widths: Sequence[int],
    *,
    generator: torch.Generator,
    init: str = "default",
    dtype: torch.dtype = torch.float64,
) -> nn.Sequential:
    r"""Freshly built ``nn.Linear`` layers :math:`n_0 \to n_1 \to \dots \to n_L`, no activation.

    ``"default"`` leaves each layer exactly as ``nn.Linear(n_in, n_out)`` initialises itself,
    with its random draws taken from ``generator``. ``"glorot"`` and ``"he"`` then overwrite the
    weights with ``nn.init.xavier_uniform_`` or ``nn.init.kaiming_normal_(nonlinearity="relu")``
    and set the biases to zero.

    Args:
        widths: :math:`(n_0, \dots, n_L)`.
        generator: a seeded CPU :class:`torch.Generator`, advanced by the draws.
        init: one of :data:`INITS`.
        dtype: of the parameters.
    """
    n = _widths(widths)
    init = _validate.one_of("init", init, INITS)
    _validate.float_dtype("dtype", dtype)
    with default_rng_from(generator):
        layers = [nn.Linear(a, b, dtype=dtype) for a, b in itertools.pairwise(n)]
    for layer in layers if init != "default" else []:
        if init == "glorot":
            nn.init.xavier_uniform_(layer.weight, generator=generator)
        else:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu", generator=generator)
        nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


def sample_outputs(
    widths: Sequence[int],
    *,
    num_networks: int,
    num_inputs: int,
    generator: torch.Generator,
    init: str = "default",
) -> torch.Tensor:
    r"""Outputs :math:`y_L` of freshly initialised networks on standard normal inputs (float64).

    Network :math:`j` is :func:`linear_stack` (a new draw of every weight and bias); it is fed
    ``num_inputs`` independent inputs :math:`x \sim \mathcal{N}(0, I_{n_0})`.

    Args:
        widths: :math:`(n_0, \dots, n_L)` with :math:`n_L = 1`.
        num_networks: the number of independently initialised networks.
        num_inputs: the number of inputs fed to each.
        generator: a seeded CPU :class:`torch.Generator`.
        init: one of :data:`INITS`.

    Shape:
        output: ``(num_networks, num_inputs)``; rows are independent, entries within a row share
        the network's weights.
    """
    n = _widths(widths)
    if n[-1] != 1:
        raise ValueError(f"widths must end with n_L = 1, got {n[-1]}")
    _validate.positive_int("num_networks", num_networks)
    _validate.positive_int("num_inputs", num_inputs)
    nets = [linear_stack(n, generator=generator, init=init) for _ in range(num_networks)]
    x = torch.randn(num_networks, num_inputs, n[0], dtype=torch.float64, generator=generator)
    # Run the networks as one batched ensemble: each network's own nn.Linear forward, vmapped.
    params, buffers = stack_module_state(nets)
    base = copy.deepcopy(nets[0]).to("meta")

    def forward(p: dict, b: dict, x: torch.Tensor) -> torch.Tensor:
        return functional_call(base, (p, b), (x,))

    with torch.no_grad():
        return vmap(forward)(params, buffers, x)[..., 0]
