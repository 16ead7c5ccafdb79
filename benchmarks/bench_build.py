"""How long the book takes to set up, build, rebuild and test, measured in a scratch copy.

Run with ``make bench``. The working tree (tracked and untracked, not ignored files) is copied
to a temporary folder, where each step runs in turn with a fresh ``.venv`` and no ``_build``:

1. setup: ``make .venv/.ready`` (new virtual environment, install from the lock);
2. a clean ``make book`` (no execution cache);
3. ``make book`` again, nothing changed;
4. a build that executes nothing: ``make book`` with every output but the execution cache removed;
5. ``make book`` after a prose-only edit of one page;
6. ``make book`` after changing one function of the library module that the fewest pages use
   (the pages that import it, directly or not, and only those, must execute again): first a
   function that does not run while the library is imported, then one that does, if the
   module has one (the library reference shows what import-time code computes, so it is read
   again only after the second edit: ``_ext/reference_pages.py``);
7. ``make test`` with the environment present, and how long the cores were busy meanwhile;
8. every page executed on its own, summing cell run times (kernel start excluded).

The compute floor is what no build can beat on this machine: the pages' cell times spread over
the cores, plus the build that executes nothing. Each build row gives its ratio to the floor.
``make test`` has a floor of its own: the time the cores were busy while it ran (its browser's
processes included), spread over the cores, which no schedule of the same tests can beat.
The table is printed and written to ``_build/bench.md``, with the targets beside the figures.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import jupytext
from nbclient import NotebookClient

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import execution_cache  # noqa: E402
from reference_pages import functions_run_on_import  # noqa: E402

PAGE_LIMIT_S = 10.0


def copy_working_tree(destination: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)


def timed(copy: Path, *target: str) -> tuple[float, int]:
    """Run make in the copy; return seconds and how many notebooks it executed."""
    start = time.perf_counter()
    result = subprocess.run(["make", *target], cwd=copy, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"make {' '.join(target)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    executed = len(re.findall(r"^executed \S+ in |: Executing notebook", log, re.M))
    return seconds, executed


def busy_seconds() -> float:
    """Seconds this process's cores have spent busy since the machine started, summed over the
    cores (Linux's ``/proc/stat``): over a step, all the step's work and anything else that ran."""
    cores = {f"cpu{n}" for n in os.sched_getaffinity(0)}
    busy = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *ticks = line.split()
        if name in cores:
            user, nice, system, _idle, _iowait, irq, softirq = map(int, ticks[:7])
            busy += user + nice + system + irq + softirq
    return busy / os.sysconf("SC_CLK_TCK")


def pages(copy: Path) -> list[Path]:
    return sorted(
        p
        for p in copy.glob("chapters/*/*.md")
        if execution_cache.is_myst_markdown_notebook(p.read_text(encoding="utf-8"))
    )


def least_used_module(copy: Path) -> tuple[Path, list[str]]:
    """The library module imported (transitively) by the fewest pages, and those pages."""
    users: dict[Path, list[str]] = {}
    for page in pages(copy):
        code = execution_cache.code_cells(jupytext.read(page))
        for path in execution_cache.module_files("\n".join(code), copy / "src"):
            users.setdefault(path, []).append(page.stem)
    return min(users.items(), key=lambda item: (len(item[1]), str(item[0])))


def remove_all_but_the_cache(copy: Path) -> None:
    for path in (copy / "_build").iterdir():
        if path.is_dir() and path.name != ".jupyter_cache":
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()


def edit_first_function(module: Path, library: Path, *, runs_on_import: bool) -> str | None:
    """Change the body of the module's first function that runs, or does not run, while the
    library is imported: a ``pass`` after its first statement. Returns its name (None: none)."""
    lines = module.read_text().splitlines(keepends=True)
    on_import = {name for path, name in functions_run_on_import(library) if path == module}
    function = next(
        (
            n
            for n in ast.walk(ast.parse("".join(lines)))
            if isinstance(n, ast.FunctionDef) and (n.name in on_import) == runs_on_import
        ),
        None,
    )
    if function is None:
        return None
    first = function.body[0]
    lines.insert(first.end_lineno, " " * first.col_offset + "pass\n")
    module.write_text("".join(lines))
    return function.name


def execution_seconds(page: Path) -> float:
    """Sum of the page's cell run times, from the kernel's own timestamps."""
    notebook = jupytext.read(page)
    resources = {"metadata": {"path": str(page.parent)}}
    with execution_cache.unix_sockets() as config:
        NotebookClient(
            notebook, timeout=600, record_timing=True, resources=resources, config=config
        ).execute()
    total = 0.0
    for cell in notebook.cells:
        timing = cell.metadata.get("execution", {})
        if "shell.execute_reply" in timing:
            total += _stamp(timing["shell.execute_reply"]) - _stamp(timing["iopub.execute_input"])
    return total


def _stamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        copy = Path(scratch)
        copy_working_tree(copy)
        setup, _ = timed(copy, ".venv/.ready")
        clean, clean_executed = timed(copy, "book")
        again, again_executed = timed(copy, "book")
        remove_all_but_the_cache(copy)
        no_exec, no_exec_executed = timed(copy, "book")
        first = pages(copy)[0]
        first.write_text(first.read_text().replace("## Takeaway\n", "## Takeaway\n\nEdited.\n", 1))
        prose, prose_executed = timed(copy, "book")
        module, users = least_used_module(copy)
        library_rows = []
        for runs_on_import in (False, True):
            edited = edit_first_function(module, copy / "src", runs_on_import=runs_on_import)
            if edited is not None:
                library_rows.append((edited, runs_on_import, *timed(copy, "book")))
        before = busy_seconds()
        test, _ = timed(copy, "test")
        test_busy = busy_seconds() - before
        page_times = {page.stem: execution_seconds(page) for page in pages(copy)}
    cores = len(os.sched_getaffinity(0))
    n = len(page_times)
    floor = sum(page_times.values()) / cores + no_exec
    users_time = sum(page_times[u] for u in users)

    def build(step, seconds, executed, target):
        return (step, seconds, f"{seconds / floor:.2f}", executed, target)

    rows = [
        ("fresh setup (new .venv, install)", setup, "", "", ""),
        (
            f"compute floor: cell times {sum(page_times.values()):.1f} s / {cores} cores "
            f"+ build executing nothing",
            floor, "1.00", "", "",
        ),
        build("build executing nothing (execution cache full)", no_exec, no_exec_executed,
              _check(no_exec_executed == 0, "0 executed")),
        build(f"clean `make book` ({n} pages)", clean, clean_executed,
              _check(clean <= 1.25 * floor, f"≤ 1.25 x floor = {1.25 * floor:.0f} s")),
        build("no-change `make book`", again, again_executed,
              _check(again <= 0.1 * clean and again_executed == 0, "≤ 10% of clean, 0 executed")),
        build("`make book` after a prose-only edit", prose, prose_executed,
              _check(prose_executed == 0, "0 executed")),
        *(
            build(
                f"`make book` after editing `{module.name}`'s `{edited}` ("
                f"{'runs' if runs_on_import else 'does not run'} on import; used by "
                f"{', '.join(users)})",
                library, library_executed,
                _check(
                    library_executed == len(users) and library <= users_time + 5,
                    f"{len(users)} executed, ≤ their cell times + 5 s = {users_time + 5:.0f} s",
                ),
            )
            for edited, runs_on_import, library, library_executed in library_rows
        ),
        build("`make test`, environment present", test, "",
              _check(test <= 1.3 * clean, f"≤ 1.3 x clean = {1.3 * clean:.0f} s")),
        build(f"`make test`'s floor: cores busy {test_busy:.0f} s / {cores} cores",
              test_busy / cores, "",
              "within 1.3 x clean: the target is reachable" if test_busy / cores <= 1.3 * clean
              else "above 1.3 x clean: no schedule of these tests meets the target"),
    ]  # fmt: skip
    lines = [
        f"Measured on {cores} cores.",
        "",
        "| step | seconds | / floor | notebooks executed | target |",
        "|---|---:|---:|---:|---|",
        *(f"| {step} | {s:.1f} | {r} | {e} | {t} |" for step, s, r, e, t in rows),
        "",
        "| page | execution seconds (kernel start excluded) | target |",
        "|---|---:|---|",
        *(
            f"| {name} | {s:.1f} | {_check(s <= PAGE_LIMIT_S, f'≤ {PAGE_LIMIT_S:.0f} s')} |"
            for name, s in sorted(page_times.items(), key=lambda item: -item[1])
        ),
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "_build").mkdir(exist_ok=True)
    (ROOT / "_build" / "bench.md").write_text(table)


def _check(ok: bool, target: str) -> str:
    return f"{'met' if ok else 'MISSED'}: {target}"


if __name__ == "__main__":
    main()
