"""The code cells of every page are as clean as the library: ruff finds nothing to say."""

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
    # 88 columns fit a code cell on the page without a scroll bar; a notebook imports where it
    # first needs something (E402).
    for command in (["check", "--ignore", "E402"], ["format", "--check"]):
        result = subprocess.run(
            [RUFF, *command, "--line-length", "88", "--stdin-filename", f"{page.stem}.py", "-"],
            input=script,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stdout + result.stderr
