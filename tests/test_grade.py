"""The instructor's grader: made-up submissions of the student edition's notebooks, correct,
wrong, blank, malformed and hostile, graded in one run; each gets its verdict or says why not,
and none disturbs the others."""

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from derived.checkers import conv_output_size, grade, rnn_jacobian

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import colab  # noqa: E402
import exercises  # noqa: E402

TIMEOUT = 20  # seconds per notebook: a few for torch's import, the rest for an endless loop
PAGES = {p.stem: p for p in ROOT.glob("chapters/*/*.md")}
CONV_RIGHT = """\
from derived import conv_arithmetic


def output_shape(C, H, W, K, P, S, D, F):
    return conv_arithmetic.output_shape((C, H, W), F, K, stride=S, padding=P, dilation=D)
"""
LSTM = "from derived import lstm\n\n\ndef backward_step(dL_dh, now, after, after_bars, w_h):\n"
RNN = "from derived.tanh_rnn import jacobian_bound\n\n"
#: Each submission: its page, the code typed into its answer cell before the closing
#: ``check(...)``, and the (status, words of the feedback) expected for each slot.
SUBMISSIONS = {
    "rnn-correct": (
        "rnn-jacobian",
        RNN + "bound = lambda n: jacobian_bound(0.5, n)\n"
        "counterexample = (0.5 * torch.eye(3, dtype=torch.float64), torch.zeros(3))",
        {"bound": ("correct", "correct"), "counterexample": ("correct", "breaks the claim")},
    ),
    "rnn-wrong": (
        "rnn-jacobian",
        'bound = "(1/2)**n"\ncounterexample = (0.5 * torch.eye(3), torch.full((3,), 3.0))',
        {
            "bound": ("wrong", "One factor too many"),
            "counterexample": ("wrong", "no counterexample"),
        },
    ),
    "rnn-malformed": (
        "rnn-jacobian",
        "bound = [1, 2]",
        {
            "bound": ("malformed", "bound must be an expression in n"),
            "counterexample": ("unanswered", "not answered yet"),
        },
    ),
    "conv-correct": ("conv-output-size", CONV_RIGHT, {"output_shape": ("correct", "correct")}),
    "conv-wrong": (
        "conv-output-size",
        CONV_RIGHT.replace("dilation=D)", "dilation=D) + (C,)"),
        {"output_shape": ("wrong", "A factor C in the output")},
    ),
    "conv-blank": ("conv-output-size", "", {"output_shape": ("unanswered", "not answered yet")}),
    "lstm-correct": (
        "lstm-bptt",
        LSTM + "    return lstm.backward_step(dL_dh, now, after, after_bars, w_h)",
        {"backward_step": ("correct", "correct")},
    ),
    "batchnorm-correct": (
        "batchnorm-resnet-placement",
        'easier = "left"\nwhy = "the identity skip"',
        {"easier": ("correct", "Measured at initialization")},
    ),
    # The hostile ones, on the page whose check is quickest.
    "crashing": (
        "conv-output-size",
        'raise RuntimeError("boom")',
        {"output_shape": ("crashed", "raised RuntimeError: boom in cell 3")},
    ),
    "looping": (
        "conv-output-size",
        "import pathlib, subprocess, time\n"
        "pathlib.Path(PIDFILE).write_text(str(subprocess.Popen(['sleep', '300']).pid))\n"
        "while True:\n    time.sleep(0.1)",
        {"output_shape": ("timeout", f"timed out after {TIMEOUT} s")},
    ),
    "sys-exit": (
        "conv-output-size",
        "import sys\nsys.exit(3)",
        {"output_shape": ("exited", "called sys.exit(3) in cell 3")},
    ),
    "os-exit": (
        "conv-output-size",
        "import os\nos._exit(7)",
        {"output_shape": ("exited", "exited with status 7")},
    ),
    "flood": (
        "conv-output-size",
        'print("x" * 3_000_000)',
        {"output_shape": ("flooded", "printed more than 1 MiB")},
    ),
    "network": (
        "conv-output-size",
        'import urllib.request\nurllib.request.urlopen("http://example.com", timeout=5)',
        {"output_shape": ("crashed", "network access is disabled")},
    ),
    "forged": (  # a correct-looking result written to the grader's pipe, without the token
        "conv-output-size",
        "import json, os, sys\n"
        "result = {'token': '', 'outcome': 'graded', 'results': "
        "[{'slot': 'output_shape', 'status': 'correct', 'feedback': ''}]}\n"
        "os.write(int(sys.argv[1]), json.dumps(result).encode())\nos._exit(0)",
        {"output_shape": ("invalid", "not the grader's")},
    ),
}
#: The submissions without a page's checker: (status, words of the feedback).
PAGELESS = {
    "not-json": ("unreadable", "not a readable notebook: NotJSONError"),
    "no-page": ("unknown-page", "no page found"),
}


