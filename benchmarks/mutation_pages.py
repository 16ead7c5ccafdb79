"""Which faults in the library the pages' own checks catch: mutation testing of the pages.

Run with ``make mutation-pages``. ``make mutation`` asks whether the unit tests notice a fault
in ``src/derived``; this asks the same of the pages. For each page:

1. its code cells run once under ``coverage``, which records the library lines they execute
   (``src/derived`` without ``src/derived/checkers``: a page calls its checker only on the
   book's answers, so a fault in the checker's own code shows in the checker's unit tests, not
   on the page; the library code a checker calls is counted, since the page asserts that the
   checker accepts the book's answers);
2. faults are made only in the statements executed: one simple change per mutant, of the kinds
   mutmut makes (an arithmetic, comparison or boolean operator swapped, an integer constant
   plus or minus one, a float constant plus one, ``True``/``False`` swapped, a unary minus or a
   ``not`` dropped, a keyword argument dropped); annotations, strings and f-strings are left
   alone, and a default or decorator of a function counts as executed only when its body ran;
3. each mutant runs in a process of its own, with the library copied to a scratch folder first
   on ``PYTHONPATH`` (the working tree is never written): the page's code cells are executed
   in order in one namespace, from the page's folder, with matplotlib's Agg backend, one
   thread and a timeout of five times the clean run (at least 30 s);
4. a mutant is *caught* when a cell raises (or the process dies), *timed out* when it runs past
   the limit (which counts as caught, as in mutmut), and *survives* otherwise;
5. what a survivor's page shows (every glued value, every figure's PNG, the printed output with
   timings masked) is compared with the clean run's: a survivor that shows the same is a
   candidate equivalent, one that shows a change is a page that shows a wrong result unchecked.

The per-page table goes to ``_build/mutation-pages.md``, every survivor with its diff to
``_build/mutation-pages-survivors.md`` and every mutant's verdict to
``_build/mutation-pages.json``; all three are rewritten as each page finishes. ``--page``
(repeatable) picks pages by id, ``--max-mutants N`` runs at most N mutants of a page, evenly
spaced over its sorted mutants (the same N picks the same mutants), and ``--jobs N`` runs N
mutants at once. Survivors measured and why each is equivalent or a gap: ``tests/MUTANTS.md``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import hashlib
import io
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGE = "derived"
EXCLUDED = ("checkers",)  # subpackages of the library whose own code is not mutated
MIN_TIMEOUT_S = 30.0
TIMEOUT_FACTOR = 5.0
REPORT = ROOT / "_build" / "mutation-pages.md"
SURVIVORS = ROOT / "_build" / "mutation-pages-survivors.md"
RESULTS = ROOT / "_build" / "mutation-pages.json"

# ----------------------------------------------------------------------------------------------
# Mutants

BINARY = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
}
COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
BOOLEAN = {ast.And: ast.Or, ast.Or: ast.And}
SYMBOL = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.And: "and",
    ast.Or: "or",
}


@dataclass(frozen=True, order=True)
class Mutant:
    """One change to one module: bytes ``start:end`` of its UTF-8 source become ``replacement``."""

    module: str  # path relative to the source root, e.g. "derived/ridge.py"
    line: int
    col: int
    start: int
    end: int
    replacement: str
    description: str = field(compare=False)

    @property
    def name(self) -> str:
        return f"{self.module}:{self.line}:{self.col}:{self.description}"

    def apply(self, source: str) -> str:
        data = source.encode("utf-8")
        return (data[: self.start] + self.replacement.encode("utf-8") + data[self.end :]).decode(
            "utf-8"
        )

    def diff(self, source: str) -> str:
        return "".join(
            difflib.unified_diff(
                source.splitlines(keepends=True),
                self.apply(source).splitlines(keepends=True),
                f"a/{self.module}",
                f"b/{self.module}",
                n=2,
            )
        )


def _statement_lines(statement: ast.AST) -> range:
    """The lines whose execution means that ``statement``'s own expressions were evaluated."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        # Defaults and decorators are evaluated at import; they matter only if the body runs.
        return range(statement.body[0].lineno, statement.end_lineno + 1)
    body = getattr(statement, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.AST):
        if isinstance(statement, ast.ClassDef):
            return range(statement.lineno, statement.end_lineno + 1)
        return range(statement.lineno, max(body[0].lineno, statement.lineno + 1))
    return range(statement.lineno, statement.end_lineno + 1)


