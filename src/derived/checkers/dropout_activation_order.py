r"""Checker of page ``dropout-activation-order``: the set of activations for which
linear-activation-dropout and linear-dropout-activation are the same layer.

The answer is a set of names among ReLU, the sigmoid, LeakyReLU and :math:`\tanh`. Which of them
commute with dropout is decided by running both orders: each activation's ``torch.nn`` module is
wired with an ``nn.Linear`` and an ``nn.Dropout`` in training mode into two ``nn.Sequential``
layers, and both are run on the same inputs with their random draws taken from two generators
seeded identically (:func:`derived.rng.default_rng_from`), so that both orders use the same mask.
An activation commutes when the two outputs agree to within rounding for every drop probability
tried; for one that does not, the counterexample is the unit where the orders differ most (among
those with :math:`|y| \le 1`, away from saturation, where there are any).
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

import torch
from torch import nn

from derived.checkers.slots import PLACEHOLDER, Malformed, Mistake, Slot, kind_of
from derived.checkers.verdict import SlotResult, Verdict
from derived.dropout import is_positively_homogeneous
from derived.rng import default_rng_from

PAGE = "dropout-activation-order"
#: The activations of the exercise, by the names an answer uses, in its order (a) to (d).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
}
LETTERS = dict(zip("abcd", ACTIVATIONS, strict=True))
#: The drop probabilities tried: the exercise's first, then one whose mask value 1/(1 - p) is a
#: power of two, and one with most units dropped.
PS = (0.4, 0.5, 0.9)
#: Agreement "to within rounding": a few units in the last place of float64.
RTOL = 8 * torch.finfo(torch.float64).eps
NUM_INPUTS, IN_FEATURES, OUT_FEATURES = 64, 6, 20


def _name(item: Any) -> str:
    if not isinstance(item, str):
        raise Malformed(f"its elements must be names of activations, got {kind_of(item)}")
    key = item.strip().lower().replace("-", "_").replace(" ", "_").strip("()")
    key = {"leakyrelu": "leaky_relu", "logistic": "sigmoid"}.get(key, key)
    key = LETTERS.get(key, key)
    if key not in ACTIVATIONS:
        raise Malformed(f"{item!r} is not one of {', '.join(map(repr, ACTIVATIONS))}")
    return key


def read_set(answer: Any) -> frozenset[str]:
    """The answer as a set of activation names; :class:`Malformed` if it is not one."""
    if isinstance(answer, str | bytes) or not isinstance(answer, set | frozenset | list | tuple):
        raise Malformed(f"got {kind_of(answer)}")
    return frozenset(_name(item) for item in answer)


@cache
def both_orders(name: str, p: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""The pre-activations :math:`y`, and the outputs of linear-activation-dropout and of
    linear-dropout-activation with the same mask, from ``torch.nn`` layers.

    Shape:
        each :math:`(64, 20)`: ``NUM_INPUTS`` inputs, ``OUT_FEATURES`` units.
    """
    with default_rng_from(torch.Generator().manual_seed(0)):
        linear = nn.Linear(IN_FEATURES, OUT_FEATURES, dtype=torch.float64)
    generator = torch.Generator().manual_seed(1)
    x = 2 * torch.randn(NUM_INPUTS, IN_FEATURES, dtype=torch.float64, generator=generator)
    phi, dropout = ACTIVATIONS[name](), nn.Dropout(p)

    def run(*layers: nn.Module) -> torch.Tensor:
        net = nn.Sequential(*layers).train()
        with default_rng_from(torch.Generator().manual_seed(2)), torch.no_grad():
            return net(x)

    with torch.no_grad():
        y = linear(x)
    return y, run(linear, phi, dropout), run(linear, dropout, phi)


@cache
def mask(p: float) -> torch.Tensor:
    """The mask both orders multiply by: the same dropout, with the same seed, on ones."""
    with default_rng_from(torch.Generator().manual_seed(2)), torch.no_grad():
        return nn.Dropout(p).train()(torch.ones(NUM_INPUTS, OUT_FEATURES, dtype=torch.float64))


def commutes(name: str) -> bool:
    """Whether the two orders agree to within rounding at every drop probability tried."""
    for p in PS:
        _, after, before = both_orders(name, p)
        if not torch.allclose(after, before, rtol=RTOL, atol=1e-300):
            return False
    return True


@cache
def commuting() -> frozenset[str]:
    """The activations that commute with dropout, by measurement."""
    return frozenset(name for name in ACTIVATIONS if commutes(name))


