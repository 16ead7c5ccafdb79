"""The library reference documents every public module of `derived`, and the checkers' page
every public module of `derived.checkers`, each in a section of its own, named for the module:
the page's contents then list the modules, each with its functions."""

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
    section = "## `{0}`\n\n```{{eval-rst}}\n.. automodule:: {1}.{0}\n"
    missing = [m for m in modules if section.format(m, package) not in reference]
    assert not missing, f"add to {page}, each in a section of its own: {missing}"
