"""The four forms an answer can take, and how each is judged.

- :class:`Expression`: a formula in the page's symbols, a string (``"(1/2)**(n-1)"``, ``^`` is
  a power), a sympy expression or a Python function of the symbols. It is evaluated exactly
  by sympy at the slot's points and compared with the independent computation there.
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
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

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


def _result(slot: str, status: str, feedback: str, **fields) -> SlotResult:
    return SlotResult(slot=slot, status=status, feedback=feedback, **fields)


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
            return _result(self.name, "unanswered", f"not answered yet: give {self.form}")
        except Malformed as error:
            return _result(self.name, "malformed", f"{self.name} must be {self.form}: {error}")

    def judge(self, answer: Any, **extra: Any) -> SlotResult:
        raise NotImplementedError

    def recognized(self, mistake: Mistake, counterexample: str) -> SlotResult:
        return _result(
            self.name,
            "wrong",
            f"{mistake.name}. {mistake.explanation} {counterexample}",
            mistake=mistake.name,
            counterexample=counterexample,
        )


_ALLOWED = re.compile(r"[\w\s+\-*/^().,]*")


def parse_expression(text: str, symbols: Sequence[str]) -> sympy.Expr:
    """``text`` as a sympy expression in ``symbols``; :class:`Malformed` if it is not one."""
    if not _ALLOWED.fullmatch(text) or "__" in text:
        raise Malformed(f"{text!r} has characters an expression cannot have")
    names = {s: sympy.Symbol(s) for s in symbols}
    names |= {f: getattr(sympy, f) for f in ("sqrt", "exp", "log", "tanh", "floor", "ceiling")}
    transformations = (*standard_transformations, convert_xor)
    try:
        expr = parse_expr(text, local_dict=names, transformations=transformations)
    except Exception as error:  # sympy raises many kinds on bad input
        raise Malformed(f"{text!r} does not parse ({type(error).__name__})") from None
    return _in_symbols(expr, symbols)


def _in_symbols(expr: Any, symbols: Sequence[str]) -> sympy.Expr:
    if not isinstance(expr, sympy.Expr):
        raise Malformed(f"{expr!r} is not an expression")
    unknown = sorted(str(s) for s in expr.free_symbols if str(s) not in symbols)
    unknown += sorted(str(f.func) for f in expr.atoms(AppliedUndef))
    if unknown:
        raise Malformed(f"unknown symbol {', '.join(unknown)}; use only {', '.join(symbols)}")
    return expr


@dataclass(frozen=True)
class Expression(Slot):
    """A formula in ``symbols``, compared with ``truth`` at each of ``points``.

    ``truth(point)`` is the independent computation of the quantity at one point;
    ``counterexample(point, truth, yours)`` says, in words, how the answer fails there.
    """

    symbols: tuple[str, ...] = ()
    points: tuple[dict[str, int], ...] = ()
    truth: Callable[[dict[str, int]], float] | None = None
    counterexample: Callable[[dict[str, int], float, float], str] | None = None
    rel_tol: float = 1e-9

    def evaluate(self, answer: Any) -> list[float]:
        """The answer's value at every point; nan where it is undefined or not real."""
        if callable(answer) and not isinstance(answer, sympy.Basic):
            values = []
            for point in self.points:
                try:
                    values.append(complex(answer(**point)))
                except Exception as error:
                    raise Malformed(f"your function fails at {_show(point)}: {error}") from None
        else:
            if isinstance(answer, str):
                expr = parse_expression(answer, self.symbols)
            elif isinstance(answer, int | float | sympy.Basic) and not isinstance(answer, bool):
                expr = _in_symbols(sympy.sympify(answer), self.symbols)
            else:
                raise Malformed(f"got {kind_of(answer)}")
            values = [complex(expr.subs(point).evalf(30)) for point in self.points]
        return [v.real if v.imag == 0 and math.isfinite(v.real) else math.nan for v in values]

    def agree(self, a: Sequence[float], b: Sequence[float]) -> bool:
        return all(
            math.isclose(x, y, rel_tol=self.rel_tol, abs_tol=1e-300)
            for x, y in zip(a, b, strict=True)
        )

    def judge(self, answer: Any, **extra: Any) -> SlotResult:
        yours = self.evaluate(answer)
        truths = [self.truth(point) for point in self.points]
        if self.agree(yours, truths):
            return _result(self.name, "correct", "correct at every point checked.")
        first = next(
            i
            for i, (y, t) in enumerate(zip(yours, truths, strict=True))
            if not self.agree([y], [t])
        )
        point, truth, value = self.points[first], truths[first], yours[first]
        shown = self.counterexample(point, truth, value)
        for mistake in self.mistakes:
            if self.agree(yours, self.evaluate(mistake.answer)):
                return self.recognized(mistake, shown)
        return _result(self.name, "wrong", shown, counterexample=shown)


def _show(case: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in case.items())


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
            return _result(self.name, "correct", f"correct on all {len(self.cases)} cases.")
        case, truth, value = self.cases[wrong[0]], self.truths[wrong[0]], yours[wrong[0]]
        shown = self.counterexample(case, truth, value)
        for mistake in self.mistakes:
            if all(
                self._agree(y, m) for y, m in zip(yours, self.outputs(mistake.answer), strict=True)
            ):
                return self.recognized(mistake, shown)
        if not isinstance(value, RaisedError) and self.shape(value) != self.shape(truth):
            raise Malformed(f"it returns {self.shape(value)}, not {self.shape(truth)}")
        return _result(self.name, "wrong", shown, counterexample=shown)

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
            return _result(self.name, "correct", feedback)
        return _result(self.name, "wrong", feedback, mistake=mistake, counterexample=feedback)


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
            return _result(self.name, "correct", evidence, justification=kept)
        for mistake in self.mistakes:
            if mistake.answer == choice:
                result = self.recognized(mistake, evidence)
                return SlotResult(**{**result.__dict__, "justification": kept})
        return _result(self.name, "wrong", evidence, counterexample=evidence, justification=kept)
