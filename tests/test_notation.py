"""The rules by which ``_ext/notation.py`` links a page's symbols to the notation page."""

import importlib.util
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "notation", Path(__file__).parents[1] / "_ext" / "notation.py"
)
notation = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(notation)


def linked(tex: str, *forms: str, pages: tuple[str, ...] = ()) -> str:
    """``tex`` with links to rows whose anchors are the forms themselves."""
    rows = [notation.form(f, f, pages) for f in forms]
    return notation.link(tex, rows, set(), "N.html")


def href(form: str, shown: str) -> str:
    return rf"\href{{N.html#{form}}}{{{shown}}}"


@pytest.mark.parametrize(
    ("form", "tex", "shown"),
    [
        ("h_i", r"h_0 + h_{i-1}", "h_0"),
        ("h_i", r"h_{\ell-1}", r"h_{\ell-1}"),
        ("y_\\ell", r"y_L", "y_L"),
        ("x_t", r"x_{t+1}", "x_{t+1}"),
        ("\\sigma_{\\max}(A)", r"\sigma(z) + \sigma_{\max}(W)", r"\sigma_{\max}"),
        ("W_N", r"W_W + W_N", "W_N"),
        ("x^{(t)}", r"x_1 + x^{(t)}_j", "x^{(t)}_j"),
        ("x[t]", r"x + x[t]", "x"),
        ("\\sigma(z)", r"\sigma_i + \sigma'(z)", r"\sigma'"),
        ("f'(x)", r"f(x) = f'(x)", "f'"),
        ("\\hat x_i", r"\hat{x}_i", r"\hat{x}_i"),
        ("\\operatorname{diag}(v)", r"\mathrm{diag}(u)", r"\mathrm{diag}"),
        ("x", r"x_1 + x^2", "x^2"),
    ],
)
def test_a_form_matches_the_symbol_with_the_same_parts(form, tex, shown):
    result = linked(tex, form)
    assert result.count(r"\href") == 1
    assert href(form, shown) in result


@pytest.mark.parametrize(
    ("form", "tex"),
    [
        ("v_\\ell", r"v_k"),  # another index letter is another object
        ("x_t", r"x"),
        ("x", r"x_t + x[t] + x^{(t)}"),
        ("\\sigma(z)", r"\sigma_{\max}(A) + \sigma : \mathbb{R} \to \mathbb{R}"),
        ("W_{in}", r"W_N"),
        ("x", r"\text{max } \label{x} y_x \mathbb{x}"),  # text, labels, subscripts, fonts
        ("I \\otimes W", r"I \otimes V"),
        ("\\phi", r"\varphi"),
    ],
)
def test_a_form_does_not_match_another_symbol(form, tex):
    assert linked(tex, form) == tex


def test_only_the_first_use_on_a_page_is_linked():
    rows = [notation.form("x", "x", ())]
    seen = set()
    first = notation.link(r"y = Wx", rows, seen, "N.html")
    again = notation.link(r"x + x", rows, seen, "N.html")
    assert first == r"y = W" + href("x", "x")
    assert again == r"x + x"


def test_each_form_of_a_row_is_linked_once():
    rows = [notation.form("s", f, ()) for f in (r"\sigma_{\max}(A)", r"\sigma_{\min}(A)")]
    tex = notation.link(r"\sigma_{\min}, \sigma_{\max}, \sigma_{\max}", rows, set(), "N")
    assert tex == r"\href{N#s}{\sigma_{\min}}, \href{N#s}{\sigma_{\max}}, \sigma_{\max}"


def test_a_form_of_several_symbols_is_linked_as_written():
    assert (
        linked(r"(I\otimes W) x", r"I \otimes W")
        == "(" + href(r"I \otimes W", r"I\otimes W") + ") x"
    )


def test_a_link_after_a_command_is_a_group_so_the_command_keeps_its_argument():
    assert (
        linked(r"\frac\sigma(z)", r"\sigma(z)")
        == r"\frac{" + href(r"\sigma(z)", r"\sigma") + "}(z)"
    )
    assert linked(r"\frac1m", "m") == r"\frac1{" + href("m", "m") + "}"
    assert linked(r"a \odot b", r"\odot") == "a " + href(r"\odot", r"\odot") + " b"


def test_the_first_matching_row_wins():
    rows = [notation.form("page", r"\sigma(z)", ("p",)), notation.form("book", r"\sigma(z)", ())]
    assert notation.link(r"\sigma(x)", rows, set(), "N") == r"\href{N#page}{\sigma}(x)"


def test_a_braced_argument_may_hold_braces_and_escaped_braces():
    assert notation.argument(r"{a{b}\}c} d", 0) == (r"a{b}\}c", 9)
    assert notation.argument(r"  \ell x", 0) == (r"\ell", 6)
