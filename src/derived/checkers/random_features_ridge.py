r"""Checker of page ``random-features-ridge``: the reader's solver for the minimiser
:math:`\theta^\star` of :math:`J(\theta) = \tfrac12\lVert X\theta - y\rVert^2 +
\tfrac\lambda2\lVert\theta\rVert^2`.

The solver ``theta_star(X, y, lam)`` is run on random-feature problems, from one point and one
feature up to the homework's sizes, with fewer features than points, as many, and more. Its
:math:`\theta` is accepted when the gradient of :math:`J` there, computed by autograd from the
objective itself, vanishes: relative to its size at :math:`\theta = 0`,
:math:`\lVert\nabla J(\theta)\rVert \le` ``RTOL`` :math:`\lVert X^\top y\rVert`. For
:math:`\lambda > 0`, :math:`J` is strictly convex, so that is the minimiser and nothing else. A
counterexample shows the gradient at the reader's :math:`\theta`, and, for the small cases, the
minimiser found by an independent least-squares solve of the stacked system
:math:`[X; \sqrt\lambda I]\,\theta \approx [y; 0]` (``torch.linalg.lstsq``).
"""

from functools import cache
from typing import Any, NamedTuple

import torch

from derived.checkers.slots import (
    PLACEHOLDER,
    Function,
    Malformed,
    Mistake,
    RaisedError,
    Unanswered,
    unanswered,
)
from derived.checkers.verdict import Verdict
from derived.random_features import random_weights, relu_features
from derived.ridge import ridge

PAGE = "random-features-ridge"
PARAMETERS = ("X", "y", "lam")
#: The problems, smallest first: N points of dimension d, p random ReLU features, lambda, seed
#: (the seeds of the small ones chosen so that no point and no feature is all zeros).
CASES = (
    {"N": 1, "p": 1, "d": 2, "lam": 0.5, "seed": 1},
    {"N": 3, "p": 2, "d": 2, "lam": 0.5, "seed": 0},
    {"N": 2, "p": 4, "d": 2, "lam": 2.0, "seed": 4},
    {"N": 5, "p": 5, "d": 3, "lam": 0.01, "seed": 0},
    {"N": 300, "p": 100, "d": 35, "lam": 0.01, "seed": 4},
    {"N": 300, "p": 450, "d": 35, "lam": 0.01, "seed": 5},
)
#: The largest gradient accepted, relative to the gradient at theta = 0.
RTOL = 1e-6
#: The largest p for which a counterexample shows the vectors.
SHOWN = 4


class Problem(NamedTuple):
    """One ridge problem; for a small one, the minimiser of an independent least-squares solve
    (shown in a counterexample), else ``None``."""

    X: torch.Tensor
    y: torch.Tensor
    lam: float
    reference: torch.Tensor | None


