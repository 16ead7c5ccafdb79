r"""Checker of page ``conv1d-gradients``: the reader's forward pass, Jacobians and weight gradient
of a strided 1-D convolution without bias or padding.

The reader writes four functions of the input :math:`x \in \mathbb{R}^{C \times L}`, the filters
:math:`W \in \mathbb{R}^{F \times C \times K}` and the stride :math:`s`, for any sizes. Each is
run on the exercise's sizes first, then on a grid of sizes ordered from the smallest, and
compared in float64 with PyTorch's own convolution: ``F.conv1d`` for the forward pass,
autograd's gradient of each output entry of ``F.conv1d`` for the two Jacobians, and autograd's
vector-Jacobian product through ``F.conv1d`` for :math:`\partial\ell/\partial W`. No formula of
:mod:`derived.conv1d` takes part in the judgement.
"""

import itertools
from typing import Any

import torch
import torch.nn.functional as F

from derived import conv1d
from derived.checkers.slots import PLACEHOLDER, Function, Malformed, Mistake, RaisedError
from derived.checkers.verdict import Verdict

PAGE = "conv1d-gradients"
SIZES = ("C", "L", "F", "K", "stride")
EXERCISE = {"C": 2, "L": 5, "F": 1, "K": 3, "stride": 2}


def _cases() -> tuple[dict[str, int], ...]:
    grid = itertools.product([1, 2], [4, 7], [1, 2], [1, 3], [1, 2, 3])
    cases = [dict(zip(SIZES, values, strict=True)) for values in grid]
    return (EXERCISE, *sorted(cases, key=lambda c: (sum(c.values()), tuple(c.values()))))


#: The sizes the functions are run on, the exercise's first, then from the smallest.
CASES = _cases()


def draw(case: dict[str, int]) -> dict[str, torch.Tensor]:
    r"""The input :math:`x`, filters :math:`W` and upstream gradient :math:`g` of a case, drawn
    from a generator seeded by the case's position in ``CASES``."""
    generator = torch.Generator().manual_seed(CASES.index(case))
    C, L, F_, K, s = (case[k] for k in SIZES)
    out_length = (L - K) // s + 1
    x = torch.randn(C, L, dtype=torch.float64, generator=generator)
    W = torch.randn(F_, C, K, dtype=torch.float64, generator=generator)
    g = torch.randn(F_, out_length, dtype=torch.float64, generator=generator)
    return {"x": x, "W": W, "g": g}


def jacobian(f, v: torch.Tensor) -> torch.Tensor:
    """The Jacobian of ``f`` at ``v`` in numerator layout, one row per output entry, each by
    ``torch.autograd.grad`` (quicker to start than ``torch.func.jacrev`` on such small maps)."""
    v = v.clone().requires_grad_()
    out = f(v)
    rows = [torch.autograd.grad(entry, v, retain_graph=True)[0] for entry in out.reshape(-1)]
    return torch.stack(rows).reshape(*out.shape, *v.shape)


def autograd(slot: str, case: dict[str, int]) -> torch.Tensor:
    """A slot's answer on a case, from PyTorch's convolution and autograd."""
    data, s = draw(case), case["stride"]
    x, W, g = data["x"], data["W"], data["g"]
    if slot == "forward":
        return F.conv1d(x, W, stride=s)
    if slot == "weight_jacobian":
        return jacobian(lambda w: F.conv1d(x, w, stride=s), W)
    if slot == "input_jacobian":
        return jacobian(lambda v: F.conv1d(v, W, stride=s), x)
    W_leaf = W.clone().requires_grad_()
    # the vector-Jacobian product with g, as the gradient of the scalar <g, f>
    (dl_dW,) = torch.autograd.grad((g * F.conv1d(x, W_leaf, stride=s)).sum(), W_leaf)
    return dl_dW