def _skipped_fields(node: ast.AST) -> set[str]:
    if isinstance(node, ast.arg | ast.AnnAssign):
        return {"annotation"}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return {"returns"}
    return set()


def _walk(tree: ast.AST):
    """Every node of ``tree`` but annotations and f-strings, with its innermost statement."""
    stack = [(tree, None)]
    while stack:
        node, statement = stack.pop()
        if isinstance(node, ast.stmt | ast.excepthandler):
            statement = node
        if isinstance(node, ast.JoinedStr):
            continue
        yield node, statement
        skipped = _skipped_fields(node)
        children = [
            child
            for name, value in ast.iter_fields(node)
            if name not in skipped
            for child in (value if isinstance(value, list) else [value])
            if isinstance(child, ast.AST)
        ]
        stack.extend((child, statement) for child in reversed(children))


class _Source:
    def __init__(self, text: str):
        self.data = text.encode("utf-8")
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8")


def _operator_between(source: _Source, left: ast.AST, right: ast.AST, old: str, new: str):
    """Replace the operator ``old`` written between two operands by ``new``, or None when the
    gap between them holds anything but the operator, brackets and white space."""
    start, end = source.end(left), source.start(right)
    gap = source.text(start, end)
    bare = "".join(c for c in gap if c not in "()[] \t\r\n\\")
    if bare != old.replace(" ", "") or gap.count(old) != 1:
        return None
    return start, end, gap.replace(old, new)


def _changes(source: _Source, node: ast.AST):
    """(start, end, replacement, description) for each change that ``node`` admits."""
    if isinstance(node, ast.BinOp | ast.AugAssign):
        new = BINARY.get(type(node.op))
        if new is not None:
            old_symbol, new_symbol = SYMBOL[type(node.op)], SYMBOL[new]
            left = node.left if isinstance(node, ast.BinOp) else node.target
            right = node.right if isinstance(node, ast.BinOp) else node.value
            if isinstance(node, ast.AugAssign):
                old_symbol, new_symbol = old_symbol + "=", new_symbol + "="
            change = _operator_between(source, left, right, old_symbol, new_symbol)
            if change is not None:
                yield (*change, f"{old_symbol} -> {new_symbol}")
    elif isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for i, op in enumerate(node.ops):
            new = COMPARE[type(op)]
            old_symbol, new_symbol = SYMBOL[type(op)], SYMBOL[new]
            change = _operator_between(source, operands[i], operands[i + 1], old_symbol, new_symbol)
            if change is not None:
                yield (*change, f"{old_symbol} -> {new_symbol}")
    elif isinstance(node, ast.BoolOp):
        old_symbol, new_symbol = SYMBOL[type(node.op)], SYMBOL[BOOLEAN[type(node.op)]]
        for left, right in zip(node.values, node.values[1:], strict=False):
            change = _operator_between(source, left, right, old_symbol, new_symbol)
            if change is not None:
                yield (*change, f"{old_symbol} -> {new_symbol}")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        what = "-" if isinstance(node.op, ast.USub) else "not"
        yield source.start(node), source.start(node.operand), "", f"drop {what}"
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        new = str(not node.value)
        yield source.start(node), source.end(node), new, f"{node.value} -> {new}"
    elif isinstance(node, ast.Constant) and isinstance(node.value, int):
        for delta in (1, -1):
            new = str(node.value + delta)
            yield source.start(node), source.end(node), new, f"{node.value} -> {new}"
    elif isinstance(node, ast.Constant) and isinstance(node.value, float):
        new = repr(node.value + 1.0)
        yield source.start(node), source.end(node), new, f"{node.value!r} -> {new}"
    elif isinstance(node, ast.Call):
        items = sorted([*node.args, *node.keywords], key=lambda n: (n.lineno, n.col_offset))
        for i, item in enumerate(items):
            if not isinstance(item, ast.keyword) or item.arg is None:
                continue
            if i + 1 < len(items):  # up to the next argument
                start, end = source.start(item), source.start(items[i + 1])
            elif i > 0:  # from the end of the previous one
                start, end = source.end(items[i - 1]), source.end(item)
            else:  # the only argument, and any comma after it
                start, end = source.start(item), source.end(node) - 1
            yield start, end, "", f"drop {item.arg}="


