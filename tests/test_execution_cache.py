"""A page is re-executed exactly when its code or the library code it imports changes."""

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import execution_cache
import nbformat
import pytest
from mini_book import MYST_NOTEBOOK_HEADER

ROOT = Path(__file__).parents[1]
BUILD_BOOK = [sys.executable, ROOT / "_ext" / "build_book.py"]


def page(title: str, code: str) -> str:
    cell = f"```{{code-cell}} ipython3\n{code}\n```\n"
    return f"{MYST_NOTEBOOK_HEADER}# {title}\n\nSome prose.\n\n{cell}"


@pytest.fixture
def book(tmp_path):
    """A book using a copy of the library: one page needs `device`, one `jacobian`, and a
    reference documents `device`."""
    shutil.copytree(ROOT / "src" / "derived", tmp_path / "src" / "derived")
    (tmp_path / "_config.yml").write_text(
        textwrap.dedent(f"""\
            title: Cache test
            execute:
              execute_notebooks: cache
              timeout: 120
            launch_buttons:
              binderhub_url: https://mybinder.org  # the theme then offers each .ipynb
            sphinx:
              extra_extensions: [sphinx.ext.autodoc]
              config:
                nitpick_ignore_regex: [["py:.*", ".*"]]  # no torch inventory offline
              local_extensions:
                execution_cache: {ROOT / "_ext"}
                reference_pages: {ROOT / "_ext"}
            """)
    )
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: uses_device\n  - file: uses_jacobian\n"
        "  - file: api\n"
    )
    (tmp_path / "api.md").write_text(
        "# API\n\n```{eval-rst}\n.. automodule:: derived.device\n   :members:\n```\n"
    )
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "uses_device.md").write_text(
        page("Device", "from derived.device import default_device\nprint(default_device())")
    )
    (tmp_path / "uses_jacobian.md").write_text(
        page("Jacobian", "from derived.jacobian import autograd_jacobian\nprint(1 + 1)")
    )
    return tmp_path


def build(book: Path) -> tuple[set[str], set[str]]:
    """Build the book (its library copy first on the path, for autodoc and the pages alike);
    return the pages whose notebooks ran (in parallel or by myst-nb), and the pages read."""
    result = subprocess.run(
        [*BUILD_BOOK, "build", book, "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(book / "src")},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The kernels talk over Unix sockets; over TCP each would warn, once per page.
    assert "WARNING" not in result.stderr, result.stderr
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    in_parallel = re.findall(r"^executed (\S+) in ", log, re.M)
    by_myst_nb = re.findall(r"^\S*/(\w+)\.md: Executing notebook", log, re.M)
    read = re.findall(r"^reading sources\.\.\. \[\s*\d+%\] (\S+)", log, re.M)
    return set(in_parallel + by_myst_nb), set(read)


def downloads(book: Path) -> dict[str, str]:
    """The printed output in each page's "Download .ipynb", by page."""
    found = {}
    for notebook in (book / "_build" / "html" / "_sources").glob("*.ipynb"):
        cells = nbformat.read(notebook, as_version=4).cells
        found[notebook.stem] = "".join(
            output.get("text", "") for cell in cells for output in cell.get("outputs", [])
        )
    return found


def edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# edited\n")


@pytest.mark.builds_a_book
def test_library_change_reexecutes_exactly_the_pages_that_import_it(book):
    library = book / "src" / "derived"
    executed, _ = build(book)
    assert executed == {"uses_device", "uses_jacobian"}
    expected = {"uses_device": "cpu\n", "uses_jacobian": "2\n"}
    assert downloads(book) == expected
    # Prose edits on two pages and a change in the module only the other page imports.
    (book / "intro.md").write_text("# Intro\n\nNew prose.\n")
    text = (book / "uses_jacobian.md").read_text()
    (book / "uses_jacobian.md").write_text(text.replace("Some prose.", "Other prose."))
    edit(library / "device.py")
    executed, read = build(book)
    assert executed == {"uses_device"}, "prose edits execute nothing"
    assert "api" in read, "a module-level change may change what the reference shows"
    assert downloads(book) == expected
    # jacobian.py imports _validate.py, so a change there reaches the jacobian page only.
    edit(library / "_validate.py")
    executed, read = build(book)
    assert executed == {"uses_jacobian"}
    assert read == {"uses_jacobian"}, "the reference does not document _validate"
    assert downloads(book) == expected, "a page not written again keeps its download"
    # A change inside a function's body re-executes its page, not the reference.
    device = library / "device.py"
    device.write_text(
        device.read_text().replace(
            "    return torch.device(", "    x = 0\n    return torch.device("
        )
    )
    executed, read = build(book)
    assert (executed, read) == ({"uses_device"}, {"uses_device"})
    # A docstring is shown: the reference is read again and shows it.
    device.write_text(device.read_text().replace("Return ``cuda``", "Return ``cuda`` (edited)"))
    executed, read = build(book)
    assert (executed, read) == ({"uses_device"}, {"uses_device", "api"})
    assert "(edited)" in (book / "_build" / "html" / "api.html").read_text()


def test_imports_are_resolved_like_python_does():
    code = "import torch\nfrom derived import jacobian\nimport derived.device as d\n"
    assert execution_cache.imported_modules(code) == {
        "derived",
        "derived.jacobian",
        "derived.device",
    }
    relative = "from ._validate import positive_int\nfrom . import device\n"
    assert execution_cache.imported_modules(relative, package="derived") == {
        "derived._validate",
        "derived._validate.positive_int",
        "derived",
        "derived.device",
    }


def test_digest_follows_imports_transitively():
    source = ROOT / "src"
    files = execution_cache.module_files("from derived.jacobian import autograd_jacobian", source)
    names = {path.name for path in files}
    assert {"__init__.py", "jacobian.py", "_validate.py"} <= names
    assert "device.py" not in names


def test_digest_keeps_line_numbers():
    text = page("T", "print(1)")
    injected, digest, _ = execution_cache.with_digest(
        text, ROOT / "src", execution_cache.MdParserConfig()
    )
    assert f"derived_digest: '{digest}'" in injected
    after = text.split("---\n", 2)[2].splitlines()
    assert injected.split("---\n", 2)[2].splitlines() == after[1:]
    assert len(injected.splitlines()) == len(text.splitlines())
