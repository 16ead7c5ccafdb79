r"""Checker of page ``gated-rnn``: the reader's gradient :math:`\partial\ell/\partial W_x` of the
one-gate recurrent network, and whether its gradients can vanish or explode.

``dl_dW_x(x, c, delta)`` is run on random networks of growing size. Each network is run
forward by a loop written here from the page's equation ``gated-rnn-cell``; the gates
:math:`c[t]` come from that pass, the total derivatives :math:`\delta[t]` from autograd (the
derivative of the loss with respect to a zero offset added to :math:`h[t]`), and the answer is
compared with autograd's :math:`\partial\ell/\partial W_x`. For the choice, autograd measures on
seeded random networks how much of a gradient at the last step reaches earlier steps: with
gates near :math:`1/2` and a small :math:`W_h`, and with a large :math:`W_h` and
:math:`W_x`. The option is the one those measurements show.
"""

import itertools
from functools import cache
from typing import Any

import torch

from derived.checkers.slots import (
    PLACEHOLDER,
    Choice,
    Function,
    Malformed,
    Mistake,
    RaisedError,
)
from derived.checkers.verdict import Verdict
from derived.gated_rnn import input_weight_grad

PAGE = "gated-rnn"
SIZES = ("K", "m", "n")
#: Sequences and networks of growing size: K steps, m units, n inputs.
CASES = (
    *(
        dict(zip(SIZES, values, strict=True))
        for values in sorted(
            itertools.product([1, 2, 4], [1, 2, 3], [1, 2]), key=lambda v: (sum(v), v)
        )
    ),
    {"K": 10, "m": 5, "n": 3},
)


def forward(x, W_c, W_h, W_x, h0, probe):
    r""":math:`c[t] = \sigma(W_c x[t] + W_h h[t-1])`,
    :math:`h[t] = c[t] \odot h[t-1] + (1 - c[t]) \odot W_x x[t]`, plus ``probe[t]``."""
    h, gates, states = h0, [], []
    for t in range(len(x)):
        c = torch.sigmoid(W_c @ x[t] + W_h @ h)
        h = c * h + (1 - c) * (W_x @ x[t]) + probe[t]
        gates.append(c)
        states.append(h)
    return torch.stack(gates), torch.stack(states)


@cache
def network(K: int, m: int, n: int) -> dict[str, torch.Tensor]:
    r"""A case's inputs, gates, total derivatives and autograd's :math:`\partial\ell/\partial
    W_x`, for the loss :math:`\ell = \tfrac12 \sum_t \lVert h[t] - y[t] \rVert^2`."""
    generator = torch.Generator().manual_seed(CASES.index({"K": K, "m": m, "n": n}))

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    x, y, h0 = randn(K, n), randn(K, m), randn(m)
    W_c, W_h, W_x = randn(m, n), randn(m, m) / m**0.5, randn(m, n)
    W_x.requires_grad_()
    probe = torch.zeros(K, m, dtype=torch.float64, requires_grad=True)
    c, h = forward(x, W_c, W_h, W_x, h0, probe)
    delta, W_x_bar = torch.autograd.grad(0.5 * ((h - y) ** 2).sum(), (probe, W_x))
    return {"x": x, "c": c.detach(), "delta": delta, "dl_dW_x": W_x_bar}


def _run(f, case: dict[str, int]) -> Any:
    data = network(**case)
    return f(x=data["x"].clone(), c=data["c"].clone(), delta=data["delta"].clone())


def _read(output: Any) -> torch.Tensor:
    try:
        return torch.as_tensor(output, dtype=torch.float64).detach()
    except (TypeError, ValueError, RuntimeError):
        raise Malformed(f"your function returned {type(output).__name__}, not a tensor") from None


def _agree(yours: torch.Tensor, truth: torch.Tensor) -> bool:
    return yours.shape == truth.shape and torch.allclose(yours, truth, rtol=1e-9, atol=1e-12)


def _counterexample(case: dict[str, int], truth: torch.Tensor, yours: Any) -> str:
    K, m, n = (case[k] for k in SIZES)
    where = (
        f"For K = {K} step{'s' * (K > 1)}, m = {m} unit{'s' * (m > 1)} and n = {n} "
        f"input{'s' * (n > 1)} (network drawn with seed {CASES.index(case)})"
    )
    if isinstance(yours, RaisedError):
        return f"{where}, your function raised {yours}."
    if yours.shape != truth.shape:
        return (
            f"{where}, autograd's dl/dW_x has shape {tuple(truth.shape)}, your function "
            f"returns shape {tuple(yours.shape)}."
        )
    close = torch.isclose(yours, truth, rtol=1e-9, atol=1e-12)
    i, j = ((~close).nonzero()[0]).tolist()
    return (
        f"{where}: autograd gives dl/dW_x[{i}, {j}] = {truth[i, j].item():.6g} (counting from "
        f"0), your function gives {yours[i, j].item():.6g}."
    )


DL_DW_X = Function(
    name="dl_dW_x",
    form="a function dl_dW_x(x, c, delta) returning a tensor of shape (m, n), the shape of W_x",
    parameters=("x", "c", "delta"),
    cases=CASES,
    truth=lambda case: network(**case)["dl_dW_x"],
    run=_run,
    read=_read,
    agree=_agree,
    shape=lambda output: f"a tensor of shape {tuple(output.shape)}",
    counterexample=_counterexample,
    mistakes=(
        Mistake(
            "The gate summed to one number",
            lambda x, c, delta: torch.einsum("t,ti,tj->ij", (1 - c).sum(dim=1), delta, x),
            "The gate multiplies the candidate input elementwise: ∂h[t]/∂u[t] is a diagonal "
            "matrix, not a row vector. Which gates does unit i's gradient meet?",
        ),
        Mistake(
            "One step only",
            lambda x, c, delta: torch.outer(delta[-1] * (1 - c[-1]), x[-1]),
            "W_x is used at every step: how many paths lead from W_x to the loss?",
        ),
        Mistake(
            "The gate in place of one minus the gate",
            lambda x, c, delta: (delta * c).T @ x,
            "The gate keeps the old state; what fraction of u[t] = W_x x[t] does it let in?",
        ),
        Mistake(
            "Laid out as n × m",
            lambda x, c, delta: input_weight_grad(x, c, delta).T,
            "The gradient of the loss with respect to a weight has the shape of that weight "
            "here, as on the notation page: what shape is W_x?",
        ),
    ),
)

