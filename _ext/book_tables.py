"""Pages generated from the other pages, so nothing is typed twice.

- ``{summary-of-results}``: each problem page's title, its "Takeaway" and the answers its
  checker takes (``derived.checkers.<page>``: each slot and its form), chapter by chapter.
- ``{sources}``: each problem page with the course and question it is adapted from (the first
  paragraph of its exercise, which starts "Adapted from").

Both are filled in when the page is written, from the parts of each page they show, resolved
(so glued numbers and math appear as on the pages), and are read again whenever any other page
is.
"""

import importlib

from docutils import nodes
from docutils.utils import new_document
from execution_cache import library_path  # beside this file: on sys.path
from reference_pages import interface_digest
from sphinx.util.docutils import SphinxDirective

CREDIT = "Adapted from "


class summary_placeholder(nodes.General, nodes.Element):
    pass


class sources_placeholder(nodes.General, nodes.Element):
    pass


def directive(placeholder):
    class Placeholder(SphinxDirective):
        def run(self):
            self.env.book_tables = getattr(self.env, "book_tables", set()) | {self.env.docname}
            self.env.app.tables_read = True  # so their answer slots are described once read
            return [placeholder()]

    return Placeholder


def chapters(env, root: str) -> list[tuple[str, list[str]]]:
    """Chapter index pages in table-of-contents order, each with its problem pages."""
    order, pending = [], [root]
    while pending:
        docname = pending.pop(0)
        order.append(docname)
        pending[:0] = env.toctree_includes.get(docname, [])
    return [
        (index, [d for d in env.toctree_includes.get(index, []) if d in order])
        for index in order
        if index.startswith("chapters/") and index.endswith("/index")
    ]


def plain(content: list[nodes.Node]) -> list[nodes.Node]:
    """Copies without links (their targets are relative to another page) or duplicate ids."""
    copies = []
    for node in content:
        copy = node.deepcopy()
        for reference in list(copy.findall(nodes.reference)):
            reference.replace_self(nodes.inline("", "", *reference.children))
        for element in copy.findall(nodes.Element):
            element["ids"] = []
        copies.append(copy)
    return copies


def takeaway_sections(doctree) -> list[nodes.section]:
    return [
        section for section in doctree.findall(nodes.section) if section[0].astext() == "Takeaway"
    ]


def takeaway_section(doctree) -> nodes.section:
    sections = takeaway_sections(doctree)
    if not sections:
        raise ValueError("no Takeaway section")
    return sections[0]


def credit_paragraph(doctree) -> nodes.paragraph:
    for paragraph in doctree.findall(nodes.paragraph):
        if paragraph.astext().startswith(CREDIT):
            return paragraph
    raise ValueError("no 'Adapted from' credit")


def credit(paragraph: nodes.paragraph) -> nodes.paragraph:
    (copy,) = plain([paragraph])
    first = copy[0]
    copy.replace(first, nodes.Text(first.astext().removeprefix(CREDIT)))
    return copy


def link(app, fromdoc: str, todoc: str) -> nodes.reference:
    title = app.env.titles[todoc].astext()
    uri = app.builder.get_relative_uri(fromdoc, todoc)
    return nodes.reference("", title, internal=True, refuri=uri)


def fill(app, doctree, fromdoc: str) -> None:
    builders = {summary_placeholder: summary_entry, sources_placeholder: sources_entry}
    for kind, entry in builders.items():
        for placeholder in list(doctree.findall(kind)):
            content = []
            for index, pages in chapters(app.env, app.config.root_doc):
                section = nodes.section(ids=[nodes.make_id(index)])
                section += nodes.title("", "", link(app, fromdoc, index))
                items = nodes.bullet_list()
                for page in pages:
                    parts = resolved_parts(app, page)
                    items += nodes.list_item("", *entry(app, fromdoc, page, parts))
                section += items
                content.append(section)
            placeholder.replace_self(content)


