r"""Checker of page ``momentum-inverse``: the reader's inverse of a momentum step.

The reader writes ``inverse_step(theta, p, grad_J, alpha, beta)``, which takes the state
:math:`(\theta^{(k+1)}, p^{(k+1)})` after a step and returns the state
:math:`(\theta^{(k)}, p^{(k)})` before it. It is judged by round trips: on seeded cases, from
the smallest, a previous state is drawn and stepped forward by PyTorch's SGD with momentum
(``torch.optim.sgd.sgd``, the update of ``torch.optim.SGD``, with ``momentum`` :math:`\beta`,
learning rate :math:`\alpha`, velocity :math:`p = -\alpha\,` times its momentum buffer, and the
gradient of :math:`J` by autograd), and the reader's inverse must give the previous state back
to float64 precision.
Nothing in the judgement uses the library's step or inverse.
"""

from functools import cache
from typing import Any

import torch
from torch.optim.sgd import sgd

from derived.checkers.slots import PLACEHOLDER, Function, Malformed, Mistake, RaisedError
from derived.checkers.verdict import Verdict
from derived.reversible import momentum_step_inverse

PAGE = "momentum-inverse"
PARAMETERS = ("theta", "p", "grad_J", "alpha", "beta")
#: The round trips, smallest first: dimension, step sizes and the seed of the state and of J.
CASES = (
    {"D": 1, "alpha": 0.3, "beta": 0.9, "seed": 0},
    {"D": 2, "alpha": 0.1, "beta": 0.5, "seed": 1},
    {"D": 5, "alpha": 0.05, "beta": 0.99, "seed": 2},
    {"D": 20, "alpha": 0.2, "beta": 0.7, "seed": 3},
)
#: Round trips agree to this, far above float64 rounding and far below any slip.
RTOL, ATOL = 1e-10, 1e-12


@cache
def _problem(D: int, seed: int) -> tuple[torch.Tensor, ...]:
    r"""The objective's data :math:`A, b` and the previous state :math:`\theta, p` of a case."""
    generator = torch.Generator().manual_seed(seed)
    draw = torch.randn((D + 1) * D + (D + 1) + 2 * D, generator=generator, dtype=torch.float64)
    A = draw[: (D + 1) * D].reshape(D + 1, D) / D**0.5
    b, rest = draw[(D + 1) * D : (D + 1) * (D + 1)], draw[(D + 1) * (D + 1) :]
    return A, b, rest[:D], 0.5 * rest[D:]


