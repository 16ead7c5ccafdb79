"""Notebooks that Colab can open, and the Colab launch button pointed at them.

Colab opens ``.ipynb`` files from GitHub, never MyST markdown. After the build, each page's
executed notebook (its "Download .ipynb" file) is written again under ``_build/html/_notebooks/``
with a first cell that installs the library where it is not importable. The book's workflow
pushes that folder to the repository's ``notebooks`` branch (``colab_branch``), so the theme's
Colab button, whose link would name the page's ``.md`` on the main branch, is pointed at the
notebook on that branch instead.

The install cell keeps the runtime's torch, numpy and matplotlib: pip gets a constraints file
that pins the versions installed, so it installs the library and myst-nb around them and never
downloads another torch. A torch older than ``TORCH_FLOOR``, the oldest the library supports
(``torch>=`` in ``pyproject.toml``), stops the notebook with a message saying so.
"""

from pathlib import Path
from urllib.parse import urlsplit

import nbformat

NOTEBOOKS = "_notebooks"
# The install cell's tag, by which the grader (derived.checkers.grade) skips it.
INSTALL_TAG = "install"
# torch.nn.init's generator= argument (derived.init_variance) appeared in torch 2.2; torch.func
# (jacrev, jacfwd, vmap, functional_call, stack_module_state) and Tensor.untyped_storage in 2.0.
TORCH_FLOOR = "2.2"
INSTALL = """\
# Where the book's library is missing (on Colab, say), install it from the repository, with
# myst-nb, whose glue() the page calls to hand its numbers to the text. The runtime's own
# torch, numpy and matplotlib stay: pip is held to the versions installed, so it never
# replaces them (nor downloads gigabytes of another torch).
import importlib.metadata
import importlib.util
import tempfile

TORCH_FLOOR = ({floor_tuple})  # the oldest torch the library supports
if importlib.util.find_spec("torch") is not None:
    import torch

    if tuple(int(part) for part in torch.__version__.split(".")[:2]) < TORCH_FLOOR:
        raise RuntimeError(
            f"This runtime has torch {{torch.__version__}}; the book's library needs torch "
            "{floor} or newer. Choose a newer runtime (on Colab: Runtime > Change runtime "
            "type), or run %pip install 'torch>={floor}' and restart the session."
        )
if importlib.util.find_spec("derived") is None or importlib.util.find_spec("myst_nb") is None:
    installed = []
    for name in ("torch", "numpy", "matplotlib"):
        try:
            installed.append(f"{{name}}=={{importlib.metadata.version(name)}}")
        except importlib.metadata.PackageNotFoundError:
            pass
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as keep:
        keep.write("\\n".join(installed))
    %pip install --quiet --constraint {{keep.name}} myst-nb "{requirement}"
"""


def install_cell(theme_options: dict, requirement: str | None = None) -> nbformat.NotebookNode:
    """The cell that installs the library: from the repository, or from ``requirement``."""
    if requirement is None:
        url = theme_options["repository_url"].rstrip("/")
        branch = theme_options.get("repository_branch", "main")
        requirement = f"derived @ git+{url}@{branch}"
    floor_tuple = ", ".join(TORCH_FLOOR.split("."))
    source = INSTALL.format(floor=TORCH_FLOOR, floor_tuple=floor_tuple, requirement=requirement)
    return nbformat.v4.new_code_cell(source.rstrip("\n"), metadata={"tags": [INSTALL_TAG]})


def colab_notebook(
    notebook: nbformat.NotebookNode, theme_options: dict, requirement: str | None = None
) -> nbformat.NotebookNode:
    """The page's notebook as Colab opens it: the install cell first."""
    notebook.cells.insert(0, install_cell(theme_options, requirement))
    return notebook


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
        colab_notebook(notebook, app.config.html_theme_options)
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
