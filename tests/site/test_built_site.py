"""The site that `make test` has just built into _build/html has a page for every notebook.

These tests read the build output, so `make test` runs them after `jupyter-book build`
(`-W -n --keep-going`: every warning and every unresolved reference fails the build).
"""

import pickle
import re
from html import unescape
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from repository import repository_url

ROOT = Path(__file__).parents[2]
HTML = ROOT / "_build" / "html"
SOURCES = sorted(ROOT.glob("chapters/*/*.md"))
NOTEBOOKS = [p for p in SOURCES if "kernelspec:" in p.read_text(encoding="utf-8")[:1000]]
PROBLEMS = [p for p in NOTEBOOKS if p.name != "index.md"]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
# the configured URL, or the repository the workflow runs in (GITHUB_REPOSITORY)
REPOSITORY_URL = repository_url(CONFIG["repository"]["url"])


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
    for source in PROBLEMS:
        assert f'href="{source.relative_to(ROOT).with_suffix(".html")}"' in text, source.stem


def text_of(element) -> str:
    return " ".join(element.get_text(" ").split())


@pytest.mark.parametrize("source", PROBLEMS, ids=lambda p: p.stem)
def test_generated_pages_show_the_takeaway_and_the_credit_as_the_page_does(html, source):
    """The Summary and Sources resolve only the parts of a page they show: glued numbers, math
    and references must come out as they do on the page itself."""
    href = source.relative_to(ROOT).with_suffix(".html").as_posix()
    page = BeautifulSoup((html / href).read_text(encoding="utf-8"), "html.parser")
    takeaway = page.find("section", id="takeaway")
    expected = " ".join(text_of(p) for p in takeaway.find_all(["p", "div"], recursive=False))
    credit = next(text_of(p) for p in page.find_all("p") if text_of(p).startswith("Adapted from"))
    for name, shown in (("summary", expected), ("sources", credit.removeprefix("Adapted from "))):
        table = BeautifulSoup((html / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
        entry = table.find("article").find("a", href=href).find_parent("li")
        assert shown in text_of(entry), name


def test_every_checkers_answer_slots_are_kept_for_the_next_build():
    """The Summary's "Your answer" lines are kept with the library's interface from the build
    that first reads it, so that a later edit inside a function imports no checker."""
    with (ROOT / "_build" / ".doctrees" / "environment.pickle").open("rb") as file:
        env = pickle.load(file)
    pages = {p.relative_to(ROOT).with_suffix("").as_posix() for p in PROBLEMS}
    assert set(env.checker_slots) == pages
    assert all(slots for _, slots in env.checker_slots.values())


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_opens_the_executed_notebook_with_the_library_installed_first(html, source):
    page = source.relative_to(ROOT).with_suffix("")
    notebook = nbformat.read(html / "_notebooks" / f"{page}.ipynb", as_version=4)
    nbformat.validate(notebook)
    install, *cells = notebook.cells
    assert install.cell_type == "code" and install.source.startswith("# Where the book's library")
    assert 'find_spec("derived")' in install.source and "%pip install" in install.source
    download = nbformat.read(html / "_sources" / f"{page}.ipynb", as_version=4)
    assert [(c.source, c.get("outputs")) for c in cells] == [
        (c.source, c.get("outputs")) for c in download.cells
    ]
    assert any(c.get("outputs") for c in cells), "the outputs are in the notebook"
    # Colab opens the notebook from the branch the workflow pushes _build/html/_notebooks to.
    text = (html / page.with_suffix(".html")).read_text(encoding="utf-8")
    (link,) = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', text)
    repository = REPOSITORY_URL.replace(
        "https://github.com/", "https://colab.research.google.com/github/"
    )
    assert link == f"{repository}/blob/notebooks/{page}.ipynb"


@pytest.mark.parametrize("source", PROBLEMS, ids=lambda p: p.stem)
def test_a_problem_page_links_its_symbols_to_the_notation_page(html, source):
    """MathJax turns each ``\\href`` into a link; the browser tests follow them."""
    text = unescape((html / source.relative_to(ROOT).with_suffix(".html")).read_text("utf-8"))
    rows = set(re.findall(r'<tr[^>]* id="([^"]+)"', (html / "notation.html").read_text("utf-8")))
    links = re.findall(r"\\href\{\.\./\.\./notation\.html#([^}]+)\}", text)
    assert links, "no symbol of the page is linked to the notation page"
    assert set(links) <= rows


def test_copied_math_keeps_no_link_relative_to_another_page(html):
    assert "\\href" not in (html / "summary.html").read_text("utf-8")


def test_every_page_names_its_icon():
    """Without a named icon, browsers ask for /favicon.ico, which the site does not have."""
    for page in HTML.rglob("*.html"):
        if page == HTML / "index.html" or "_static" in page.parts:  # a redirect, theme parts
            continue
        icon = re.search(r'<link rel="icon" href="([^"]+)"', page.read_text(encoding="utf-8"))
        assert icon, f"{page.relative_to(HTML)} names no icon"
        assert (page.parent / icon.group(1)).resolve().is_file(), icon.group(1)


def test_every_page_states_the_licences():
    for page in HTML.rglob("*.html"):
        if page == HTML / "index.html" or "_static" in page.parts:  # a redirect, theme parts
            continue
        text = page.read_text(encoding="utf-8")
        assert 'href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>' in text, page
        assert 'href="https://opensource.org/license/mit">MIT</a>' in text, page
