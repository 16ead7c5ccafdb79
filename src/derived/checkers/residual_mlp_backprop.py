r"""Checker of page ``residual-mlp-backprop``: the reader's layer Jacobian
:math:`\partial y_\ell/\partial y_{\ell-1}`, the reader's backward pass for the gradients of
:math:`y_L` with respect to every :math:`A_\ell` and :math:`b_\ell`, and what a dead layer does to
the gradients of the layers before it.

Everything is decided by ``torch.autograd`` in float64 through a forward pass written here with
``torch`` operations alone (not the library's): the Jacobian of one residual layer by
``torch.autograd.functional.jacobian``, the parameter gradients by ``torch.autograd.grad`` of
:math:`y_L`, on networks drawn from seeded generators, smallest first. The dead-layer question is
settled by measuring those gradients in a network with :math:`A_4 = 0`, once as drawn and once
with a saturated second layer.
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
    Unanswered,
    kind_of,
    unanswered,
)
from derived.checkers.verdict import Verdict
from derived.residual_mlp import ACTIVATIONS
from derived.residual_mlp_backprop import layer_jacobian, parameter_gradients

PAGE = "residual-mlp-backprop"
SIGMA = {"tanh": torch.tanh, "relu": torch.relu}  #: the activations, independently of the library

#: One hidden layer each: width m, activation, seed; smallest first.
LAYER_CASES = (
    {"m": 1, "activation": "tanh", "seed": 0},
    {"m": 2, "activation": "tanh", "seed": 1},
    {"m": 3, "activation": "relu", "seed": 2},
    {"m": 4, "activation": "tanh", "seed": 3},
)
#: Whole networks: sizes n, m, L, activation, seed and a hidden layer whose weights are zeroed.
NETWORK_CASES = (
    {"n": 2, "m": 2, "L": 3, "activation": "tanh", "seed": 0, "zeroed": None},
    {"n": 2, "m": 3, "L": 4, "activation": "relu", "seed": 1, "zeroed": None},
    {"n": 3, "m": 2, "L": 5, "activation": "tanh", "seed": 2, "zeroed": None},
    {"n": 3, "m": 4, "L": 5, "activation": "relu", "seed": 3, "zeroed": 3},
    {"n": 5, "m": 4, "L": 6, "activation": "tanh", "seed": 4, "zeroed": None},
)


def draw_layer(m: int, activation: str, seed: int) -> dict[str, Any]:
    """The arguments of a hidden layer case: ``y_prev``, ``A_l``, ``b_l``, ``activation``."""
    generator = torch.Generator().manual_seed(seed)
    y_prev, A_l, b_l = torch.randn(m + m * m + m, dtype=torch.float64, generator=generator).split(
        [m, m * m, m]
    )
    return {"y_prev": y_prev, "A_l": A_l.reshape(m, m), "b_l": b_l, "activation": activation}


def draw_network(n, m, L, activation, seed, zeroed) -> dict[str, Any]:
    """The arguments of a network case: ``x``, ``A``, ``b``, ``activation``."""
    generator = torch.Generator().manual_seed(seed)
    sizes = [n] + [m] * (L - 1) + [1]
    A = [torch.randn(o, i, dtype=torch.float64, generator=generator) / i**0.5
         for i, o in itertools.pairwise(sizes)]  # fmt: skip
    b = [0.5 * torch.randn(o, dtype=torch.float64, generator=generator) for o in sizes[1:]]
    if zeroed is not None:
        A[zeroed - 1] = torch.zeros_like(A[zeroed - 1])
    x = torch.randn(n, dtype=torch.float64, generator=generator)
    return {"x": x, "A": A, "b": b, "activation": activation}


def y_L(x, A, b, activation: str) -> torch.Tensor:
    """The scalar output of the residual MLP, with torch operations only."""
    sigma = SIGMA[activation]
    y = sigma(A[0] @ x + b[0])
    for A_l, b_l in zip(A[1:-1], b[1:-1], strict=True):
        y = sigma(A_l @ y + b_l) + y
    return (A[-1] @ y + b[-1])[0]


def autograd_layer_jacobian(case: dict[str, Any]) -> torch.Tensor:
    args = draw_layer(**case)
    sigma = SIGMA[args["activation"]]
    return torch.autograd.functional.jacobian(
        lambda v: sigma(args["A_l"] @ v + args["b_l"]) + v, args["y_prev"]
    )


def autograd_gradients(case: dict[str, Any]) -> tuple[torch.Tensor, ...]:
    """Every :math:`\\partial y_L/\\partial A_\\ell`, then every :math:`\\partial y_L/\\partial
    b_\\ell`, by autograd."""
    args = draw_network(**case)
    A = [a.clone().requires_grad_() for a in args["A"]]
    b = [v.clone().requires_grad_() for v in args["b"]]
    return torch.autograd.grad(y_L(args["x"], A, b, args["activation"]), [*A, *b])


def _tensor(name: str, value: Any) -> torch.Tensor:
    if unanswered(value):
        raise Unanswered
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise Malformed(f"{name} must be a tensor of numbers, got {kind_of(value)}") from None


def run_layer(f, case: dict[str, Any]) -> tuple[torch.Tensor]:
    with torch.no_grad():
        return (_tensor("the Jacobian", f(**draw_layer(**case))),)


def run_network(f, case: dict[str, Any]) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        output = f(**draw_network(**case))
    if unanswered(output):
        raise Unanswered
    L = case["L"]
    if (
        not isinstance(output, tuple | list)
        or len(output) != 2
        or not all(isinstance(g, tuple | list) and len(g) == L for g in output)
    ):
        raise Malformed(
            f"your function returned {kind_of(output)}; return the pair (grad_A, grad_b) of "
            f"two lists of L = {L} tensors"
        )
    return tuple(_tensor("each gradient", g) for g in (*output[0], *output[1]))


def _agree(yours: tuple, truth: tuple) -> bool:
    return all(
        y.shape == t.shape and torch.allclose(y, t, rtol=1e-9, atol=1e-12)
        for y, t in zip(yours, truth, strict=True)
    )


def _shapes(output: tuple) -> str:
    return "tensors of shapes " + ", ".join(str(tuple(t.shape)) for t in output)


def _where(case: dict[str, Any]) -> str:
    if "L" in case:
        dead = f", A_{case['zeroed']} = 0" if case["zeroed"] else ""
        return (
            f"For the network with n = {case['n']}, m = {case['m']}, L = {case['L']}, "
            f"σ = {case['activation']}{dead} (parameters drawn with seed {case['seed']})"
        )
    return (
        f"For a hidden layer of width m = {case['m']} with σ = {case['activation']} "
        f"(y_prev, A_l and b_l drawn with seed {case['seed']})"
    )


def _counterexample(case: dict[str, Any], truth: tuple, yours: Any) -> str:
    where = _where(case)
    if isinstance(yours, RaisedError):
        return f"{where}, your function raised {yours}."
    L = case.get("L")
    for k, (t, y) in enumerate(zip(truth, yours, strict=True)):
        name = "the Jacobian" if L is None else f"∂y_L/∂{'Ab'[k // L]}_{k % L + 1}"
        if y.shape != t.shape:
            return f"{where}: {name} has shape {tuple(t.shape)}, yours {tuple(y.shape)}."
        if not torch.allclose(y, t, rtol=1e-9, atol=1e-12):
            i = (y - t).abs().argmax()
            index = tuple(int(j) for j in torch.unravel_index(i, t.shape))
            return (
                f"{where}: autograd gives {name}{list(index)} = {t.flatten()[i].item():.6g}, "
                f"yours {y.flatten()[i].item():.6g}."
            )
    raise AssertionError("nothing differs")  # only called on a failing case


def _layer(y_prev, A_l, b_l, activation, *, side="left", identity=True, at="z"):
    """A hidden layer's Jacobian, and with the options its known slips."""
    slope = ACTIVATIONS[activation][1](A_l @ y_prev + b_l if at == "z" else y_prev)
    D_A = slope[:, None] * A_l if side == "left" else A_l * slope[None, :]
    return D_A + torch.eye(len(b_l), dtype=A_l.dtype) if identity else D_A


