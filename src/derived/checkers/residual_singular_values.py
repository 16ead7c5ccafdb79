r"""Checker of page ``residual-singular-values``: whether
:math:`\sigma_{\min}(I + F) \ge 1 - \sigma_{\text{small}}` holds for every branch Jacobian
:math:`F` whose singular values split into a big half (:math:`\ge \sigma_{\text{big}} > 2`) and a
small half (:math:`\le \sigma_{\text{small}} < 1`), a matrix :math:`F` that breaks it, and
whether Weyl's inequality still holds with an absolute value,
:math:`\sigma_i(A + B) \ge |\sigma_i(A) - \sigma_{\max}(B)|`.

All three slots are decided by ``torch.linalg.svdvals``, never by the page's closed forms. The
claim is settled by exhaustive search: every :math:`2 \times 2` matrix with integer entries in
:math:`\{-3, \dots, 3\}` that meets the premise is tried, and the claim is false if one of them
breaks it. The reader's :math:`F` is checked for the premise and the property on its own singular
values and those of the Jacobian, by ``torch.autograd``, of the layer :math:`z \mapsto z + Fz`.
The absolute-value form is settled by exhaustive search too, over every pair of
:math:`2 \times 2` matrices with entries in :math:`\{-1, 0, 1\}`.
"""

import itertools
from functools import cache
from typing import Any

import torch

from derived.checkers.slots import PLACEHOLDER, Choice, Construction, Malformed, Mistake, kind_of
from derived.checkers.verdict import Verdict
from derived.residual_jacobian import shear

PAGE = "residual-singular-values"
OPTIONS = ("true", "false")
BIG = 2.0  #: the premise: the big half of the singular values of F exceeds 2
SMALL = 1.0  #: the premise: the small half of the singular values of F is below 1
ENTRIES = range(-3, 4)  #: the integer entries of the searched 2 x 2 matrices


def split(F: torch.Tensor) -> tuple[float, float]:
    r""":math:`(\sigma_{\text{big}}, \sigma_{\text{small}})` of a matrix :math:`F` of even size
    :math:`n`: the smallest of its :math:`n/2` largest singular values and the largest of the
    others."""
    s = torch.linalg.svdvals(F)
    half = F.shape[-1] // 2
    return s[..., half - 1], s[..., half]


def layer_sigma_min(F: torch.Tensor) -> float:
    r""":math:`\sigma_{\min}` of the Jacobian of :math:`z \mapsto z + Fz`, by autograd."""
    z = torch.zeros(F.shape[-1], dtype=F.dtype)
    jacobian = torch.autograd.functional.jacobian(lambda v: v + F @ v, z)
    return torch.linalg.svdvals(jacobian)[-1].item()


@cache
def search() -> tuple[int, torch.Tensor | None]:
    r"""How many :math:`2 \times 2` integer matrices meet the premise, and the first that breaks
    the claim, smallest first (by the sum of the absolute entries), or ``None``."""
    entries = sorted(itertools.product(ENTRIES, repeat=4), key=lambda e: sum(map(abs, e)))
    grid = torch.tensor(entries, dtype=torch.float64)
    F = grid.reshape(-1, 2, 2)
    big, small = split(F)
    premise = (big > BIG) & (small < SMALL)
    low = torch.linalg.svdvals(F + torch.eye(2, dtype=torch.float64))[:, -1]
    broken = premise & (low < 1 - small - 1e-12)
    first = F[broken.nonzero()[0, 0]] if broken.any() else None
    return int(premise.sum()), first


def claim_holds() -> str:
    return "true" if search()[1] is None else "false"


def evidence() -> str:
    count, first = search()
    if first is None:
        return (
            f"All {count} matrices F of size 2 × 2 with integer entries from -3 to 3 that meet "
            "the premise satisfy the claim."
        )
    big, small = (v.item() for v in split(first))
    return (
        f"Among the {count} matrices F of size 2 × 2 with integer entries from -3 to 3 that "
        f"meet the premise, F = {first.int().tolist()} has σ_big = {big:.4g} and σ_small = "
        f"{small:.4g}, yet σ_min(I + F) = {layer_sigma_min(first):.4g}, below 1 - σ_small = "
        f"{1 - small:.4g}."
    )


