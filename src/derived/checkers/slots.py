"""The four forms an answer can take, and how each is judged.

- :class:`derived.checkers.expression.Expression`: a formula in the page's symbols (its own
  module, with the parser).
- :class:`Function`: a function the reader writes, with the signature the exercise states,
  run on the slot's cases and compared with the independent computation of each.
- :class:`Construction`: an object the reader builds (a counterexample, say), checked for the
  property asked, never against a stored one.
- :class:`Choice`: one of the stated options, with a free-text justification that is kept but
  not graded; the right option is the one the independent computation picks.

Every slot recognizes the page's known mistakes (:class:`Mistake`), answers any other wrong
answer with the first of its cases that fails (cases and points are ordered smallest first),
says "not answered yet" for the placeholder ``...``, and refuses an answer of the wrong form
with a message that names the slot, never with a traceback.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from derived.checkers.verdict import SlotResult

#: The placeholder of an answer cell: the answer not given yet.
PLACEHOLDER = ...


def kind_of(value: Any) -> str:
    """``a list``, ``an int``: the type of a value, for a message."""
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


class Malformed(Exception):
    """An answer of the wrong form; the message says what form is expected."""


class Unanswered(Exception):
    """A function that still returns the placeholder."""


def unanswered(output: Any) -> bool:
    """The placeholder, or a tuple or list that still holds one."""
    return output is PLACEHOLDER or (
        isinstance(output, tuple | list) and any(v is PLACEHOLDER for v in output)
    )


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer, in the slot's own form, and what to tell a reader who gives it.

    Attributes:
        name: a short name for the mistake, shown first in the feedback.
        answer: the wrong answer: an expression, a function or an option, as the slot takes.
        explanation: what is wrong and a hint at the step of the derivation to look at again,
            without giving the right answer away.
    """

    name: str
    answer: Any
    explanation: str


@dataclass(frozen=True)
class Slot:
    """What every slot shares: a name, a description of the form, and its known mistakes."""

    name: str
    form: str  #: what the answer should be, for the messages: "an expression in n", ...
    mistakes: tuple[Mistake, ...] = ()

    def check(self, answer: Any, **extra: Any) -> SlotResult:
        try:
            if answer is PLACEHOLDER:
                raise Unanswered
            return self.judge(answer, **extra)
        except Unanswered:
            return self.result("unanswered", f"not answered yet: give {self.form}")
        except Malformed as error:
            return self.result("malformed", f"{self.name} must be {self.form}: {error}")

    def judge(self, answer: Any, **extra: Any) -> SlotResult:
        raise NotImplementedError

    def result(self, status: str, feedback: str, **fields: Any) -> SlotResult:
        return SlotResult(slot=self.name, status=status, feedback=feedback, **fields)

    def recognized(self, mistake: Mistake, counterexample: str) -> SlotResult:
        return self.result(
            "wrong",
            f"{mistake.name}. {mistake.explanation} {counterexample}",
            mistake=mistake.name,
            counterexample=counterexample,
        )


