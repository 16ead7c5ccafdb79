"""Launching a page elsewhere: Binder opens the MyST pages as notebooks; the notebook Colab opens
installs the library where it is missing."""

import json
import shlex
import sys
from pathlib import Path

import colab
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager
from jupytext_config.labconfig import LabConfig
from packaging.requirements import Requirement

ROOT = Path(__file__).parents[1]
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
# Binder serves the repository as the home directory, so this is JupyterLab's user configuration.
LAB_SETTINGS = ROOT / ".jupyter" / "labconfig" / "default_setting_overrides.json"
JUPYTEXT_LAB = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-jupytext"


def test_binder_opens_markdown_and_myst_as_jupytext_notebooks(tmp_path):
    settings = json.loads(LAB_SETTINGS.read_text(encoding="utf-8"))
    # what jupytext's own `jupytext-config set-default-viewer markdown myst` writes
    expected = LabConfig(settings_file=tmp_path / "absent.json").read()
    assert settings == expected.set_default_viewers(["markdown", "myst"]).config


def test_the_viewer_named_is_the_one_jupytext_registers():
    scripts = (JUPYTEXT_LAB / "static").glob("*.js")
    assert any('"Jupytext Notebook"' in path.read_text(encoding="utf-8") for path in scripts)


def install_code() -> str:
    cell = colab.install_cell(
        {"repository_url": REPOSITORY["url"], "repository_branch": REPOSITORY["branch"]}
    )
    return TransformerManager().transform_cell(cell.source)  # as IPython runs it


def run_install(monkeypatch, missing: str | None) -> list[tuple[str, str]]:
    """Run the install cell with a stand-in IPython; return the magics it ran."""
    if missing:
        monkeypatch.setitem(sys.modules, missing, None)  # importing it raises ImportError
    magics = []

    class Shell:
        def run_line_magic(self, name, line, _stack_depth=1):
            magics.append((name, line))

    exec(install_code(), {"get_ipython": Shell})
    return magics


def test_install_cell_does_nothing_where_the_library_is_importable(monkeypatch):
    assert run_install(monkeypatch, missing=None) == []


@pytest.mark.parametrize("missing", ["derived", "myst_nb"])
def test_install_cell_installs_the_library_from_the_repository(monkeypatch, missing):
    ((magic, line),) = run_install(monkeypatch, missing)
    assert magic == "pip"
    command, *options = shlex.split(line)
    assert command == "install"
    requirements = {r.name: r for r in map(Requirement, options[options.index("--quiet") + 1 :])}
    assert requirements.keys() == {"myst-nb", "derived"}
    assert requirements["derived"].url == f"git+{REPOSITORY['url']}@{REPOSITORY['branch']}"
