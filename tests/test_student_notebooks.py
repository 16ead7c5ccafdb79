"""The student edition's notebooks: the problem and its answer cell, which runs with its
placeholders and, once a reader types a known wrong answer, names the mistake."""

import sys
from pathlib import Path

import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import exercises  # noqa: E402

#: For each page with an answer cell, a wrong answer typed into it and the mistake to name.
TYPED = {
    "rnn-jacobian": ("bound = ...", 'bound = "(1/2)^n"', "One factor too many"),
    "conv-output-size": (
        "return ...",
        "return (F, (H + 2*P - D*(K-1) - 1) // S + 1, (W + 2*P - D*(K-1) - 1) // S + 1, C)",
        "A factor C in the output",
    ),
    "lstm-bptt": (
        "    h_bar = ...\n    c_bar = ...\n    g_bar = ...\n    o_bar = ...\n"
        "    f_bar = ...\n    i_bar = ...\n",
        "    h_bar = (after_bars.i * after.i * (1 - after.i) * w_h.i\n"
        "             + after_bars.f * after.f * (1 - after.f) * w_h.f\n"
        "             + after_bars.g * (1 - after.g**2) * w_h.g\n"
        "             + after_bars.o * after.o * (1 - after.o) * w_h.o)\n"
        "    c_bar = h_bar * now.o * (1 - torch.tanh(now.c)**2) + after_bars.c * after.f\n"
        "    g_bar, o_bar = c_bar * now.i, h_bar * torch.tanh(now.c)\n"
        "    f_bar, i_bar = c_bar * now.c_prev, c_bar * now.g\n",
        "The direct loss term is missing from h̄",
    ),
    "batchnorm-resnet-placement": (
        "easier = ...",
        'easier = "right"',
        "Batch norm after the addition does not normalize the gradient",
    ),
}
PAGES = {p.stem: p for p in ROOT.glob("chapters/*/*.md") if p.stem in TYPED}


def test_every_page_with_an_answer_cell_has_a_typed_wrong_answer():
    with_cell = {p.stem for p in ROOT.glob("chapters/*/*.md") if exercises.student_notebook(p)}
    assert with_cell == set(TYPED)


def answer_output(notebook) -> str:
    executed = NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    (cell,) = [c for c in executed.cells if exercises.ANSWER_TAG in c.metadata.get("tags", [])]
    assert all(o.output_type != "error" for o in cell.outputs)
    return "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)


@pytest.mark.parametrize("stem", sorted(TYPED))
def test_the_answer_cell_runs_blank_and_names_a_typed_mistake(stem):
    notebook = exercises.student_notebook(PAGES[stem])
    text = "\n".join(c.source for c in notebook.cells)
    assert "{solution}" not in text and "## Check" not in text and ":::" not in text
    assert notebook.cells[-1].cell_type == "code"  # nothing after the answer cell
    assert "not answered yet" in answer_output(notebook)

    placeholder, typed, mistake = TYPED[stem]
    assert placeholder in notebook.cells[-1].source
    notebook.cells[-1].source = notebook.cells[-1].source.replace(placeholder, typed)
    output = answer_output(notebook)
    assert "0 of" in output and mistake in output