class AnyLayout:
    """A known wrong answer whose numbers a reader may lay out in any order of the axes (and
    with or without axes of size 1): summed Jacobians are
    easily written 3 x 2 or 5 x 2."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor


def _same_up_to_layout(yours: torch.Tensor, known: torch.Tensor) -> bool:
    a, b = yours.squeeze(), known.squeeze()
    if a.numel() != b.numel() or a.dim() != b.dim():
        return False
    return any(
        torch.allclose(a.permute(order), b, rtol=1e-9, atol=1e-12)
        for order in itertools.permutations(range(a.dim()))
        if a.permute(order).shape == b.shape
    )


def _agree(yours: Any, truth: Any) -> bool:
    if isinstance(yours, AnyLayout):
        yours = yours.tensor
    if isinstance(truth, AnyLayout):
        return _same_up_to_layout(yours, truth.tensor)
    return yours.shape == truth.shape and torch.allclose(yours, truth, rtol=1e-9, atol=1e-12)


def _tensor(output: Any) -> Any:
    if isinstance(output, AnyLayout):
        return output
    try:
        tensor = torch.as_tensor(output, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise Malformed(f"your function returned {type(output).__name__}, not a tensor") from None
    return tensor.detach()


def _shape(output: Any) -> str:
    tensor = output.tensor if isinstance(output, AnyLayout) else output
    return f"a tensor of shape {tuple(tensor.shape)}"


def _counterexample(what: str):
    def counterexample(case: dict[str, Any], truth: torch.Tensor, yours: Any) -> str:
        C, L, F_, K, s = (case[k] for k in SIZES)
        where = (
            f"For C = {C} channel{'s' * (C > 1)}, L = {L}, F = {F_} filter{'s' * (F_ > 1)} of "
            f"size K = {K} and stride {s} (x and W drawn with seed {CASES.index(case)})"
        )
        if isinstance(yours, RaisedError):
            return f"{where}, your function raised {yours}."
        if isinstance(yours, AnyLayout):
            yours = yours.tensor
        if yours.shape != truth.shape:
            return (
                f"{where}, {what} has shape {tuple(truth.shape)}, but your function returns "
                f"shape {tuple(yours.shape)}."
            )
        close = torch.isclose(yours, truth, rtol=1e-9, atol=1e-12)
        index = tuple(i.item() for i in (~close).nonzero()[0])
        return (
            f"{where}: {what} has entry {list(index)} (counting from 0) equal to "
            f"{truth[index].item():.6g}, your function gives {yours[index].item():.6g}."
        )

    return counterexample


def _run(slot: str):
    def run(f, case: dict[str, Any]) -> Any:
        data = draw(case)
        if slot == "weight_grad":
            return f(x=data["x"], g=data["g"], kernel_size=case["K"], stride=case["stride"])
        return f(x=data["x"], W=data["W"], stride=case["stride"])

    return run


def _function(name: str, parameters: tuple[str, ...], form: str, what: str, mistakes) -> Function:
    return Function(
        name=name,
        form=form,
        parameters=parameters,
        cases=CASES,
        truth=lambda case: autograd(name, case),
        run=_run(name),
        read=_tensor,
        agree=_agree,
        shape=_shape,
        counterexample=_counterexample(what),
        mistakes=mistakes,
    )


def _stride_one(function):
    """``function`` with stride 1, cut to the outputs the strided layer has: windows j..j+K-1."""

    def answer(x, W, stride):
        out_length = (x.shape[-1] - W.shape[-1]) // stride + 1
        return function(x, W, stride=1)[:, :out_length]

    return answer


def _in_another_layout(function):
    def answer(**arguments):
        right = function(**arguments)
        return AnyLayout(right.permute(*reversed(range(right.dim()))))

    return answer


ANOTHER_LAYOUT = (
    "The right numbers in another layout",
    "Numerator layout puts the output's indices first, then the variable's, each group in the "
    "order its tensor is stored in: which axes come first, and in what order?",
)
STRIDE = "Output j starts its window s positions after output j − 1: where does window j start?"
SUMMED = (
    "Adding the rows of the different outputs gives the derivative of f₁ + f₂, one special "
    "upstream gradient, not the Jacobian. How many rows does a Jacobian have?"
)

FORWARD = _function(
    "forward",
    ("x", "W", "stride"),
    "a function forward(x, W, stride) returning f of shape (F, L')",
    "F.conv1d",
    (
        Mistake("The stride ignored", _stride_one(conv1d.conv1d), STRIDE),
        Mistake(
            "The kernel flipped",
            lambda x, W, stride: conv1d.conv1d(x, W.flip(-1), stride=stride),
            "The layer computes a cross-correlation, as PyTorch does: which tap of W meets the "
            "first position of the window?",
        ),
        Mistake(ANOTHER_LAYOUT[0], _in_another_layout(conv1d.conv1d), ANOTHER_LAYOUT[1]),
    ),
)

WEIGHT_JACOBIAN = _function(
    "weight_jacobian",
    ("x", "W", "stride"),
    "a function weight_jacobian(x, W, stride) returning ∂f/∂W of shape (F, L', F, C, K)",
    "∂f/∂W by autograd through F.conv1d",
    (
        Mistake(
            "The Jacobian summed over the outputs",
            lambda x, W, stride: AnyLayout(
                conv1d.weight_jacobian(x, W, stride=stride).sum(dim=(0, 1))
            ),
            SUMMED,
        ),
        Mistake("The stride ignored", _stride_one(conv1d.weight_jacobian), STRIDE),
        Mistake(ANOTHER_LAYOUT[0], _in_another_layout(conv1d.weight_jacobian), ANOTHER_LAYOUT[1]),
    ),
)

INPUT_JACOBIAN = _function(
    "input_jacobian",
    ("x", "W", "stride"),
    "a function input_jacobian(x, W, stride) returning ∂f/∂x of shape (F, L', C, L)",
    "∂f/∂x by autograd through F.conv1d",
    (
        Mistake(
            "The Jacobian summed over the outputs",
            lambda x, W, stride: AnyLayout(
                conv1d.input_jacobian(x, W, stride=stride).sum(dim=(0, 1))
            ),
            SUMMED,
        ),
        Mistake(
            "The stride ignored",
            _stride_one(conv1d.input_jacobian),
            "Row j holds the filter at the window of output j: how far apart are two windows?",
        ),
        Mistake(ANOTHER_LAYOUT[0], _in_another_layout(conv1d.input_jacobian), ANOTHER_LAYOUT[1]),
    ),
)


def _no_dilation(x, g, kernel_size, stride):
    r""":math:`\sum_j g[i, j]\, x[c, j + m]`: the upstream gradient's taps read adjacent inputs."""
    return conv1d.weight_grad(x[:, : g.shape[-1] + kernel_size - 1], g, kernel_size=kernel_size)


