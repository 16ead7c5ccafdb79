"""The expression slots: a formula in the page's symbols, given as a string
(``"(1/2)**(n-1)"``, ``^`` is a power), a sympy expression or a Python function of the symbols.
It is evaluated exactly by sympy at the slot's points and compared there with the independent
computation; a known mistake is recognized by its values, however it is written. A big-O
answer (:class:`Growth`) is compared by its order of growth instead."""

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from derived.checkers.slots import Malformed, Slot, kind_of
from derived.checkers.verdict import SlotResult

_ALLOWED = re.compile(r"[\w\s+\-*/^().,]*")


def parse_expression(text: str, symbols: Sequence[str]) -> sympy.Expr:
    """``text`` as a sympy expression in ``symbols``; raise
    :class:`~derived.checkers.slots.Malformed` if it is not one."""
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
                    shown = ", ".join(f"{k} = {v}" for k, v in point.items())
                    raise Malformed(f"your function fails at {shown}: {error}") from None
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

    def failure(self, yours: list[float], truths: list[float]) -> str:
        """Where the answer fails: the first point at which it differs."""
        first = next(
            i
            for i, (y, t) in enumerate(zip(yours, truths, strict=True))
            if not self.agree([y], [t])
        )
        return self.counterexample(self.points[first], truths[first], yours[first])

    def judge(self, answer: Any, **extra: Any) -> SlotResult:
        yours = self.evaluate(answer)
        truths = [self.truth(point) for point in self.points]
        if self.agree(yours, truths):
            return self.result("correct", "correct at every point checked.")
        shown = self.failure(yours, truths)
        for mistake in self.mistakes:
            if self.agree(yours, self.evaluate(mistake.answer)):
                return self.recognized(mistake, shown)
        return self.result("wrong", shown, counterexample=shown)


@dataclass(frozen=True)
class Growth(Expression):
    """A big-O answer: a formula with the order of growth of the quantity ``truth`` counts.

    ``points`` start from a base point, and each later one makes one or more symbols larger.
    The answer has the right order when its ratio to the count stays within a factor
    ``spread`` over all the points: constant factors do not matter, and lower-order terms of
    the count are why the ratio is not exactly constant.
    """

    spread: float = 1.5

    def agree(self, a: Sequence[float], b: Sequence[float]) -> bool:
        ratios = [x / y for x, y in zip(a, b, strict=True)]
        if not all(math.isfinite(r) and r > 0 for r in ratios):
            return False
        return max(ratios) / min(ratios) <= self.spread

    def failure(self, yours: list[float], truths: list[float]) -> str:
        """The point where the answer's growth from the base point is furthest from the
        count's."""
        base = self.points[0]

        def drift(i: int) -> float:
            ratio = (yours[i] / yours[0]) / (truths[i] / truths[0])
            return abs(math.log(ratio)) if math.isfinite(ratio) and ratio > 0 else math.inf

        i = max(range(1, len(self.points)), key=drift)
        change = ", ".join(f"{k} from {base[k]} to {v}" for k, v in self.points[i].items()
                           if v != base[k])  # fmt: skip
        return (
            f"With {change}, the count grows by a factor {truths[i] / truths[0]:.4g}, "
            f"your expression by {yours[i] / yours[0]:.4g}."
        )