def mutants(source: str, module: str, executed: set[int] | None = None) -> list[Mutant]:
    """Every mutant of ``source`` (the text of ``module``) in the statements whose lines
    include one of ``executed`` (all statements when it is None), sorted by place."""
    tree = ast.parse(source)
    original = ast.dump(tree)
    text = _Source(source)
    found: dict[str, Mutant] = {}
    for node, statement in _walk(tree):
        if statement is None:
            continue
        if executed is not None and not executed.intersection(_statement_lines(statement)):
            continue
        if not hasattr(node, "lineno"):
            continue
        for start, end, replacement, description in _changes(text, node):
            mutant = Mutant(
                module, node.lineno, node.col_offset, start, end, replacement, description
            )
            changed = mutant.apply(source)
            try:
                dump = ast.dump(ast.parse(changed))
            except SyntaxError:
                continue
            if dump != original and changed not in found:
                found[changed] = mutant
    return sorted(found.values())


def sample(items: list, limit: int | None) -> list:
    """At most ``limit`` of ``items``, evenly spaced: the same limit always picks the same."""
    if limit is None or len(items) <= limit:
        return list(items)
    return [items[i * len(items) // limit] for i in range(limit)]


# ----------------------------------------------------------------------------------------------
# Running a page


@dataclass
class Outcome:
    status: str  # "passed", "caught", "timeout"
    seconds: float
    detail: str = ""
    executed: dict[str, list[int]] | None = None
    shown: dict | None = None  # what the page showed, when it passed (see _shown_by)


def _shown_by(cells: list[str], run) -> dict:
    """Run ``run()`` and return what the page shows: its glued values (their ``repr``), a digest
    of each figure's PNG and its printed output, timings masked."""
    glued = {}
    if any("myst_nb" in cell for cell in cells):
        import myst_nb

        def glue(name, variable, display=True):
            glued[name] = repr(variable)

        myst_nb.glue = glue
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run()
    figures = {}
    if "matplotlib.pyplot" in sys.modules:
        plt = sys.modules["matplotlib.pyplot"]
        for number in plt.get_fignums():
            png = io.BytesIO()
            plt.figure(number).savefig(png, format="png", metadata={"Software": None})
            figures[str(number)] = hashlib.sha256(png.getvalue()).hexdigest()
    output = re.sub(r" *\b\d+(\.\d+)? ?(ms|s)\b", " <time>", printed.getvalue())
    return {"glue": glued, "figures": figures, "output": output}


def changes(clean: dict, mutant: dict) -> list[str]:
    """What a run that showed ``mutant`` shows differently from the clean run's ``clean``."""
    found = []
    glued = sorted(
        k
        for k in clean["glue"].keys() | mutant["glue"].keys()
        if clean["glue"].get(k) != mutant["glue"].get(k)
    )
    if glued:
        found.append("glued " + ", ".join(glued))
    figures = sorted(
        k
        for k in clean["figures"].keys() | mutant["figures"].keys()
        if clean["figures"].get(k) != mutant["figures"].get(k)
    )
    if figures:
        found.append("figure " + ", ".join(figures))
    if clean["output"] != mutant["output"]:
        found.append("printed output")
    return found


def _run_cells(
    cells_file: str, page_dir: str, coverage_file: str | None, package: str, shown_file: str
) -> None:
    """In the child process: execute the cells; exit 1 when one raises."""
    cells = json.loads(Path(cells_file).read_text(encoding="utf-8"))
    library = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0]).resolve()
    cov = None
    if coverage_file:
        import coverage

        cov = coverage.Coverage(
            data_file=None,
            include=[str(library / package / "*")],
            omit=[str(library / package / sub / "*") for sub in EXCLUDED],
        )
        cov.start()
    os.chdir(page_dir)
    namespace = {"__name__": "__main__"}

    def run() -> None:
        for number, cell in enumerate(cells, start=1):
            try:
                exec(compile(cell, f"<cell {number}>", "exec"), namespace)
            except BaseException as error:
                print(f"cell {number}: {type(error).__name__}: {error}"[:500], file=sys.stderr)
                os._exit(1)

    shown = _shown_by(cells, run)
    loaded = Path(sys.modules[package].__file__).resolve()
    if library not in loaded.parents:
        print(f"{package} was imported from {loaded}, not {library}", file=sys.stderr)
        os._exit(3)
    if cov is not None:
        cov.stop()
        data = cov.get_data()
        executed = {
            Path(name).resolve().relative_to(library).as_posix(): sorted(data.lines(name) or [])
            for name in data.measured_files()
        }
        Path(coverage_file).write_text(json.dumps(executed), encoding="utf-8")
    Path(shown_file).write_text(json.dumps(shown), encoding="utf-8")
    sys.stdout.flush()
    os._exit(0)


