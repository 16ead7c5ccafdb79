"""`_ext/build_book.py` is `jupyter-book` with its exit status: a failed build fails `make`."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BUILD_BOOK = [sys.executable, ROOT / "_ext" / "build_book.py"]
pytestmark = pytest.mark.builds_a_book


def build_book(*arguments, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*BUILD_BOOK, *arguments], cwd=cwd, capture_output=True, text=True, check=False, env=env
    )


def test_a_warning_fails_the_build_and_its_fix_passes(tmp_path):
    (tmp_path / "_config.yml").write_text('title: t\nexecute:\n  execute_notebooks: "off"\n')
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    intro = tmp_path / "intro.md"
    intro.write_text("# Intro\n\n(here)=\n## Here\n\nSee {ref}`nowhere`.\n")
    failed = build_book("build", ".", "-W", "-n", "--keep-going", cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "undefined label: 'nowhere'" in failed.stderr

    intro.write_text("# Intro\n\n(here)=\n## Here\n\nSee {ref}`here`.\n")
    # The kernels' server it starts first is stopped, and its folder removed, before it leaves.
    with tempfile.TemporaryDirectory() as scratch:  # short: the server's socket is in there
        env = {**os.environ, "TMPDIR": scratch}
        passed = build_book("build", ".", "-W", "-n", "--keep-going", cwd=tmp_path, env=env)
        left = list(Path(scratch).iterdir())
    assert passed.returncode == 0, passed.stdout[-2000:] + passed.stderr[-2000:]
    assert "build succeeded" in passed.stdout
    assert (tmp_path / "_build" / "html" / "intro.html").is_file()
    assert not left, "the server's folder is left behind"


def test_a_usage_error_keeps_its_status_and_message(tmp_path):
    result = build_book("build", "no-such-folder", cwd=tmp_path)
    assert result.returncode == 2
    assert "no-such-folder" in result.stderr
