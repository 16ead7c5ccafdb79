"""Notebooks that Colab can open, and the Colab launch button pointed at them.

Colab opens ``.ipynb`` files from GitHub, never MyST markdown. After the build, each page's
executed notebook (its "Download .ipynb" file) is written again under ``_build/html/_notebooks/``
with a first cell that installs the library where it is not importable. The book's workflow
pushes that folder to the repository's ``notebooks`` branch (``colab_branch``), so the theme's
Colab button, whose link would name the page's ``.md`` on the main branch, is pointed at the
notebook on that branch instead.
"""

from pathlib import Path
from urllib.parse import urlsplit

import nbformat

NOTEBOOKS = "_notebooks"
INSTALL = """\
# Where the book's library is missing (on Colab, say), install it from the repository, with
# myst-nb, whose glue() the page calls to hand its numbers to the text.
try:
    import derived
    import myst_nb
except ImportError:
    %pip install --quiet myst-nb "derived @ git+{url}@{branch}"
"""


def install_cell(theme_options: dict) -> nbformat.NotebookNode:
    url = theme_options["repository_url"].rstrip("/")
    source = INSTALL.format(url=url, branch=theme_options.get("repository_branch", "main"))
    return nbformat.v4.new_code_cell(source.rstrip("\n"))


def write_colab_notebooks(app, exception) -> None:
    """Every downloadable notebook, again, with the install cell first."""
    if exception is not None or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    for docname in sorted(app.env.found_docs):
        download = sources / f"{docname}.ipynb"
        if not download.is_file():
            continue
        notebook = nbformat.read(download, as_version=4)
        notebook.cells.insert(0, install_cell(app.config.html_theme_options))
        target = Path(app.outdir) / NOTEBOOKS / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)


def colab_url(theme_options: dict, branch: str, docname: str) -> str:
    org, repo = urlsplit(theme_options["repository_url"]).path.strip("/").split("/")[:2]
    colab = theme_options["launch_buttons"]["colab_url"].rstrip("/")
    return f"{colab}/github/{org}/{repo}/blob/{branch}/{docname}.ipynb"


def point_colab_at_notebook(app, pagename, templatename, context, doctree) -> None:
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            if button.get("text") == "Colab":
                button["url"] = colab_url(
                    app.config.html_theme_options, app.config.colab_branch, pagename
                )


def setup(app):
    app.add_config_value("colab_branch", "notebooks", "html")
    # after the theme adds its launch buttons (501) and the executed downloads are written (500)
    app.connect("html-page-context", point_colab_at_notebook, priority=600)
    app.connect("build-finished", write_colab_notebooks, priority=600)
    return {"version": "1", "parallel_read_safe": True}