def objective(A: torch.Tensor, b: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    r""":math:`J(\theta) = \sum_i \log\cosh(a_i^\top\theta - b_i) + \tfrac14\sum_j\theta_j^4`,
    not quadratic, so that its gradient differs between :math:`\theta^{(k)}` and
    :math:`\theta^{(k+1)}`."""
    return torch.log(torch.cosh(A @ theta - b)).sum() + 0.25 * (theta**4).sum()


def gradient(A: torch.Tensor, b: torch.Tensor):
    r""":math:`\nabla J(\theta) = A^\top\tanh(A\theta - b) + \theta^3`, the ``grad_J`` the
    reader's function is given."""
    return lambda theta: A.T @ torch.tanh(A @ theta - b) + theta**3


@cache
def sgd_step(D: int, alpha: float, beta: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The state after one step of PyTorch's SGD from the case's previous state.

    ``torch.optim.sgd.sgd``, the update ``torch.optim.SGD`` runs, keeps a buffer
    :math:`m' = \beta m + \nabla J(\theta)` and steps :math:`\theta' = \theta - \alpha m'`:
    the momentum step with :math:`p = -\alpha m`. The gradient is autograd's, of :math:`J`.
    """
    A, b, theta, p = _problem(D, seed)
    theta = theta.clone().requires_grad_()
    (grad,) = torch.autograd.grad(objective(A, b, theta), theta)
    theta, buffer = theta.detach(), -p / alpha
    sgd([theta], [grad], [buffer], foreach=False, weight_decay=0.0, momentum=beta, lr=alpha,
        dampening=0.0, nesterov=False, maximize=False)  # fmt: skip
    return theta, -alpha * buffer


def previous_state(case: dict[str, Any]) -> torch.Tensor:
    r"""The state the round trip must give back, as rows :math:`(\theta, p)`."""
    _, _, theta, p = _problem(case["D"], case["seed"])
    return torch.stack([theta, p])


def run_round_trip(f: Any, case: dict[str, Any]) -> Any:
    """``f`` on the state after SGD's step, with copies, so that it may change them in place."""
    A, b, _, _ = _problem(case["D"], case["seed"])
    theta, p = sgd_step(case["D"], case["alpha"], case["beta"], case["seed"])
    return f(theta=theta.clone(), p=p.clone(), grad_J=gradient(A, b), alpha=case["alpha"],
             beta=case["beta"])  # fmt: skip


def _read(output: Any) -> torch.Tensor:
    if isinstance(output, dict) or not isinstance(output, tuple | list) or len(output) != 2:
        shown = repr(output) if len(repr(output)) < 60 else f"a {type(output).__name__}"
        raise Malformed(f"your function returned {shown}; return the pair (theta, p)")
    try:
        theta, p = (torch.as_tensor(v, dtype=torch.float64).detach() for v in output)
    except (TypeError, ValueError, RuntimeError):
        raise Malformed("theta and p must be tensors (or arrays) of numbers") from None
    if theta.shape != p.shape:
        raise Malformed(
            f"theta and p must have the same shape, got {tuple(theta.shape)} and {tuple(p.shape)}"
        )
    return torch.stack([theta, p])


def _shape(output: torch.Tensor) -> str:
    if output.dim() == 1:
        return "a pair of numbers"
    return f"a pair of tensors of shape {tuple(output.shape[1:])}"


def _agree(yours: torch.Tensor, truth: torch.Tensor) -> bool:
    return yours.shape == truth.shape and torch.allclose(yours, truth, rtol=RTOL, atol=ATOL)


def _vector(v: torch.Tensor) -> str:
    return "[" + ", ".join(f"{x + 0.0:.6g}" for x in v.tolist()) + "]"


def _counterexample(case: dict[str, Any], truth: torch.Tensor, yours: Any) -> str:
    D, alpha, beta = case["D"], case["alpha"], case["beta"]
    theta1, p1 = sgd_step(D, alpha, beta, case["seed"])
    where = (
        f"For D = {D}, alpha = {alpha}, beta = {beta} (state and J drawn with seed {case['seed']})"
    )
    if isinstance(yours, RaisedError):
        return f"{where}, your function raised {yours}."
    if yours.shape != truth.shape:
        return f"{where}, your function returns {_shape(yours)}, not {_shape(truth)}."
    if D <= 2:
        return (
            f"{where}: PyTorch's SGD steps (θ, p) = ({_vector(truth[0])}, {_vector(truth[1])}) "
            f"to ({_vector(theta1)}, {_vector(p1)}), and your inverse returns "
            f"({_vector(yours[0])}, {_vector(yours[1])})."
        )
    errors = (yours - truth).abs().amax(dim=1)
    return (
        f"{where}: after one step of PyTorch's SGD, your inverse misses the previous θ by "
        f"{errors[0].item():.3g} and the previous p by {errors[1].item():.3g} (largest entry)."
    )


def _gradient_at_the_new_parameters(theta, p, grad_J, alpha, beta):
    return theta - p, (p + alpha * grad_J(theta)) / beta


def _parameters_from_the_old_velocity(theta, p, grad_J, alpha, beta):
    p_prev = (p + alpha * grad_J(theta)) / beta
    return theta - p_prev, p_prev


def _velocity(theta_prev, p, grad_J, alpha, beta, change=lambda v, beta: v / beta):
    return theta_prev, change(p + alpha * grad_J(theta_prev), beta)


INVERSE_STEP = Function(
    name="inverse_step",
    form="a function inverse_step(theta, p, grad_J, alpha, beta) returning the pair "
    "(theta, p) before the step",
    parameters=PARAMETERS,
    cases=CASES,
    truth=previous_state,
    run=run_round_trip,
    read=_read,
    agree=_agree,
    shape=_shape,
    counterexample=_counterexample,
    mistakes=(
        Mistake(
            "The velocity first, with the gradient at the new parameters",
            _gradient_at_the_new_parameters,
            "The velocity update needs ∇J at the parameters the forward step read. Which "
            "parameters were those, and are they known when you compute the velocity? Undo the "
            "two updates in the order that makes everything you use known.",
        ),
        Mistake(
            "The parameters from the old velocity",
            _parameters_from_the_old_velocity,
            "The parameter update adds a velocity to θ⁽ᵏ⁾: which one, the velocity before the "
            "step or after it? And is ∇J taken at the right parameters?",
        ),
        Mistake(
            "β multiplied, not divided",
            lambda theta, p, grad_J, alpha, beta: _velocity(
                theta - p, p, grad_J, alpha, beta, lambda v, beta: beta * v
            ),
            "The forward step multiplies the old velocity by β. What undoes a multiplication?",
        ),
        Mistake(
            "β not undone",
            lambda theta, p, grad_J, alpha, beta: _velocity(
                theta - p, p, grad_J, alpha, beta, lambda v, beta: v
            ),
            "The forward step scales the old velocity by β before subtracting the gradient "
            "term; your inverse undoes the subtraction but not the scaling.",
        ),
        Mistake(
            "The gradient term's sign",
            lambda theta, p, grad_J, alpha, beta: (
                theta - p,
                (p - alpha * grad_J(theta - p)) / beta,
            ),
            "The forward step subtracts the gradient term from βp. Solve that update for the "
            "old velocity again, minding the sign.",
        ),
        Mistake(
            "The parameters stepped forward",
            lambda theta, p, grad_J, alpha, beta: _velocity(theta + p, p, grad_J, alpha, beta),
            "θ⁽ᵏ⁺¹⁾ = θ⁽ᵏ⁾ + p⁽ᵏ⁺¹⁾: solve it for θ⁽ᵏ⁾ again.",
        ),
        Mistake(
            "The state returned as (p, θ)",
            lambda theta, p, grad_J, alpha, beta: _velocity(theta - p, p, grad_J, alpha, beta)[
                ::-1
            ],
            "The values may be right, but the state is s = (θ, p): return the parameters first.",
        ),
    ),
)


def check(inverse_step: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answer of page ``momentum-inverse``.

    Args:
        inverse_step: a function ``inverse_step(theta, p, grad_J, alpha, beta)`` returning the
            pair ``(theta, p)`` of the state :math:`(\theta^{(k)}, p^{(k)})` before a momentum
            step, given the state :math:`(\theta^{(k+1)}, p^{(k+1)})` after it: ``theta`` and
            ``p`` are float64 tensors of shape :math:`(D,)`, ``grad_J`` maps a tensor
            :math:`\theta` of shape :math:`(D,)` to :math:`\nabla J(\theta)` of the same shape,
            and ``alpha``, ``beta`` are the learning rate :math:`\alpha` and the momentum
            :math:`\beta \ne 0` (floats). It must invert :math:`p^{(k+1)} = \beta p^{(k)} -
            \alpha\nabla J(\theta^{(k)})`, :math:`\theta^{(k+1)} = \theta^{(k)} + p^{(k+1)}` to
            float64 precision.
    """
    return Verdict(PAGE, (INVERSE_STEP.check(inverse_step),))


#: The slots, in the order :func:`check` takes them.
SLOTS = (INVERSE_STEP,)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {"inverse_step": momentum_step_inverse}