def run_page(
    cells_file: Path,
    page_dir: Path,
    library: Path,
    timeout: float,
    *,
    coverage_file: Path | None = None,
    package: str = PACKAGE,
    runner: Path = Path(__file__),
) -> Outcome:
    """Run a page's cells in a fresh process with ``library`` first on the path."""
    handle, shown = tempfile.mkstemp(suffix=".json", prefix="shown-")
    os.close(handle)
    try:
        return _run(cells_file, page_dir, library, timeout, coverage_file, package, runner, shown)
    finally:
        Path(shown).unlink(missing_ok=True)


def _run(cells_file, page_dir, library, timeout, coverage_file, package, runner, shown) -> Outcome:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(library), os.environ.get("PYTHONPATH")])),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        str(runner),
        "--child",
        json.dumps(
            [str(cells_file), str(page_dir), coverage_file and str(coverage_file), package, shown]
        ),
    ]
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return Outcome("timeout", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    if process.returncode == 3:
        raise RuntimeError(stderr)
    if process.returncode != 0:
        lines = stderr.strip().splitlines()
        return Outcome("caught", seconds, lines[-1] if lines else f"exit {process.returncode}")
    executed = None
    if coverage_file is not None:
        executed = json.loads(coverage_file.read_text(encoding="utf-8"))
    showed = json.loads(Path(shown).read_text(encoding="utf-8"))
    return Outcome("passed", seconds, executed=executed, shown=showed)


# ----------------------------------------------------------------------------------------------
# The measurement


@dataclass
class PageResult:
    page: str
    lines: int = 0
    generated: int = 0
    run: list = field(default_factory=list)  # (Mutant, Outcome)
    clean_seconds: float = 0.0
    error: str = ""
    shown: dict | None = None

    def count(self, status: str) -> int:
        return sum(outcome.status == status for _, outcome in self.run)


def all_pages() -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "_ext"))
    import execution_cache

    return {
        page.stem: page
        for page in sorted(ROOT.glob("chapters/*/*.md"))
        if execution_cache.is_myst_markdown_notebook(page.read_text(encoding="utf-8"))
    }


