"""Grade the notebooks students hand back: ``python -m derived.checkers.grade SUBMISSION...``.

Each SUBMISSION is a notebook of the student edition (``.ipynb``) or a folder searched for them.
The page a notebook answers is read from its metadata (``"derived": {"page": ...}``, written by
the student edition) or else from the ``from derived.checkers import <page>`` of its cells.

This EXECUTES STUDENTS' CODE. Each notebook runs in its own process, in its own process group and
temporary folder, with a wall-clock limit, limits on CPU time, memory and file size, a cap on
what it prints, proxies pointed nowhere and Python's sockets disabled before its first cell (a
best effort only: C code and the programs it starts can still reach the network). Run the grader
in a container or a throwaway account.

The verdict is never read from what the notebook printed: after the cells have run, the
checker's ``check`` (taken before they ran) is called, in that process, on the variables named
like its parameters, and the result comes back through a pipe of the grader's, with a token the
notebook is not given. A notebook that raises, calls ``sys.exit`` or ``os._exit``, runs too long,
prints too much or cannot be read gets one failed row per answer, saying why.
"""

import argparse
import csv
import importlib
import inspect
import json
import math
import os
import re
import resource
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

COLUMNS = ("submission", "page", "slot", "passed", "status", "feedback")
#: The statuses of an answer that was checked (derived.checkers.verdict.Status).
ANSWER_STATUSES = frozenset({"correct", "wrong", "unanswered", "malformed"})
#: The tags of the install cell (_ext/colab.py), which is never run, and of the answer cell.
INSTALL_TAG, ANSWER_TAG = "install", "answer"
PIP = re.compile(r"^\s*[%!]\s*pip\b", re.M)
CHECKER_IMPORT = re.compile(
    r"\bfrom\s+derived\.checkers\s+import\s+(\w+)|\bderived\.checkers\.(\w+)"
)

OUTPUT_CAP = 1 << 20  #: bytes of stdout and stderr together a notebook may write
RESULT_CAP = 1 << 20  #: bytes of the result sent through the pipe
MEMORY = 4 << 30  #: address space of a notebook's process (torch imports in well under 1 GiB)
FILE_SIZE = 64 << 20  #: the largest file a notebook may write
GRACE = 1.0  #: seconds the output may stay open once the notebook's process has exited
PAYLOAD = "grade-payload.json"  #: what the child runs, in its folder, deleted before it runs
CHILD = "from derived.checkers.grade import child; child()"
# An address nothing listens on, so that a program honouring the proxy variables gets nowhere.
DEAD_PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy")
KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "LD_LIBRARY_PATH")


@dataclass(frozen=True)
class Row:
    """One row of the table: the verdict on one answer of one submission."""

    submission: str
    page: str
    slot: str
    passed: bool
    status: str
    feedback: str


