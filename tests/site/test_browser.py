"""Every page of the built site, opened in a real browser: Debian's chromium driven by Playwright.

The site is served from ``_build/html`` on 127.0.0.1; any request elsewhere fails the test, so a
page that passes renders offline. A screenshot of each page's first screen is saved under
``_build/screenshots/`` (a full-page one costs more than all the checks on a long page).
"""

import functools
import http.server
import io
import itertools
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

ROOT = Path(__file__).parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
TOC_PAGES = [
    "intro",
    "notation",
    "summary",
    "sources",
    "api",
    "checkers",
    "references",
    "execution",
]
PAGES = TOC_PAGES + sorted(
    p.relative_to(ROOT).with_suffix("").as_posix() for p in ROOT.glob("chapters/*/*.md")
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason="Debian's chromium is not installed here (apt-get install chromium; .ci/run does it)",
)


@pytest.fixture(scope="module")
def site():
    assert (HTML / "index.html").is_file(), "build the site first: make book"
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api").sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
    )
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="module")
def browser_tab(browser, site):
    """One tab per worker, reused from page to page: a new tab costs a new renderer process."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    # A request the browser itself aborts (a favicon still loading when the reused tab moves to
    # the next page) is no missing resource; a 404 is caught by status, off-site requests by
    # the route below, which fails them with another error.
    page.on(
        "requestfailed",
        lambda r: r.failure != "net::ERR_ABORTED" and page.problems.append(f"failed: {r.url}"),
    )
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"{r.status}: {r.url}"))
    page.route(re.compile(r"^(?!" + re.escape(site) + r"/).*"), lambda route: route.abort())
    yield page
    page.close()


@pytest.fixture
def tab(browser_tab):
    """The worker's tab, recording console errors and refusing every request off the site."""
    browser_tab.problems = []
    return browser_tab


def open_page(tab, site: str, name: str) -> None:
    tab.goto(f"{site}/{name}.html", wait_until="load")
    # MathJax is only loaded where there is math; wait until it has typeset the page.
    tab.evaluate("() => window.MathJax?.startup?.promise")


@functools.cache
def anchors(path: Path) -> frozenset[str]:
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", PAGES)
def test_page_in_a_browser(tab, site, name):
    """One visit per page: rendering, images, links, solutions, then a screenshot."""
    open_page(tab, site, name)
    assert_everything_rendered(tab)
    assert_headings_in_order(tab)
    assert_figures_opaque(tab)
    assert_links_resolve(tab, site)
    solutions = open_solutions(tab)
    if name.startswith("chapters/") and not name.endswith("/index"):
        assert solutions >= 1, "every problem page has a solution"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / f"{name.replace('/', '--')}.png")
    assert not tab.problems, tab.problems


def assert_everything_rendered(tab) -> None:
    unrendered = tab.evaluate(
        """() => [...document.querySelectorAll('.math')]
                 .filter(m => !m.querySelector('mjx-container')).map(m => m.textContent)"""
    )
    assert not unrendered, f"math left as TeX: {unrendered[:3]}"
    errors = tab.evaluate(
        "() => [...document.querySelectorAll('mjx-merror')].map(e => e.textContent)"
    )
    assert not errors, f"MathJax could not typeset: {errors[:3]}"
    too_wide = tab.evaluate(
        """() => [...document.querySelectorAll('mjx-container[display="true"]')]
                 .filter(m => m.scrollWidth > m.clientWidth + 1)
                 .map(m => m.textContent.slice(0, 40))"""
    )
    assert not too_wide, f"display equations wider than the text column: {too_wide}"
    prose = tab.evaluate(
        """() => { const main = document.querySelector('main').cloneNode(true);
                   main.querySelectorAll('pre, code, mjx-container').forEach(e => e.remove());
                   return main.innerText; }"""
    )
    for raw in ("$$", "\\(", "\\[", "{glue:", "{eq}", "{ref}"):
        assert raw not in prose, f"{raw!r} left unrendered in the text"
    broken = tab.evaluate(
        "() => [...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src)"
    )
    assert not broken, f"images that did not load: {broken}"
    assert tab.evaluate("() => [...document.images].every(i => i.alt.trim())"), "an image lacks alt"


