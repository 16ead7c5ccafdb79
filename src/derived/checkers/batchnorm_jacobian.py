r"""Checker of page ``batchnorm-jacobian``: the diagonal entry :math:`\partial y_i/\partial x_i`
of batch normalization in training mode, as a formula, and the whole :math:`m \times m` Jacobian
of one feature, as a function.

Both are decided by autograd through PyTorch's own ``torch.nn.functional.batch_norm`` in float64,
never by the library's closed forms: the formula is evaluated exactly (by sympy) at points taken
from real batches, drawn from seeded generators, smallest batch first, whose statistics
:math:`\mu_B`, :math:`\sigma_B` and :math:`\hat x_i` are computed from the batch by
``torch.var_mean``; the function is run on the same batches and compared entry by entry with
``torch.autograd.functional.jacobian``.
"""

from functools import cache
from typing import Any

import torch
from torch.nn.functional import batch_norm

from derived.batch_norm import batch_norm_jacobian, jacobian_diagonal_entry
from derived.checkers.expression import Expression
from derived.checkers.slots import (
    PLACEHOLDER,
    Function,
    Malformed,
    Mistake,
    RaisedError,
    Unanswered,
    kind_of,
    unanswered,
)
from derived.checkers.verdict import Verdict

PAGE = "batchnorm-jacobian"
SYMBOLS = ("gamma", "m", "x_i", "mu_B", "sigma_B", "eps", "x_hat")
#: The batches: size m, epsilon, seed, the example i (1-based) and the sign of gamma.
BATCHES = (
    {"m": 2, "eps": 0.5, "seed": 0, "i": 1, "sign": 1},
    {"m": 3, "eps": 1e-5, "seed": 1, "i": 2, "sign": 1},
    {"m": 3, "eps": 0.25, "seed": 2, "i": 1, "sign": -1},
    {"m": 4, "eps": 1e-5, "seed": 3, "i": 3, "sign": 1},
    {"m": 5, "eps": 0.1, "seed": 4, "i": 5, "sign": 1},
    {"m": 8, "eps": 1e-3, "seed": 5, "i": 2, "sign": -1},
    {"m": 16, "eps": 1e-5, "seed": 6, "i": 7, "sign": 1},
)


def draw(m: int, eps: float, seed: int, i: int, sign: int) -> dict[str, Any]:
    """A batch of one feature, its :math:`\\gamma` and :math:`\\beta`, from its seed."""
    generator = torch.Generator().manual_seed(seed)
    x = 2 * torch.randn(m, dtype=torch.float64, generator=generator) + 1
    gamma = sign * (0.5 + 1.5 * torch.rand((), dtype=torch.float64, generator=generator))
    beta = torch.randn((), dtype=torch.float64, generator=generator)
    return {"x": x, "gamma": gamma.item(), "beta": beta.item(), "eps": eps, "i": i}


def torch_bn(x: torch.Tensor, gamma: float, beta: float, eps: float) -> torch.Tensor:
    """PyTorch's batch norm of one feature in training mode."""
    weight, bias = (torch.tensor([v], dtype=torch.float64) for v in (gamma, beta))
    return batch_norm(x[:, None], None, None, weight, bias, training=True, eps=eps)[:, 0]


@cache
def autograd_jacobian(m: int, eps: float, seed: int, i: int, sign: int) -> torch.Tensor:
    """The :math:`m \\times m` Jacobian of a batch, by autograd through ``F.batch_norm``."""
    b = draw(m, eps, seed, i, sign)
    return torch.autograd.functional.jacobian(
        lambda x: torch_bn(x, b["gamma"], b["beta"], eps), b["x"]
    )


def point(batch: dict[str, Any]) -> dict[str, float]:
    """The values of the symbols for example i of a batch, from ``torch.var_mean``."""
    b = draw(**batch)
    variance, mean = torch.var_mean(b["x"], correction=0)
    x_i = b["x"][batch["i"] - 1].item()
    s = (variance.item() + batch["eps"]) ** 0.5
    return {"gamma": b["gamma"], "m": batch["m"], "x_i": x_i, "mu_B": mean.item(),
            "sigma_B": variance.item() ** 0.5, "eps": batch["eps"],
            "x_hat": (x_i - mean.item()) / s}  # fmt: skip