def short(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(error: BaseException) -> str:
    """An exception as its type and message, on one line."""
    return short(f"{type(error).__name__}: {error}")


# --- Which notebooks, and which page each answers


def notebooks(paths: Iterable[Path]) -> list[Path]:
    """The notebooks named or found under the folders named, each once, in order; raise
    ValueError naming a path that is missing or not a notebook."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.is_file() and path.suffix == ".ipynb":
            found.append(path)
        elif path.exists():
            raise ValueError(f"not a notebook (.ipynb) or a folder: {path}")
        else:
            raise ValueError(f"no such file or folder: {path}")
    unique = {p.resolve(): p for p in reversed(found)}
    return [p for p in found if unique[p.resolve()] is p]


@cache
def page_checker(name: str) -> ModuleType | None:
    """The checker module ``derived.checkers.<name>`` of a page; None if there is none."""
    if not name.isidentifier():
        return None
    try:
        module = importlib.import_module(f"derived.checkers.{name}")
    except ImportError:
        return None
    is_page = all(hasattr(module, a) for a in ("PAGE", "SLOTS", "check", "book_answers"))
    return module if is_page else None


def checker_of(notebook: Any) -> ModuleType | None:
    """The checker of the page a notebook answers: from its metadata, else from the checker
    its cells import (the answer cell's first); None if neither names a page's checker."""
    metadata = notebook.metadata.get("derived")
    page = metadata.get("page") if isinstance(metadata, dict) else None
    if isinstance(page, str):
        checker = page_checker(page.replace("-", "_"))
        return checker if checker is not None and checker.PAGE == page else None
    code = [c for c in notebook.cells if c.cell_type == "code"]
    code.sort(key=lambda c: ANSWER_TAG not in c.metadata.get("tags", []))
    for cell in code:
        for match in CHECKER_IMPORT.finditer(cell.source):
            checker = page_checker(match.group(1) or match.group(2))
            if checker is not None:
                return checker
    return None


def python_source(source: str) -> str:
    """A cell as plain Python: IPython's magics and shell commands become calls of
    ``get_ipython()``, which :class:`NoShell` answers by skipping them."""
    from IPython.core.inputtransformer2 import TransformerManager  # only the grader needs it

    return TransformerManager().transform_cell(source)


def cells_to_run(notebook: Any) -> list[tuple[int, str]]:
    """The code cells to run, numbered from 1 among all cells, as plain Python; never the
    install cell (tagged, or a first code cell that runs pip)."""
    code = [(i, c) for i, c in enumerate(notebook.cells, 1) if c.cell_type == "code"]
    run = []
    for number, cell in code:
        tagged = INSTALL_TAG in cell.metadata.get("tags", [])
        if not (tagged or (number == code[0][0] and PIP.search(cell.source))):
            run.append((number, python_source(cell.source)))
    return run


# --- The child process: run the cells, check the answers, send the result


class NoShell:
    """``get_ipython()`` while grading: every magic and shell command (``%pip``, ``!ls``) is
    skipped, with a note on stderr."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        def skip(*args: Any, **kwargs: Any) -> None:
            print(f"grader: skipped IPython's {name}{args[:2]}", file=sys.stderr)

        return skip


def limit_resources(timeout: float) -> None:
    """Hard limits, which the notebook cannot raise again: CPU time (the wall-clock limit, so a
    process that escapes its group still stops), memory, file size, and no core dumps."""
    limits = {
        resource.RLIMIT_CPU: math.ceil(timeout),
        resource.RLIMIT_AS: MEMORY,
        resource.RLIMIT_FSIZE: FILE_SIZE,
        resource.RLIMIT_CORE: 0,
    }
    for limit, value in limits.items():
        hard = resource.getrlimit(limit)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(limit, (value, value))


def disable_network() -> None:
    """Make Python's sockets refuse to open and names refuse to resolve (best effort)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network access is disabled while grading")

    for name in ("socket", "create_connection", "getaddrinfo", "gethostbyname", "socketpair"):
        setattr(socket, name, refuse)


def failure(outcome: str, error: BaseException, where: str) -> dict[str, str]:
    """How the notebook failed: it exited (``sys.exit``) or raised ``error`` in ``where``."""
    if isinstance(error, SystemExit):
        return {"outcome": "exited", "why": f"called sys.exit({error.code!r}) {where}"}
    return {"outcome": outcome, "why": f"raised {describe(error)} {where}"}


def run_cells(cells: Sequence[tuple[int, str]], namespace: dict) -> dict[str, str] | None:
    """Run the cells in order, as a kernel would; how the first that fails fails, or None."""
    for number, source in cells:
        try:
            exec(compile(source, f"<cell {number}>", "exec"), namespace)
        except BaseException as error:  # whatever a cell raises fails the notebook
            return failure("crashed", error, f"in cell {number}")
    return None


def checked(check: Callable, namespace: dict) -> dict[str, Any]:
    """``check`` called on the notebook's variables named like its parameters (one that is
    missing is left to its default, the placeholder)."""
    names = inspect.signature(check).parameters
    try:
        verdict = check(**{name: namespace[name] for name in names if name in namespace})
        results = [
            {"slot": r.slot, "status": r.status, "feedback": str(r.feedback)}
            for r in verdict.results
        ]
    except BaseException as error:  # a reader's function can exit or raise BaseException
        return failure("crashed", error, "while its answers were checked")
    return {"outcome": "graded", "results": results}


def send(channel: int, result: dict) -> None:
    """Write the result to the grader's pipe and close it."""
    data = json.dumps(result).encode()
    while data:
        data = data[os.write(channel, data) :]
    os.close(channel)


def child() -> None:
    """Run in the child process, in its temporary folder: run one notebook's cells, check its
    answers and send the result through the grader's pipe, descriptor ``sys.argv[1]``."""
    channel = int(sys.argv[1])
    os.set_inheritable(channel, False)  # the programs a notebook starts do not get it
    payload = json.loads(Path(PAYLOAD).read_text(encoding="utf-8"))
    Path(PAYLOAD).unlink()  # the notebook never sees the token
    limit_resources(payload["timeout"])
    check = importlib.import_module(f"derived.checkers.{payload['module']}").check
    disable_network()
    namespace = {"__name__": "__main__", "get_ipython": NoShell}
    result = run_cells(payload["cells"], namespace) or checked(check, namespace)
    send(channel, {"token": payload["token"], **result})
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # the notebook may have closed or replaced it
            pass
    os._exit(0)  # no exit handler or thread of the notebook runs after its result


# --- The grader's side: one process per notebook


@dataclass
class Outcome:
    """What came back from a notebook's process."""

    returncode: int | None = None
    output: bytes = b""
    result: bytes = b""
    timed_out: bool = False
    flooded: bool = False


def child_environment(folder: str) -> dict[str, str]:
    """A small environment: home and temporary files in ``folder``, one thread, no display,
    proxies pointed nowhere, pip without an index."""
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    env |= {"HOME": folder, "TMPDIR": folder, "MPLCONFIGDIR": folder, "MPLBACKEND": "Agg"}
    env |= {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PIP_NO_INDEX": "1"}
    env |= {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
    for name in PROXY_VARIABLES:
        env[name] = env[name.upper()] = DEAD_PROXY
    env["no_proxy"] = env["NO_PROXY"] = ""
    return env


def kill_group(process: subprocess.Popen) -> None:
    """Kill the process and every process it started in its group."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def collect(process: subprocess.Popen, channel: int, timeout: float) -> Outcome:
    """Read the process's output and result until both end, the time is up or it prints too
    much; kill its group as soon as it exits, so nothing it started keeps the output open (and
    stop reading soon after, should something have left the group and kept it open)."""
    deadline = time.monotonic() + timeout
    exited = None
    outcome = Outcome()
    buffers = {process.stdout.fileno(): bytearray(), channel: bytearray()}
    caps = {process.stdout.fileno(): OUTPUT_CAP, channel: RESULT_CAP}
    with selectors.DefaultSelector() as selector:
        for fd in buffers:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map() and not (outcome.timed_out or outcome.flooded):
            if process.poll() is not None:
                kill_group(process)
                exited = exited or time.monotonic()
                if time.monotonic() > exited + GRACE:
                    break
            for key, _ in selector.select(min(0.1, max(0, deadline - time.monotonic()))):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fd)
                buffers[key.fd] += chunk
                outcome.flooded |= len(buffers[key.fd]) > caps[key.fd]
            outcome.timed_out = time.monotonic() > deadline
    if not (outcome.timed_out or outcome.flooded):
        try:
            outcome.returncode = process.wait(max(0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            outcome.timed_out = True
    outcome.output, outcome.result = (
        bytes(buffers[process.stdout.fileno()]),
        bytes(buffers[channel]),
    )
    return outcome


def run_notebook(module: str, cells: list[tuple[int, str]], token: str, timeout: float) -> Outcome:
    """Run a notebook's cells and check its answers in a process of its own."""
    with tempfile.TemporaryDirectory(prefix="grade-") as folder:
        payload = {"module": module, "cells": cells, "token": token, "timeout": timeout}
        (Path(folder) / PAYLOAD).write_text(json.dumps(payload), encoding="utf-8")
        channel, child_end = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-P", "-c", CHILD, str(child_end)],
                cwd=folder,
                env=child_environment(folder),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(child_end,),
                start_new_session=True,  # its own process group, killed with everything in it
            )
        finally:
            os.close(child_end)
        try:
            return collect(process, channel, timeout)
        finally:
            kill_group(process)
            process.wait()
            process.stdout.close()
            os.close(channel)


# --- From what came back to rows

SIGNALS = {
    signal.SIGXCPU: "it used up its CPU time",
    signal.SIGXFSZ: "it wrote a file over the size limit",
    signal.SIGKILL: "perhaps for running out of memory",
}


def no_result(outcome: Outcome) -> tuple[str, str]:
    """The status and reason of a process that sent no usable result."""
    if outcome.returncode < 0:
        sig = signal.Signals(-outcome.returncode)
        why = f"was killed by {sig.name}" + (f": {SIGNALS[sig]}" if sig in SIGNALS else "")
        status = "killed"
    else:
        why = f"exited with status {outcome.returncode} (os._exit?)"
        status = "exited"
    last = outcome.output.decode("utf-8", "replace").strip().splitlines()[-1:]
    return status, f"the notebook {why} before its answers were checked" + "".join(
        f"; its last output: {short(line, 200)}" for line in last
    )


def trusted(data: bytes, token: str, checker: ModuleType) -> dict | None:
    """The result sent, if it is the child's own: JSON with the token, and either how the
    notebook failed or a verdict on each slot of the page, in order; else None."""
    try:
        result = json.loads(data)
        if result["token"] != token:
            return None
        if result["outcome"] != "graded":
            return result if result["outcome"] in ("crashed", "exited") else None
        slots = [(r["slot"], r["status"], r["feedback"]) for r in result["results"]]
    except (ValueError, KeyError, TypeError):
        return None
    names = [slot for slot, _, _ in slots]
    forms = all(status in ANSWER_STATUSES and isinstance(text, str) for _, status, text in slots)
    return result if forms and names == [s.name for s in checker.SLOTS] else None


def judge(outcome: Outcome, token: str, checker: ModuleType, timeout: float) -> list | tuple:
    """The results per slot that came back, or the ``(status, reason)`` of a failure."""
    if outcome.timed_out:
        return "timeout", f"timed out after {timeout:g} s; the notebook was stopped"
    if outcome.flooded:
        return "flooded", f"printed more than {OUTPUT_CAP >> 20} MiB; the notebook was stopped"
    if not outcome.result:
        return no_result(outcome)
    result = trusted(outcome.result, token, checker)
    if result is None:
        return "invalid", "the result sent back is not the grader's; nothing was checked"
    if result["outcome"] != "graded":
        return result["outcome"], f"the notebook {result['why']}; its answers were not checked"
    return result["results"]


def rows_for(submission: str, checker: ModuleType | None, status: str, why: str) -> list[Row]:
    """One failed row per slot of the page, or a single row where the page is unknown."""
    if checker is None:
        return [Row(submission, "", "", False, status, why)]
    return [Row(submission, checker.PAGE, s.name, False, status, why) for s in checker.SLOTS]


def grade(path: Path, timeout: float) -> list[Row]:
    """The rows of one submission."""
    submission = str(path)
    try:
        import nbformat  # only the grader needs it, not the child processes

        notebook = nbformat.read(path, as_version=4)
        checker = checker_of(notebook)
        cells = cells_to_run(notebook)
    except Exception as error:  # not JSON, not a notebook, cells of the wrong form...
        return rows_for(
            submission, None, "unreadable", f"not a readable notebook: {describe(error)}"
        )
    if checker is None:
        why = (
            "no page found: neither the notebook's metadata (derived.page) nor an import "
            "`from derived.checkers import <page>` in its cells names a page's checker"
        )
        return rows_for(submission, None, "unknown-page", why)
    token = secrets.token_hex(16)
    outcome = run_notebook(checker.__name__.rsplit(".", 1)[1], cells, token, timeout)
    results = judge(outcome, token, checker, timeout)
    if isinstance(results, tuple):
        return rows_for(submission, checker, *results)
    page = checker.PAGE
    return [Row(submission, page, r["slot"], r["status"] == "correct", r["status"], r["feedback"])
            for r in results]  # fmt: skip


def grade_safely(path: Path, timeout: float) -> list[Row]:
    """:func:`grade`, with a failure of the grader itself on one notebook as its row."""
    try:
        return grade(path, timeout)
    except Exception as error:
        return rows_for(str(path), None, "error", f"the grader failed on it: {describe(error)}")


# --- The table and the summary


def write_csv(rows: Iterable[Row], out: Path) -> None:
    """The table: a header of ``COLUMNS``, then a row per answer (passed is 1 or 0)."""
    with out.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow((row.submission, row.page, row.slot, int(row.passed), row.status,
                             row.feedback))  # fmt: skip


def summary_line(rows: list[Row]) -> str:
    """One submission's line: its page and answers correct, or why it failed."""
    first = rows[0]
    line = f"{first.submission}: {first.page or 'unknown page'}: "
    if first.status in ANSWER_STATUSES:
        return line + f"{sum(r.passed for r in rows)} of {len(rows)} answers correct"
    return line + f"not graded, {first.status}: {first.feedback}"


def totals(graded: list[list[Row]]) -> str:
    """The last line of the summary: submissions, failures, answers correct."""
    failed = sum(rows[0].status not in ANSWER_STATUSES for rows in graded)
    answers = [r for rows in graded for r in rows if r.slot]
    return (
        f"{len(graded)} submission{'s' * (len(graded) != 1)}, {failed} of them failed to run; "
        f"{sum(r.passed for r in answers)} of {len(answers)} answers correct"
    )


# --- The command


def arguments(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[Path]]:
    """The parsed arguments and the notebooks to grade; a usage error exits with status 2."""
    parser = argparse.ArgumentParser(
        prog="python -m derived.checkers.grade",
        description="Grade students' notebooks of the student edition. This EXECUTES their "
        "code: run it in a container or a throwaway account.",
    )
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="a notebook (.ipynb), or a folder searched for them")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("grades.csv"),
                        help="the CSV table to write (default: grades.csv)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                        help="wall-clock limit of each notebook (default: 120)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="notebooks run at once (default: the number of CPUs)")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error(f"--timeout must be positive, got {args.timeout:g}")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if not args.out.parent.is_dir():
        parser.error(f"no such folder for --out: {args.out.parent}")
    try:
        found = notebooks(args.submissions)
    except ValueError as error:
        parser.error(str(error))
    if not found:
        parser.error(f"no notebook (.ipynb) in {', '.join(map(str, args.submissions))}")
    return args, found


def main(argv: Sequence[str] | None = None) -> int:
    """Grade every submission, write the table, print the summary; 0 once all are graded."""
    args, found = arguments(argv)
    graded = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for rows in pool.map(lambda path: grade_safely(path, args.timeout), found):
            print(summary_line(rows), flush=True)
            graded.append(rows)
    write_csv([r for rows in graded for r in rows], args.out)
    print(f"{totals(graded)}. Table: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