@cache
def problem(N: int, p: int, d: int, lam: float, seed: int) -> Problem:
    """The features ``X`` of ``N`` standard normal points, targets ``y``, and the reference."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(N, d, dtype=torch.float64, generator=generator)
    X = relu_features(x, random_weights(p, d, generator=generator))
    y = torch.randn(N, dtype=torch.float64, generator=generator)
    reference = None
    if p <= SHOWN:  # [X; sqrt(lam) I] theta ~ [y; 0] has the same minimiser as J
        stacked = torch.cat([X, lam**0.5 * torch.eye(p, dtype=X.dtype)])
        target = torch.cat([y, torch.zeros(p, dtype=y.dtype)])
        reference = torch.linalg.lstsq(stacked, target[:, None]).solution[:, 0]
    return Problem(X, y, lam, reference)


def gradient(prob: Problem, theta: torch.Tensor) -> torch.Tensor:
    r""":math:`\nabla J(\theta)`, by autograd from the objective."""
    theta = theta.detach().clone().requires_grad_()
    J = 0.5 * (prob.X @ theta - prob.y).pow(2).sum() + 0.5 * prob.lam * theta.pow(2).sum()
    (grad,) = torch.autograd.grad(J, theta)
    return grad


def _run(f: Any, case: dict[str, Any]) -> Any:
    prob = problem(**case)
    return f(X=prob.X.clone(), y=prob.y.clone(), lam=prob.lam)


def _read(output: Any) -> torch.Tensor:
    if unanswered(output):
        raise Unanswered
    try:
        theta = torch.as_tensor(output, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise Malformed(f"your function returned {output!r}; return θ as a vector") from None
    if theta.dim() != 1:
        raise Malformed(f"θ must be a vector of shape (p,), got shape {tuple(theta.shape)}")
    return theta.detach()


def _relative_gradient(prob: Problem, theta: torch.Tensor) -> float:
    return (gradient(prob, theta).norm() / (prob.X.T @ prob.y).norm()).item()


def _agree(yours: torch.Tensor, truth: Any) -> bool:
    if isinstance(truth, Problem):  # the gradient of J at the reader's theta vanishes
        return yours.shape == truth.X.shape[1:] and _relative_gradient(truth, yours) <= RTOL
    return yours.shape == truth.shape and torch.allclose(yours, truth, rtol=1e-7, atol=1e-10)


def _shape(output: Any) -> torch.Size:
    return output.X.shape[1:] if isinstance(output, Problem) else output.shape


def _vector(v: torch.Tensor) -> str:
    return "[" + ", ".join(f"{x:.4g}" for x in v.tolist()) + "]"


def _counterexample(case: dict[str, Any], truth: Problem, yours: Any) -> str:
    N, p, lam = case["N"], case["p"], case["lam"]
    where = f"For N = {N} point{'s' * (N > 1)}, p = {p} feature{'s' * (p > 1)} and λ = {lam}"
    if isinstance(yours, RaisedError):
        return f"{where}, your function raised {yours}."
    if yours.shape != truth.X.shape[1:]:
        return f"{where}, your θ has shape {tuple(yours.shape)}, but θ has p = {p} entries."
    grad = gradient(truth, yours)
    small = p <= SHOWN
    shown = f"θ = {_vector(yours)}" if small else "θ"
    text = (
        f"{where}, the gradient of J at your {shown}, by autograd, "
        f"{'is ' + _vector(grad) + ', ' if small else ''}has norm {grad.norm().item():.3g} "
        f"against {(truth.X.T @ truth.y).norm().item():.3g} at θ = 0; at the minimiser it is 0"
    )
    if small:
        text += f", and the minimiser there is θ* = {_vector(truth.reference)}"
    return text + "."


def _solve(gram: str, sign: float = 1.0, scale: float = 1.0):
    """A ridge solve of the normal equations with the penalty term changed: the known slips."""

    def theta(X, y, lam):
        if gram == "dual":  # (X X^T + lam I)^{-1} y, with no X^T in front
            return torch.linalg.solve(X @ X.T + lam * torch.eye(len(y), dtype=X.dtype), y)
        eye = torch.eye(X.shape[1], dtype=X.dtype)
        return torch.linalg.solve(X.T @ X + sign * scale * lam * eye, X.T @ y)

    return theta


THETA_STAR = Function(
    name="theta_star",
    form="a function theta_star(X, y, lam) returning θ*, a tensor of shape (p,), for X of shape "
    "(N, p), y of shape (N,) and λ = lam > 0",
    parameters=PARAMETERS,
    cases=CASES,
    truth=lambda case: problem(**case),
    run=_run,
    read=_read,
    agree=_agree,
    counterexample=_counterexample,
    shape=lambda output: f"a vector of shape {tuple(_shape(output))}",
    mistakes=(
        Mistake(
            "The penalty halved",
            _solve("primal", scale=0.5),
            "The ½ in front of both terms of J cancels when you set the gradient to zero. "
            "Differentiate ½‖Xθ − y‖² and (λ/2)‖θ‖² again, one term at a time.",
        ),
        Mistake(
            "The penalty doubled",
            _solve("primal", scale=2.0),
            "The derivative of (λ/2)‖θ‖² carries the ½ along: differentiate it again, and "
            "likewise ½‖Xθ − y‖².",
        ),
        Mistake(
            "The penalty left out",
            lambda X, y, lam: torch.linalg.pinv(X) @ y,
            "This is least squares (or the minimum-norm fit), the limit λ → 0. The objective "
            "has the penalty (λ/2)‖θ‖², and its gradient belongs in the equation ∇J(θ) = 0.",
        ),
        Mistake(
            "The penalty's gradient with the wrong sign",
            _solve("primal", sign=-1.0),
            "Write ∇J(θ) term by term and check the sign of each: the penalty pulls θ towards "
            "zero.",
        ),
        Mistake(
            "The dual form without Xᵀ",
            _solve("dual"),
            "The dual system is N × N and its solution has one entry per training point, not "
            "per feature. How does the push-through identity turn it into θ?",
        ),
    ),
)


def check(theta_star: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answer of page ``random-features-ridge``.

    Args:
        theta_star: a function ``theta_star(X, y, lam)`` that takes the feature matrix
            :math:`X` (a float64 tensor of shape :math:`(N, p)`), the targets :math:`y` (shape
            :math:`(N,)`) and :math:`\lambda > 0` (a float), and returns the minimiser
            :math:`\theta^\star` of :math:`\tfrac12\lVert X\theta - y\rVert^2 +
            \tfrac\lambda2\lVert\theta\rVert^2`, a tensor of shape :math:`(p,)`.
    """
    return Verdict(PAGE, (THETA_STAR.check(theta_star),))


#: The slots, in the order :func:`check` takes them.
SLOTS = (THETA_STAR,)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {"theta_star": ridge}
