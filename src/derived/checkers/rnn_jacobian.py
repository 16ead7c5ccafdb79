r"""Checker of page ``rnn-jacobian``: the tightest bound on
:math:`\sigma_{\max}(\partial x_n/\partial x_1)` for :math:`x_{t+1} = \tanh(W x_t)` with
:math:`\sigma_{\max}(W) = \tfrac12`, and a counterexample to the handout's :math:`(\tfrac12)^n`.

Both slots are decided by autograd: ``torch.func.jacrev`` of the unrolled recurrence gives the
Jacobian, whose largest singular value is computed by ``torch.linalg``. The tightest bound is
the largest value that :math:`\sigma_{\max}` reaches, and :math:`W = I/2`, :math:`x_1 = 0`
reaches it at every depth (the page proves that nothing exceeds it).
"""

from functools import cache
from typing import Any

import torch

from derived.checkers.expression import Expression
from derived.checkers.slots import PLACEHOLDER, Construction, Malformed, Mistake, kind_of
from derived.checkers.verdict import Verdict
from derived.tanh_rnn import jacobian_bound, tanh_rnn

PAGE = "rnn-jacobian"
SIGMA = 0.5  #: :math:`\sigma_{\max}(W)` in the exercise
N_COUNTEREXAMPLE = 5  #: the depth at which the counterexample must beat :math:`(1/2)^n`


def autograd_sigma_max(W: torch.Tensor, x_1: torch.Tensor, n: int) -> float:
    r""":math:`\sigma_{\max}(\partial x_n/\partial x_1)`, the Jacobian by ``torch.func.jacrev``."""
    jacobian = torch.func.jacrev(lambda x: tanh_rnn(x, W, n)[-1])(x_1)
    return torch.linalg.matrix_norm(jacobian, ord=2).item()


@cache
def attained(n: int) -> float:
    r"""The largest :math:`\sigma_{\max}(\partial x_n/\partial x_1)`, reached at :math:`W = I/2`,
    :math:`x_1 = 0`."""
    W = SIGMA * torch.eye(3, dtype=torch.float64)
    return autograd_sigma_max(W, torch.zeros(3, dtype=torch.float64), n)


def _bound_counterexample(point: dict[str, int], truth: float, yours: float) -> str:
    n = point["n"]
    where = f"At n = {n}, W = I/2 and x₁ = 0 give σ_max(∂x_{n}/∂x_1) = {truth:.6g}"
    if yours != yours:
        return f"{where}, but your bound is undefined there."
    if yours < truth:
        return f"{where}, above your bound {yours:.6g}: your bound does not hold."
    return (
        f"{where}, below your bound {yours:.6g}: your bound holds there but is not the "
        "tightest, since no W with σ_max(W) = 1/2 gives more."
    )


BOUND = Expression(
    name="bound",
    form='an expression in n, such as "3 * (1/4)**n"',
    symbols=("n",),
    points=tuple({"n": n} for n in range(2, 13)),
    truth=lambda point: attained(point["n"]),
    counterexample=_bound_counterexample,
    mistakes=(
        Mistake(
            "One factor too many",
            "(1/2)**n",
            "This is the handout's bound: it counts n layer Jacobians between x_1 and x_n. "
            "Count the steps of the recurrence from x_1 to x_n again.",
        ),
        Mistake(
            "The sigmoid's slope",
            "(1/4)**(n-1)",
            "The slope of tanh is at most 1, not 1/4: that is the sigmoid's. Which factor of "
            "each layer Jacobian is at most 1/2 here?",
        ),
    ),
)


def _read_pair(answer: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(answer, tuple | list) or len(answer) != 2:
        raise Malformed(f"got {kind_of(answer)}")
    try:
        W, x_1 = (torch.as_tensor(a, dtype=torch.float64) for a in answer)
    except (TypeError, ValueError, RuntimeError):
        raise Malformed("W and x_1 must be arrays of numbers") from None
    if W.dim() != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise Malformed(f"W must be a square matrix, got shape {tuple(W.shape)}")
    if x_1.shape != W.shape[:1]:
        raise Malformed(f"x_1 must have shape ({W.shape[0]},) to match W, got {tuple(x_1.shape)}")
    if not (W.isfinite().all() and x_1.isfinite().all()):
        raise Malformed("W and x_1 must be finite")
    return W, x_1


def _judge_counterexample(answer: Any) -> tuple[bool, str, str | None]:
    W, x_1 = _read_pair(answer)
    n, claimed = N_COUNTEREXAMPLE, SIGMA**N_COUNTEREXAMPLE
    s_W = torch.linalg.matrix_norm(W, ord=2).item()
    if abs(s_W - SIGMA) > 1e-9:
        return (
            False,
            f"Your W has σ_max(W) = {s_W:.6g}, but the claim is about matrices with "
            "σ_max(W) = 1/2. Rescale W.",
            "σ_max(W) is not 1/2",
        )
    s = autograd_sigma_max(W, x_1, n)
    compared = f"σ_max(∂x_{n}/∂x_1) = {s:.6g} against (1/2)^{n} = {claimed:.6g}"
    if s > claimed * (1 + 1e-9):
        return True, f"Your pair breaks the claim: {compared}.", None
    return (
        False,
        f"Your pair satisfies the claim, so it is no counterexample: {compared}. Hint: each "
        "layer multiplies by diag(tanh') W; which x_1 makes every slope 1, and which W keeps "
        "every direction at σ_max?",
        None,
    )


COUNTEREXAMPLE = Construction(
    name="counterexample",
    form=f"a pair (W, x_1) with σ_max(W) = 1/2 and σ_max(∂x_{N_COUNTEREXAMPLE}/∂x_1) > "
    f"(1/2)^{N_COUNTEREXAMPLE}",
    judge_built=_judge_counterexample,
)


def check(bound: Any = PLACEHOLDER, counterexample: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answers of page ``rnn-jacobian``.

    Args:
        bound: the tightest :math:`B(n)` with :math:`\sigma_{\max}(\partial x_n/\partial x_1)
            \le B(n)` for every :math:`W` with :math:`\sigma_{\max}(W) = 1/2` and every
            :math:`x_1`: an expression in ``n``.
        counterexample: a pair ``(W, x_1)`` (tensors or nested lists) with
            :math:`\sigma_{\max}(W) = 1/2` at which :math:`\sigma_{\max}(\partial x_5/\partial
            x_1) > (1/2)^5`.
    """
    return Verdict(PAGE, (BOUND.check(bound), COUNTEREXAMPLE.check(counterexample)))


#: The slots, in the order :func:`check` takes them.
SLOTS = (BOUND, COUNTEREXAMPLE)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "bound": lambda n: jacobian_bound(SIGMA, n),
        "counterexample": (SIGMA * torch.eye(3, dtype=torch.float64), torch.zeros(3)),
    }
