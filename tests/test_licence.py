"""The licences are stated where a reader or a tool looks for them, and the citation is valid."""

import json
import tomllib
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).parents[1]
# The Citation File Format 1.2.0 schema, as the format's authors publish it (and cffconvert ships).
CFF_SCHEMA = Path(__file__).parent / "data" / "citation-file-format-1.2.0.schema.json"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_is_valid_citation_file_format():
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    # as cffconvert --validate: dates and the like are strings in CFF, as YAML gives them here
    jsonschema.validate(citation(), schema, format_checker=jsonschema.FormatChecker())


def test_the_schema_rejects_a_broken_citation():
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    broken = citation() | {"license": "CC-BY-4"}  # not an SPDX identifier
    validator = jsonschema.Draft7Validator(schema)
    assert not validator.is_valid(broken)
    assert not validator.is_valid({k: v for k, v in citation().items() if k != "authors"})


def test_citation_names_both_licences_and_the_book():
    cff = citation()
    assert sorted(cff["license"]) == ["CC-BY-4.0", "MIT"]
    assert cff["title"] == CONFIG["title"]
    assert cff["repository-code"] == CONFIG["repository"]["url"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["version"] == project["version"]


def test_the_package_is_mit_and_ships_its_licence():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert "LICENSE-MIT" in project["license-files"]
    assert (ROOT / "LICENSE-MIT").read_text(encoding="utf-8").startswith("MIT License")


def test_licence_says_which_covers_what():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    for covered in ("src/", "_ext/", "tests/", "benchmarks/", "chapters/", "figures"):
        assert covered in text, covered
    assert "SPDX-License-Identifier: CC-BY-4.0 AND MIT" in text
    full = (ROOT / "LICENSE-CC-BY-4.0").read_text(encoding="utf-8")
    assert full.startswith("Attribution 4.0 International")
    assert "Section 1 -- Definitions." in full


def test_footer_states_both_licences():
    footer = CONFIG["html"]["extra_footer"]
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in footer
    assert 'href="https://opensource.org/license/mit"' in footer
