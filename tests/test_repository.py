"""Where the workflow builds the book, every repository link names the repository it runs in."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
import repository
from mini_book import MYST_NOTEBOOK_HEADER

ROOT = Path(__file__).parents[1]
BUILD_BOOK = [sys.executable, ROOT / "_ext" / "build_book.py"]
PLACEHOLDER = "https://github.com/placeholder-owner/placeholder-book"
FORK = "a-reader/their-fork"


def test_local_builds_keep_the_configured_url():
    assert repository.repository_url(PLACEHOLDER, environ={}) == PLACEHOLDER
    assert repository.repository_url(PLACEHOLDER, environ={"GITHUB_REPOSITORY": ""}) == PLACEHOLDER


def test_the_workflow_names_its_own_repository():
    environ = {"GITHUB_REPOSITORY": FORK}
    assert repository.repository_url(PLACEHOLDER, environ) == f"https://github.com/{FORK}"
    enterprise = environ | {"GITHUB_SERVER_URL": "https://git.example.org/"}
    assert repository.repository_url(PLACEHOLDER, enterprise) == f"https://git.example.org/{FORK}"
    with pytest.raises(ValueError, match="owner/name"):
        repository.repository_url(PLACEHOLDER, {"GITHUB_REPOSITORY": "no-owner"})


@pytest.fixture(scope="module")
def fork_build(tmp_path_factory) -> Path:
    """A one-page book with every repository and launch button, built as a fork's workflow would."""
    book = tmp_path_factory.mktemp("book")
    (book / "_config.yml").write_text(
        textwrap.dedent(f"""\
            title: Repository test
            repository:
              url: {PLACEHOLDER}
              branch: main
            html:
              use_repository_button: true
              use_issues_button: true
              use_edit_page_button: true
            launch_buttons:
              notebook_interface: jupyterlab
              binderhub_url: https://mybinder.org
              colab_url: https://colab.research.google.com
            execute:
              execute_notebooks: force
            sphinx:
              local_extensions:
                repository: {ROOT / "_ext"}
                colab: {ROOT / "_ext"}
            """)
    )
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (book / "page.md").write_text(
        f"{MYST_NOTEBOOK_HEADER}# A page\n\n```{{code-cell}} ipython3\nprint(1 + 1)\n```\n"
    )
    result = subprocess.run(
        [*BUILD_BOOK, "build", book, "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GITHUB_REPOSITORY": FORK, "GITHUB_SERVER_URL": "https://github.com"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return book / "_build" / "html"


@pytest.mark.builds_a_book
def test_every_button_points_at_the_fork(fork_build):
    html = (fork_build / "page.html").read_text(encoding="utf-8")
    assert "placeholder-owner" not in html
    hrefs = set(re.findall(r'href="([^"]+)"', html))
    fork = f"https://github.com/{FORK}"
    expected = {
        "repository": fork,
        "edit": f"{fork}/edit/main/page.md",
        "colab": f"https://colab.research.google.com/github/{FORK}/blob/notebooks/page.ipynb",
    }
    missing = {name: url for name, url in expected.items() if url not in hrefs}
    assert not missing, (missing, sorted(hrefs))
    assert any(h.startswith(f"{fork}/issues/new?") for h in hrefs), "an issues button"
    (binder,) = [h for h in hrefs if h.startswith("https://mybinder.org/")]
    assert binder.startswith(f"https://mybinder.org/v2/gh/{FORK}/main?"), binder


@pytest.mark.builds_a_book
def test_the_colab_notebook_installs_the_fork(fork_build):
    notebook = nbformat.read(fork_build / "_notebooks" / "page.ipynb", as_version=4)
    assert f"git+https://github.com/{FORK}@main" in notebook.cells[0].source
