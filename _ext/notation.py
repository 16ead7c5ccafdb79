r"""Link the first use of each symbol on a chapter's page to its entry on the notation page.

The notation page (``notation.md``) is the one source. Its sections labelled ``notation-symbols``
(for the whole book) and ``notation-<chapter>`` (for the pages of ``chapters/NN-<chapter>/``)
hold tables whose first cell writes a symbol in one or more forms, ``$h_i$`` or ``$x^{(t)}$,
$x[t]$``. Each such row gets an anchor, and on a chapter's page the first occurrence of each form
becomes a MathJax ``\href`` to that anchor; the chapter's own rows are tried before the book's.

A form matches a symbol on a page by its parts, not its letters:

- the base: a letter, a command such as ``\sigma``, an accented letter (``\hat x``) or an
  operator name (``\operatorname{diag}``, or ``\mathrm{BN}``);
- its subscript: none; or, when the form's is an index letter, any built from digits and
  that letter or its kin (``h_i`` matches ``h_0`` and ``h_{\ell-1}``, ``x_t`` matches
  ``x_{T}``, but ``v_\ell`` does not match ``v_k``); or else exactly the form's
  (``\sigma_{\max}``, ``W_N``);
- a superscript in parentheses, a time index, when the form has one (``h^{(t)}``); other
  superscripts, such as powers, are ignored;
- a prime, and what follows: ``(`` for a function without a subscript (``\sigma(z)``), ``[``
  for an indexed array (``x[t]``).

A form of several symbols (``I \otimes W``) matches only as written. A row whose other cells
refer to pages (``on {ref}`tanh-chain```) applies to those pages only, and before the others:
that is how a page's departure from the book's convention is written. Symbols inside text,
labels and subscripts are never linked. The links are written into the HTML as each page is
written, so the doctrees, the search index and the pages that copy other pages' math (the
summary of results) keep the math as the author typed it.
"""

import re
from typing import NamedTuple

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError

PAGE = "notation"
SCOPE = re.compile(r"notation-([a-z-]+)")
CHAPTER = re.compile(r"chapters/\d+-([a-z-]+)/")
TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)
# index letters that stand for one another: layers, time steps, other indices
INDICES = ({"i", "l", r"\ell", "L"}, {"t", "T"}, {"j"}, {"k", "K"})
ACCENTS = {r"\hat", r"\bar", r"\tilde", r"\overline", r"\widehat", r"\widetilde"}
OPERATOR_NAMES = {r"\operatorname", r"\mathrm"}
# commands whose argument is text, a name or a font change: nothing in it is linked
SKIPPED = {
    *(r"\text \textrm \textbf \mbox \label \tag \eqref \ref \begin \end \href".split()),
    *(r"\mathbb \mathcal \mathfrak \mathsf".split()),
}


class Symbol(NamedTuple):
    start: int
    end: int  # past the base and its scripts, where a link ends
    base: str
    sub: str | None  # the subscript, whitespace removed
    time: bool  # a superscript in parentheses
    prime: bool
    follow: str  # the next character: "(" or "[" matter


def argument(tex: str, i: int) -> tuple[str, int]:
    """The argument starting at ``tex[i]`` (a braced group or one token) and the index past it."""
    i = len(tex) - len(tex[i:].lstrip())
    if i == len(tex):
        return "", i
    token = TOKEN.match(tex, i).group()
    if token != "{":
        return token, i + len(token)
    depth = 0
    for t in TOKEN.finditer(tex, i):
        depth += {"{": 1, "}": -1}.get(t.group(), 0)
        if depth == 0:
            return tex[i + 1 : t.start()], t.end()
    return tex[i + 1 :], len(tex)


def compact(tex: str) -> str:
    return re.sub(r"\s+", "", tex)


def symbols(tex: str) -> list[Symbol]:
    """The symbols of a TeX string, left to right; scripts are part of their base."""
    found, i = [], 0
    while i < len(tex):
        token = TOKEN.match(tex, i).group()
        start, i = i, i + len(token)
        if token in SKIPPED:
            while tex[i:].lstrip().startswith("{"):
                _, i = argument(tex, i)
            continue
        if token in ACCENTS:
            content, i = argument(tex, i)
            base = f"{token} {compact(content)}"
        elif token in OPERATOR_NAMES:
            content, i = argument(tex, i)
            base = rf"\operatorname{{{compact(content)}}}"
        elif token.lstrip("\\").isalpha():
            base = token
        else:
            continue
        sub, time, prime = None, False, False
        while (sign := tex[i:].lstrip()[:1]) in ("_", "^", "'"):
            i = len(tex) - len(tex[i:].lstrip()) + 1
            if sign == "'":
                prime = True
                continue
            script, i = argument(tex, i)
            if sign == "_":
                sub = compact(script)
            else:
                time = time or script.lstrip().startswith("(")
        follow = tex[i:].lstrip()[:1]
        found.append(Symbol(start, i, base, sub, time, prime, follow))
    return found


class Form(NamedTuple):
    """One way the notation page writes a symbol, and the anchor of its row."""

    anchor: str
    tex: str
    symbol: Symbol | None  # None: a form of several symbols, matched as written
    pages: tuple[str, ...]  # labels of the pages the row is limited to; () for all

    def matches(self, found: Symbol) -> bool:
        s = self.symbol
        if s is None or (s.base, s.time) != (found.base, found.time) or s.prime > found.prime:
            return False
        if (s.follow == "[") != (found.follow == "["):
            return False
        if s.follow == "(" and not s.sub and found.follow != "(":
            return False
        if s.time:  # h^{(t)}_j is entry j of h^{(t)}
            return True
        if s.sub is None or found.sub is None:
            return s.sub == found.sub
        kin = next((kin for kin in INDICES if s.sub in kin), None)
        if kin is None:
            return s.sub == found.sub
        return all(t in kin for t in tokens(found.sub) if t.lstrip("\\").isalpha())


