"""`make book` and `make test` rebuild the environment exactly when the lock is newer."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
REBUILD = "-m venv --clear .venv"


def dry_run(*arguments: str) -> str:
    result = subprocess.run(
        ["make", "--dry-run", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.mark.parametrize("target", ["book", "test"])
def test_a_newer_lock_rebuilds_the_environment_first(target):
    commands = dry_run("--what-if=requirements.txt", target).splitlines()
    rebuild = next(i for i, line in enumerate(commands) if REBUILD in line)
    install = next(i for i, line in enumerate(commands) if "pip install" in line)
    assert rebuild < install < len(commands) - 1, "the environment comes before the work"
    assert "-r requirements.txt -e ." in commands[install]


@pytest.mark.skipif(not (ROOT / ".venv" / ".ready").exists(), reason="no .venv made by make here")
@pytest.mark.parametrize("target", ["book", "test"])
def test_an_up_to_date_environment_is_reused(target):
    assert REBUILD not in dry_run(target)