def page_cells(page: Path) -> list[str]:
    sys.path.insert(0, str(ROOT / "_ext"))
    import execution_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    config = execution_cache.book_md_config(ROOT)
    text = page.read_text(encoding="utf-8")
    return execution_cache.code_cells(read_myst_markdown_notebook(text, config))


def page_mutants(executed: dict[str, list[int]], source_root: Path) -> list[Mutant]:
    found = []
    for module, lines in sorted(executed.items()):
        if lines:
            text = (source_root / module).read_text(encoding="utf-8")
            found.extend(mutants(text, module, set(lines)))
    return sorted(found)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def write_report(results: list[PageResult], command: str, sources: dict[str, str]) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        "| page | lines executed | mutants | run | caught | timed out | survived "
        "| showing a change | % caught |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    totals = [0] * 7
    for r in results:
        if r.error:
            rows.append(f"| {r.page} | clean run failed: {r.error} | | | | | | | |")
            continue
        caught, timeout = r.count("caught"), r.count("timeout")
        survived = r.count("passed")
        showing = sum(o.status == "passed" and o.detail != "the same" for _, o in r.run)
        numbers = [r.lines, r.generated, len(r.run), caught, timeout, survived, showing]
        totals = [t + n for t, n in zip(totals, numbers, strict=True)]
        cells = " | ".join(str(n) for n in numbers)
        rows.append(f"| {r.page} | {cells} | {percent(caught + timeout, len(r.run))} |")
    cells = " | ".join(str(n) for n in totals)
    rows.append(f"| all | {cells} | {percent(totals[3] + totals[4], totals[2])} |")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = f"`{command}`, {stamp}\n\n"
    REPORT.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    parts = [f"# Survivors of `{command}`\n\n{stamp}\n"]
    for r in results:
        survivors = [(m, outcome) for m, outcome in r.run if outcome.status == "passed"]
        if survivors:
            parts.append(f"\n## {r.page}: {len(survivors)} survived\n")
        for mutant, outcome in survivors:
            parts.append(
                f"\n### {mutant.name}\n\nShows {outcome.detail}.\n\n"
                f"```diff\n{mutant.diff(sources[mutant.module])}```\n"
            )
    SURVIVORS.write_text("".join(parts), encoding="utf-8")
    records = [
        {
            "page": r.page,
            "lines": r.lines,
            "generated": r.generated,
            "clean_seconds": round(r.clean_seconds, 2),
            "error": r.error,
            "mutants": [
                {
                    "module": m.module,
                    "line": m.line,
                    "col": m.col,
                    "description": m.description,
                    "status": outcome.status,
                    "seconds": round(outcome.seconds, 2),
                    "detail": outcome.detail,
                }
                for m, outcome in r.run
            ],
        }
        for r in results
    ]
    RESULTS.write_text(json.dumps({"command": command, "pages": records}, indent=1), "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", action="append", help="a page id (repeatable); all by default")
    parser.add_argument("--max-mutants", type=int, help="at most N mutants a page, evenly spaced")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--mutant",
        action="append",
        help="only the mutant so named (module:line:col:change, as in the survivors file); "
        "repeatable, and applied before --max-mutants",
    )
    args = parser.parse_args(argv)
    pages = all_pages()
    unknown = set(args.page or []) - set(pages)
    if unknown:
        parser.error(f"no page {', '.join(sorted(unknown))}")
    chosen = [pages[name] for name in (args.page or pages)]
    command = "make mutation-pages" if argv is None and len(sys.argv) == 1 else "mutation_pages.py"
    if argv is None and len(sys.argv) > 1:
        command = "benchmarks/mutation_pages.py " + " ".join(sys.argv[1:])

    with tempfile.TemporaryDirectory(prefix="mutation-pages-") as scratch:
        scratch = Path(scratch)
        # The children run a copy of this script: an edit of it during a run changes nothing.
        runner = shutil.copy(__file__, scratch / "runner.py")
        libraries: queue.Queue[Path] = queue.Queue()
        for job in range(args.jobs):
            shutil.copytree(
                ROOT / "src" / PACKAGE,
                scratch / f"lib{job}" / PACKAGE,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            libraries.put(scratch / f"lib{job}")
        clean = scratch / "lib0"
        sources = {
            path.relative_to(clean).as_posix(): path.read_text(encoding="utf-8")
            for path in (clean / PACKAGE).rglob("*.py")
        }
        results = {page.stem: PageResult(page.stem) for page in chosen}
        cells_files = {}
        for page in chosen:
            cells_files[page.stem] = scratch / f"{page.stem}.json"
            cells_files[page.stem].write_text(json.dumps(page_cells(page)), encoding="utf-8")
        lock = threading.Lock()

        def baseline(page: Path) -> None:
            library = libraries.get()
            try:
                coverage_file = scratch / f"{page.stem}.coverage.json"
                outcome = run_page(
                    cells_files[page.stem],
                    page.parent,
                    library,
                    600.0,
                    coverage_file=coverage_file,
                    runner=runner,
                )
            finally:
                libraries.put(library)
            result = results[page.stem]
            result.clean_seconds = outcome.seconds
            result.shown = outcome.shown
            if outcome.status != "passed":
                result.error = outcome.detail or outcome.status
                return
            result.lines = sum(len(lines) for lines in outcome.executed.values())
            found = page_mutants(outcome.executed, clean)
            if args.mutant:
                found = [m for m in found if m.name in args.mutant]
            result.generated = len(found)
            result.run = [(m, None) for m in sample(found, args.max_mutants)]
            with lock:
                print(
                    f"{page.stem}: clean run {outcome.seconds:.1f} s, {result.lines} lines, "
                    f"{len(found)} mutants, running {len(result.run)}",
                    flush=True,
                )

        start = time.perf_counter()
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(baseline, chosen))
        print(f"clean runs: {time.perf_counter() - start:.0f} s", flush=True)

        def attempt(page: Path, index: int) -> None:
            result = results[page.stem]
            mutant = result.run[index][0]
            timeout = max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * result.clean_seconds)
            library = libraries.get()
            module = library / mutant.module
            try:
                module.write_text(mutant.apply(sources[mutant.module]), encoding="utf-8")
                outcome = run_page(
                    cells_files[page.stem], page.parent, library, timeout, runner=runner
                )
            finally:
                module.write_text(sources[mutant.module], encoding="utf-8")
                libraries.put(library)
            if outcome.status == "passed":
                outcome.detail = "; ".join(changes(result.shown, outcome.shown)) or "the same"
                outcome.shown = None
            result.run[index] = (mutant, outcome)

        tasks = [
            (page, index)
            for page in chosen
            if not results[page.stem].error
            for index in range(len(results[page.stem].run))
        ]
        remaining = {page.stem: len(results[page.stem].run) for page in chosen}
        done = 0
        with ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(attempt, page, index): page for page, index in tasks}
            for future in as_completed(futures):
                future.result()
                page = futures[future]
                done += 1
                remaining[page.stem] -= 1
                if remaining[page.stem] == 0:
                    r = results[page.stem]
                    finished = [results[p.stem] for p in chosen if remaining[p.stem] == 0]
                    write_report(finished, command, sources)
                    print(
                        f"{page.stem}: {r.count('caught')} caught, {r.count('timeout')} timed "
                        f"out, {r.count('passed')} survived of {len(r.run)} "
                        f"({done}/{len(tasks)} mutants, {time.perf_counter() - start:.0f} s)",
                        flush=True,
                    )
        write_report([results[p.stem] for p in chosen], command, sources)
    print(REPORT.read_text(encoding="utf-8"))
    print(f"survivors: {SURVIVORS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _run_cells(*json.loads(sys.argv[2]))
    sys.exit(main())
