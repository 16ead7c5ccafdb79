r"""Checker of page ``momentum-jacobian-det``: the Jacobian of a momentum step, as a function of
the Hessian, and its determinant, as an expression in :math:`\beta` and :math:`D`.

Both are decided by autograd. On seeded cases, from the smallest, a non-quadratic objective
:math:`J` on :math:`\mathbb{R}^D` and a state :math:`s = (\theta, p)` are drawn; the step,
written here from its definition :math:`p' = \beta p - \alpha\nabla J(\theta)`,
:math:`\theta' = \theta + p'` with :math:`\nabla J` by ``torch.autograd.grad``, is
differentiated as a map of the stacked state by ``torch.autograd.functional.jacobian``. The
reader's Jacobian, given the Hessian that ``torch.autograd.functional.hessian`` computes at
:math:`\theta`, must equal autograd's; the reader's determinant must equal ``torch.linalg.det``
of autograd's Jacobian at every point :math:`(\beta, D)` checked, each with its own
:math:`\alpha`, :math:`J` and state.
"""

from functools import cache
from typing import Any

import torch
from torch.autograd.functional import hessian, jacobian

from derived.checkers.expression import Expression
from derived.checkers.slots import PLACEHOLDER, Function, Malformed, Mistake, RaisedError
from derived.checkers.verdict import Verdict
from derived.reversible import momentum_jacobian, momentum_jacobian_slogdet

PAGE = "momentum-jacobian-det"
#: The Jacobians compared, smallest first: dimension, step sizes, and the seed of J and s.
CASES = (
    {"D": 1, "alpha": 0.3, "beta": 0.9, "seed": 0},
    {"D": 2, "alpha": 0.1, "beta": 0.5, "seed": 1},
    {"D": 3, "alpha": 0.2, "beta": -0.7, "seed": 2},
    {"D": 6, "alpha": 0.05, "beta": 0.99, "seed": 3},
)
#: The points (β, D) of the determinant, smallest first; a negative β with an odd D, a β > 1.
POINTS = (
    {"beta": 0.5, "D": 1},
    {"beta": 0.5, "D": 2},
    {"beta": -0.75, "D": 3},
    {"beta": 1.5, "D": 2},
    {"beta": 0.9, "D": 4},
    {"beta": -0.6, "D": 5},
)