def submission(page: str, typed: str) -> nbformat.NotebookNode:
    """The student edition's notebook of ``page``, as handed out, with ``typed`` in its answer
    cell just before the closing ``check(...)``."""
    notebook = colab.colab_notebook(exercises.student_notebook(PAGES[page]), {}, "derived")
    answer = notebook.cells[-1]
    *body, closing = answer.source.rstrip().split("\n")
    answer.source = "\n".join([*body, typed, closing])
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[dict[str, list[dict]], str, Path]:
    """Every submission graded in one run: its CSV rows by name, the printed summary, and the
    file where the looping notebook noted its subprocess."""
    folder = tmp_path_factory.mktemp("submissions")
    for sub in ("handed-in", ".ipynb_checkpoints"):
        (folder / sub).mkdir()
    pidfile = folder.parent / "sleep.pid"
    for name, (page, typed, _) in SUBMISSIONS.items():
        typed = typed.replace("PIDFILE", repr(str(pidfile)))
        nbformat.write(submission(page, typed), folder / "handed-in" / f"{name}.ipynb")
    (folder / "handed-in" / "not-json.ipynb").write_text("a notebook, honestly")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]),
                   folder / "no-page.ipynb")  # fmt: skip
    # Jupyter's autosaved copies are not submissions.
    nbformat.write(submission("conv-output-size", ""), folder / ".ipynb_checkpoints" / "x.ipynb")
    out = folder.parent / "grades.csv"
    # The endless loop first, so that it waits while the others run; it is graded only once.
    looping = folder / "handed-in" / "looping.ipynb"
    command = [sys.executable, "-m", "derived.checkers.grade", looping, folder, "--out", out]
    command += ["--timeout", str(TIMEOUT), "--jobs", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames) == grade.COLUMNS
        rows = {}
        for row in reader:
            rows.setdefault(Path(row["submission"]).stem, []).append(row)
    return rows, result.stdout, pidfile


def test_every_submission_is_graded_once_and_checkpoints_are_not(graded):
    rows, _, _ = graded
    assert sorted(rows) == sorted([*SUBMISSIONS, *PAGELESS])


@pytest.mark.parametrize("name", SUBMISSIONS)
def test_each_answer_gets_its_status_and_says_why(graded, name):
    rows, _, _ = graded
    page, _, expected = SUBMISSIONS[name]
    assert [r["slot"] for r in rows[name]] == list(expected)
    for row in rows[name]:
        status, words = expected[row["slot"]]
        assert (row["page"], row["status"]) == (page, status)
        assert words in row["feedback"]
        assert row["passed"] == str(int(status == "correct"))


@pytest.mark.parametrize("name", PAGELESS)
def test_a_submission_without_a_page_gets_one_row_saying_why(graded, name):
    rows, _, _ = graded
    ((row,),) = [rows[name]]
    status, words = PAGELESS[name]
    assert (row["page"], row["slot"], row["passed"], row["status"]) == ("", "", "0", status)
    assert words in row["feedback"]


def test_a_subprocess_of_a_notebook_is_killed_with_it(graded):
    _, _, pidfile = graded
    stat = Path(f"/proc/{pidfile.read_text()}/stat")
    # gone, or a zombie waiting for an init that does not reap it
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] in "ZX"


