"""The PDF edition: what chromium prints holds every page, typeset, with its figures.

The first test prints two pages of the built site (a few seconds), so `make test` checks the
printing. The others check the PDFs `make pdf` wrote into the site (it runs them after printing);
elsewhere they are skipped, saying so.
"""

import re
import unicodedata
from pathlib import Path

import pdf_edition
import pytest
import yaml
from bs4 import BeautifulSoup

pypdf = pytest.importorskip("pypdf")

ROOT = Path(__file__).parents[2]
HTML = ROOT / "_build" / "html"
EXERCISES = ROOT / "_build" / "exercises" / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
RAW_TEX = ("$$", "\\frac", "\\(", "\\[", "\\begin", "\\mathbf", "\\href")

needs_chromium = pytest.mark.skipif(
    not pdf_edition.CHROMIUM.is_file(),
    reason="Debian's chromium is not installed here (apt-get install chromium; .ci/run does it)",
)


def squeeze(text: str) -> str:
    """Text without whitespace, quotes or hyphens, as extraction and typesetting may differ."""
    return re.sub(r"[\s\u00ad'\u2019\u2018\"\u201c\u201d-]+", "", text)


def pdf_text(pdf: Path) -> list[str]:
    # NFKC: the ligatures of the PDF's fonts (fi, ff) become letters again
    pages = pypdf.PdfReader(pdf).pages
    return [unicodedata.normalize("NFKC", page.extract_text() or "") for page in pages]


def page_html(html: Path, docname: str) -> BeautifulSoup:
    return BeautifulSoup((html / f"{docname}.html").read_text(encoding="utf-8"), "html.parser")


def titles(html: Path, docname: str) -> list[str]:
    """The page's title, and the title of each exercise on it (the text around their math)."""
    soup = page_html(html, docname).select_one("article.bd-article")
    for tag in soup.select("a.headerlink, .onlyprint, #jb-print-docs-body"):
        tag.decompose()
    for math in soup.select(".math"):
        math.replace_with("\x00")
    found = [soup.find("h1").get_text(" ", strip=True)]
    for exercise in soup.select("div.exercise > p.admonition-title"):
        found.append(exercise.get_text(" ", strip=True))
    return found


def fragments(title: str) -> list[str]:
    return [squeeze(part) for part in title.split("\x00") if squeeze(part)]


def figures(html: Path, docnames) -> set[str]:
    sources = set()
    for docname in docnames:
        article = page_html(html, docname).select_one("article.bd-article")
        sources |= {img["src"].rsplit("/", 1)[-1] for img in article.find_all("img", src=True)}
    return sources


def embedded_images(pdf: Path) -> int:
    return sum(len(page.images) for page in pypdf.PdfReader(pdf).pages)


def assert_holds(pdf: Path, html: Path, docnames) -> list[str]:
    """Every title and exercise is in ``pdf``'s text, no TeX is left raw, figures are in it."""
    text = pdf_text(pdf)
    whole = squeeze("".join(text))
    missing = [
        title
        for docname in docnames
        for title in titles(html, docname)
        if not all(fragment in whole for fragment in fragments(title))
    ]
    assert not missing, f"not in {pdf.name}: {missing}"
    raw = [tex for tex in RAW_TEX if any(tex in page for page in text)]
    assert not raw, f"TeX left raw in {pdf.name}: {raw}"
    assert embedded_images(pdf) >= len(figures(html, docnames)), "a figure is missing"
    return text


@needs_chromium
def test_two_printed_pages_hold_their_titles_equations_and_figures(tmp_path):
    assert (HTML / "index.html").is_file(), "build the site first: make book"
    pages = [(None, "notation"), ("Gradient flow", "chapters/01-gradient-flow/sigmoid-chain")]
    source = pdf_edition.document(
        HTML, pages, title="Two pages", subtitle="", toc=True, licence="CC BY 4.0"
    )
    target = tmp_path / "two.pdf"
    with pdf_edition.browser() as chromium:
        pdf_edition.print_document(chromium, HTML, source, target)
    text = assert_holds(target, HTML, [docname for _, docname in pages])
    # the title page, the contents, then each page from a new page: its title starts a page
    starts = [squeeze(page)[:80] for page in text]
    for _, docname in pages:
        title = fragments(titles(HTML, docname)[0])[0]
        assert any(start.startswith(title) for start in starts), docname
    assert "Solution to" in "".join(text), "the solutions are printed open"
    outline = [item.title for item in pypdf.PdfReader(target).outline if not isinstance(item, list)]
    assert fragments(titles(HTML, pages[1][1])[0])[0] in squeeze("".join(outline)), outline


def full_pdf(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is not there: make pdf prints it")
    built = max(page.stat().st_mtime for page in HTML.glob("**/*.html"))
    if path.stat().st_mtime < built:
        pytest.skip(f"{path.relative_to(ROOT)} is older than the site: make pdf prints it again")
    return path


def test_the_book_holds_every_page():
    pdf = full_pdf(HTML / pdf_edition.BOOK_PDF)
    docnames = [docname for _, docname in pdf_edition.book_pages(TOC)]
    text = assert_holds(pdf, HTML, docnames)
    starts = [squeeze(page)[:120] for page in text]
    for docname in docnames:
        if docname.startswith("chapters/") and not docname.endswith("/index"):
            title = fragments(titles(HTML, docname)[0])[0]
            assert any(start.startswith(title) for start in starts), f"{docname} on a new page"
    reader = pypdf.PdfReader(pdf)
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5, "A4"
    assert "Contents" in text[1]


def test_every_problem_sheet_holds_its_problems_and_no_answer():
    for chapter, docnames in pdf_edition.chapters(TOC).items():
        pdf = full_pdf(HTML / pdf_edition.sheet_path(chapter))
        text = "".join(assert_holds(pdf, EXERCISES, docnames))
        assert "Solution to" not in text and "Takeaway" not in text, chapter


def test_the_site_links_the_pdfs_it_serves():
    full_pdf(HTML / pdf_edition.BOOK_PDF)
    page = "chapters/01-gradient-flow/sigmoid-chain"
    links = {
        a.get_text(strip=True): a["href"]
        for a in page_html(HTML, page).find_all("a", href=True)
        if a["href"].endswith(".pdf")
    }
    assert set(links) >= {"Download PDF", "Problem sheet PDF"}, links
    for href in links.values():
        assert (HTML / Path(page).parent / href).resolve().is_file(), href
