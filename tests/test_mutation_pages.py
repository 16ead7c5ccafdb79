"""`make mutation-pages` (benchmarks/mutation_pages.py): its mutants, and how a page judges them."""

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import mutation_pages  # noqa: E402

SNIPPET = '''\
def f(x: int, y=2) -> float:
    """Not mutated: 1 + 1."""
    if x > 0 and not y:
        return -x * 1.5
    return g(x, scale=True)


def h(x):
    return (x
            + 1)
'''

LIBRARY = """\
def double(x):
    return 2 * x


def clamp(x, low=0):
    return max(x, low)


def unused(x):
    return x - 1


def half(x):
    return x / 2
"""

PAGE = [
    "from pathlib import Path\n\nfrom fakelib.mod import clamp, double, half",
    'assert Path.cwd().name == "page"\nassert double(3) == 6\nassert clamp(5) == 5',
    "print(half(3))",
]


def changed_lines(mutants, source):
    """(line of the mutated node, first line the mutant changes) of each mutant."""
    found = []
    for mutant in mutants:
        pairs = zip(source.splitlines(), mutant.apply(source).splitlines(), strict=False)
        found.append((mutant.line, next(new for old, new in pairs if old != new)))
    return sorted(found)


def test_a_known_snippet_gives_the_expected_mutants():
    # Neither the annotations nor the docstring; the + of h is on the line after h's start.
    assert changed_lines(mutation_pages.mutants(SNIPPET, "m.py"), SNIPPET) == [
        (1, "def f(x: int, y=1) -> float:"),
        (1, "def f(x: int, y=3) -> float:"),
        (3, "    if x > -1 and not y:"),
        (3, "    if x > 0 and y:"),
        (3, "    if x > 0 or not y:"),
        (3, "    if x > 1 and not y:"),
        (3, "    if x >= 0 and not y:"),
        (4, "        return -x * 2.5"),
        (4, "        return -x / 1.5"),
        (4, "        return x * 1.5"),
        (5, "    return g(x)"),
        (5, "    return g(x, scale=False)"),
        (9, "            - 1)"),
        (10, "            + 0)"),
        (10, "            + 2)"),
    ]


def test_only_the_statements_executed_are_mutated():
    # A default counts once the function's body ran; any line of a statement marks all of it.
    only_return = mutation_pages.mutants(SNIPPET, "m.py", executed={5})
    assert {m.line for m in only_return} == {1, 5}
    continuation = mutation_pages.mutants(SNIPPET, "m.py", executed={10})
    assert {m.line for m in continuation} == {9, 10}
    assert mutation_pages.mutants(SNIPPET, "m.py", executed=set()) == []


def test_a_sample_is_evenly_spaced_and_the_same_every_time():
    assert mutation_pages.sample(list(range(10)), 3) == [0, 3, 6]
    assert mutation_pages.sample(list(range(10)), 20) == list(range(10))
    assert mutation_pages.sample(list(range(10)), None) == list(range(10))


def test_a_fault_the_page_checks_is_caught_and_an_equivalent_one_survives(tmp_path):
    # Three faults: one an assert sees, one that changes nothing, one seen only in the output.
    library = tmp_path / "lib"
    (library / "fakelib").mkdir(parents=True)
    (library / "fakelib" / "__init__.py").write_text("")
    (library / "fakelib" / "mod.py").write_text(LIBRARY)
    page = tmp_path / "page"
    page.mkdir()
    cells = tmp_path / "cells.json"
    cells.write_text(json.dumps(PAGE))
    run = mutation_pages.run_page

    clean = run(cells, page, library, 30, coverage_file=tmp_path / "c.json", package="fakelib")
    assert clean.status == "passed", clean.detail
    found = mutation_pages.page_mutants(clean.executed, library)
    assert {m.line for m in found} == {2, 5, 14}, "none in the body of unused()"

    scratch = tmp_path / "scratch"
    shutil.copytree(library, scratch)
    verdicts = {}
    for line, description in ((2, "* -> /"), (5, "0 -> 1"), (14, "/ -> *")):
        mutant = next(m for m in found if (m.line, m.description) == (line, description))
        (scratch / mutant.module).write_text(mutant.apply(LIBRARY))
        outcome = run(cells, page, scratch, 30, package="fakelib")
        shows = outcome.shown and mutation_pages.changes(clean.shown, outcome.shown)
        verdicts[line] = (outcome.status, shows)
    assert verdicts == {
        2: ("caught", None),
        5: ("passed", []),  # equivalent here: shows the same
        14: ("passed", ["printed output"]),  # a gap: shows 6.0, no check notices
    }
    assert (library / "fakelib" / "mod.py").read_text() == LIBRARY