def form(anchor: str, tex: str, pages: tuple[str, ...]) -> Form:
    """A form is one symbol when nothing but its argument, ``(z)`` or ``[t]``, follows it."""
    found = symbols(tex)
    rest = tex[found[0].end :].strip() if found else tex
    single = found and not tex[: found[0].start].strip()
    single = single and (not rest or re.fullmatch(r"\(.*\)|\[.*\]", rest))
    return Form(anchor, tex, found[0] if single else None, pages)


def tokens(tex: str) -> list[str]:
    return [t for t in TOKEN.findall(tex) if not t.isspace()]


def forms_of_rows(doctree: nodes.document) -> dict[str, list[Form]]:
    """Give every table row of a notation section an anchor; the forms of each scope's rows."""
    scopes, anchors = {}, set()
    for section in doctree.findall(nodes.section):
        scope = next((m[1] for n in section["names"] if (m := SCOPE.fullmatch(n))), None)
        if scope is None:
            continue
        tables = [child for child in section.children if isinstance(child, nodes.table)]
        for row in (row for table in tables for row in table.findall(nodes.row)):
            if isinstance(row.parent, nodes.thead):
                continue
            texts = [m.astext() for m in row[0].findall(nodes.math)]
            if not texts:
                continue
            anchor = f"{scope}-" + (re.sub(r"[^A-Za-z0-9]+", "-", texts[0]).strip("-") or "sym")
            if anchor in anchors:
                raise ExtensionError(f"{PAGE}: two rows would both be #{anchor}")
            anchors.add(anchor)
            row["ids"].append(anchor)
            refs = (x for cell in row[1:] for x in cell.findall(addnodes.pending_xref))
            pages = tuple(x["reftarget"] for x in refs if x["reftype"] == "ref")
            scopes.setdefault(scope, []).extend(form(anchor, tex, pages) for tex in texts)
    return scopes


def read_notation(app, doctree) -> None:
    if app.env.docname == PAGE:
        app.env.notation_forms = forms_of_rows(doctree)


def scope_of(env, docname: str) -> list[Form]:
    """The forms a page may link: the rows limited to it, its chapter's, then the book's."""
    scopes = getattr(env, "notation_forms", {})
    chapter = CHAPTER.match(docname)
    if chapter is None:
        return []
    labels = env.get_domain("std").labels
    forms = scopes.get(chapter[1], []) + scopes.get("symbols", [])
    forms = [f for f in forms if not f.pages or docname in {labels[p][0] for p in f.pages}]
    return sorted(forms, key=lambda f: not f.pages)


def link(tex: str, forms: list[Form], linked: set[tuple[str, str]], uri: str) -> str:
    """``tex`` with the first use on the page of each form wrapped in ``\\href``."""
    spans = []  # (start, end, form)
    for f in forms:
        if f.symbol is None:
            pattern = r"(?<![\\A-Za-z])" + r"\s*".join(map(re.escape, tokens(f.tex)))
            spans += [(m.start(), m.end(), f) for m in re.finditer(pattern + r"(?![A-Za-z])", tex)]
    for found in symbols(tex):
        f = next((f for f in forms if f.matches(found)), None)
        if f is not None:
            spans.append((found.start, found.end, f))
    out, done = [], 0
    for start, end, f in sorted(spans, key=lambda s: s[0]):
        if start < done or (f.anchor, f.tex) in linked:
            continue
        linked.add((f.anchor, f.tex))
        before = tex[:start].rstrip()
        # after a command (and any one-character arguments it has, as in \frac1m) or a script
        # sign the link must be a group, or it becomes their argument
        brace = bool(re.search(r"(\\[A-Za-z]+(\s*[0-9A-Za-z])*|[_^])$", before))
        target = rf"\href{{{uri}#{f.anchor}}}{{{tex[start:end]}}}"
        out += [tex[done:start], "{" + target + "}" if brace else target]
        done = end
    return "".join(out) + tex[done:]


def linking(name: str):
    """An HTML visitor for math nodes that writes the node's math with its links."""

    def visit(self, node) -> None:
        written = getattr(type(self), f"visit_{name}")
        docname = self.builder.current_docname
        if not hasattr(self, "notation_linked"):  # once per page: one translator writes it
            self.notation_forms = scope_of(self.builder.env, docname)
            self.notation_linked = set()
        if not self.notation_forms:
            return written(self, node)
        uri = self.builder.get_relative_uri(docname, PAGE)
        original = node.children[:]
        text = link(node.astext(), self.notation_forms, self.notation_linked, uri)
        node.children = [nodes.Text(text)]
        try:
            return written(self, node)
        finally:
            node.children = original

    def depart(self, node) -> None:
        return getattr(type(self), f"depart_{name}")(self, node)

    return visit, depart


def rewrite_pages_with_notation(app, env, added, changed, removed) -> list[str]:
    if PAGE in added | changed:
        return sorted(d for d in env.found_docs - added - changed if CHAPTER.match(d))
    return []


def setup(app):
    for node in (nodes.math, nodes.math_block):
        app.add_node(node, override=True, html=linking(node.__name__))
    app.connect("doctree-read", read_notation)
    app.connect("env-get-outdated", rewrite_pages_with_notation)
    return {"version": "1", "parallel_read_safe": False, "env_version": 1}
