"""Sound, parallel notebook execution for the book.

myst-nb's execution cache keys a notebook on its code cells and kernelspec only, so a change
in ``src/derived`` would leave stale outputs on every page that uses it. This Sphinx extension
adds to each page's kernelspec a digest of the library modules the page imports (directly or
through other library modules), so that exactly those pages miss the cache, and tells Sphinx to
re-read them. Before Sphinx reads the pages, those without cached outputs start executing in
parallel, one process per core, in kernels forked from one that has imported the heavy modules
once (``forked_kernel.py``; its server starts with the build, before any page is known to need
it); Sphinx reads the other pages meanwhile, and each executed page is
stored where myst-nb looks for it just before Sphinx reads it. After the build, the
downloadable ``.ipynb`` of each page written is replaced by the executed notebook.

The test suite shares the same functions: what nbval executes is stored in the same cache, so
the book build after the tests executes nothing (see ``conftest.py``).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import forked_kernel  # beside this file: _ext is on sys.path
import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook
from myst_parser.config.main import MdParserConfig
from sphinx.util import logging
from traitlets.config import Config

PACKAGE = "derived"
DIGEST_KEY = "derived_digest"
LOGGER = logging.getLogger(__name__)


def single_threaded_kernels() -> None:
    """Run each page's kernel on one thread: pages run one per core, side by side.

    Two multi-threaded kernels on two cores spend their time waiting on each other's threads
    (a page took minutes instead of seconds), and one thread also makes every execution
    sum in the same order, so a page's numbers do not depend on how it was run.
    """
    os.environ["OMP_NUM_THREADS"] = "1"


def imported_modules(code: str, *, package: str | None = None) -> set[str]:
    """Dotted names that ``code`` may import as modules of ``derived``.

    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a submodule); names that
    are not modules are dropped later, when no file is found for them. ``package`` resolves
    relative imports inside the library.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:  # IPython syntax: such a cell cannot import the library either
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and package:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == PACKAGE}


def module_files(code: str, source_root: Path) -> list[Path]:
    """Library files that running ``code`` executes: its imports, their packages, transitively."""
    return library_files(imported_modules(code), source_root)


def library_files(names: Iterable[str], source_root: Path) -> list[Path]:
    """Library files that importing the modules ``names`` executes, transitively."""
    found: set[Path] = set()
    pending = [set(names)]
    while pending:
        for name in pending.pop():
            parts = name.split(".")
            # importing a.b.c runs a/__init__.py and a/b/__init__.py first
            for depth in range(1, len(parts) + 1):
                stem = source_root.joinpath(*parts[:depth])
                for path, module_package in (
                    (stem / "__init__.py", ".".join(parts[:depth])),
                    (stem.with_suffix(".py"), ".".join(parts[: depth - 1])),
                ):
                    if path.is_file() and path not in found:
                        found.add(path)
                        pending.append(file_imports(path, module_package))
    return sorted(found)


#: The imports of each library file, by version: (path, package) -> ((mtime, size), names).
#: Kept in the Sphinx environment between builds, so only a changed file is parsed again.
FILE_IMPORTS: dict[tuple[Path, str], tuple[tuple[int, int], frozenset[str]]] = {}


def _version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def file_imports(path: Path, package: str) -> frozenset[str]:
    """:func:`imported_modules` of a library file, parsed once per version of the file."""
    stamp = _version(path)
    known = FILE_IMPORTS.get((path, package))
    if known is None or known[0] != stamp:
        names = imported_modules(path.read_text(encoding="utf-8"), package=package)
        known = FILE_IMPORTS[path, package] = (stamp, frozenset(names))
    return known[1]