def objective(A: torch.Tensor, b: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    r""":math:`J(\theta) = \sum_i \log\cosh(a_i^\top\theta - b_i) + \tfrac14\sum_j\theta_j^4`:
    not quadratic, so that its Hessian differs from point to point."""
    return torch.log(torch.cosh(A @ theta - b)).sum() + 0.25 * (theta**4).sum()


@cache
def _problem(D: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""The objective's data :math:`A, b` and the state :math:`s = (\theta, p)` of a case."""
    generator = torch.Generator().manual_seed(seed)
    draw = torch.randn((D + 2) * (D + 1) + 2 * D, generator=generator, dtype=torch.float64)
    A = draw[: (D + 2) * D].reshape(D + 2, D) / D**0.5
    b, s = draw[(D + 2) * D : (D + 2) * (D + 1)], draw[(D + 2) * (D + 1) :]
    return A, b, s


def gradient(A: torch.Tensor, b: torch.Tensor):
    r""":math:`\nabla J` by ``torch.autograd.grad``, differentiable again (``create_graph``)."""

    def grad_J(theta: torch.Tensor) -> torch.Tensor:
        if not theta.requires_grad:
            theta = theta.detach().requires_grad_()
        (grad,) = torch.autograd.grad(objective(A, b, theta), theta, create_graph=True)
        return grad

    return grad_J


def step(A: torch.Tensor, b: torch.Tensor, alpha: float, beta: float):
    r"""The momentum step as a map of the stacked state :math:`s = (\theta, p)`, from the
    exercise's definition, with :math:`\nabla J` by autograd."""
    grad_J = gradient(A, b)

    def f(s: torch.Tensor) -> torch.Tensor:
        D = s.numel() // 2
        theta, p = s[:D], s[D:]
        p_next = beta * p - alpha * grad_J(theta)
        return torch.cat([theta + p_next, p_next])

    return f


@cache
def autograd_jacobian(D: int, alpha: float, beta: float, seed: int) -> torch.Tensor:
    r""":math:`\partial s'/\partial s` of the step at the case's state, by
    ``torch.autograd.functional.jacobian``."""
    A, b, s = _problem(D, seed)
    return jacobian(step(A, b, alpha, beta), s)


@cache
def autograd_hessian(D: int, seed: int) -> torch.Tensor:
    r""":math:`\nabla^2 J(\theta)` at the case's :math:`\theta`, by
    ``torch.autograd.functional.hessian``."""
    A, b, s = _problem(D, seed)
    return hessian(lambda theta: objective(A, b, theta), s[:D])


def alpha_at(point: dict[str, Any]) -> float:
    r"""The learning rate of a determinant point: it varies with :math:`D`, since the
    determinant must not depend on it."""
    return 0.05 + 0.1 * point["D"]


@cache
def autograd_det(beta: float, D: int) -> float:
    r"""``torch.linalg.det`` of autograd's Jacobian of the step, at a random state."""
    point = {"beta": beta, "D": D}
    return torch.linalg.det(autograd_jacobian(D, alpha_at(point), beta, 10 + D)).item()


def run_on_hessian(f: Any, case: dict[str, Any]) -> Any:
    """``f`` given a copy of the case's Hessian, so that it may change it in place."""
    hessian = autograd_hessian(case["D"], case["seed"])
    return f(hessian=hessian.clone(), alpha=case["alpha"], beta=case["beta"])


def _read(output: Any) -> torch.Tensor:
    try:
        matrix = torch.as_tensor(output, dtype=torch.float64).detach()
    except (TypeError, ValueError, RuntimeError):
        shown = repr(output) if len(repr(output)) < 60 else f"a {type(output).__name__}"
        raise Malformed(f"your function returned {shown}; return a matrix of numbers") from None
    return matrix


def _shape(output: torch.Tensor) -> str:
    return f"a matrix of shape {tuple(output.shape)}"


def _agree(yours: torch.Tensor, truth: torch.Tensor) -> bool:
    return yours.shape == truth.shape and torch.allclose(yours, truth, rtol=1e-10, atol=1e-12)


def _matrix(m: torch.Tensor) -> str:
    return "[" + "; ".join(", ".join(f"{x + 0.0:.6g}" for x in row) for row in m.tolist()) + "]"


BLOCKS = {(0, 0): "∂θ'/∂θ", (0, 1): "∂θ'/∂p", (1, 0): "∂p'/∂θ", (1, 1): "∂p'/∂p"}


def _jacobian_counterexample(case: dict[str, Any], truth: torch.Tensor, yours: Any) -> str:
    D, alpha, beta = case["D"], case["alpha"], case["beta"]
    where = f"For D = {D}, alpha = {alpha}, beta = {beta} (J and θ drawn with seed {case['seed']})"
    if isinstance(yours, RaisedError):
        return f"{where}, your function raised {yours}."
    if yours.shape != truth.shape:
        return f"{where}, your function returns {_shape(yours)}, not {_shape(truth)}."
    if D == 1:
        hessian = autograd_hessian(D, case["seed"]).item()
        return (
            f"{where}: at the Hessian {hessian:.6g}, autograd's Jacobian of the step is "
            f"{_matrix(truth)}, your function gives {_matrix(yours)}."
        )
    gaps = (yours - truth).abs().nan_to_num(nan=float("inf")).reshape(2, D, 2, D)
    block = max(BLOCKS, key=lambda ij: gaps[ij[0], :, ij[1], :].max().item())
    gap = gaps[block[0], :, block[1], :].max().item()
    return (
        f"{where}: your Jacobian differs from autograd's by {gap:.3g} in the block "
        f"{BLOCKS[block]} (the largest difference of an entry)."
    )


def _blocks(hessian, alpha, beta, top_left, top_right, bottom_left, bottom_right):
    """The 2 x 2 block matrix with blocks given as functions of (I, H, alpha, beta)."""
    eye = torch.eye(hessian.shape[0], dtype=torch.float64)
    args = (eye, hessian, alpha, beta)
    top = torch.cat([top_left(*args), top_right(*args)], 1)
    return torch.cat([top, torch.cat([bottom_left(*args), bottom_right(*args)], 1)])


def _mistaken(top_left, top_right, bottom_left, bottom_right):
    return lambda hessian, alpha, beta: _blocks(
        hessian, alpha, beta, top_left, top_right, bottom_left, bottom_right
    )


JACOBIAN = Function(
    name="jacobian",
    form="a function jacobian(hessian, alpha, beta) returning the (2D, 2D) matrix "
    "∂s'/∂s in the order s = (θ, p)",
    parameters=("hessian", "alpha", "beta"),
    cases=CASES,
    truth=lambda case: autograd_jacobian(case["D"], case["alpha"], case["beta"], case["seed"]),
    run=run_on_hessian,
    read=_read,
    agree=_agree,
    shape=_shape,
    counterexample=_jacobian_counterexample,
    mistakes=(
        Mistake(
            "The Hessian block read as a derivative with respect to p",
            _mistaken(
                lambda eye, H, a, b: eye,
                lambda eye, H, a, b: b * eye,
                lambda eye, H, a, b: 0 * H,
                lambda eye, H, a, b: b * eye,
            ),
            "The velocity update reads θ through ∇J. Which variable is the gradient term "
            "differentiated with respect to in the lower-left block ∂p'/∂θ, and what does that "
            "give?",
        ),
        Mistake(
            "The two factors multiplied in the wrong order",
            _mistaken(
                lambda eye, H, a, b: eye,
                lambda eye, H, a, b: eye,
                lambda eye, H, a, b: -a * H,
                lambda eye, H, a, b: b * eye - a * H,
            ),
            "The chain rule multiplies the Jacobians of f = f₂ ∘ f₁ in an order: which update "
            "is applied first, and on which side does its Jacobian stand?",
        ),
        Mistake(
            "The state ordered (p, θ)",
            _mistaken(
                lambda eye, H, a, b: b * eye,
                lambda eye, H, a, b: -a * H,
                lambda eye, H, a, b: b * eye,
                lambda eye, H, a, b: eye - a * H,
            ),
            "The blocks are right, but in the order (p, θ). The exercise stacks the state as "
            "s = (θ, p): the first D rows and columns belong to θ.",
        ),
        Mistake(
            "The Hessian's sign",
            _mistaken(
                lambda eye, H, a, b: eye + a * H,
                lambda eye, H, a, b: b * eye,
                lambda eye, H, a, b: a * H,
                lambda eye, H, a, b: b * eye,
            ),
            "The velocity update subtracts a positive multiple of ∇J(θ). What is the sign of its "
            "derivative?",
        ),
        Mistake(
            "The parameter update read with the old velocity",
            _mistaken(
                lambda eye, H, a, b: eye,
                lambda eye, H, a, b: eye,
                lambda eye, H, a, b: -a * H,
                lambda eye, H, a, b: b * eye,
            ),
            "θ' = θ + p' adds the new velocity, which depends on θ and p: differentiate "
            "through it.",
        ),
    ),
)


def _det_counterexample(point: dict[str, Any], truth: float, yours: float) -> str:
    beta, D = point["beta"], point["D"]
    where = (
        f"At beta = {beta}, D = {D} (alpha = {alpha_at(point):.2g}, J and the state drawn at "
        "random), "
        f"torch.linalg.det of autograd's Jacobian of the step is {truth:.6g}"
    )
    if yours != yours:
        return f"{where}, but your expression is undefined or not real there."
    return f"{where}, your expression gives {yours:.6g}."


DET = Expression(
    name="det",
    form='an expression in beta and D, such as "(1 - beta) * D"',
    symbols=("beta", "D"),
    points=POINTS,
    truth=lambda point: autograd_det(point["beta"], point["D"]),
    counterexample=_det_counterexample,
    mistakes=(
        Mistake(
            "A scalar β in the corner",
            "beta",
            "The velocity p has D components, and the velocity update scales each of them. "
            "Look again at the size of the lower-right block of its Jacobian.",
        ),
        Mistake(
            "det(βI) taken as Dβ",
            "D * beta",
            "The determinant of a diagonal matrix is the product of its diagonal entries, not "
            "their sum.",
        ),
        Mistake(
            "β applied to the whole state",
            "beta**(2*D)",
            "Which half of the state does β scale? The parameter update adds the new velocity "
            "to θ; it scales nothing.",
        ),
        Mistake(
            "Only the shear",
            "1",
            "The update θ' = θ + p' is a shear, of determinant 1; but the step has a second "
            "factor. What does the velocity update do to volumes?",
        ),
        Mistake(
            "The inverse step's determinant",
            "beta**(-D)",
            "That is how the inverse step changes volumes. For 0 < β < 1, does one forward "
            "step expand or shrink them?",
        ),
        Mistake(
            "The sign of β dropped",
            "abs(beta)**D",
            "A determinant can be negative. What is the determinant of βI_D when β < 0?",
        ),
    ),
)


def check(jacobian: Any = PLACEHOLDER, det: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answers of page ``momentum-jacobian-det``.

    Args:
        jacobian: a function ``jacobian(hessian, alpha, beta)`` returning the Jacobian
            :math:`\partial s^{(k+1)}/\partial s^{(k)}` of one momentum step, a
            :math:`(2D, 2D)` tensor (or array) with rows and columns in the order
            :math:`s = (\theta, p)`, given the Hessian :math:`H = \nabla^2 J(\theta^{(k)})`, a
            :math:`(D, D)` float64 tensor, the learning rate :math:`\alpha` and the momentum
            :math:`\beta` (floats). It should be
            :math:`\begin{pmatrix} I - \alpha H & \beta I \\ -\alpha H & \beta I\end{pmatrix}`.
        det: :math:`\det \partial s^{(k+1)}/\partial s^{(k)}` as an expression in ``beta`` and
            ``D`` (a string such as ``"beta**D"``, a sympy expression, or a function of
            ``beta`` and ``D``).
    """
    return Verdict(PAGE, (JACOBIAN.check(jacobian), DET.check(det)))


#: The slots, in the order :func:`check` takes them.
SLOTS = (JACOBIAN, DET)


def _jacobian_from_hessian(hessian: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """:func:`derived.reversible.momentum_jacobian` of the quadratic with Hessian ``hessian``:
    the Jacobian of a step depends on J only through the Hessian at θ."""
    theta = torch.zeros(hessian.shape[0], dtype=hessian.dtype)
    return momentum_jacobian(theta, grad_J=lambda t: hessian @ t, alpha=alpha, beta=beta)


def _det(beta: float, D: int) -> float:
    """``sign * exp(log|det|)`` of :func:`derived.reversible.momentum_jacobian_slogdet`."""
    sign, logabsdet = momentum_jacobian_slogdet(D, beta=beta)
    return sign * torch.tensor(logabsdet, dtype=torch.float64).exp().item()


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {"jacobian": _jacobian_from_hessian, "det": _det}
