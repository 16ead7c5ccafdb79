"""The pages generated from the library or from other pages are read again exactly when
what they show may have changed."""

import os
import textwrap
from types import SimpleNamespace

import book_tables
import pytest
from reference_pages import interface_digest

MODULE = '''\
"""A module."""

import math



def _scale(x):
    return math.sqrt(x)


#: The scale, as autodoc shows it.
SCALE = _scale(2)


def area(r: float, *, exact: bool = False) -> float:
    """The area of a disc of radius ``r``."""
    # pi, not 3
    return math.pi * r**2


class Disc:
    """A disc."""

    def radius(self) -> float:
        """Its radius."""
        return 1.0


def one(x): return x
'''


@pytest.fixture
def library(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "shapes.py").write_text(MODULE)
    return tmp_path / "lib"


def digest_after(library, old: str, new: str) -> tuple[str, str]:
    path = library / "shapes.py"
    before = interface_digest([path], library)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return before, interface_digest([path], library)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("return math.pi * r**2", "return 3 * r**2"),
        ("# pi, not 3", "# pi"),
        ("return 1.0", "x = 2\n        return x / 2"),
    ],
    ids=["body", "comment-in-body", "method-body"],
)
def test_a_body_edit_keeps_the_interface(library, old, new):
    before, after = digest_after(library, old, new)
    assert before == after


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("The area of a disc", "The area of a circle"),
        ("exact: bool = False", "exact: bool = True"),
        ("#: The scale, as autodoc shows it.", "#: The scale."),
        ("SCALE = _scale(2)", "SCALE = _scale(3)"),
        ("return math.sqrt(x)", "return math.sqrt(x) + 1"),  # runs on import: SCALE's value
        ('"""Its radius."""', '"""Its radius, one."""'),
        ("class Disc:", "class Circle:"),
        ("def one(x): return x", "def one(x, y=1): return x"),  # signature and body on a line
    ],
    ids=["docstring", "default", "doc-comment", "module-code", "called-on-import", "method-doc",
         "class", "one-line-def"],
)  # fmt: skip
def test_an_edit_autodoc_may_show_changes_the_interface(library, old, new):
    before, after = digest_after(library, old, new)
    assert before != after


def test_what_runs_on_import_through_other_functions_is_part_of_the_interface(library):
    path = library / "shapes.py"
    path.write_text(
        MODULE.replace("return math.sqrt(x)", "return _root(x)")
        + textwrap.dedent("""

        def _root(x):
            return _leaf(x)


        def _leaf(x):
            return math.sqrt(x)
        """)
    )
    before, after = digest_after(library, "return math.sqrt(x)", "return math.sqrt(x + 1)")
    assert before != after


def test_other_modules_count_by_size_and_time(library, tmp_path):
    other = tmp_path / "other.py"
    other.write_text("def f():\n    return 1\n")
    paths = [library / "shapes.py", other]
    before = interface_digest(paths, library)
    stat = other.stat()
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert interface_digest(paths, library) != before


def test_the_generated_tables_are_read_again_with_any_other_page():
    env = SimpleNamespace(book_tables={"summary", "sources"})
    docnames = ["chapters/a/page"]  # say, re-executed after a library edit
    book_tables.rewrite_with_any_page(SimpleNamespace(), env, docnames)
    assert docnames == ["chapters/a/page", "sources", "summary"]
    nothing, itself = [], ["summary"]
    book_tables.rewrite_with_any_page(SimpleNamespace(), env, nothing)
    book_tables.rewrite_with_any_page(SimpleNamespace(), env, itself)
    assert (nothing, itself) == ([], ["summary"])


def test_a_call_on_import_reaches_the_function_it_names_not_its_namesakes(tmp_path):
    library = tmp_path / "lib"
    library.mkdir()
    (library / "a.py").write_text(
        "from b import helper\n\nVALUE = helper()\n\n\ndef draw():\n    return 1\n"
    )
    (library / "b.py").write_text(
        "def helper():\n    return draw()\n\n\ndef draw():\n    return 3\n"
    )
    paths = [library / "a.py", library / "b.py"]

    def digest_after_editing(name: str, old: str, new: str) -> bool:
        before = interface_digest(paths, library)
        path = library / name
        path.write_text(path.read_text().replace(old, new))
        return interface_digest(paths, library) != before

    assert not digest_after_editing("a.py", "return 1", "return 0")  # a.draw: never on import
    assert digest_after_editing("b.py", "return 3", "return 4")  # b.draw: helper calls it
    assert digest_after_editing("b.py", "return draw()", "return draw() + 1")