def test_the_summary_gives_each_submission_and_the_totals(graded):
    _, summary, _ = graded
    lines = summary.splitlines()
    assert any(line.endswith("rnn-correct.ipynb: rnn-jacobian: 2 of 2 answers correct")
               for line in lines)  # fmt: skip
    assert any("looping.ipynb: conv-output-size: not graded, timeout" in line for line in lines)
    expected = [e for _, _, e in SUBMISSIONS.values()]
    correct = sum(s == "correct" for e in expected for s, _ in e.values())
    total = sum(len(e) for e in expected)
    failed = sum(next(iter(e.values()))[0] not in grade.ANSWER_STATUSES for e in expected)
    assert lines[-1].startswith(
        f"{len(SUBMISSIONS) + len(PAGELESS)} submissions, {failed + len(PAGELESS)} of them "
        "failed to run; "
        f"{correct} of {total} answers correct"
    )


def notebook(cells: list[str], page: str | None = None, tags: list | None = None):
    cells = [nbformat.v4.new_code_cell(c) for c in cells]
    if tags is not None:
        cells[-1].metadata["tags"] = tags
    made = nbformat.v4.new_notebook(cells=cells)
    if page is not None:
        made.metadata["derived"] = {"page": page}
    return made


def test_the_page_is_found_from_the_metadata_or_else_the_checker_imported():
    assert exercises.student_notebook(PAGES["rnn-jacobian"]).metadata["derived"] == {
        "page": "rnn-jacobian"
    }
    assert grade.checker_of(notebook(["x = 1"], page="rnn-jacobian")) is rnn_jacobian
    imports = ["from derived.checkers import rnn_jacobian", "from derived.checkers import "
               "conv_output_size\nconv_output_size.check()"]  # fmt: skip
    assert grade.checker_of(notebook(imports)) is rnn_jacobian
    assert grade.checker_of(notebook(imports, tags=["answer"])) is conv_output_size
    assert grade.checker_of(notebook(["import derived.checkers.conv_output_size"])) is (
        conv_output_size
    )


@pytest.mark.parametrize(
    "made",
    [
        notebook(["print(1)"]),
        notebook(["x = 1"], page="no-such-page"),
        notebook(["x = 1"], page="rnn_jacobian"),  # a module's name, not a page's
        notebook(["from derived.checkers import slots, grade"]),  # not pages' checkers
    ],
)
def test_no_page_is_found_where_nothing_names_a_pages_checker(made):
    assert grade.checker_of(made) is None


def test_the_install_cell_is_never_run_and_magics_become_calls():
    handed_out = submission("conv-output-size", "%matplotlib inline")
    assert colab.INSTALL_TAG == grade.INSTALL_TAG
    untagged = nbformat.from_dict(handed_out)
    del untagged.cells[0].metadata["tags"]  # an older notebook: found by its pip
    for made in (handed_out, untagged):
        cells = grade.cells_to_run(made)
        assert [n for n, _ in cells] == [len(made.cells)]  # the answer cell alone
        assert "get_ipython().run_line_magic('matplotlib', 'inline')" in cells[0][1]


def test_the_table_has_the_columns_and_a_row_per_answer(tmp_path):
    rows = [
        grade.Row("a.ipynb", "rnn-jacobian", "bound", True, "correct", "fine"),
        grade.Row("b, c.ipynb", "", "", False, "unreadable", 'says "no",\nthen stops'),
    ]
    grade.write_csv(rows, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as file:
        read = list(csv.reader(file))
    assert read[0] == list(grade.COLUMNS)
    assert read[1:] == [
        ["a.ipynb", "rnn-jacobian", "bound", "1", "correct", "fine"],
        ["b, c.ipynb", "", "", "0", "unreadable", 'says "no",\nthen stops'],
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.ipynb"], "no such file or folder: missing.ipynb"),
        (["empty"], "no notebook (.ipynb) in empty"),
        (["notes.txt"], "not a notebook (.ipynb) or a folder: notes.txt"),
        (["empty", "--timeout", "0"], "--timeout must be positive"),
        (["empty", "--jobs", "0"], "--jobs must be at least 1"),
        (["empty", "--out", "nowhere/grades.csv"], "no such folder for --out: nowhere"),
    ],
)
def test_usage_errors_say_what_is_wrong(tmp_path, monkeypatch, capsys, arguments, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(SystemExit) as stop:
        grade.main(arguments)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
