"""The lock pins everything exactly, and environment.yml installs that same lock."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = {}
    for line in lines:
        match = PIN.match(line)
        assert match, f"requirements.txt: not an exact pin: {line!r}"
        pins[normalise(match.group(1))] = match.group(2)
    return pins


def test_torch_is_pinned_to_the_cpu_release():
    assert lock()["torch"] == "2.13.0"


def test_lock_pins_every_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["book"]
    names = {normalise(re.split(r"[<>=!~\[ ;]", spec)[0]) for spec in declared}
    assert names <= lock().keys()


def test_lock_has_no_gpu_only_packages():
    assert not [name for name in lock() if name.startswith(("nvidia-", "triton"))]


def test_environment_installs_the_same_lock_and_python():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    dependencies = environment["dependencies"]
    pip = next(item["pip"] for item in dependencies if isinstance(item, dict))
    assert "-r requirements.txt" in pip and "-e ." in pip
    conda = [item for item in dependencies if isinstance(item, str)]
    assert sorted(conda) == ["pip", "python=3.11"]
    pins = [item for item in pip if not item.startswith("-")]
    assert pins == [], "pin packages in requirements.txt, not in environment.yml"