OPTIONS = ("neither", "vanishing", "exploding", "both")
#: Networks of each setting, their units and steps, and the step back at which to measure.
DRAWS, M, STEPS, BACK = 12, 8, 60, 40


def _reach(gate_bias: float, W_h_std: float, W_x_std: float, generator: torch.Generator):
    r""":math:`\lVert\delta[K-k]\rVert / \lVert\delta[K]\rVert` for :math:`k = 0, \dots,
    K-1`, by autograd, for a loss reading only :math:`h[K]`."""

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    ones = torch.ones(STEPS, 1, dtype=torch.float64)  # a constant input: the gate's bias
    x = torch.cat((ones, randn(STEPS, 2)), 1)
    W_c = torch.cat((torch.full((M, 1), gate_bias, dtype=torch.float64), 0.1 * randn(M, 2)), 1)
    W_h, W_x, g = W_h_std * randn(M, M), W_x_std * randn(M, 3), randn(M)
    probe = torch.zeros(STEPS, M, dtype=torch.float64, requires_grad=True)
    _, h = forward(x, W_c, W_h, W_x, torch.zeros(M, dtype=torch.float64), probe)
    (delta,) = torch.autograd.grad(h[-1] @ g, probe)
    return (delta.norm(dim=1) / delta[-1].norm()).flip(0)


@cache
def measurement() -> dict[str, float]:
    """The median gradient left after ``BACK`` steps with gates near 1/2 and a small
    ``W_h``, and the largest growth over the networks with a large ``W_h`` and ``W_x``."""
    generator = torch.Generator().manual_seed(0)
    small = torch.stack([_reach(0.0, 0.1 / M**0.5, 1.0, generator) for _ in range(DRAWS)])
    large = torch.stack([_reach(0.0, 16 / M**0.5, 4.0, generator) for _ in range(DRAWS)])
    return {
        "vanished": small[:, BACK].median().item(),
        "grew": large.max().item(),
        "networks": (large[:, 1:].amax(dim=1) > 1).sum().item(),
    }


def can() -> str:
    """What the measurement shows: a gradient shrunk a million-fold, one grown ten-fold."""
    found = measurement()
    vanishes, explodes = found["vanished"] < 1e-6, found["grew"] > 10
    return {(False, False): "neither", (True, False): "vanishing", (False, True): "exploding"}.get(
        (vanishes, explodes), "both"
    )


def evidence() -> str:
    found = measurement()
    return (
        f"Measured by autograd on random networks of {M} units run for {STEPS} steps, with a "
        f"loss that reads only the last state: with gates near 1/2 and a small W_h, the "
        f"gradient that reaches {BACK} steps back is a median {found['vanished']:.1e} of its "
        f"size at the last step; with a large W_h and W_x it grew in {found['networks']} of "
        f"{DRAWS} networks, by up to a factor {found['grew']:.0f}."
    )


GRADIENTS = Choice(
    name="gradients",
    form='"neither", "vanishing", "exploding" or "both"',
    options=OPTIONS,
    truth=can,
    evidence=evidence,
    mistakes=(
        Mistake(
            "Only vanishing",
            "vanishing",
            "Neither the sigmoid's slope nor a gate below 1 tells the whole story: besides "
            "diag(c), the step Jacobian ∂h[t]/∂h[t−1] has a term through the gate's dependence on "
            "h[t−1]. How large can that term be?",
        ),
        Mistake(
            "Neither, because the gate protects the gradient",
            "neither",
            "A gate near 1 carries the gradient back unchanged; what does a product of many gates "
            "near 1/2 do to it?",
        ),
    ),
)


def check(
    dl_dW_x: Any = PLACEHOLDER, gradients: Any = PLACEHOLDER, why: Any = PLACEHOLDER
) -> Verdict:
    r"""Check the answers of page ``gated-rnn``.

    Args:
        dl_dW_x: a function ``dl_dW_x(x, c, delta)`` returning :math:`\partial\ell/\partial
            W_x`, of shape :math:`(m, n)`, the shape of :math:`W_x`, from the inputs ``x``
            (:math:`(K, n)`, row :math:`t` is :math:`x[t]`), the gates ``c`` (:math:`(K, m)`)
            and the total derivatives ``delta`` (:math:`(K, m)`, row :math:`t` is
            :math:`\delta[t] = (\partial\ell/\partial h[t])^\top`, through every path).
        gradients: ``"neither"``, ``"vanishing"``, ``"exploding"`` or ``"both"``: which this
            network's gradients can suffer.
        why: your justification, in words; it is kept with the verdict, not graded.
    """
    return Verdict(PAGE, (DL_DW_X.check(dl_dW_x), GRADIENTS.check(gradients, justification=why)))


#: The slots, in the order :func:`check` takes them.
SLOTS = (DL_DW_X, GRADIENTS)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "dl_dW_x": input_weight_grad,
        "gradients": "both",
        "why": "the gates shrink it; the W_h term of the step Jacobian can exceed 1",
    }
