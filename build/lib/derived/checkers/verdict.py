"""What a checker says about a page's answers: one result per slot, readable by a program and
shown well in a notebook (HTML with a pass/fail mark) and as plain text elsewhere."""

import html
from dataclasses import dataclass
from typing import Literal

Status = Literal["correct", "wrong", "unanswered", "malformed"]

#: The mark and colour (Okabe-Ito) of each status.
MARKS: dict[str, tuple[str, str]] = {
    "correct": ("✓", "#009E73"),
    "wrong": ("✗", "#D55E00"),
    "unanswered": ("…", "#767676"),
    "malformed": ("!", "#E69F00"),
}


@dataclass(frozen=True)
class SlotResult:
    """The verdict on one answer slot.

    Attributes:
        slot: the slot's name, the keyword of ``check``.
        status: ``"correct"``, ``"wrong"``, ``"unanswered"`` (still ``...``) or ``"malformed"``
            (an answer of the wrong form: it does not parse, names an unknown symbol, has the
            wrong signature or output shape).
        feedback: what is right or wrong, with a counterexample and a hint where wrong.
        mistake: the name of the known mistake recognized, if any.
        counterexample: the concrete case on which the answer fails, if any.
        justification: free text given with a choice, kept but not graded.
    """

    slot: str
    status: Status
    feedback: str
    mistake: str | None = None
    counterexample: str | None = None
    justification: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "correct"


@dataclass(frozen=True)
class Verdict:
    """The verdicts on all the slots of one page, in the order of the exercise."""

    page: str
    results: tuple[SlotResult, ...]

    @property
    def passed(self) -> bool:
        """Every slot answered and correct."""
        return all(r.passed for r in self.results)

    @property
    def answered(self) -> bool:
        return all(r.status != "unanswered" for r in self.results)

    def __getitem__(self, slot: str) -> SlotResult:
        for result in self.results:
            if result.slot == slot:
                return result
        raise KeyError(f"slot must be one of {[r.slot for r in self.results]}, got {slot!r}")

    def summary(self) -> str:
        correct = sum(r.passed for r in self.results)
        if not any(r.status != "unanswered" for r in self.results):
            return f"{self.page}: not answered yet; replace each ... with your answer"
        return f"{self.page}: {correct} of {len(self.results)} answers correct"

    def __str__(self) -> str:
        lines = [self.summary()]
        for r in self.results:
            lines.append(f"  {MARKS[r.status][0]} {r.slot} ({r.status}): {r.feedback}")
            if r.justification:
                lines.append(f"      your justification (kept, not graded): {r.justification}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's plain-text display
        printer.text(str(self))

    def _repr_html_(self) -> str:
        items = []
        for r in self.results:
            mark, colour = MARKS[r.status]
            kept = ""
            if r.justification:
                justification = html.escape(r.justification)
                kept = f"<br><em>Your justification (kept, not graded):</em> {justification}"
            items.append(
                f'<li style="list-style: none; border-left: 4px solid {colour}; '
                f'padding-left: 0.5em; margin: 0.3em 0">'
                f'<strong style="color: {colour}" aria-label="{r.status}">{mark}</strong> '
                f"<code>{html.escape(r.slot)}</code> <em>{r.status}</em>: "
                f"{html.escape(r.feedback)}{kept}</li>"
            )
        return (
            f'<div class="derived-verdict" role="status"><p><strong>'
            f"{html.escape(self.summary())}</strong></p>"
            f'<ul style="padding-left: 0">{"".join(items)}</ul></div>'
        )
