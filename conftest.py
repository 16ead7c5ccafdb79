"""Collect the book's MyST-markdown notebooks for nbval, and cache what they output.

nbval only collects ``.ipynb`` files; the pages are ``.md`` files in MyST format. Each page
under ``chapters/`` that carries a kernelspec becomes one nbval item per code cell, run (with
``--nbval-lax``) by a kernel whose working directory is the page's folder, forked as the
build's kernels are (``_ext/forked_kernel.py``). The page is read exactly as the book build
reads it (``_ext/execution_cache.py``), so when every cell passes, the executed notebook is
stored in the book's execution cache and ``make book`` reuses it instead of executing the page
a second time.
"""

import sys
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import nbval.plugin
import pytest

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT / "_ext"))
import execution_cache  # noqa: E402
import forked_kernel  # noqa: E402

CHAPTERS = "chapters"
CACHE = ROOT / "_build" / ".jupyter_cache"
MD_CONFIG = execution_cache.book_md_config(ROOT)


def read_page(path, as_version=4):
    return execution_cache.read_page(Path(path), ROOT / "src", MD_CONFIG)


class MystNotebook(nbval.plugin.IPyNbFile):
    """An nbval notebook whose source is a MyST-markdown page."""

    failed = False

    def setup(self):
        # A kernel forked from one that has imported torch and the library already
        # (_ext/forked_kernel.py), instead of nbval's fresh one.
        option = self.config.option
        with (
            mock.patch.object(option, "nbval_current_env", False),
            mock.patch.object(option, "nbval_kernel_name", forked_kernel.shared_kernel()),
        ):
            super().setup()

    def collect(self):
        # nbval reads the file with nbformat.read(path, as_version=4).
        with mock.patch.object(nbval.plugin, "nbformat", SimpleNamespace(read=read_page)):
            yield from super().collect()

    def teardown(self):
        super().teardown()
        cells = [item for item in self.session.items if item.parent is self]
        code = [cell for cell in self.nb.cells if cell.cell_type == "code"]
        # Only a complete, passing run is a valid execution of the page.
        if self.failed or len(cells) != len(code) or any(c.test_outputs is None for c in cells):
            return
        for count, cell in enumerate(cells, start=1):
            cell.cell.outputs = cell.test_outputs
            cell.cell.execution_count = count
        seconds = sum(getattr(cell, "seconds", 0.0) for cell in cells)
        execution_cache.store(CACHE, self.nb, self.path, seconds)


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


def pytest_configure(config):
    execution_cache.single_threaded_kernels()
    # One process creates the cache's database before the xdist workers write to it.
    if not hasattr(config, "workerinput"):
        execution_cache.get_cache(str(CACHE))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if isinstance(item.parent, MystNotebook):
        if report.failed:
            item.parent.failed = True
        if report.when == "call":
            item.seconds = call.duration


def pytest_collection_modifyitems(items):
    # Longest first, so that no xdist worker is left alone with a long item at the end: the
    # tests that build a book, then the pages, then the short unit tests.
    def rank(item):
        if item.get_closest_marker("builds_a_book"):
            return 0
        return 1 if isinstance(item.parent, MystNotebook) else 2

    items.sort(key=rank)
