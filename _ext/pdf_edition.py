"""The PDF edition: the whole book, and a problem sheet per chapter, printed by chromium.

``make pdf`` builds the site and the student edition, then runs this module. It gathers the
built pages in the order of ``_toc.yml`` into one HTML document, served from the site on
127.0.0.1, so that a single print gives continuous page numbers, a table of contents and PDF
bookmarks, and links between pages that stay inside the PDF. MathJax (served by the site) typesets
every equation before Debian's chromium, driven by Playwright, prints the document:

- ``_build/html/pdf/deep-learning-derived.pdf``: every page of the book, each starting on a new
  page, with its solutions open, numbered equations and the references to them, and its figures;
- ``_build/html/pdf/problem-sheets/<chapter>.pdf``: each chapter's problems from the student
  edition (``make exercises``), without their answers.

As a Sphinx extension, it adds "Download PDF" links to the download menu of every page (and the
chapter's problem sheet to a chapter's pages); ``make pdf`` writes the files they point to
inside the built site, so the published site serves them.
"""

import argparse
import functools
import http.server
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import yaml

ROOT = Path(__file__).parents[1]
BOOK_PDF = "pdf/deep-learning-derived.pdf"
SHEETS = "pdf/problem-sheets"
CHROMIUM = Path("/usr/bin/chromium")
SERVER_ROOT = "http://book.invalid/"  # page URLs are resolved against this, then made local

PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html { font-size: 13px; }
body { background: white; }
.pdf-page { break-before: page; padding: 0; }
.pdf-title { break-after: page; text-align: center; padding-top: 30vh; }
.pdf-title h1 { font-size: 2.6rem; border: none; }
.pdf-title p { font-size: 1.1rem; }
.pdf-toc { break-after: page; }
.pdf-toc ol { list-style: none; padding-left: 0; }
.pdf-toc li.part { font-weight: bold; margin-top: 0.8em; }
.pdf-toc li.page { display: flex; justify-content: space-between; gap: 1em;
                   margin-left: 1.5em; border-bottom: 1px dotted #bbb; }
.pdf-toc a { color: inherit; text-decoration: none; }
article.bd-article { max-width: none; padding: 0; }
/* the theme hides a page's title in print, as it prints its own header: show it */
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
h1, h2, h3, h4 { break-after: avoid; }
figure, img, div.math, table, div.cell_input, div.cell_output, .admonition-title {
  break-inside: avoid;
}
.admonition-title { break-after: avoid; }
/* a solution runs on from its exercise rather than leaving the rest of the page blank */
div.admonition { break-inside: auto !important; }
/* a hidden cell's source stays hidden: no "Show code cell source" line either */
details.hide.above-input { display: none; }
img { max-width: 100%; height: auto; }
mjx-container[display="true"] { overflow: visible !important; }
a.headerlink, .toggle-button, button { display: none !important; }
/* a problem sheet has no notebook beside it to download */
p.derived-notebook-link { display: none; }
div.dropdown > :not(.admonition-title) { display: block !important; }
"""

FOOTER = (
    '<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
    '<span class="title"></span> · <span class="pageNumber"></span> / '
    '<span class="totalPages"></span></div>'
)


def book_pages(toc: dict) -> list[tuple[str | None, str]]:
    """(part caption, docname) for every page of ``_toc.yml``, in reading order."""
    pages = [(None, toc["root"])]

    def walk(entries, caption):
        for entry in entries:
            pages.append((caption, entry["file"]))
            walk(entry.get("sections", []), caption)

    for part in toc.get("parts", []):
        walk(part.get("chapters", []), part.get("caption"))
    walk(toc.get("chapters", []), None)
    return pages


def chapters(toc: dict) -> dict[str, list[str]]:
    """Each chapter's folder name, with its index page and problem pages in order."""
    return {chapter: pages for chapter, (_, pages) in chapter_parts(toc).items()}


def chapter_parts(toc: dict) -> dict[str, tuple[str, list[str]]]:
    """Each chapter's folder name, with its part's caption and its pages in order."""
    found = {}
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            docname = chapter["file"]
            if docname.startswith("chapters/") and docname.endswith("/index"):
                pages = [docname] + [section["file"] for section in chapter.get("sections", [])]
                found[docname.split("/")[1]] = (part.get("caption", ""), pages)
    return found


def sheet_path(chapter: str) -> str:
    return f"{SHEETS}/{chapter}.pdf"


def anchor(docname: str, fragment: str = "") -> str:
    """The id a page, or an id on a page, gets in the gathered document."""
    page = "page-" + docname.replace("/", "--")
    return f"{page}--{fragment}" if fragment else page


def gather(html: Path, pages: list[tuple[str | None, str]]) -> tuple[str, list[dict]]:
    """The pages' articles as one HTML body, and a table of contents entry for each page."""
    from bs4 import BeautifulSoup

    docnames = {docname for _, docname in pages}
    sections, contents = [], []
    for caption, docname in pages:
        soup = BeautifulSoup((html / f"{docname}.html").read_text(encoding="utf-8"), "html.parser")
        article = soup.select_one("article.bd-article")
        base = urljoin(SERVER_ROOT, f"{docname}.html")
        for tag in article.select(
            "a.headerlink, script, noscript, .onlyprint, #jb-print-docs-body"
        ):
            tag.decompose()
        for tag in article.find_all(id=True):
            tag["id"] = anchor(docname, tag["id"])
        for image in article.find_all("img", src=True):
            image["src"] = urljoin(base, image["src"])[len(SERVER_ROOT) :]
        for link in article.find_all("a", href=True):
            target = inside_book(urljoin(base, link["href"]), docnames)
            if target is not None:
                link["href"] = target
            elif urlsplit(urljoin(base, link["href"])).netloc.endswith("book.invalid"):
                link.unwrap()  # a file of the site (a download, the index): no link in a PDF
        body = str(article)
        # MathJax turns \href{...} into links: the notation links, resolved as the others.
        body = re.sub(
            r"\\href\{([^}]*)\}",
            lambda m, base=base: (
                "\\href{%s}" % (inside_book(urljoin(base, m.group(1)), docnames) or "#")
            ),
            body,
        )
        title = article.find("h1")
        contents.append(
            {
                "caption": caption,
                "docname": docname,
                "title": title.get_text(" ", strip=True) if title else docname,
            }
        )
        sections.append(f'<section class="pdf-page" id="{anchor(docname)}">{body}</section>')
    return "\n".join(sections), contents


def inside_book(url: str, docnames: set[str]) -> str | None:
    """``#id`` in the gathered document for a link to a page of the book, else None."""
    parts = urlsplit(url)
    if not parts.netloc.endswith("book.invalid") or not parts.path.endswith(".html"):
        return None
    docname = unquote(parts.path).lstrip("/").removesuffix(".html")
    if docname not in docnames:
        return None
    return "#" + anchor(docname, unquote(parts.fragment))


def head(html: Path, root: str) -> str:
    """The root page's stylesheets and MathJax, without the theme's scripts."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((html / f"{root}.html").read_text(encoding="utf-8"), "html.parser")
    kept = [str(tag) for tag in soup.head.find_all(["meta", "link"]) if tag.get("rel") != ["icon"]]
    kept = [tag for tag in kept if "preload" not in tag]
    for script in soup.head.find_all("script"):
        if "mathjax" in (script.get("src") or "").lower() or "MathJax" in script.get_text():
            kept.append(str(script))
    return "\n".join(kept)


def document(html: Path, pages, *, title: str, subtitle: str, toc: bool, licence: str) -> str:
    body, contents = gather(html, pages)
    front = (
        f'<section class="pdf-title"><h1>{title}</h1><p>{subtitle}</p>'
        f'<p class="licence">{licence}</p></section>'
    )
    if toc:
        items, caption = [], object()
        for entry in contents:
            if entry["caption"] != caption and entry["caption"]:
                items.append(f'<li class="part">{entry["caption"]}</li>')
            caption = entry["caption"]
            items.append(
                f'<li class="page"><a href="#{anchor(entry["docname"])}">{entry["title"]}</a>'
                f'<span class="pdf-page-number" data-page="{anchor(entry["docname"])}"></span>'
                "</li>"
            )
        front += f'<nav class="pdf-toc"><h2>Contents</h2><ol>{"".join(items)}</ol></nav>'
    return (
        f'<!DOCTYPE html><html lang="en" data-theme="light"><head><meta charset="utf-8">'
        f"<title>{title}</title>{head(html, pages[0][1])}<style>{PRINT_CSS}</style></head>"
        f'<body><main class="bd-main"><div class="bd-content"><div class="bd-article-container">'
        f"{front}{body}</div></div></main></body></html>"
    )


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(directory: Path):
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


def print_document(chromium, html: Path, source: str, target: Path) -> None:
    """Typeset ``source``, an HTML document resolved against the site, and print it."""
    with serve(html) as site:
        tab = chromium.new_page()
        problems = []
        tab.on("pageerror", lambda error: problems.append(str(error)))
        # everything the document needs comes from the site; nothing leaves the machine
        tab.route(re.compile(r"^(?!" + re.escape(site) + r").*"), lambda route: route.abort())
        tab.route(
            site + "__print__.html",
            lambda route: route.fulfill(body=source, content_type="text/html"),
        )
        tab.goto(site + "__print__.html", wait_until="load")
        tab.evaluate("() => window.MathJax?.startup?.promise")
        tab.evaluate("() => document.fonts.ready.then(() => true)")
        unrendered = tab.evaluate(
            """() => [...document.querySelectorAll('.math')]
                     .filter(m => !m.querySelector('mjx-container')).length
                   + document.querySelectorAll('mjx-merror').length"""
        )
        broken = tab.evaluate(
            "() => [...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src)"
        )
        assert not unrendered and not broken and not problems, (unrendered, broken, problems)
        target.parent.mkdir(parents=True, exist_ok=True)
        tab.pdf(
            path=str(target),
            format="A4",
            print_background=True,
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=FOOTER,
            margin={"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
            outline=True,
            tagged=True,
        )
        tab.close()


def page_numbers(pdf: Path) -> dict[str, int]:
    """The page (from 1) each anchor the contents link to lies on: chromium names them."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    return {
        name.removeprefix("/"): reader.get_destination_page_number(destination) + 1
        for name, destination in reader.named_destinations.items()
    }