POINTS = tuple(point(batch) for batch in BATCHES)


def _where(batch: dict[str, Any]) -> str:
    b = draw(**batch)
    values = ", ".join(f"{v:.4g}" for v in b["x"].tolist())
    return (
        f"For the batch x = ({values}) of m = {batch['m']} examples, with γ = {b['gamma']:.4g} "
        f"and ε = {batch['eps']:g}"
    )


def _diagonal_counterexample(at: dict[str, float], truth: float, yours: float) -> str:
    batch = BATCHES[POINTS.index(at)]
    i = batch["i"]
    stats = f"so μ_B = {at['mu_B']:.6g}, σ_B = {at['sigma_B']:.6g} and x̂_{i} = {at['x_hat']:.6g}"
    shown = "undefined" if yours != yours else f"{yours:.9g}"
    return (
        f"{_where(batch)}, {stats}: autograd through F.batch_norm gives ∂y_{i}/∂x_{i} = "
        f"{truth:.9g}, your expression {shown}."
    )


S = "sqrt(sigma_B**2 + eps)"
DIAGONAL = Expression(
    name="diagonal",
    form="an expression in gamma, m, x_i, mu_B, sigma_B, eps (and x_hat, if you like), such "
    'as "gamma * (x_i - mu_B) / (m * sigma_B)"',
    symbols=SYMBOLS,
    points=POINTS,
    truth=lambda at: autograd_jacobian(**BATCHES[POINTS.index(at)])[
        BATCHES[POINTS.index(at)]["i"] - 1, BATCHES[POINTS.index(at)]["i"] - 1
    ].item(),
    counterexample=_diagonal_counterexample,
    mistakes=(
        Mistake(
            "The batch statistics held constant",
            f"gamma / {S}",
            "μ_B and σ_B are computed from the batch, x_i included. Through which two quantities "
            "does x_i reach y_i besides the numerator?",
        ),
        Mistake(
            "The mean's dependence on x_i left out",
            f"gamma / {S} * (1 - x_hat**2 / m)",
            "You differentiated σ_B but not μ_B. What is ∂μ_B/∂x_i?",
        ),
        Mistake(
            "The variance's dependence on x_i left out",
            f"gamma / {S} * (1 - 1 / m)",
            "You differentiated μ_B but not σ_B. Differentiate 1/sqrt(σ_B² + ε) with respect to "
            "x_i as well.",
        ),
        Mistake(
            "The ½ of the square root lost",
            f"gamma / {S} * (1 - (1 + 2 * x_hat**2) / m)",
            "∂σ_B²/∂x_i = 2(x_i − μ_B)/m; what does the square root's derivative multiply it by?",
        ),
        Mistake(
            "ε left out of the scale",
            "gamma / sigma_B * (1 - 1 / m - (x_i - mu_B)**2 / (m * sigma_B**2))",
            "The forward pass divides by sqrt(σ_B² + ε), not by σ_B. Keep ε where it appears.",
        ),
    ),
)


