"""The whole book builds with every warning an error, and every page executes."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def test_book_builds_without_warnings(tmp_path):
    result = subprocess.run(
        [JUPYTER_BOOK, "build", ROOT, "--path-output", tmp_path, "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    html = tmp_path / "_build" / "html"
    for page in ROOT.glob("chapters/*/*.md"):
        assert (html / page.relative_to(ROOT).with_suffix(".html")).is_file()