def assert_headings_in_order(tab) -> None:
    """One h1 first, then no level skipped (h2 to h4, say): the outline a screen reader gives."""
    levels = tab.evaluate(
        """() => [...document.querySelectorAll('main :is(h1, h2, h3, h4, h5, h6)')]
                 .filter(h => h.checkVisibility()).map(h => Number(h.tagName[1]))"""
    )
    assert levels[:1] == [1] and levels.count(1) == 1, f"one h1, first: {levels}"
    skips = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
    assert not skips, f"heading levels skipped: {skips}"


def assert_figures_opaque(tab) -> None:
    """Figures carry their own opaque background, so they read the same in the dark theme."""
    see_through = tab.evaluate(
        """() => [...document.querySelectorAll('main article img')].filter(image => {
                 const canvas = document.createElement('canvas');
                 [canvas.width, canvas.height] = [image.naturalWidth, image.naturalHeight];
                 const context = canvas.getContext('2d');
                 context.drawImage(image, 0, 0);
                 const corners = [[0, 0], [canvas.width - 1, canvas.height - 1]];
                 return corners.some(([x, y]) => context.getImageData(x, y, 1, 1).data[3] < 255);
             }).map(image => image.src)"""
    )
    assert not see_through, f"figures with a transparent background: {see_through}"


def assert_links_resolve(tab, site: str) -> None:
    hrefs = tab.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    for href in hrefs:
        url = urlsplit(href)
        if f"{url.scheme}://{url.netloc}" != site:
            continue
        target = HTML / unquote(url.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if target.suffix == ".pdf" and not (HTML / "pdf").is_dir():
            continue  # `make pdf` prints them into the site; tests/site/test_pdf.py follows them
        assert target.is_file(), f"{href} points to a missing file"
        if url.fragment and target.suffix == ".html":
            assert unquote(url.fragment) in anchors(target), f"{href}: no such anchor"


def open_solutions(tab) -> int:
    """Check every solution starts collapsed and opens on click; return how many there are."""
    solutions = tab.locator("main div.solution.dropdown").all()
    for solution in solutions:
        body = solution.locator(":scope > :not(.admonition-title)").first
        assert not body.is_visible(), "a solution is open before the reader asks"
        solution.locator(".toggle-button").first.click()
        body.wait_for(state="visible")
    return len(solutions)


def test_launch_buttons_open_files_that_exist(tab, site):
    open_page(tab, site, "chapters/01-gradient-flow/sigmoid-chain")
    hrefs = tab.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    binder = [h for h in hrefs if "mybinder.org" in h]
    assert binder, "a Binder launch button"
    for href in binder:
        path = re.search(r"urlpath=lab/tree/(.+)$", unquote(href)).group(1)
        assert (ROOT / path).is_file(), f"{href} opens a file the repository does not have"
    colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/")]
    assert colab, "a Colab launch button"
    for href in colab:
        # the notebooks branch holds what the build wrote to _build/html/_notebooks
        path = re.search(r"/blob/notebooks/(.+)$", href).group(1)
        assert (HTML / "_notebooks" / path).is_file(), f"{href} opens a notebook the build lacks"


def test_search_finds_the_gradient_flow_pages(tab, site):
    tab.goto(f"{site}/search.html?q=vanishing", wait_until="load")
    results = tab.locator("#search-results a")
    results.first.wait_for()
    found = {urlsplit(href).path for href in results.evaluate_all("as => as.map(a => a.href)")}
    assert any("/chapters/01-gradient-flow/" in path for path in found), found
    assert not tab.problems, tab.problems


def test_figures_stay_readable_in_the_dark_theme(browser, site):
    """A reader whose system is dark gets the dark theme; figures keep their white background."""
    tab = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    try:
        open_page(tab, site, "chapters/01-gradient-flow/sigmoid-chain")
        assert tab.evaluate("() => document.documentElement.dataset.theme") == "dark"
        background = tab.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert brightness(background) < 0.3, f"the page is dark: {background}"
        # as the reader sees it, dimmed by the theme, just inside the frame the theme draws
        shot = tab.locator("main article img").first.screenshot()
        corner = Image.open(io.BytesIO(shot)).convert("RGB").getpixel((12, 12))
        assert brightness(f"rgb{corner}") > 0.75, f"the figure stays light: {corner}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=SCREENSHOTS / "dark--chapters--01-gradient-flow--sigmoid-chain.png")
    finally:
        tab.close()


def brightness(css_colour: str) -> float:
    red, green, blue = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (red + green + blue) / 765
