"""The library reference documents every public module of `derived`, and the checkers' page
every public module of `derived.checkers`."""

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize(
    ("page", "package"), [("api.md", "derived"), ("checkers.md", "derived.checkers")]
)
def test_every_public_module_is_in_its_reference(page, package):
    reference = (ROOT / page).read_text(encoding="utf-8")
    folder = ROOT / "src" / package.replace(".", "/")
    modules = sorted(p.stem for p in folder.glob("[!_]*.py"))
    missing = [m for m in modules if f".. automodule:: {package}.{m}\n" not in reference]
    assert not missing, f"add to {page}: {missing}"
