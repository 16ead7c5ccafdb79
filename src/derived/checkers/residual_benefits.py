r"""Checker of page ``residual-benefits``: whether residual connections solve the vanishing and
the exploding gradient problem, and a residual stack whose gradient does not grow like
:math:`(\sigma_{\text{big}} - 1)^{n-1}`.

Every answer is decided by autograd (``torch.autograd.functional.jacobian``) through a stack
of residual layers :math:`z \mapsto z + F_t z`, whose singular values ``torch.linalg.svdvals``
computes: no bound of the page is used. For the two choices, stacks of ``LAYERS`` layers of
width ``D`` satisfy the hypotheses of the page (every branch Jacobian :math:`F_t`
symmetric, half of its singular values at most ``SIGMA_SMALL`` and half at least
``SIGMA_BIG``): random ones, drawn from a seeded generator, and one whose branches share
their eigenvectors. Vanishing is solved if the smallest singular value of every stack's
Jacobian stays above ``KEPT``; exploding is solved unless some stack's largest singular
value exceeds ``EXPLODED``. The stack the reader builds is judged the same way.
"""

from functools import cache
from typing import Any

import torch

from derived.checkers.slots import PLACEHOLDER, Choice, Construction, Malformed, Mistake, kind_of
from derived.checkers.verdict import Verdict
from derived.residual_jacobian import shear

PAGE = "residual-benefits"
#: The hypotheses on every branch Jacobian, and the stacks measured: width, number of layers
#: (``LAYERS`` layer Jacobians, so :math:`n = 31`) and number of random stacks.
SIGMA_SMALL, SIGMA_BIG = 0.01, 3.0
D, LAYERS, STACKS = 8, 30, 4
#: Vanishing is avoided if every stack keeps its smallest singular value above ``KEPT``;
#: the gradient explodes if some stack's largest singular value exceeds ``EXPLODED``.
KEPT, EXPLODED = 0.5, 1e6
#: The stack to build: branch Jacobians with singular values at most ``STACK_SMALL`` and at
#: least ``STACK_BIG``, two layers, and a largest singular value below
#: :math:`(\sigma_{\text{big}} - 1)^2`.
STACK_SMALL, STACK_BIG = 0.01, 10.0
CLAIM = (STACK_BIG - 1) ** 2


def stack_jacobian(branches: torch.Tensor) -> torch.Tensor:
    r""":math:`\partial z_n/\partial z_1` of the stack :math:`z_{t+1} = z_t + F_t z_t`, by
    autograd (``torch.autograd.functional.jacobian``).

    Shape:
        ``branches``: :math:`(L, d, d)`, ``branches[t]`` is :math:`F_{t+1}`; output
        :math:`(d, d)`.
    """

    def stack(z: torch.Tensor) -> torch.Tensor:
        for F in branches:
            z = z + F @ z
        return z

    z_1 = torch.zeros(branches.shape[-1], dtype=torch.float64)
    return torch.autograd.functional.jacobian(stack, z_1)


