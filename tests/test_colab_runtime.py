"""A page's Colab notebook runs on a runtime that has only torch, numpy and matplotlib.

The runtime is a fresh virtual environment holding the lock's torch, numpy and matplotlib (and
the kernel that runs the notebook), as a Colab runtime holds its own. nbclient runs the page's
Colab notebook there with pip cut off from every index: its install cell installs the library
from a wheel built here (where on Colab it comes from the repository), and must leave the
runtime's torch, numpy and matplotlib as they were.

The packages are the outer environment's (made from the lock), linked into the new one so that
no network is needed. myst-nb is linked in too, as no wheel of it can be had offline: the cell's
pip command still names it, and ``tests/test_launch.py`` checks that it asks for it where it is
missing.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import distribution
from pathlib import Path

import colab
import jupytext
import pytest
import yaml
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from test_lock import lock

ROOT = Path(__file__).parents[1]
PAGE = ROOT / "chapters" / "01-gradient-flow" / "sigmoid-chain.md"
RUNTIME = ("torch", "numpy", "matplotlib")
KERNEL = ("ipykernel",)
PRESENT = ("myst-nb",)  # see the module's docstring
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]

PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]

pytestmark = pytest.mark.builds_a_book


def closure(names) -> set[str]:
    """The distributions ``names`` need, themselves included (extras and markers as here)."""
    seen, todo = set(), [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in distribution(name).requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def link_distribution(name: str, site: Path) -> None:
    """Put the installed distribution ``name`` into ``site`` by linking its top-level entries."""
    dist = distribution(name)
    base = Path(dist.locate_file(""))
    tops = {Path(f).parts[0] for f in dist.files if not str(f).startswith("..")}
    for top in tops:
        if not (site / top).exists():
            (site / top).symlink_to(base / top)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runtime")
    subprocess.run([sys.executable, "-m", "venv", root / "venv"], check=True)
    python = root / "venv" / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    pins = lock()
    for name in sorted(closure(RUNTIME + KERNEL + PRESENT)):
        if name in pins:  # the lock's pins, not whatever else is around
            assert distribution(name).version.split("+")[0] == pins[name], name
        link_distribution(name, site)
    assert "derived" not in closure(RUNTIME + KERNEL + PRESENT)
    return python


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of the library, built here as a release would be."""
    out = tmp_path_factory.mktemp("wheel")
    # A copy of what the wheel is built from, so that the build leaves nothing in the checkout.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE-MIT"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    subprocess.run(
        [*PIP_WHEEL, "--wheel-dir", str(out), str(source)],
        check=True,
        env={**os.environ, "PIP_NO_INDEX": "1"},
    )
    (built,) = out.glob("derived-*.whl")
    return built


def offline_environment(python: Path) -> dict[str, str]:
    """The kernel's environment: the runtime's python first, pip with no index and no config."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL"))}
    return keep | {
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def test_the_page_runs_on_a_runtime_that_keeps_its_torch(runtime, wheel, tmp_path):
    before = {name: (Path(distribution(name).locate_file("")) / name).resolve() for name in RUNTIME}
    notebook = colab.colab_notebook(
        jupytext.read(PAGE),
        {"repository_url": REPOSITORY["url"], "repository_branch": REPOSITORY["branch"]},
        requirement=f"derived @ {wheel.as_uri()}",
    )
    (tmp_path / "kernels" / "runtime").mkdir(parents=True)
    (tmp_path / "kernels" / "runtime" / "kernel.json").write_text(
        textwrap.dedent(f"""\
            {{"argv": ["{runtime}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"],
              "display_name": "runtime", "language": "python"}}
            """)
    )
    kernels = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    manager = KernelManager(kernel_name="runtime", kernel_spec_manager=kernels)
    workdir = tmp_path / "content"  # Colab's working directory holds none of the repository
    workdir.mkdir()
    client = NotebookClient(
        notebook, km=manager, timeout=300, resources={"metadata": {"path": workdir}}
    )
    client.execute(env=offline_environment(runtime), cwd=str(workdir))

    install = notebook.cells[0]
    assert not [o for o in install.outputs if o.get("name") == "stderr"], install.outputs
    assert all(cell.get("execution_count") for cell in notebook.cells if cell.cell_type == "code")
    check = subprocess.run(
        [
            runtime,
            "-c",
            "import derived, torch, numpy, matplotlib;"
            "print(derived.__file__); print(torch.__file__, numpy.__file__, matplotlib.__file__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "/site-packages/derived/" in check[0] and str(ROOT / "src") not in check[0]
    # the runtime's packages are still the ones it came with: pip replaced none of them
    for name, path in zip(RUNTIME, check[1].split(), strict=True):
        assert Path(path).resolve().parent == before[name], name