LAYER_JACOBIAN = Function(
    name="layer_jacobian",
    form="a function layer_jacobian(y_prev, A_l, b_l, activation) returning the m × m matrix "
    "∂y_l/∂y_{l-1}",
    parameters=("y_prev", "A_l", "b_l", "activation"),
    cases=LAYER_CASES,
    truth=lambda case: (autograd_layer_jacobian(case),),
    run=run_layer,
    agree=_agree,
    counterexample=_counterexample,
    shape=_shapes,
    mistakes=(
        Mistake(
            "The skip connection left out",
            lambda y_prev, A_l, b_l, activation: _layer(
                y_prev, A_l, b_l, activation, identity=False
            ),
            "y_l depends on y_{l-1} through two paths. Differentiate both terms of y_l.",
        ),
        Mistake(
            "The slopes on the wrong side",
            lambda y_prev, A_l, b_l, activation: _layer(y_prev, A_l, b_l, activation, side="right"),
            "Unit i of the branch has one slope σ'(z_i) and depends on every input through row "
            "i of A_l: does the slope scale a row or a column of A_l?",
        ),
        Mistake(
            "σ' at the layer's input",
            lambda y_prev, A_l, b_l, activation: _layer(y_prev, A_l, b_l, activation, at="y"),
            "σ is applied to the pre-activation of this layer; where is its slope taken?",
        ),
    ),
)


