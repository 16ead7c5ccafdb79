"""Every page keeps the book's promises: the skeleton, clean code, captioned figures."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).parents[1]
RUFF = Path(sys.executable).parent / "ruff"
PAGES = sorted(p for p in ROOT.glob("chapters/*/*.md") if p.name != "index.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_code_passes_ruff(page):
    notebook = jupytext.read(page)
    notebook.cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell in notebook.cells:
        cell.metadata = {}  # tags and figure captions are not code
    script = jupytext.writes(notebook, fmt="py:percent")
    # 80 columns fit a code cell on the page without a scroll bar; a notebook imports where it
    # first needs something (E402) and shows a cell's last expression (B018).
    for command in (["check", "--ignore", "E402,B018"], ["format", "--check"]):
        result = subprocess.run(
            [RUFF, *command, "--line-length", "80", "--stdin-filename", f"{page.stem}.py", "-"],
            input=script,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_follows_the_skeleton(page):
    """Problem, collapsed solution, a check that asserts, common mistake, takeaway."""
    text = page.read_text(encoding="utf-8")
    stem = page.stem
    assert f"({stem})=" in text, "the page label is its file name"
    assert re.search(rf"\{{exercise\}}.*\n:label: {stem}-ex\n", text), "an exercise"
    assert re.search(rf"\{{solution\}} {stem}-ex\n:class: dropdown\n", text), "a folded solution"
    code = [c.source for c in jupytext.read(page).cells if c.cell_type == "code"]
    assert any(re.search(r"^\s*(assert|torch\.testing\.assert_close)", c, re.M) for c in code)
    assert "{admonition} Common mistake" in text
    assert "## Takeaway" in text


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_figure_has_a_caption_and_alt_text(page):
    for cell in jupytext.read(page).cells:
        if cell.cell_type == "code" and "plt.subplots" in cell.source:
            options = cell.metadata.get("mystnb", {})
            assert options.get("figure", {}).get("caption", "").strip(), cell.source[:80]
            assert options.get("image", {}).get("alt", "").strip(), cell.source[:80]


RANDOM_DRAWS = {
    *("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like"),
    *("normal", "bernoulli", "multinomial", "poisson"),
    *("normal_", "uniform_", "bernoulli_", "exponential_", "random_", "cauchy_", "log_normal_"),
}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_random_draw_is_seeded_and_no_clock_is_glued(page):
    """What a page states must not depend on the global RNG or on the wall clock.

    ``make determinism`` runs every page twice; this catches the usual causes without running.
    """
    for cell in jupytext.read(page).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            call = ast.unparse(node)[:80]
            if node.func.attr in RANDOM_DRAWS:  # generator= given, or inside **options
                assert any(k.arg in ("generator", None) for k in node.keywords), f"unseeded: {call}"
            if node.func.attr == "manual_seed":
                owner = node.func.value
                assert isinstance(owner, ast.Call) and ast.unparse(owner.func).endswith(
                    "Generator"
                ), f"seed a torch.Generator, not the global RNG: {call}"
        assert not ("glue(" in cell.source and "time." in cell.source), "a timing is glued"
        assert "np.random" not in cell.source and not re.search(r"\bimport random\b", cell.source)


CHECKERS = sorted(p.stem for p in (ROOT / "src" / "derived" / "checkers").glob("[!_]*.py"))
ANSWERED = [p for p in PAGES if p.stem.replace("-", "_") in CHECKERS]


def test_every_page_has_a_checker_and_every_checker_a_page():
    pages = {p.stem.replace("-", "_") for p in PAGES}
    assert set(CHECKERS) - {"slots", "expression", "verdict", "grade"} == pages


@pytest.mark.parametrize("page", ANSWERED, ids=lambda p: p.stem)
def test_a_checked_page_has_an_answer_cell_and_proves_its_answers_with_the_checker(page):
    """Exercise, then the answer cell with placeholders, then the solution; the Check passes
    the book's answers to the same checker, and the Common mistake shows its feedback."""
    text = page.read_text(encoding="utf-8")
    module = f"derived.checkers import {page.stem.replace('-', '_')}"
    answer = re.search(r"```\{code-cell\} ipython3\n:tags: \[answer\]\n(.*?)```", text, re.S)
    assert answer, "an answer cell tagged 'answer'"
    assert text.index(":label: ") < answer.start() < text.index("{solution}")
    assert module in answer[1] and re.search(r"( = |return )\.\.\.", answer[1]), "placeholders"
    after_check = text[text.index("## Check") :]
    assert re.search(r"assert verdict\.passed", after_check), "the Check proves the book's answers"
    mistake = after_check[after_check.index("{admonition} Common mistake") :]
    assert re.search(r"assert verdict\[.*\]\.mistake", mistake), "the mistake shown is named"