CLAIM = Choice(
    name="claim",
    form='"true" or "false"',
    options=OPTIONS,
    truth=claim_holds,
    evidence=evidence,
    mistakes=(
        Mistake(
            "The identity does not shift singular values",
            "true",
            "Adding I shifts the eigenvalues of F by one, and the singular values are the "
            "absolute eigenvalues only when F is symmetric (normal). Look again at which input "
            "directions F shrinks and which directions the identity must survive in.",
        ),
    ),
)


@cache
def weyl_search() -> tuple[int, tuple[torch.Tensor, torch.Tensor, int] | None, bool]:
    r"""Every pair of :math:`2 \times 2` matrices :math:`A, B` with entries in
    :math:`\{-1, 0, 1\}`: how many there are, the first (smallest first) and the index
    :math:`i` at which :math:`\sigma_i(A + B) < |\sigma_i(A) - \sigma_{\max}(B)|`, or ``None``,
    and whether the form without the absolute value held for every pair."""
    entries = sorted(itertools.product((-1, 0, 1), repeat=4), key=lambda e: sum(map(abs, e)))
    M = torch.tensor(entries, dtype=torch.float64).reshape(-1, 2, 2)
    A, B = M[:, None].expand(-1, len(M), -1, -1), M[None].expand(len(M), -1, -1, -1)
    s_sum, s_A = torch.linalg.svdvals(A + B), torch.linalg.svdvals(A)
    s_B_max = torch.linalg.svdvals(B)[..., :1]
    absolute = s_sum < (s_A - s_B_max).abs() - 1e-12
    plain_holds = bool((s_sum >= s_A - s_B_max - 1e-12).all())
    if not absolute.any():
        return len(M) ** 2, None, plain_holds
    k, j, i = absolute.nonzero()[0].tolist()
    return len(M) ** 2, (A[k, j], B[k, j], i + 1), plain_holds


def absolute_hint_holds() -> str:
    return "true" if weyl_search()[1] is None else "false"


def absolute_hint_evidence() -> str:
    count, first, plain_holds = weyl_search()
    held = "holds" if plain_holds else "fails"
    without = f"The form without the absolute value {held} for all of them."
    if first is None:
        return f"All {count} pairs of 2 × 2 matrices with entries -1, 0, 1 satisfy it. {without}"
    A, B, i = first
    s_sum = torch.linalg.svdvals(A + B)[i - 1].item()
    s_A = torch.linalg.svdvals(A)[i - 1].item()
    s_B = torch.linalg.svdvals(B)[0].item()
    return (
        f"Among the {count} pairs of 2 × 2 matrices with entries -1, 0, 1, A = "
        f"{A.int().tolist()} and B = {B.int().tolist()} give σ_{i}(A + B) = {s_sum:.4g}, below "
        f"|σ_{i}(A) - σ_max(B)| = {abs(s_A - s_B):.4g}. {without}"
    )


ABSOLUTE_HINT = Choice(
    name="absolute_hint",
    form='"true" or "false"',
    options=OPTIONS,
    truth=absolute_hint_holds,
    evidence=absolute_hint_evidence,
    mistakes=(
        Mistake(
            "The absolute value in Weyl's inequality",
            "true",
            "Weyl's inequality bounds σ_i(A + B) from below by σ_i(A) - σ_max(B), which can be "
            "negative; the absolute value makes the bound larger. Look at pairs for which the "
            "plain bound is negative.",
        ),
    ),
)


