"""The library reference documents every public module of `derived`."""

from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_every_public_module_is_in_the_reference():
    reference = (ROOT / "api.md").read_text(encoding="utf-8")
    modules = sorted(p.stem for p in (ROOT / "src" / "derived").glob("[!_]*.py"))
    missing = [m for m in modules if f".. automodule:: derived.{m}\n" not in reference]
    assert not missing, f"add to api.md: {missing}"