def _backprop(x, A, b, activation, *, order="decreasing", identity=True, own_slope=True,
              transpose=False):  # fmt: skip
    """The parameter gradients, and with the options their known slips."""
    sigma, slope = ACTIVATIONS[activation]
    y, z = [x], []
    for ell, (A_l, b_l) in enumerate(zip(A[:-1], b[:-1], strict=True)):
        z.append(A_l @ y[-1] + b_l)
        y.append(sigma(z[-1]) + (y[-1] if ell else 0))
    # the factors D_j A_j + I of the hidden layers j = 2, ..., L - 1, at indices 1, ..., L - 2
    factors = [slope(z[j])[:, None] * A[j] + torch.eye(len(b[j]), dtype=x.dtype) * identity
               for j in range(1, len(A) - 1)]  # fmt: skip
    grad_A, grad_b = [], []
    for ell in range(len(A) - 1):
        g = A[-1][0]
        later = factors[ell:]
        for J in reversed(later) if order == "decreasing" else later:
            g = g @ J
        delta = slope(z[ell]) * g if own_slope else g
        grad_b.append(delta)
        grad_A.append(torch.outer(y[ell], delta) if transpose else torch.outer(delta, y[ell]))
    return [*grad_A, y[-1][None, :]], [*grad_b, torch.ones_like(b[-1])]


def _slip(**options):
    return lambda x, A, b, activation: _backprop(x, A, b, activation, **options)


PARAMETER_GRADIENTS = Function(
    name="parameter_gradients",
    form="a function parameter_gradients(x, A, b, activation) returning (grad_A, grad_b), two "
    "lists of L tensors, each in its parameter's shape",
    parameters=("x", "A", "b", "activation"),
    cases=NETWORK_CASES,
    truth=autograd_gradients,
    run=run_network,
    agree=_agree,
    counterexample=_counterexample,
    shape=_shapes,
    mistakes=(
        Mistake(
            "The layer Jacobians multiplied in the wrong order",
            _slip(order="increasing"),
            "The factors D_j A_j + I do not commute. Going back from y_L, which layer's factor "
            "meets A_L first?",
        ),
        Mistake(
            "The skip connections left out of the backward pass",
            _slip(identity=False),
            "Each hidden layer passes y_{l-1} on unchanged as well as through its branch. What "
            "does that add to the layer's Jacobian?",
        ),
        Mistake(
            "The layer's own slope missing",
            _slip(own_slope=False),
            "A_l and b_l reach y_l through σ: which factor does that add between ∂y_L/∂y_l and "
            "the parameters?",
        ),
        Mistake(
            "The outer product transposed",
            _slip(transpose=True),
            "The gradient of A_l has A_l's shape (out, in): entry (i, k) multiplies input k "
            "into unit i. Which vector gives the rows?",
        ),
    ),
)


@cache
def measurement() -> dict[str, float]:
    """The smallest norm of the gradient of one of layers 1 to 3 when :math:`A_4 = 0`, in the
    residual network as drawn and with a saturated layer 2 (:math:`b_2 = 10`), and in the plain
    network (no skip connections) as drawn."""
    args = draw_network(n=3, m=4, L=6, activation="tanh", seed=5, zeroed=4)
    saturated = [*args["b"][:1], torch.full_like(args["b"][1], 10.0), *args["b"][2:]]
    result = {}
    for name, b, residual in (("drawn", args["b"], True), ("saturated", saturated, True),
                              ("plain", args["b"], False)):  # fmt: skip
        A = [a.clone().requires_grad_() for a in args["A"]]
        y = torch.tanh(A[0] @ args["x"] + b[0])
        for A_l, b_l in zip(A[1:-1], b[1:-1], strict=True):
            y = torch.tanh(A_l @ y + b_l) + (y if residual else 0)
        grads = torch.autograd.grad((A[-1] @ y + b[-1])[0], A[:3])
        result[name] = min(g.norm().item() for g in grads)
    return result