WEIGHT_GRAD = _function(
    "weight_grad",
    ("x", "g", "kernel_size", "stride"),
    "a function weight_grad(x, g, kernel_size, stride) returning the gradient of the loss "
    "with respect to W, of shape (F, C, K)",
    "the gradient by autograd through F.conv1d",
    (
        Mistake(
            "The stride not turned into a dilation",
            _no_dilation,
            "Output j read x[c, s·j + m]; in the sum over j for a fixed tap m, how far apart "
            "are the inputs that g[i, j] meets?",
        ),
        Mistake(
            "Summed over the channels",
            lambda x, g, kernel_size, stride: AnyLayout(
                conv1d.weight_grad(x, g, kernel_size=kernel_size, stride=stride).sum(dim=1)
            ),
            "The forward pass sums over the channels, but every channel has its own weights "
            "W[i, c, m]: what shape does the gradient of W have?",
        ),
        Mistake(
            ANOTHER_LAYOUT[0],
            _in_another_layout(
                lambda x, g, kernel_size, stride: conv1d.weight_grad(
                    x, g, kernel_size=kernel_size, stride=stride
                )
            ),
            "The gradient of a loss with respect to W has the shape of W, (F, C, K): in which "
            "order are its axes?",
        ),
    ),
)


def check(
    forward: Any = PLACEHOLDER,
    weight_jacobian: Any = PLACEHOLDER,
    input_jacobian: Any = PLACEHOLDER,
    weight_grad: Any = PLACEHOLDER,
) -> Verdict:
    r"""Check the answers of page ``conv1d-gradients``.

    Every function takes float64 tensors, ``x`` of shape :math:`(C, L)` and ``W`` of shape
    :math:`(F, C, K)`, and the stride :math:`s`, for any sizes with :math:`K \le L`; there is
    no padding, dilation or bias, and :math:`L' = \lfloor (L - K)/s \rfloor + 1`.

    Args:
        forward: ``forward(x, W, stride)`` returning
            :math:`f[i, j] = \sum_{c, m} W[i, c, m]\, x[c, sj + m]` (indices from 0), shape
            :math:`(F, L')`.
        weight_jacobian: ``weight_jacobian(x, W, stride)`` returning
            :math:`\partial f[i, j]/\partial W[i', c, m]`, numerator layout, shape
            :math:`(F, L', F, C, K)`.
        input_jacobian: ``input_jacobian(x, W, stride)`` returning
            :math:`\partial f[i, j]/\partial x[c, n]`, shape :math:`(F, L', C, L)`.
        weight_grad: ``weight_grad(x, g, kernel_size, stride)`` returning
            :math:`\partial\ell/\partial W` of shape :math:`(F, C, K)`, the shape of :math:`W`,
            from the upstream gradient ``g`` :math:`= \partial\ell/\partial f` of shape
            :math:`(F, L')`.
    """
    return Verdict(
        PAGE,
        (
            FORWARD.check(forward),
            WEIGHT_JACOBIAN.check(weight_jacobian),
            INPUT_JACOBIAN.check(input_jacobian),
            WEIGHT_GRAD.check(weight_grad),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (FORWARD, WEIGHT_JACOBIAN, INPUT_JACOBIAN, WEIGHT_GRAD)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "forward": lambda x, W, stride: conv1d.conv1d(x, W, stride=stride),
        "weight_jacobian": lambda x, W, stride: conv1d.weight_jacobian(x, W, stride=stride),
        "input_jacobian": lambda x, W, stride: conv1d.input_jacobian(x, W, stride=stride),
        "weight_grad": lambda x, g, kernel_size, stride: conv1d.weight_grad(
            x, g, kernel_size=kernel_size, stride=stride
        ),
    }
