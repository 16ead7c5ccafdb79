r"""Checker of page ``lstm-bptt``: the reader's backward step of a univariate LSTM.

The reader writes one step of backpropagation through time,
``backward_step(dL_dh, now, after, after_bars, w_h)``, returning
:math:`(\bar h^{(t)}, \bar c^{(t)}, \bar g^{(t)}, \bar o^{(t)}, \bar f^{(t)}, \bar\imath^{(t)})`.
The checker runs it backwards over whole sequences, feeding each step the reader's own bars of
the step after, exactly as backpropagation would, and compares every bar at every step with
autograd: the derivative of the loss with respect to an offset added to a quantity (the
``probe`` of :func:`derived.lstm.lstm_forward`) is, by definition, that quantity's bar.
"""

from typing import Any

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
from derived.lstm import (
    QUANTITIES,
    Gates,
    StepBars,
    StepValues,
    backward_step,
    gate_bars,
    lstm_forward,
)

PAGE = "lstm-bptt"
PARAMETERS = ("dL_dh", "now", "after", "after_bars", "w_h")
LOSSES = {
    "every step": "L = ½ Σ_t (h^(t) − y^(t))², reading h at every step",
    "last step": "L = ½ (h^(T) − y^(T))², reading only the last output",
}
#: Sequences of growing length, each with its loss and the seed of its inputs and weights.
CASES = (
    {"T": 1, "loss": "every step", "seed": 0},
    {"T": 3, "loss": "every step", "seed": 1},
    {"T": 3, "loss": "last step", "seed": 2},
    {"T": 6, "loss": "every step", "seed": 3},
)


def sequence(T: int, loss: str, seed: int) -> dict[str, torch.Tensor]:
    """The inputs, weights, initial state and targets of a case, drawn from its seed."""
    generator = torch.Generator().manual_seed(seed)
    draw = torch.randn(4 + 2 * T + 8, generator=generator, dtype=torch.float64)
    x, y, rest = draw[:T], draw[T : 2 * T], draw[2 * T :]
    read = torch.ones(T, dtype=torch.float64) if loss == "every step" else torch.eye(T)[-1]
    return {"x": x, "y": y, "read": read.double(), "weight_ih": rest[:4], "weight_hh": rest[4:8],
            "h0": 0.5 * rest[8], "c0": rest[9]}  # fmt: skip


def _loss(h: torch.Tensor, data: dict[str, torch.Tensor]) -> torch.Tensor:
    return 0.5 * (data["read"] * (h - data["y"]) ** 2).sum()


def autograd_bars(T: int, loss: str, seed: int) -> torch.Tensor:
    r"""Every bar at every step by autograd through probes; rows :math:`h, c, g, o, f, i`."""
    data = sequence(T, loss, seed)
    probe = torch.zeros(6, T, dtype=torch.float64, requires_grad=True)
    h = lstm_forward(
        data["x"], data["weight_ih"], data["weight_hh"], h0=data["h0"], c0=data["c0"], probe=probe
    ).h
    (grad,) = torch.autograd.grad(_loss(h, data), probe)
    return grad[[QUANTITIES.index(q) for q in StepBars._fields]]


def _step_output(output: Any) -> StepBars:
    if unanswered(output):
        raise Unanswered
    if isinstance(output, dict) or not isinstance(output, tuple | list) or len(output) != 6:
        raise Malformed(
            f"your function returned {output!r}; return the six bars (h̄, c̄, ḡ, ō, f̄, ī)"
        )
    try:
        bars = [torch.as_tensor(v, dtype=torch.float64) for v in output]
    except (TypeError, ValueError, RuntimeError):
        raise Malformed(f"the six bars must be numbers, got {output!r}") from None
    if any(b.dim() != 0 for b in bars):
        raise Malformed("each of the six bars must be a single number")
    return StepBars(*bars)


def run_backwards(step: Any, case: dict[str, Any]) -> torch.Tensor:
    r"""``step`` run from :math:`t = T` down to 1 on a case; rows :math:`h, c, g, o, f, i`."""
    data = sequence(**case)
    with torch.no_grad():
        trace = lstm_forward(
            data["x"], data["weight_ih"], data["weight_hh"], h0=data["h0"], c0=data["c0"]
        )
        dL_dh = data["read"] * (trace.h - data["y"])
        c_prev = torch.cat((data["c0"].reshape(1), trace.c[:-1]))
        zero = torch.zeros((), dtype=torch.float64)
        after, after_bars = StepValues(*[zero] * 6), StepBars(*[zero] * 6)
        columns = []
        for t in reversed(range(case["T"])):
            now = StepValues(*(q[t] for q in trace[:5]), c_prev[t])
            after_bars = _step_output(
                step(dL_dh=dL_dh[t], now=now, after=after, after_bars=after_bars,
                     w_h=Gates(*data["weight_hh"]))
            )  # fmt: skip
            columns.insert(0, torch.stack(after_bars))
            after = now
    return torch.stack(columns, dim=1)