def dead_layer_truth() -> str:
    found = measurement()
    if found["drawn"] == 0:
        return "zero"
    return "need not vanish" if found["saturated"] < 1e-6 else "no vanishing"


def dead_layer_evidence() -> str:
    found = measurement()
    return (
        f"Measured by autograd in a tanh network with n = 3, m = 4, L = 6 and A_4 = 0: the "
        f"smallest gradient norm of the weights of layers 1 to 3 is {found['drawn']:.3g} with "
        f"the skip connections and {found['plain']:.3g} without; with the skip connections and "
        f"b_2 = 10, which saturates layer 2, it is {found['saturated']:.3g}."
    )


DEAD_LAYER = Choice(
    name="dead_layer",
    form='"zero", "need not vanish" or "no vanishing"',
    options=("zero", "need not vanish", "no vanishing"),
    truth=dead_layer_truth,
    evidence=dead_layer_evidence,
    mistakes=(
        Mistake(
            "A dead layer's factor taken as zero",
            "zero",
            "That is the plain network. In the residual one, what is the factor D_j A_j + I when "
            "D_j A_j = 0?",
        ),
        Mistake(
            "Residual connections end all vanishing",
            "no vanishing",
            "A dead layer no longer cuts the gradient, but each layer's own gradient still "
            "carries that layer's slopes σ'(z_i). Can they be small?",
        ),
    ),
)


def check(
    layer_jacobian: Any = PLACEHOLDER,
    parameter_gradients: Any = PLACEHOLDER,
    dead_layer: Any = PLACEHOLDER,
    why: Any = PLACEHOLDER,
) -> Verdict:
    r"""Check the answers of page ``residual-mlp-backprop``.

    Args:
        layer_jacobian: a function ``layer_jacobian(y_prev, A_l, b_l, activation)`` returning
            :math:`\partial y_\ell/\partial y_{\ell-1}` of a hidden layer
            :math:`y_\ell = \sigma(A_\ell y_{\ell-1} + b_\ell) + y_{\ell-1}`, a tensor of shape
            :math:`(m, m)`; ``y_prev`` and ``b_l`` have shape :math:`(m)`, ``A_l`` shape
            :math:`(m, m)`, and ``activation`` is ``"tanh"`` or ``"relu"`` (the pair
            :math:`\sigma, \sigma'` is ``derived.residual_mlp.ACTIVATIONS[activation]``).
        parameter_gradients: a function ``parameter_gradients(x, A, b, activation)`` returning
            ``(grad_A, grad_b)``: two lists of :math:`L` tensors, :math:`\partial y_L/\partial
            A_\ell` of shape ``A[ell - 1].shape`` and :math:`\partial y_L/\partial b_\ell` of
            shape ``b[ell - 1].shape``; ``x`` has shape :math:`(n)`, ``A`` and ``b`` are lists
            of :math:`L` tensors, ``A[ell - 1]`` holding :math:`A_\ell`.
        dead_layer: ``"zero"``, ``"need not vanish"`` or ``"no vanishing"``: the gradients of
            layers :math:`i \le \ell` of the residual MLP when :math:`A_j = 0` for some hidden
            layer :math:`j > \ell`.
        why: your justification, in words; it is kept with the verdict, not graded.
    """
    return Verdict(
        PAGE,
        (
            LAYER_JACOBIAN.check(layer_jacobian),
            PARAMETER_GRADIENTS.check(parameter_gradients),
            DEAD_LAYER.check(dead_layer, justification=why),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (LAYER_JACOBIAN, PARAMETER_GRADIENTS, DEAD_LAYER)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "layer_jacobian": layer_jacobian,
        "parameter_gradients": parameter_gradients,
        "dead_layer": "need not vanish",
        "why": "the dead layer's factor is I, not 0, but each layer's own slopes remain",
    }
