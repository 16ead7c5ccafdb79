"""Collect the book's MyST-markdown notebooks for nbval, read through jupytext.

nbval only collects ``.ipynb`` files; the pages are ``.md`` files in jupytext's MyST format. Each
page under ``chapters/`` that carries a kernelspec becomes one nbval item per code cell, run (with
``--nbval-lax``) by a kernel whose working directory is the page's folder.
"""

from types import SimpleNamespace
from unittest import mock

import jupytext
import nbval.plugin

CHAPTERS = "chapters"


class MystNotebook(nbval.plugin.IPyNbFile):
    """An nbval notebook whose source is a MyST-markdown file."""

    def collect(self):
        # nbval reads the file with nbformat.read(path, as_version=4); jupytext.read takes the
        # same arguments and also reads MyST markdown.
        with mock.patch.object(nbval.plugin, "nbformat", SimpleNamespace(read=jupytext.read)):
            yield from super().collect()


def is_notebook(path) -> bool:
    head = path.read_text(encoding="utf-8")[:1000]
    return head.startswith("---") and "kernelspec:" in head


def pytest_collect_file(file_path, parent):
    if (
        file_path.suffix == ".md"
        and file_path.relative_to(parent.config.rootpath).parts[0] == CHAPTERS
        and parent.config.option.nbval_lax
        and is_notebook(file_path)
    ):
        return MystNotebook.from_parent(parent, path=file_path)
    return None