def _counterexample(case: dict[str, Any], truth: torch.Tensor, yours: Any) -> str:
    where = (
        f"For a sequence of T = {case['T']} step{'s' * (case['T'] > 1)} with "
        f"{LOSSES[case['loss']]} (inputs and weights drawn with seed {case['seed']})"
    )
    if isinstance(yours, RaisedError):
        return f"{where}, your function raised {yours}."
    for t in reversed(range(case["T"])):
        for row, name in enumerate(StepBars._fields):
            a, b = truth[row, t].item(), yours[row, t].item()
            if not torch.isclose(truth[row, t], yours[row, t], rtol=1e-9, atol=1e-12):
                return (
                    f"{where}: at t = {t + 1}, autograd gives {name}̄ = {a:.6g}, "
                    f"your function gives {b:.6g}."
                )
    raise AssertionError("no bar differs")  # only called on a failing case


def _forget_gate_of_step_t(dL_dh, now, after, after_bars, w_h):
    right = backward_step(dL_dh, now, after, after_bars, w_h)
    return gate_bars(right.h, right.c + after_bars.c * (now.f - after.f), now)


BACKWARD_STEP = Function(
    name="backward_step",
    form="a function backward_step(dL_dh, now, after, after_bars, w_h) returning the six "
    "bars (h̄, c̄, ḡ, ō, f̄, ī) of step t",
    parameters=PARAMETERS,
    cases=CASES,
    truth=lambda case: autograd_bars(**case),
    run=run_backwards,
    counterexample=_counterexample,
    agree=lambda yours, truth: torch.allclose(yours, truth, rtol=1e-9, atol=1e-12),
    shape=lambda output: f"bars of shape {tuple(output.shape)}",
    mistakes=(
        Mistake(
            "The direct loss term is missing from h̄",
            lambda dL_dh, now, after, after_bars, w_h: backward_step(
                0 * dL_dh, now, after, after_bars, w_h
            ),
            "h^(t) reaches the loss through the gates of step t + 1, and also directly when the "
            "loss reads it; at t = T nothing else starts the recursion. In how many ways does "
            "h^(t) reach L?",
        ),
        Mistake(
            "The forget gate of the wrong step",
            _forget_gate_of_step_t,
            "c^(t) reaches c^(t+1) = f^(t+1) c^(t) + …: which step's forget gate multiplies the "
            "cell gradient coming back?",
        ),
        Mistake(
            "f̄ with the current cell",
            lambda dL_dh, now, after, after_bars, w_h: backward_step(
                dL_dh, now, after, after_bars, w_h
            )._replace(f=backward_step(dL_dh, now, after, after_bars, w_h).c * now.c),
            "The forget gate multiplies the cell it keeps, c^(t) = f^(t) c^(t−1) + …: which "
            "cell is that?",
        ),
        Mistake(
            "c̄ without the path through h",
            lambda dL_dh, now, after, after_bars, w_h: gate_bars(
                backward_step(dL_dh, now, after, after_bars, w_h).h, after_bars.c * after.f, now
            ),
            "c^(t) reaches the loss through c^(t+1), and also through h^(t) = o^(t) tanh c^(t).",
        ),
    ),
)


def check(backward_step: Any = PLACEHOLDER) -> Verdict:
    r"""Check the answer of page ``lstm-bptt``.

    Args:
        backward_step: a function ``backward_step(dL_dh, now, after, after_bars, w_h)``
            returning :math:`(\bar h, \bar c, \bar g, \bar o, \bar f, \bar\imath)` at step
            :math:`t`, where ``dL_dh`` is :math:`\partial L/\partial h^{(t)}` through the loss
            alone, ``now`` and ``after`` hold :math:`i, f, g, o, c, c_{prev}` of steps
            :math:`t` and :math:`t + 1` (:class:`derived.lstm.StepValues`), ``after_bars`` the
            bars of step :math:`t + 1` (:class:`derived.lstm.StepBars`; all zero after the
            last step) and ``w_h`` the recurrent weights :math:`w_{ih}, w_{fh}, w_{gh},
            w_{oh}` (:class:`derived.lstm.Gates`).
    """
    return Verdict(PAGE, (BACKWARD_STEP.check(backward_step),))


#: The slots, in the order :func:`check` takes them.
SLOTS = (BACKWARD_STEP,)


def book_answers() -> dict[str, Any]:
    """The book's answers, by slot, from the library functions its solution and Check use."""
    return {"backward_step": backward_step}
