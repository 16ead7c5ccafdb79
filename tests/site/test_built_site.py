"""The site that `make test` has just built into _build/html has a page for every notebook.

These tests read the build output, so `make test` runs them after `jupyter-book build`
(`-W -n --keep-going`: every warning and every unresolved reference fails the build).
"""

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).parents[2]
HTML = ROOT / "_build" / "html"
SOURCES = sorted(ROOT.glob("chapters/*/*.md"))
NOTEBOOKS = [p for p in SOURCES if "kernelspec:" in p.read_text(encoding="utf-8")[:1000]]


@pytest.fixture(scope="module")
def html() -> Path:
    assert (HTML / "index.html").is_file(), "build the site first: make book"
    return HTML


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_page_is_built_after_its_source(html, source):
    page = html / source.relative_to(ROOT).with_suffix(".html")
    assert page.is_file()
    assert page.stat().st_mtime >= source.stat().st_mtime, "the site is older than the page"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_download_is_the_executed_notebook(html, source):
    download = html / "_sources" / source.relative_to(ROOT).with_suffix(".ipynb")
    notebook = nbformat.read(download, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    expected = [c.source for c in jupytext.read(source).cells if c.cell_type == "code"]
    assert [cell.source for cell in code] == expected
    assert all(cell.execution_count for cell in code), "every cell was run"
    assert any(cell.outputs for cell in code), "the outputs are in the download"
    assert set(notebook.metadata.kernelspec) == {"name", "display_name", "language"}


@pytest.mark.parametrize("name", ["summary", "sources"])
def test_generated_pages_link_every_problem(html, name):
    text = (html / f"{name}.html").read_text(encoding="utf-8")
    problems = [p for p in NOTEBOOKS if p.name != "index.md"]
    for source in problems:
        assert f'href="{source.relative_to(ROOT).with_suffix(".html")}"' in text, source.stem
