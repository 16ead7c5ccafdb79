"""A stylesheet edit alone makes the next build copy the static files (``_ext/static_files.py``)."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

SPEC = importlib.util.spec_from_file_location(
    "static_files", Path(__file__).parents[1] / "_ext" / "static_files.py"
)
static_files = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(static_files)


def test_a_changed_or_new_static_file_makes_the_root_page_outdated(tmp_path):
    (tmp_path / "_static" / "css").mkdir(parents=True)
    (tmp_path / "html" / "_static" / "css").mkdir(parents=True)
    app = SimpleNamespace(
        srcdir=tmp_path, outdir=tmp_path / "html", config=SimpleNamespace(root_doc="intro")
    )

    def outdated() -> list[str]:
        return static_files.copy_changed_static_files(app, None, set(), set(), set())

    source, copy = (
        tmp_path / "_static" / "css" / "a.css",
        tmp_path / "html" / "_static" / "css" / "a.css",
    )
    source.write_text("tr:target { outline: 2px solid; }")
    assert outdated() == ["intro"], "a file the site lacks"
    copy.write_text("tr { }")
    assert outdated() == ["intro"], "a file the site has an older copy of"
    copy.write_text(source.read_text())
    assert outdated() == [], "nothing changed"