def with_page_numbers(source: str, numbers: dict[str, int]) -> str:
    return re.sub(
        r'<span class="pdf-page-number" data-page="([^"]+)"></span>',
        lambda m: (
            f'<span class="pdf-page-number" data-page="{m.group(1)}">'
            f"{numbers.get(m.group(1), '')}</span>"
        ),
        source,
    )


def print_book(chromium, html: Path, target: Path, config: dict, toc: dict) -> None:
    pages = book_pages(toc)
    licence = "Text and figures: CC BY 4.0. Code: MIT."
    source = document(
        html, pages, title=config["title"], subtitle=config["author"], toc=True, licence=licence
    )
    print_document(chromium, html, source, target)
    # A second print, with the page each entry of the contents starts on.
    print_document(chromium, html, with_page_numbers(source, page_numbers(target)), target)


def print_sheets(chromium, html: Path, out: Path, config: dict, toc: dict) -> list[Path]:
    written = []
    for chapter, (caption, pages) in chapter_parts(toc).items():
        target = out / sheet_path(chapter)
        source = document(
            html,
            [(None, docname) for docname in pages],
            title=f"{config['title']}: problem sheet",
            subtitle=caption,
            toc=False,
            licence="Text and figures: CC BY 4.0.",
        )
        print_document(chromium, html, source, target)
        written.append(target)
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument(
        "--exercises", type=Path, default=ROOT / "_build" / "exercises" / "_build" / "html"
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        parser.exit(
            1, f"make pdf needs Debian's chromium at {CHROMIUM}: apt-get install chromium\n"
        )
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    start = time.perf_counter()
    with browser() as chromium:
        print_book(chromium, args.html, args.html / BOOK_PDF, config, toc)
        sheets = print_sheets(chromium, args.exercises, args.html, config, toc)
    from pypdf import PdfReader

    for pdf in [args.html / BOOK_PDF, *sheets]:
        pages = len(PdfReader(pdf).pages)
        print(f"{pdf.relative_to(ROOT)}: {pages} pages, {pdf.stat().st_size / 1e6:.1f} MB")
    print(f"printed in {time.perf_counter() - start:.0f} s")


# -- the Sphinx extension: the download menu links to the PDFs --------------------------------


def add_pdf_downloads(app, pagename, templatename, context, doctree) -> None:
    if getattr(app.config, "book_edition", "full") != "full":
        return
    pathto = context["pathto"]
    links = [("Download PDF", BOOK_PDF, "The whole book as a PDF", "fas fa-book")]
    parts = pagename.split("/")
    if parts[0] == "chapters" and len(parts) == 3:
        links.append(
            (
                "Problem sheet PDF",
                sheet_path(parts[1]),
                "This chapter's problems",
                "fas fa-file-pdf",
            )
        )
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].extend(
                {
                    "type": "link",
                    "url": pathto(path, 1),
                    "text": text,
                    "tooltip": tooltip,
                    "icon": icon,
                    "label": "download-" + path.replace("/", "-").removesuffix(".pdf"),
                }
                for text, path, tooltip, icon in links
            )


def setup(app):
    # after the theme adds its download menu (501)
    app.connect("html-page-context", add_pdf_downloads, priority=600)
    return {"version": "1", "parallel_read_safe": True}


if __name__ == "__main__":
    main()