def resolved_parts(app, page: str) -> nodes.document:
    """A document of the page's Takeaway section (the student edition has none) and its credit
    paragraph, resolved as on the page (glued numbers, references), once per build for both
    tables. Only these parts are resolved, not the whole page, which would cost as much as
    writing it."""
    if not hasattr(app.builder, "table_parts"):
        app.builder.table_parts = {}
    if page not in app.builder.table_parts:
        doctree = app.env.get_doctree(page)
        parts = new_document(doctree["source"], doctree.settings)
        parts += [p.deepcopy() for p in (*takeaway_sections(doctree), credit_paragraph(doctree))]
        app.env.apply_post_transforms(parts, page)
        app.builder.table_parts[page] = parts
    return app.builder.table_parts[page]


def summary_entry(app, fromdoc, page, parts) -> list[nodes.Node]:
    heading = nodes.paragraph("", "", nodes.strong("", "", link(app, fromdoc, page)))
    described = getattr(app.env, "checker_slots", {}).get(page, (None, None))[1]
    takeaway = takeaway_section(parts)
    return [heading, *plain(takeaway[1:]), slots(described or _describe(page))]


def slots(described: list[tuple[str, str]]) -> nodes.paragraph:
    """The answers a page's checker takes: each slot's name and form."""
    paragraph = nodes.paragraph("", "", nodes.emphasis("", "Your answer: "))
    for i, (name, form) in enumerate(described):
        paragraph += nodes.Text("; " if i else "")
        paragraph += [nodes.literal("", name), nodes.Text(f", {form}")]
    paragraph += nodes.Text(".")
    return paragraph


def describe_checkers(app, env) -> None:
    """Once the pages are read, each problem page's checker slots (``derived.checkers.<page>``),
    as (name, form) pairs. Importing the checkers imports torch, which costs seconds, so the
    slots are kept with the interface of the library (``reference_pages.py``) that they were
    read under: a change inside a function's body that does not run on import keeps them."""
    if not getattr(app, "tables_read", False):
        return
    library = library_path(app)
    interface = interface_digest(sorted(library.rglob("*.py")), library)
    if not hasattr(env, "checker_slots"):
        env.checker_slots = {}
    for _, pages in chapters(env, app.config.root_doc):
        for page in pages:
            if env.checker_slots.get(page, (None,))[0] != interface:
                env.checker_slots[page] = (interface, _describe(page))


def _describe(page: str) -> list[tuple[str, str]]:
    checker = importlib.import_module(f"derived.checkers.{page.split('/')[-1].replace('-', '_')}")
    return [(slot.name, slot.form) for slot in checker.SLOTS]


def sources_entry(app, fromdoc, page, parts) -> list[nodes.Node]:
    source = credit(credit_paragraph(parts))
    source.insert(0, link(app, fromdoc, page))
    source.insert(1, nodes.Text(": "))
    return [source]


def rewrite_with_any_page(app, env, docnames: list[str]) -> None:
    """Read the tables again whenever another page is read (edited, or re-executed because the
    library it imports changed)."""
    tables = getattr(env, "book_tables", set())
    if any(docname not in tables for docname in docnames):
        docnames.extend(sorted(tables - set(docnames)))


def load_mathjax(app, pagename, templatename, context, doctree) -> None:
    """The math arrives as the page is written, after Sphinx decided it had none."""
    if pagename in getattr(app.env, "book_tables", ()):
        app.env.get_domain("math").data["has_equations"][pagename] = True


def setup(app):
    app.add_node(summary_placeholder)
    app.add_node(sources_placeholder)
    app.add_directive("summary-of-results", directive(summary_placeholder))
    app.add_directive("sources", directive(sources_placeholder))
    app.connect("doctree-resolved", fill)
    app.connect("html-page-context", load_mathjax, priority=100)
    app.connect("env-updated", describe_checkers)
    app.connect("env-before-read-docs", rewrite_with_any_page, priority=400)
    return {"version": "1", "parallel_read_safe": False, "env_version": 1}