def library_digest(imports: Iterable[str], source_root: Path) -> str:
    """SHA-256 of the names and contents of the library files that importing ``imports``
    (names of modules, as :func:`imported_modules` gives them) executes."""
    digest = hashlib.sha256()
    for path in library_files(imports, source_root):
        digest.update(path.relative_to(source_root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def code_cells(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def with_digest(
    text: str, source_root: Path, md_config: MdParserConfig
) -> tuple[str, str, frozenset[str]]:
    """The page text with the library digest added to its kernelspec, the digest, and the
    library modules the page imports.

    The digest line goes into the front matter and the blank line after the front matter is
    dropped, so every later line keeps its number in warnings.
    """
    code = code_cells(read_myst_markdown_notebook(text, md_config))
    imports = frozenset(imported_modules("\n".join(code)))
    digest = library_digest(imports, source_root)
    text, count = re.subn(
        r"^kernelspec:\n", f"kernelspec:\n  {DIGEST_KEY}: '{digest}'\n", text, count=1, flags=re.M
    )
    if count != 1:
        raise ValueError("a notebook page needs a block-style 'kernelspec:' in its front matter")
    return re.sub(r"^(---\n.*?\n---\n)\n", r"\1", text, count=1, flags=re.S), digest, imports


def read_page(path: Path, source_root: Path, md_config: MdParserConfig) -> nbformat.NotebookNode:
    """The notebook myst-nb makes of a page, digest included, as the cache sees it."""
    text, _, _ = with_digest(path.read_text(encoding="utf-8"), source_root, md_config)
    return read_myst_markdown_notebook(text, md_config, add_source_map=True, path=path)


def book_md_config(root: Path) -> MdParserConfig:
    """The MyST parser configuration of the book at ``root``, from its ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return MdParserConfig(enable_extensions=set(config["parse"]["myst_enable_extensions"]))


def cached(cache_path: Path, notebook: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The executed notebook cached for ``notebook`` (as :func:`read_page` reads it); None if
    its code or the library it imports changed since, or it never ran."""
    cache = get_cache(str(cache_path))
    try:
        record = cache.match_cache_notebook(notebook)
    except KeyError:
        return None
    return cache.get_cache_bundle(record.pk).nb


def store(cache_path: Path, notebook: nbformat.NotebookNode, path: Path, seconds: float) -> None:
    """Cache an executed notebook where myst-nb's ``cache`` mode finds it."""
    get_cache(str(cache_path)).cache_notebook_bundle(
        CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
        check_validity=False,
        overwrite=True,
    )


def library_path(app) -> Path:
    """The library's folder (``library_source``), resolved as autodoc's dependencies are."""
    return (Path(app.srcdir) / app.config.library_source).resolve()


def _digests(env) -> dict[str, tuple[str, frozenset[str]]]:
    """Each notebook page's library digest, and the library modules it imports, as last read."""
    if not hasattr(env, "library_digests"):
        env.library_digests = {}
    return env.library_digests


def add_digest(app, docname: str, source: list[str]) -> None:
    if docname in getattr(app, "pending_executions", {}):
        _wait_for_execution(app, docname)
    if is_myst_markdown_notebook(source[0]):
        source[0], *_digests(app.env)[docname] = with_digest(
            source[0], library_path(app), app.env.myst_config
        )


def pages_whose_library_changed(app, env, added, changed, removed) -> list[str]:
    """The pages whose code is unchanged but whose library is not: their digest, from the
    imports recorded when they were read, differs from the one their outputs were made with."""
    stale = []
    for docname, (digest, imports) in _digests(env).items():
        if docname in added | changed | removed or not Path(env.doc2path(docname)).is_file():
            continue
        if library_digest(imports, library_path(app)) != digest:
            stale.append(docname)
    if stale:
        LOGGER.info("library changed under: %s", ", ".join(sorted(stale)))
    return stale


def start_kernels(app, config) -> None:
    """Start the kernels' server (one per process: :func:`forked_kernel.shared_kernel`) as soon
    as the configuration is known, if ``build_book.py`` has not started it already: its imports
    (seconds) then overlap the build's start-up. It stays until the process exits."""
    if config.nb_execution_mode == "cache":
        app.kernel_name = forked_kernel.shared_kernel()


def execute_in_background(app, env, docnames: list[str]) -> None:
    """Start executing the pages about to be read that have no cached outputs, one process per
    core, and move them to the end of the reading order: Sphinx reads the other pages meanwhile,
    and waits for a page's execution only when it comes to read it (:func:`add_digest`)."""
    config = env.mystnb_config
    if config.execution_mode != "cache":
        return
    cache = get_cache(config.execution_cache_path)
    pending = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        if path.suffix != ".md" or not is_myst_markdown_notebook(path.read_text("utf-8")):
            continue
        notebook = read_page(path, library_path(app), env.myst_config)
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            pending.append((docname, path, notebook))
    if not pending:
        return
    workers = min(len(pending), len(os.sched_getaffinity(0)))
    LOGGER.info("executing %d notebooks in %d processes", len(pending), workers)
    pool = app.executions = ProcessPoolExecutor(workers, mp_context=get_context("fork"))
    timeout, kernel = config.execution_timeout, app.kernel_name
    app.pending_executions = {
        docname: (path, pool.submit(_execute, notebook, str(path.parent), timeout, kernel))
        for docname, path, notebook in pending
    }
    docnames.sort(key=lambda docname: docname in app.pending_executions)


def _execute(notebook, cwd, timeout, kernel_name):
    with unix_sockets() as config:
        result = single_nb_execution(
            notebook,
            cwd=cwd,
            timeout=timeout,
            allow_errors=False,
            kernel_name=kernel_name,
            config=config,
        )
    return result.nb, result.time, result.err is None


@contextlib.contextmanager
def unix_sockets() -> Iterator[Config]:
    """A notebook client's configuration: talk to the kernel over Unix sockets, in a folder of
    their own for the block. Over TCP, every kernel warns that its traffic is not encrypted."""
    with tempfile.TemporaryDirectory(prefix="kernel-") as folder:
        yield Config(KernelManager={"transport": "ipc", "ip": os.path.join(folder, "socket")})


def _wait_for_execution(app, docname: str) -> None:
    """Store the page's execution in the cache, once it has finished."""
    path, future = app.pending_executions.pop(docname)
    notebook, seconds, succeeded = future.result()
    # A failed page is left to myst-nb, which executes it again and reports the error.
    if succeeded:
        store(Path(app.env.mystnb_config.execution_cache_path), notebook, path, seconds)
        LOGGER.info("executed %s in %.1f s", docname, seconds)
    if not app.pending_executions:
        stop_executions(app)


def stop_executions(app, *args) -> None:
    """Stop the executing processes (all done, or the build has failed)."""
    if getattr(app, "executions", None) is not None:
        app.pending_executions = {}
        app.executions.shutdown()
        app.executions = None


def write_executed_notebooks(app, exception) -> None:
    """Make "Download .ipynb" give the executed notebook, outputs included.

    myst-nb writes the notebook before merging in the cached outputs, and the theme copies it
    to the download when it writes the page, so the download would otherwise have none; the
    pages this build did not write keep theirs. The digest is build metadata, not part of the
    page, so it is dropped.
    """
    if exception is not None or app.builder.format != "html":
        return
    cache = get_cache(app.env.mystnb_config.execution_cache_path)
    for docname in getattr(app, "written_pages", set()) & _digests(app.env).keys():
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        source = Path(app.env.doc2path(docname))
        if not (target.is_file() and source.is_file()):
            continue
        try:
            _, notebook = cache.merge_match_into_notebook(
                read_page(source, library_path(app), app.env.myst_config)
            )
        except KeyError:
            continue
        notebook.metadata.kernelspec.pop(DIGEST_KEY)
        notebook.metadata.pop("source_map", None)
        nbformat.write(notebook, target)


def note_written_page(app, pagename, templatename, context, doctree) -> None:
    if not hasattr(app, "written_pages"):
        app.written_pages = set()
    app.written_pages.add(pagename)


def load_file_imports(app) -> None:
    FILE_IMPORTS.update(getattr(app.env, "library_file_imports", {}))


def keep_file_imports(app, env) -> None:
    """Keep the imports of the library files as they are now, for the next build."""
    env.library_file_imports = {
        key: known
        for key, known in FILE_IMPORTS.items()
        if key[0].is_file() and known[0] == _version(key[0])
    }


def setup(app):
    single_threaded_kernels()
    app.add_config_value("library_source", "src", "env")
    app.connect("config-inited", start_kernels)
    app.connect("builder-inited", load_file_imports)
    app.connect("source-read", add_digest)
    app.connect("env-get-outdated", pages_whose_library_changed)
    app.connect("env-before-read-docs", execute_in_background)
    app.connect("env-updated", stop_executions)
    app.connect("env-updated", keep_file_imports)
    app.connect("html-page-context", note_written_page)
    app.connect("build-finished", write_executed_notebooks)
    app.connect("build-finished", stop_executions)
    return {"version": "1", "parallel_read_safe": False, "env_version": 2}