def evidence(name: str) -> str:
    """What running both orders shows for one activation: the unit where they differ most, or
    how closely they agree."""
    module = f"nn.{ACTIVATIONS[name].__name__}"
    for p in PS:
        y, after, before = both_orders(name, p)
        gap = (after - before).abs()
        if not torch.allclose(after, before, rtol=RTOL, atol=1e-300):
            # The largest difference on a unit with |y| <= 1, away from saturation, if any.
            near = (y.abs() <= 1) & (gap > 0)
            i = int(torch.where(near if near.any() else gap > 0, gap, -1).flatten().argmax())
            unit = y.flatten()[i].item()
            kind = "dropped" if mask(p).flatten()[i] == 0 else "kept"
            return (
                f"With {module} and the same dropout mask (p = {p}), a {kind} unit with "
                f"pre-activation y = {unit:.6g} outputs {before.flatten()[i].item():.6g} when "
                f"dropout comes first and {after.flatten()[i].item():.6g} when it comes last."
            )
    worst = max(
        ((a - b).abs() / a.abs().clamp_min(1e-300)).max().item()
        for a, b in (both_orders(name, p)[1:] for p in PS)
    )
    units = sum(both_orders(name, p)[0].numel() for p in PS)
    return (
        f"With {module}, both orders run with the same masks (p = "
        f"{', '.join(map(str, PS))}) agree on all {units} units to within rounding (largest "
        f"relative difference {worst:.1e}): they are the same layer."
    )


@dataclass(frozen=True)
class ActivationSet(Slot):
    """A set of activation names, judged against the set that the measurement picks."""

    def judge(self, answer: Any, **extra: Any) -> SlotResult:
        chosen, truth = read_set(answer), commuting()
        if chosen == truth:
            names = ", ".join(n for n in ACTIVATIONS if n in truth)
            return self.result(
                "correct",
                f"correct: both orders agree for {names} and differ for the others.",
            )
        # The activations the answer gets wrong, in the exercise's order.
        shown = " ".join(evidence(n) for n in ACTIVATIONS if (n in chosen) != (n in truth))
        for mistake in self.mistakes:
            if chosen == read_set(mistake.answer):
                return self.recognized(mistake, shown)
        return self.result("wrong", shown, counterexample=shown)


EQUIVALENT = ActivationSet(
    name="equivalent",
    form='a set of activation names among "relu", "sigmoid", "leaky_relu" and "tanh", such '
    'as {"relu", "tanh"}',
    mistakes=(
        Mistake(
            "Checking only the dropped units",
            {"relu", "leaky_relu", "tanh"},
            "An activation with φ(0) = 0 gives 0 for a dropped unit in both orders, but dropout "
            "also rescales every kept unit by 1/(1 − p). Compare φ(y/(1 − p)) with "
            "φ(y)/(1 − p).",
        ),
        Mistake(
            "Dropout treated as the identity",
            set(ACTIVATIONS),
            "In evaluation mode, or on average, dropout changes nothing and every order agrees; "
            "the question is about training, where each unit is multiplied by a random mask "
            "entry. Compare the two orders for one and the same mask.",
        ),
        Mistake(
            "LeakyReLU's negative side",
            {"relu"},
            "The mask is non-negative: can multiplying a negative pre-activation by it move it "
            "to the other side of zero, onto the other piece of LeakyReLU?",
        ),
        Mistake(
            "Only a linear activation commutes",
            set(),
            "The orders agree when φ(c y) = c φ(y) for the values c the mask takes, all of them "
            "non-negative. Is that linearity, or something weaker?",
        ),
    ),
)


def check(equivalent: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answer of page ``dropout-activation-order``.

    Args:
        equivalent: the set (or list) of the activations for which
            :math:`\operatorname{dropout}(\phi(Ax + b))` and :math:`\phi(\operatorname{dropout}(Ax
            + b))` are the same layer in training mode, by name among ``"relu"``,
            ``"sigmoid"``, ``"leaky_relu"`` and ``"tanh"`` (or by the exercise's letters
            ``"a"`` to ``"d"``); for instance ``{"relu", "tanh"}``.
    """
    return Verdict(PAGE, (EQUIVALENT.check(equivalent),))


#: The slots, in the order :func:`check` takes them.
SLOTS = (EQUIVALENT,)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {
        "equivalent": {
            name for name, module in ACTIVATIONS.items() if is_positively_homogeneous(module())
        }
    }
