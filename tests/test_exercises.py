"""The student edition removes every answer and keeps the problem, figures and other sections.

A one-page book with the problem pages' skeleton, built as `make exercises` builds the book.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from mini_book import MYST_NOTEBOOK_HEADER
from sphinx.search.en import SearchEnglish

ROOT = Path(__file__).parents[1]
BUILD_BOOK = [sys.executable, ROOT / "_ext" / "build_book.py"]
pytestmark = pytest.mark.builds_a_book
PAGE = (
    MYST_NOTEBOOK_HEADER
    + """\
# A problem

::::{exercise} The problem
:label: problem-ex

PROBLEM-STATEMENT $x^2$.
::::

ANSWER-PROSE

```{code-cell} ipython3
:tags: [answer]
answer = ...
print("ANSWER-OUTPUT")
```

::::{solution} problem-ex
:class: dropdown

SOLUTION-TEXT

$$
y = 2x
$$ (derived-formula)
::::

## Check

CHECK-PROSE, against {eq}`derived-formula`.

```{code-cell} ipython3
print("CHECK-OUTPUT")
```

## Figure

```{code-cell} ipython3
print("FIGURE-OUTPUT")
```

```{code-cell} ipython3
---
mystnb:
  figure:
    name: citing-fig
    caption: CITING-CAPTION, plotting {eq}`derived-formula`.
---
import matplotlib.pyplot as plt

plt.plot([0, 1], [0, 2]);
```

```{admonition} Common mistake
MISTAKE-TEXT
```

```{code-cell} ipython3
print("MISTAKE-OUTPUT")
```

## Further

FURTHER-TEXT builds on {eq}`derived-formula`.

## Aside

ASIDE-TEXT

::::{only} not exercises
FULL-ONLY
::::

## Takeaway

TAKEAWAY-TEXT
"""
)
KEPT = ["PROBLEM-STATEMENT", "ANSWER-PROSE", "ANSWER-OUTPUT", "FIGURE-OUTPUT", "ASIDE-TEXT"]
REMOVED = [
    *["SOLUTION-TEXT", "CHECK-PROSE", "CHECK-OUTPUT", "CITING-CAPTION", "citing-fig"],
    *["MISTAKE-TEXT", "MISTAKE-OUTPUT", "FURTHER-TEXT", "TAKEAWAY-TEXT", "FULL-ONLY"],
]


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory) -> Path:
    book = tmp_path_factory.mktemp("book")
    (book / "_config.yml").write_text(
        textwrap.dedent(f"""\
            title: Exercises test
            repository:
              url: https://github.com/example/book
            launch_buttons:
              binderhub_url: https://mybinder.org
              colab_url: https://colab.research.google.com
            execute:
              execute_notebooks: force
            sphinx:
              local_extensions:
                exercises: {ROOT / "_ext"}
              extra_extensions: [sphinx_exercise]
            """)
    )
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (book / "page.md").write_text(PAGE)
    result = subprocess.run(
        [*BUILD_BOOK, "build", book, "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BOOK_EDITION": "exercises"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return book / "_build" / "html"


def test_answers_are_removed_and_the_rest_kept(student_edition):
    html = (student_edition / "page.html").read_text(encoding="utf-8")
    assert [text for text in KEPT if text not in html] == []
    assert [text for text in REMOVED if text not in html] == REMOVED


def test_a_page_with_an_answer_cell_is_also_a_notebook_to_work_in(student_edition):
    notebook = nbformat.read(student_edition / "_notebooks" / "page.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "PROBLEM-STATEMENT" in text and "ANSWER-PROSE" in text
    assert notebook.cells[-1].metadata["tags"] == ["answer"]
    assert "%pip install" in notebook.cells[0].source, "installs the library where it is missing"
    assert not [t for t in [*REMOVED, "FIGURE-OUTPUT", ":label:"] if t in text]
    html = (student_edition / "page.html").read_text(encoding="utf-8")
    link = html.index('href="_notebooks/page.ipynb"')
    assert html.index("ANSWER-PROSE") < link < html.index("ANSWER-OUTPUT"), "above the cell"


def test_search_and_downloads_give_no_answer_away(student_edition):
    script = (student_edition / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(script.removeprefix("Search.setIndex(").removesuffix(")"))
    words = index["terms"].keys() | index["titleterms"].keys()
    stem = SearchEnglish({}).stem
    assert stem("statement") in words, "the problem is searchable"
    assert not words & {stem(w) for w in ("solution", "check", "mistake", "takeaway", "further")}
    assert not (student_edition / "_sources").exists(), "no page source or notebook to download"
    html = (student_edition / "page.html").read_text(encoding="utf-8")
    assert "mybinder.org" not in html and "colab.research" not in html


def test_make_exercises_is_the_book_build_in_the_student_edition():
    def last_command(target: str) -> str:
        result = subprocess.run(
            ["make", "--dry-run", "--no-print-directory", target],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.splitlines()[-1]

    expected = f"BOOK_EDITION=exercises {last_command('book')} --path-output _build/exercises"
    assert last_command("exercises") == expected
