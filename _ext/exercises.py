"""The student edition: the same pages with every answer removed, not merely folded.

``make exercises`` builds it with ``BOOK_EDITION=exercises``. Every problem page follows one
skeleton (``tests/test_pages.py``), so its answers are found by structure: the solution; the
"Check" section, which asserts the derived result; the "Common mistake" admonition with the rest
of its section, the cells that demonstrate the mistake; and the "Takeaway". A cell or section
that refers to an answer's equations or labels builds on the answer and goes too (a figure whose
caption cites the derived formula plots it). The problem, the other figures and sections remain.
All of this is removed before Sphinx collects the labels, so a reference left pointing into an
answer from another page fails the build instead of linking nowhere.

Pages that would give the answers away in other ways keep that content in ``{only} not
exercises`` (the edition is also a Sphinx tag). The "Your answer" cell, which checks the
reader's answers, stays.

Each page with a "Your answer" cell (a code cell tagged ``answer``) is also written as a
notebook to work in, ``_notebooks/<page>.ipynb`` beside the edition's HTML: the problem and the
answer cell, nothing after them (:func:`student_notebook`), behind the cell that installs the
library where it is missing, as in the notebooks Colab opens (``_ext/colab.py``); the page links
it just above its answer cell.
Its metadata names the page (``"derived": {"page": ...}``), so that the grader
(``derived.checkers.grade``) knows which checker decides a submitted copy.

Launch and download buttons, which would open the full pages, are turned off, and the full
book's execution cache is reused: the code cells are the same, so nothing runs again.
"""

import os
import posixpath
import re
from pathlib import Path

import colab
import jupytext
import nbformat
from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node

EDITION = "exercises"
ANSWER_SECTIONS = frozenset({"Check", "Takeaway"})
MISTAKE = "Common mistake"


def title(section: nodes.section) -> str | None:
    """The section's title; None for the untitled sections that hold an exercise's content."""
    titled = section.children and isinstance(section[0], nodes.title)
    return section[0].astext() if titled else None


def answers(document: nodes.document) -> list[nodes.Element]:
    """The nodes of a page that give its answers away, outermost first."""
    found = [*document.findall(solution_node)]
    found += [s for s in document.findall(nodes.section) if title(s) in ANSWER_SECTIONS]
    for admonition in document.findall(nodes.admonition):
        if admonition[0].astext() == MISTAKE:
            siblings = admonition.parent.children
            found += siblings[siblings.index(admonition) :]
    return found


def enclosing_unit(node: nodes.Node) -> nodes.Element | None:
    """The code cell or section a node belongs to."""
    while node is not None and not (
        isinstance(node, nodes.section) or node.get("nb_element") == "cell_code"
    ):
        node = node.parent
    return node


def citing(document: nodes.document, labels: set[str]) -> list[nodes.Element]:
    """The cells and sections holding a reference to one of ``labels``."""
    units = [enclosing_unit(x) for x in document.findall(addnodes.pending_xref)]
    targets = [x["reftarget"] for x in document.findall(addnodes.pending_xref)]
    return [u for u, t in zip(units, targets, strict=True) if t in labels and u is not None]


class RemoveAnswers(SphinxTransform):
    default_priority = 800  # before SphinxDomains (850) collects the labels in them

    def apply(self, **kwargs) -> None:
        if self.config.book_edition != EDITION:
            return
        equations = self.env.get_domain("math").equations  # noted while parsing
        removing = answers(self.document)
        while removing:
            labels = set()
            for answer in removing:
                for element in answer.findall(nodes.Element):
                    labels.update(element["ids"])
                    if isinstance(element, nodes.math_block) and element.get("label"):
                        labels.add(element["label"])
                        equations.pop(element["label"], None)
                if answer.parent is not None:
                    answer.parent.remove(answer)
            removing = citing(self.document, labels)
        for section in [*self.document.findall(nodes.section)]:
            if len(section) == 1 and title(section):  # everything under its title was an answer
                section.parent.remove(section)
        for cell in self.document.findall(nodes.container):
            if ANSWER_TAG in cell.get("cell_metadata", {}).get("tags", []):
                cell.parent.insert(cell.parent.index(cell), notebook_link(self.env.docname))
                break


def notebook_link(docname: str) -> nodes.paragraph:
    """A link to the page's notebook to work in (written by :func:`write_student_notebooks`)."""
    target = posixpath.relpath(f"{NOTEBOOKS}/{docname}.ipynb", posixpath.dirname(docname) or ".")
    link = nodes.reference("", "", nodes.literal("", posixpath.basename(target)), refuri=target)
    return nodes.paragraph(
        "",
        "To work on it in Jupyter or Colab, download the notebook ",
        link,
        nodes.Text(": the problem and this cell."),
        classes=["derived-notebook-link"],
    )


ANSWER_TAG = "answer"
NOTEBOOKS = "_notebooks"


def plain_markdown(text: str) -> str:
    """MyST markup that Jupyter does not render, written as plain Markdown: labels dropped,
    an exercise directive as a bold title, citations dropped and other roles as their text."""
    text = re.sub(r"^\(\S+\)=\n", "", text, flags=re.M)
    text = re.sub(r"^:{3,}\{exercise\} (.*)\n:label: .*\n", r"**Exercise: \1**\n", text, flags=re.M)
    text = re.sub(r"^:{3,}\n?", "", text, flags=re.M)
    text = re.sub(r" ?\{cite:\w+\}`[^`]*`", "", text)
    return re.sub(r"\{[\w:-]+\}`([^`<]*?)\s*(<[^`]*>)?`", r"\1", text)


def student_notebook(page: Path) -> nbformat.NotebookNode | None:
    """The problem of ``page`` and its "Your answer" cell, as a notebook; None without one."""
    notebook = jupytext.read(page, fmt="md:myst")
    tagged = [ANSWER_TAG in c.metadata.get("tags", []) for c in notebook.cells]
    if not any(tagged):
        return None
    notebook.cells = notebook.cells[: tagged.index(True) + 1]
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source).strip()
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["derived"] = {"page": page.stem}
    return notebook


def write_student_notebooks(app, exception) -> None:
    if exception is not None or app.config.book_edition != EDITION:
        return
    for docname in sorted(app.env.found_docs):
        page = Path(app.srcdir) / f"{docname}.md"
        notebook = student_notebook(page) if page.is_file() else None
        if notebook is not None:
            colab.colab_notebook(notebook, app.config.html_theme_options)
            target = Path(app.outdir) / NOTEBOOKS / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)


def configure(app, config) -> None:
    if config.book_edition != EDITION:
        return
    app.tags.add(EDITION)
    config.html_theme_options["launch_buttons"] = {}
    config.html_theme_options["use_download_button"] = False
    config.html_copy_source = False
    config.nb_execution_cache_path = str(Path(app.srcdir) / "_build" / ".jupyter_cache")


def setup(app):
    app.add_config_value("book_edition", os.environ.get("BOOK_EDITION", "full"), "env")
    app.connect("config-inited", configure)
    app.add_transform(RemoveAnswers)
    app.connect("build-finished", write_student_notebooks)
    return {"version": "1", "parallel_read_safe": True, "env_version": 2}