def run_jacobian(f, batch: dict[str, Any]) -> torch.Tensor:
    b = draw(**batch)
    with torch.no_grad():
        output = f(x=b["x"].clone(), gamma=b["gamma"], eps=batch["eps"])
    if unanswered(output):
        raise Unanswered
    try:
        return torch.as_tensor(output, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise Malformed(f"your function returned {kind_of(output)}, not a matrix") from None


def _jacobian_counterexample(batch: dict[str, Any], truth: torch.Tensor, yours: Any) -> str:
    where = _where(batch)
    if isinstance(yours, RaisedError):
        return f"{where}, your function raised {yours}."
    if yours.shape != truth.shape:
        return f"{where}, the Jacobian has shape {tuple(truth.shape)}, yours {tuple(yours.shape)}."
    k = (yours - truth).abs().argmax()
    i, j = (int(v) + 1 for v in torch.unravel_index(k, truth.shape))
    return (
        f"{where}: autograd through F.batch_norm gives ∂y_{i}/∂x_{j} = "
        f"{truth.flatten()[k].item():.9g}, your function {yours.flatten()[k].item():.9g}."
    )


def _slip(mean: bool = True, variance: bool = True):
    """The Jacobian with the dependence of the mean or of the variance on x dropped."""

    def jacobian(x, gamma, eps):
        variance_B, mu_B = torch.var_mean(x, correction=0)
        s = torch.sqrt(variance_B + eps)
        x_hat, m = (x - mu_B) / s, len(x)
        J = torch.eye(m, dtype=x.dtype)
        J = J - torch.ones(m, m, dtype=x.dtype) / m if mean else J
        J = J - torch.outer(x_hat, x_hat) / m if variance else J
        return gamma / s * J

    return jacobian


JACOBIAN = Function(
    name="jacobian",
    form="a function jacobian(x, gamma, eps) returning the m × m matrix of ∂y_i/∂x_j",
    parameters=("x", "gamma", "eps"),
    cases=BATCHES,
    truth=lambda batch: autograd_jacobian(**batch),
    run=run_jacobian,
    counterexample=_jacobian_counterexample,
    agree=lambda yours, truth: (
        yours.shape == truth.shape and torch.allclose(yours, truth, rtol=1e-9, atol=1e-12)
    ),
    shape=lambda output: f"a tensor of shape {tuple(output.shape)}",
    mistakes=(
        Mistake(
            "The batch statistics held constant",
            _slip(mean=False, variance=False),
            "μ_B and σ_B are computed from the whole batch, so every x_j moves every y_i. "
            "Differentiate them too.",
        ),
        Mistake(
            "The mean's dependence on x_j left out",
            _slip(mean=False),
            "You differentiated σ_B but not μ_B. What is ∂μ_B/∂x_j?",
        ),
        Mistake(
            "The variance's dependence on x_j left out",
            _slip(variance=False),
            "You differentiated μ_B but not σ_B. Differentiate 1/sqrt(σ_B² + ε) with respect to "
            "x_j as well.",
        ),
    ),
)


def check(diagonal: Any = PLACEHOLDER, jacobian: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answers of page ``batchnorm-jacobian``.

    Args:
        diagonal: :math:`\partial y_i/\partial x_i = (\gamma/\sqrt{\sigma_B^2 + \epsilon})
            (1 - (1 + \hat x_i^2)/m)`, as an expression (a string, a sympy expression or a
            Python function of the symbols) in ``gamma``, ``m``, ``x_i``, ``mu_B``,
            ``sigma_B`` (the biased batch standard deviation), ``eps`` and, optionally,
            ``x_hat`` :math:`= (x_i - \mu_B)/\sqrt{\sigma_B^2 + \epsilon}`.
        jacobian: a function ``jacobian(x, gamma, eps)`` taking one feature's batch ``x`` of
            shape :math:`(m)`, :math:`\gamma` and :math:`\epsilon` (floats), and returning the
            :math:`m \times m` tensor of :math:`\partial y_i/\partial x_j`, :math:`i` the row.
    """
    return Verdict(PAGE, (DIAGONAL.check(diagonal), JACOBIAN.check(jacobian)))


#: The slots, in the order :func:`check` takes them.
SLOTS = (DIAGONAL, JACOBIAN)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "diagonal": lambda gamma, m, x_i, mu_B, sigma_B, eps, x_hat: jacobian_diagonal_entry(
            x_i, mu_B, sigma_B, m=m, weight=gamma, eps=eps
        ),
        "jacobian": lambda x, gamma, eps: batch_norm_jacobian(
            x[:, None], torch.tensor([gamma], dtype=x.dtype), eps=eps
        )[0],
    }
