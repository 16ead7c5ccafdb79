"""Launching a page elsewhere: Binder opens the MyST pages as notebooks; the notebook Colab opens
installs the library where it is missing."""

import json
import re
import shlex
import sys
import tomllib
from importlib.metadata import version
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


def install_code(requirement: str | None = None) -> str:
    cell = colab.install_cell(
        {"repository_url": REPOSITORY["url"], "repository_branch": REPOSITORY["branch"]},
        requirement,
    )
    return TransformerManager().transform_cell(cell.source)  # as IPython runs it


def run_install(monkeypatch, missing: str | None, torch_version: str | None = None):
    """Run the install cell with a stand-in IPython; return the magics it ran."""
    if missing:
        monkeypatch.setitem(sys.modules, missing, None)  # importing it raises ImportError
    if torch_version:
        monkeypatch.setattr(sys.modules["torch"], "__version__", torch_version)
    magics = []
    namespace = {}

    class Shell:
        def run_line_magic(self, name, line, _stack_depth=1):
            # IPython expands {expression} in a magic's line from the cell's namespace
            expanded = re.sub(r"\{([^}]+)\}", lambda m: str(eval(m.group(1), namespace)), line)
            magics.append((name, expanded))

    namespace["get_ipython"] = Shell
    exec(install_code(), namespace)
    return magics


def test_install_cell_does_nothing_where_the_library_is_importable(monkeypatch):
    assert run_install(monkeypatch, missing=None) == []


@pytest.mark.parametrize("missing", ["derived", "myst_nb"])
def test_install_cell_installs_the_library_from_the_repository(monkeypatch, missing):
    ((magic, line),) = run_install(monkeypatch, missing)
    assert magic == "pip"
    command, *options = shlex.split(line)
    assert command == "install"
    assert options[:3] == ["--quiet", "--constraint", options[2]]
    requirements = {r.name: r for r in map(Requirement, options[3:])}
    assert requirements.keys() == {"myst-nb", "derived"}
    assert requirements["derived"].url == f"git+{REPOSITORY['url']}@{REPOSITORY['branch']}"
    # pip may add the library and myst-nb, never replace the runtime's torch, numpy, matplotlib
    pins = Path(options[2]).read_text(encoding="utf-8").splitlines()
    Path(options[2]).unlink()
    assert pins == [f"{name}=={version(name)}" for name in ("torch", "numpy", "matplotlib")]


def test_install_cell_stops_on_a_torch_older_than_the_floor(monkeypatch):
    older = f"{colab.TORCH_FLOOR.split('.')[0]}.{int(colab.TORCH_FLOOR.split('.')[1]) - 1}.1+cu121"
    with pytest.raises(
        RuntimeError, match=rf"torch {re.escape(older)}.*{colab.TORCH_FLOOR} or newer"
    ):
        run_install(monkeypatch, "derived", torch_version=older)
    assert run_install(monkeypatch, "derived", torch_version=f"{colab.TORCH_FLOOR}.0")


def test_the_floor_is_the_one_the_package_declares():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (torch,) = [r for r in map(Requirement, project["dependencies"]) if r.name == "torch"]
    assert str(torch.specifier) == f">={colab.TORCH_FLOOR}"
    assert f"TORCH_FLOOR = ({colab.TORCH_FLOOR.replace('.', ', ')})" in install_code()
