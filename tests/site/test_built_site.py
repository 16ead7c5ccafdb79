"""The site that `make test` has just built into _build/html has a page for every notebook.

These tests read the build output, so `make test` runs them after `jupyter-book build`
(`-W -n --keep-going`: every warning and every unresolved reference fails the build).
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
HTML = ROOT / "_build" / "html"
SOURCES = sorted(ROOT.glob("chapters/*/*.md"))


@pytest.fixture(scope="module")
def html() -> Path:
    assert (HTML / "index.html").is_file(), "build the site first: make book"
    return HTML


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_page_is_built_after_its_source(html, source):
    page = html / source.relative_to(ROOT).with_suffix(".html")
    assert page.is_file()
    assert page.stat().st_mtime >= source.stat().st_mtime, "the site is older than the page"