@cache
def measurement() -> dict[str, float]:
    """The smallest and the largest singular value of the stacks' Jacobians, over all stacks."""
    generator = torch.Generator().manual_seed(0)
    draws = {"dtype": torch.float64, "generator": generator}
    # one orthogonal Q_t per layer of every random stack, and one shared by the aligned stack
    Q = torch.linalg.qr(torch.randn(STACKS * LAYERS + 1, D, D, **draws)).Q
    # F_t = Q_t diag(±s) Q_t^T, half of s in [0, SIGMA_SMALL] and half in [SIGMA_BIG, +2]
    u = torch.rand(STACKS * LAYERS, D, **draws)
    s = torch.cat((SIGMA_SMALL * u[:, : D // 2], SIGMA_BIG + 2 * u[:, D // 2 :]), dim=1)
    sign = torch.randint(0, 2, (STACKS * LAYERS, D), generator=generator) * 2 - 1
    random = Q[:-1] @ torch.diag_embed(sign * s) @ Q[:-1].mT
    stacks = list(random.reshape(STACKS, LAYERS, D, D))
    # shared eigenvectors, every branch shrinking the same directions
    eigenvalues = torch.full((D,), SIGMA_SMALL, dtype=torch.float64)
    eigenvalues[D // 2 :] = SIGMA_BIG
    aligned = -Q[-1] @ torch.diag(eigenvalues) @ Q[-1].T
    stacks.append(aligned.expand(LAYERS, D, D))
    spectra = [torch.linalg.svdvals(stack_jacobian(s)) for s in stacks]
    return {
        "min": min(s[-1].item() for s in spectra),
        "max": max(s[0].item() for s in spectra),
    }


def _setting() -> str:
    return (
        f"Measured by autograd on {STACKS + 1} stacks of {LAYERS} residual layers "
        f"z + F_t z of width {D}, every F_t symmetric with half of its singular values at most "
        f"{SIGMA_SMALL:g} and half at least {SIGMA_BIG:g}"
    )


def _vanishing_evidence() -> str:
    return (
        f"{_setting()}: the smallest singular value of ∂z_n/∂z_1 is at least "
        f"{measurement()['min']:.3g} in every stack."
    )


def _exploding_evidence() -> str:
    m = measurement()
    return f"{_setting()}: the largest singular value of ∂z_n/∂z_1 reaches {m['max']:.3g}."


VANISHING = Choice(
    name="vanishing",
    form='"yes" or "no"',
    options=("yes", "no"),
    truth=lambda: "yes" if measurement()["min"] > KEPT else "no",
    evidence=_vanishing_evidence,
    mistakes=(
        Mistake(
            "The identity path overlooked",
            "no",
            "Write one layer's Jacobian: what does the skip connection add to the branch's, "
            "and what does that do to its smallest singular value when the branch is small?",
        ),
    ),
)

EXPLODING = Choice(
    name="exploding",
    form='"yes" or "no"',
    options=("yes", "no"),
    truth=lambda: "no" if measurement()["max"] > EXPLODED else "yes",
    evidence=_exploding_evidence,
    mistakes=(
        Mistake(
            "A skip connection does not cap the branch",
            "yes",
            "The identity adds one to every direction's gain; does it stop a branch with large "
            "singular values from stretching some direction at every layer?",
        ),
    ),
)


# ----- the stack: a construction ------------------------------------------------------------

_PRODUCT_RULE = Mistake(
    "σ_max of a product taken as the product of the σ_max",
    None,
    "Submultiplicativity bounds σ_max of a product from above, not from below. Can the "
    "second layer undo what the first one stretched?",
)
_ALIGNED = Mistake(
    "Stretches that line up",
    (-torch.diag(torch.tensor([STACK_BIG, STACK_SMALL], dtype=torch.float64)),) * 2,
    "Both layers stretch the same direction, so their gains multiply. Make the second layer "
    "act on the direction the first one stretched in another way.",
)


def _read_stack(answer: Any) -> torch.Tensor:
    if not isinstance(answer, tuple | list) or len(answer) != 2:
        raise Malformed(f"got {kind_of(answer)}")
    try:
        branches = [torch.as_tensor(F, dtype=torch.float64) for F in answer]
    except (TypeError, ValueError, RuntimeError):
        raise Malformed("F_1 and F_2 must be arrays of numbers") from None
    shapes = {tuple(F.shape) for F in branches}
    d = branches[0].shape[0] if branches[0].dim() == 2 else 0
    if len(shapes) != 1 or branches[0].dim() != 2 or d != branches[0].shape[1] or d % 2:
        raise Malformed(
            f"F_1 and F_2 must be square matrices of one even size, got shapes "
            f"{[tuple(F.shape) for F in branches]}"
        )
    if not all(F.isfinite().all() for F in branches):
        raise Malformed("F_1 and F_2 must be finite")
    return torch.stack(branches)


def _judge_stack(answer: Any) -> tuple[bool, str, str | None]:
    if answer is None:
        A = torch.diag(torch.tensor([STACK_BIG, 1e-3], dtype=torch.float64))
        B = torch.diag(torch.tensor([1e-3, STACK_BIG], dtype=torch.float64))
        shown = (
            f"For instance, svdvals gives σ_max = {torch.linalg.svdvals(A)[0].item():g} for "
            f"A = diag({STACK_BIG:g}, 0.001) and for B = diag(0.001, {STACK_BIG:g}), but "
            f"{torch.linalg.svdvals(A @ B)[0].item():g} for AB."
        )
        feedback = f"{_PRODUCT_RULE.name}. {_PRODUCT_RULE.explanation} {shown}"
        return False, feedback, _PRODUCT_RULE.name
    branches = _read_stack(answer)
    d = branches.shape[-1]
    for t, F in enumerate(branches, start=1):
        s = torch.linalg.svdvals(F).flip(0)  # ascending
        if s[: d // 2].max() > STACK_SMALL * (1 + 1e-9) or s[d // 2 :].min() < STACK_BIG * (
            1 - 1e-9
        ):
            return (
                False,
                f"F_{t} has the singular values {[round(v, 6) for v in s.tolist()]}, but the "
                f"hypotheses ask for half of them at most {STACK_SMALL:g} and half at least "
                f"{STACK_BIG:g}.",
                "A branch outside the hypotheses",
            )
    gain = torch.linalg.svdvals(stack_jacobian(branches))[0].item()
    layers = [torch.linalg.svdvals(stack_jacobian(F[None]))[0].item() for F in branches]
    compared = f"autograd gives σ_max(∂z_3/∂z_1) = {gain:.6g}, against (σ_big − 1)^2 = {CLAIM:g}"
    if gain < CLAIM * (1 - 1e-9):
        return True, f"Your stack breaks the claim: {compared}.", None
    if gain >= layers[0] * layers[1] * (1 - 1e-9):
        return False, f"{_ALIGNED.name}. {_ALIGNED.explanation} {compared}.", _ALIGNED.name
    return (
        False,
        f"Your stack satisfies the claim, so it does not refute it: {compared}.",
        None,
    )


STACK = Construction(
    name="stack",
    form=f"a pair (F_1, F_2) of square matrices, half of each one's singular values at most "
    f"{STACK_SMALL:g} and half at least {STACK_BIG:g}, with σ_max((I + F_2)(I + F_1)) < "
    f"(σ_big − 1)^2 = {CLAIM:g}, or None if there is none",
    judge_built=_judge_stack,
    mistakes=(_PRODUCT_RULE, _ALIGNED),
)


def check(
    vanishing: Any = PLACEHOLDER,
    why_vanishing: Any = PLACEHOLDER,
    exploding: Any = PLACEHOLDER,
    why_exploding: Any = PLACEHOLDER,
    stack: Any = PLACEHOLDER,
) -> Verdict:
    r"""Check the answers of page ``residual-benefits``.

    Args:
        vanishing: ``"yes"`` or ``"no"``: do residual connections solve the vanishing gradient
            problem, for branch Jacobians that satisfy the hypotheses of
            ``residual-singular-values`` (normal, half of the singular values at most
            :math:`\sigma_{\text{small}}`, half at least :math:`\sigma_{\text{big}}`)?
        why_vanishing: your justification, in words; kept, not graded.
        exploding: ``"yes"`` or ``"no"``: do they solve the exploding gradient problem?
        why_exploding: your justification, in words; kept, not graded.
        stack: a pair ``(F_1, F_2)`` of branch Jacobians (square tensors or nested lists of
            one even size :math:`d`), each with its :math:`d/2` smallest singular values at
            most :math:`0.01` and its :math:`d/2` largest at least :math:`\sigma_{\text{big}}
            = 10`, for which the two-layer stack :math:`z_{t+1} = z_t + F_t z_t` has
            :math:`\sigma_{\max}(\partial z_3/\partial z_1) < (\sigma_{\text{big}} - 1)^2`; or
            ``None`` if no such pair exists.
    """
    return Verdict(
        PAGE,
        (
            VANISHING.check(vanishing, justification=why_vanishing),
            EXPLODING.check(exploding, justification=why_exploding),
            STACK.check(stack),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (VANISHING, EXPLODING, STACK)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "vanishing": "yes",
        "why_vanishing": "each layer Jacobian is I + F_t, near I when the branch is small",
        "exploding": "no",
        "why_exploding": "a branch can still stretch some direction at every layer",
        "stack": (shear(STACK_BIG), -shear(STACK_BIG)),
    }