@dataclass(frozen=True)
class Function(Slot):
    """A function with ``parameters``, judged on ``cases`` against ``truth``.

    ``run(f, case)`` evaluates a function on a case (by default ``f(**case)``); ``read``
    turns what it returned into a comparable value, raising :class:`Malformed` for output of
    the wrong kind; ``agree(yours, truth)`` compares; ``counterexample(case, truth, yours)``
    says how the answer fails on a case, and ``shape(output)`` names its form, so that
    output of the wrong shape is refused once no known mistake explains it.
    """

    parameters: tuple[str, ...] = ()
    cases: tuple[dict[str, Any], ...] = ()
    truth: Callable[[dict[str, Any]], Any] | None = None
    counterexample: Callable[[dict[str, Any], Any, Any], str] | None = None
    run: Callable[[Callable, dict[str, Any]], Any] = lambda f, case: f(**case)
    read: Callable[[Any], Any] = lambda output: output
    agree: Callable[[Any, Any], bool] = lambda yours, truth: yours == truth
    shape: Callable[[Any], str] = lambda output: type(output).__name__
    truths: list = field(default_factory=list, compare=False)

    def outputs(self, f: Callable) -> list[Any]:
        """``f`` on every case; an exception becomes its message, a wrong answer."""
        results = []
        for case in self.cases:
            try:
                output = self.run(f, case)
                if unanswered(output):
                    raise Unanswered
                results.append(self.read(output))
            except (Malformed, Unanswered):
                raise
            except Exception as error:
                results.append(RaisedError(f"{type(error).__name__}: {error}"))
        return results

    def judge(self, answer: Any, **extra: Any) -> SlotResult:
        if not callable(answer) or isinstance(answer, type):
            raise Malformed(f"got {kind_of(answer)}")
        try:
            inspect.signature(answer).bind(**dict.fromkeys(self.parameters))
        except (TypeError, ValueError):
            raise Malformed(
                f"your function must take the parameters ({', '.join(self.parameters)})"
            ) from None
        if not self.truths:  # the independent computation, once per slot
            self.truths.extend(self.truth(case) for case in self.cases)
        yours = self.outputs(answer)
        wrong = [
            i
            for i, (y, t) in enumerate(zip(yours, self.truths, strict=True))
            if not self._agree(y, t)
        ]
        if not wrong:
            return self.result("correct", f"correct on all {len(self.cases)} cases.")
        case, truth, value = self.cases[wrong[0]], self.truths[wrong[0]], yours[wrong[0]]
        shown = self.counterexample(case, truth, value)
        for mistake in self.mistakes:
            if all(
                self._agree(y, m) for y, m in zip(yours, self.outputs(mistake.answer), strict=True)
            ):
                return self.recognized(mistake, shown)
        if not isinstance(value, RaisedError) and self.shape(value) != self.shape(truth):
            raise Malformed(f"it returns {self.shape(value)}, not {self.shape(truth)}")
        return self.result("wrong", shown, counterexample=shown)

    def _agree(self, yours: Any, truth: Any) -> bool:
        if isinstance(yours, RaisedError) or isinstance(truth, RaisedError):
            return yours == truth
        return self.agree(yours, truth)


class RaisedError(str):
    """What a reader's function raised on a case, kept as its message."""


@dataclass(frozen=True)
class Construction(Slot):
    """An object the reader builds, checked for the property asked.

    ``judge_built(answer)`` reads the answer (raising :class:`Malformed` if it has the wrong
    form) and returns ``(has_property, feedback, mistake_name)``, the feedback computed on the
    reader's own object.
    """

    judge_built: Callable[[Any], tuple[bool, str, str | None]] | None = None

    def judge(self, answer: Any, **extra: Any) -> SlotResult:
        ok, feedback, mistake = self.judge_built(answer)
        if ok:
            return self.result("correct", feedback)
        return self.result("wrong", feedback, mistake=mistake, counterexample=feedback)


@dataclass(frozen=True)
class Choice(Slot):
    """One of ``options``; ``truth()`` computes which is right and ``evidence()`` says why, in
    numbers. A justification is kept with the result, not graded."""

    options: tuple[str, ...] = ()
    truth: Callable[[], str] | None = None
    evidence: Callable[[], str] | None = None

    def judge(self, answer: Any, justification: Any = None, **extra: Any) -> SlotResult:
        if not isinstance(answer, str) or answer.strip().lower() not in self.options:
            raise Malformed(f"got {answer!r}")
        if justification is PLACEHOLDER:
            justification = None
        if justification is not None and not isinstance(justification, str):
            raise Malformed(f"the justification must be text, not {kind_of(justification)}")
        choice = answer.strip().lower()
        kept = justification.strip() if justification else None
        evidence = self.evidence()
        if choice == self.truth():
            return self.result("correct", evidence, justification=kept)
        for mistake in self.mistakes:
            if mistake.answer == choice:
                result = self.recognized(mistake, evidence)
                return SlotResult(**{**result.__dict__, "justification": kept})
        return self.result("wrong", evidence, counterexample=evidence, justification=kept)
