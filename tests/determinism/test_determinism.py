"""Every page, executed twice in fresh kernels, states the same numbers and draws the same figures.

A page whose glued numbers or figures change from one run to the next depends on unseeded
randomness, the wall clock or the thread schedule. The first run is the one ``make test``
stored in the book's execution cache (nbval runs each page in a kernel of its own), where it
is still valid for the page's code and library; otherwise the page is run twice here. Either
way this takes minutes, so it runs as ``make determinism`` (CI runs it after ``make test``),
not in ``make test``.
"""

import sys
from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "_ext"))
import execution_cache  # noqa: E402

CACHE = ROOT / "_build" / ".jupyter_cache"
MD_CONFIG = execution_cache.book_md_config(ROOT)
PAGES = sorted(p for p in ROOT.glob("chapters/*/*.md") if p.name != "index.md")


def execute(page: Path):
    notebook = jupytext.read(page)
    resources = {"metadata": {"path": str(page.parent)}}
    return NotebookClient(notebook, timeout=600, resources=resources).execute()


def glued(notebook) -> dict[str, dict]:
    """Every value the page glues into its text, by name, in each of its formats."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                values[name] = dict(output["data"])
    return values


def figures(notebook) -> list[str]:
    """The images drawn by the cells that the page shows as numbered figures."""
    drawn = []
    for cell in notebook.cells:
        if "figure" in cell.metadata.get("mystnb", {}):
            images = [o.data["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
            assert images, f"figure cell drew nothing: {cell.source[:60]}"
            drawn.extend(images)
    return drawn


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_two_runs_state_the_same_numbers_and_draw_the_same_figures(page):
    stored = execution_cache.cached(CACHE, execution_cache.read_page(page, ROOT / "src", MD_CONFIG))
    first, second = stored or execute(page), execute(page)
    assert glued(first), "the page glues its numbers"
    assert glued(first) == glued(second), "a glued value changed between two runs"
    assert figures(first) == figures(second), "a figure changed between two runs"