def _read_matrix(answer: Any) -> torch.Tensor:
    if isinstance(answer, str | bytes | dict) or answer is None or isinstance(answer, bool):
        raise Malformed(f"got {kind_of(answer)}")
    try:
        F = torch.as_tensor(answer, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise Malformed(f"got {kind_of(answer)} that is not an array of numbers") from None
    if F.dim() != 2 or F.shape[0] != F.shape[1] or F.shape[0] == 0 or F.shape[0] % 2:
        raise Malformed(f"F must be a square matrix of even size, got shape {tuple(F.shape)}")
    if not F.isfinite().all():
        raise Malformed("the entries of F must be finite")
    return F


def _judge_counterexample(answer: Any) -> tuple[bool, str, str | None]:
    F = _read_matrix(answer)
    big, small = (v.item() for v in split(F))
    spectrum = f"Your F has σ_big = {big:.4g} and σ_small = {small:.4g}"
    if not (big > BIG and small < SMALL):
        return (
            False,
            f"{spectrum}, so it does not meet the premise σ_big > {BIG:g} and σ_small < "
            f"{SMALL:g}, and the claim says nothing about it. Scale or change its singular "
            "values.",
            "The premise is not met",
        )
    low = layer_sigma_min(F)
    compared = f"σ_min(I + F) = {low:.4g} against 1 - σ_small = {1 - small:.4g}"
    if low < 1 - small - 1e-12:
        return True, f"{spectrum}, and it breaks the claim: {compared}.", None
    if torch.allclose(F @ F.T, F.T @ F, rtol=1e-9, atol=1e-12):
        return (
            False,
            f"{spectrum}, and it satisfies the claim: {compared}. Your F is normal (F Fᵀ = Fᵀ F, "
            "as a symmetric or diagonal F is), and for a normal F the claim is a theorem: the "
            "singular values of I + F are then |1 + λᵢ|. Look for an F whose input and output "
            "directions differ.",
            "A symmetric or normal F",
        )
    return (
        False,
        f"{spectrum}, and it satisfies the claim, so it is no counterexample: {compared}. Hint: "
        "the identity passes on every input; can F send a direction it stretches onto a "
        "different direction, so as to cancel what the identity passes on?",
        None,
    )


COUNTEREXAMPLE = Construction(
    name="counterexample",
    form=f"a square matrix F of even size whose upper half of singular values exceeds {BIG:g}, "
    f"lower half is below {SMALL:g}, and σ_min(I + F) < 1 - σ_small",
    judge_built=_judge_counterexample,
)


def check(
    claim: Any = PLACEHOLDER,
    why: Any = PLACEHOLDER,
    counterexample: Any = PLACEHOLDER,
    absolute_hint: Any = PLACEHOLDER,
) -> Verdict:
    r"""Check the answers of page ``residual-singular-values``.

    Args:
        claim: ``"true"`` or ``"false"``: whether :math:`\sigma_{\min}(I + F) \ge 1 -
            \sigma_{\text{small}}` holds for *every* :math:`n \times n` matrix :math:`F`
            (:math:`n` even) with :math:`\sigma_i(F) \ge \sigma_{\text{big}} > 2` for
            :math:`i \le n/2` and :math:`\sigma_i(F) \le \sigma_{\text{small}} < 1` for
            :math:`i > n/2`.
        why: your justification, in words; it is kept with the verdict, not graded.
        counterexample: a matrix :math:`F` (a tensor or nested lists) of shape :math:`(n, n)`,
            :math:`n` even, whose :math:`n/2`-th singular value exceeds 2, whose
            :math:`(n/2 + 1)`-th is below 1 (these are the tightest :math:`\sigma_{\text{big}}`
            and :math:`\sigma_{\text{small}}`), and with :math:`\sigma_{\min}(I + F) < 1 -
            \sigma_{\text{small}}`.
        absolute_hint: ``"true"`` or ``"false"``: whether :math:`\sigma_i(A + B) \ge
            |\sigma_i(A) - \sigma_{\max}(B)|` holds for all square :math:`A, B` and every
            :math:`i`.
    """
    return Verdict(
        PAGE,
        (
            CLAIM.check(claim, justification=why),
            COUNTEREXAMPLE.check(counterexample),
            ABSOLUTE_HINT.check(absolute_hint),
        ),
    )


#: The slots, in the order :func:`check` takes them.
SLOTS = (CLAIM, COUNTEREXAMPLE, ABSOLUTE_HINT)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "claim": "false",
        "why": "a shear cancels the identity along one direction",
        "counterexample": shear(10.0),
        "absolute_hint": "false",
    }
