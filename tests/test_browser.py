"""The site as readers get it: every built page in Chromium (Debian's, driven
by Playwright), served from 127.0.0.1 with every other host unreachable.

One session fixture visits every page once, in one tab: it records requests
to other hosts and console errors, what the page weighs and its h1 headings,
measures the math, runs axe-core in the light scheme and its colour rules in
the dark one, clicks every Python block's copy button, and measures notebook
cells (the measures, in JavaScript: tests/browser.js). With SCREENSHOTS=1 it
also saves build/screenshots/<page>.png. The tests check what it recorded;
each check is proven on a broken page at the end of this file.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import http.server
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pageblocks import page_blocks

from docsite import ROOT, IncludeError, built, pages, rel

# Debian's package; CHROMIUM=/path/to/chromium make test names another.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHECKS = Path(__file__).with_name("browser.js")  # what the visits measure
# Reported whatever their impact: the page's outline, for screen readers.
OUTLINE_RULES = {"heading-order", "page-has-heading-one"}
# The colour rules, narrowed to the texts that browser.js samples (one of
# each kind) and what they hold.
SAMPLED = "[data-contrast-sample]"
COLOUR_RULES = {
    "color-contrast": f"{SAMPLED}, {SAMPLED} *",
    "link-in-text-block": f"a[href]{SAMPLED}, {SAMPLED} a[href], "
    f"[role=link]{SAMPLED}, {SAMPLED} [role=link]",
}
# What a page's HTML, stylesheets and scripts (the search worker included)
# may weigh together; images, inline ones too, and the data a page reads (the
# search index, the sitemap) are not counted.
MAX_PAGE_BYTES = 500_000
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
SCHEMES = {"light": "default", "dark": "slate"}  # system scheme: Material's
# The first test to need the visits waits for all of them.
pytestmark = pytest.mark.timeout(300)


def require_chromium(path: Path = CHROMIUM) -> None:
    """Skip without Chromium, except on CI, where its absence is a failure."""
    if not path.exists():
        stop = pytest.fail if os.environ.get("CI") == "true" else pytest.skip
        stop(
            f"Chromium not found at {path}: sudo apt-get install chromium, "
            "or set CHROMIUM to the browser's path"
        )


@functools.cache
def playwright():
    """Playwright, started once in this process: its tabs may be open at once
    (the explorers' session tab and a test's own)."""
    from playwright.sync_api import sync_playwright

    started = sync_playwright().start()
    atexit.register(started.stop)
    return started


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def open_tab(site: Path):
    """A Chromium tab on ``site``, served from 127.0.0.1 (``tab.base``) with
    every other host unreachable; ``tab.problems`` collects the requests to
    other hosts and the errors (console and page)."""
    require_chromium()
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        browser = playwright().chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(
            viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"]
        )
        context.set_default_timeout(30_000)
        context.add_init_script(path=CHECKS)
        tab = context.new_page()
        tab.base, tab.site, tab.problems = base, site, []

        def route(route):
            url = urlsplit(route.request.url)
            if url.path == "/sitemap.xml":
                # Material navigates instantly to the pages that the sitemap
                # lists, at the site's URL: here, this server's.
                sitemap = route.fetch().text()
                sitemap = re.sub(r"<loc>https?://[^/]+/", f"<loc>{base}", sitemap)
                return route.fulfill(body=sitemap, content_type="application/xml")
            if url.netloc in {urlsplit(base).netloc, ""}:
                return route.continue_()
            tab.problems.append(f"request to {route.request.url}")
            return route.abort()

        context.route("**/*", route)
        tab.on(
            "console",
            lambda m: m.type == "error" and tab.problems.append(f"console: {m.text}"),
        )
        tab.on("pageerror", lambda error: tab.problems.append(f"error: {error}"))
        yield tab
        browser.close()
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Visit:
    problems: list[str] = field(default_factory=list)  # other hosts, errors
    math: list[dict] = field(default_factory=list)  # each <math>'s box
    violations: list[str] = field(default_factory=list)  # axe-core's, serious
    copied: list[str] = field(default_factory=list)  # each copy button's text
    cells: list[float] = field(default_factory=list)  # [column, narrowest cell]
    off_phone: list[str] = field(default_factory=list)  # past a phone's edge
    weight: int = 0  # bytes of HTML, CSS and JavaScript loaded
    h1: int = 0  # h1 headings


def axe(tab, scheme: str) -> list[str]:
    """axe-core's serious violations: every rule in the light scheme, the
    colour rules alone in the dark one; colours on new kinds of text only."""
    from axe_playwright_python.sync_playwright import Axe

    if tab.evaluate("typeof axe") == "undefined":
        tab.evaluate(Axe().axe_script)
        narrowed = [{"id": rule, "selector": s} for rule, s in COLOUR_RULES.items()]
        tab.evaluate("rules => axe.configure({rules})", narrowed)
    checked = tab.checked.setdefault(scheme, set())
    added = tab.evaluate("c => siteChecks.sampleTexts(c)", sorted(checked))
    checked.update(added)
    if scheme == "dark" and not added:
        return []
    options = {"resultTypes": ["violations"]}
    if scheme == "dark":  # the other rules do not depend on the colours
        options["runOnly"] = list(COLOUR_RULES)
    found = tab.evaluate("o => axe.run(document, o)", options)["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in found
        if v["impact"] in {"serious", "critical"} or v["id"] in OUTLINE_RULES
    ]


def visit(tab, path: str) -> Visit:
    seen = Visit()
    before = len(tab.problems)
    tab.emulate_media(color_scheme="light")
    tab.goto(tab.base + path, wait_until="load")
    seen.math, seen.h1 = tab.evaluate("siteChecks.math()"), tab.locator("h1").count()
    if os.environ.get("SCREENSHOTS") == "1":
        shot = SCREENSHOTS / f"{path.strip('/') or 'index'}.png"
        tab.screenshot(path=shot, full_page=True)
    for scheme, palette in SCHEMES.items():
        tab.emulate_media(color_scheme=scheme)
        tab.evaluate("p => siteChecks.palette(p)", palette)
        seen.violations += [f"({scheme}) {v}" for v in axe(tab, scheme)]
    tab.set_viewport_size(PHONE)
    seen.off_phone = tab.evaluate("siteChecks.offPhone()")
    tab.set_viewport_size(DESKTOP)
    seen.copied = tab.evaluate("siteChecks.copy()")
    if tab.locator(".jp-InputArea-editor").count():
        seen.cells = tab.evaluate("siteChecks.cells()")
    # Last, once every script has loaded its own.
    seen.weight = tab.evaluate("siteChecks.weight()")
    seen.problems = tab.problems[before:]
    return seen


def browse(site: Path, names: list[str]) -> dict[str, Visit]:
    """Visit the built pages ``names`` ("dropout/index.html") of ``site``."""
    with open_tab(site) as tab:
        tab.checked = {}  # scheme: the kinds of text checked
        return {name: visit(tab, name.removesuffix("index.html")) for name in names}


@pytest.fixture(scope="session")
def visits(built_site, request) -> dict[str, Visit]:
    """Every built page's visit; with --page, that page's alone."""
    if page := request.config.getoption("--page"):
        return browse(built_site, [f"{page}/index.html".removeprefix("index/")])
    files = built.html_files(built_site)
    return browse(built_site, [p.relative_to(built_site).as_posix() for p in files])


def too_heavy(v: Visit) -> list[str]:
    if v.weight > MAX_PAGE_BYTES:
        return [f"loads {v.weight:,} bytes (limit {MAX_PAGE_BYTES:,})"]
    return []


def math_without_a_size(v: Visit) -> list[str]:
    return [
        f"<math> {m['text']!r} is {m['width']}x{m['height']} px"
        for m in v.math
        if m["shown"] and not (m["width"] > 0 and m["height"] > 0)
    ]


# What each page must not show, by the name of its check.
PAGE_CHECKS = {
    "offline-without-errors": lambda v: v.problems,
    "accessibility": lambda v: [f"axe-core: {found}" for found in v.violations],
    "weight": too_heavy,
    "one-h1": lambda v: [] if v.h1 == 1 else [f"{v.h1} h1"],
    "phone-width": lambda v: [f"past a phone's edge: {o}" for o in v.off_phone],
    "math-size": math_without_a_size,
}


@pytest.mark.parametrize("check", PAGE_CHECKS.values(), ids=PAGE_CHECKS)
def test_every_page(visits, check):
    found = [f"{page}: {item}" for page, v in visits.items() for item in check(v)]
    assert not found, "\n".join(found)


def test_math_is_shown(visits):
    # Math hidden everywhere would leave nothing for the check above to measure.
    page = "batch-normalization/index.html"
    assert any(m["shown"] for m in visits[page].math), f"{page}: no <math> shown"


@pytest.mark.parametrize(
    "markdown", [p for p in pages() if p.parent.name == "docs"], ids=rel
)
def test_copy_buttons_copy_exactly_the_code(visits, markdown):
    """Each Python block's copy button copies exactly the code the page
    shows: the snippet's section as rendered, without markers or prompts."""
    try:
        shown = [block.code.rstrip("\n") for block in page_blocks(markdown)]
    except IncludeError:
        pytest.skip("its includes do not resolve: see the strict build")
    copied = visits[f"{markdown.stem}/index.html".removeprefix("index/")].copied
    assert [c.rstrip("\n") for c in copied] == shown, rel(markdown)


def test_notebook_code_cells_take_the_column_width(visits):
    # A notebook's cells sit in padding of 2 x (10 + 5 + 5) px, and no less
    # wide: JupyterLab's overflow on the notebook once kept every cell
    # clear of the page's floated buttons, about 64 px narrower.
    widths = {page: v.cells for page, v in visits.items() if v.cells}
    assert len(widths) >= 3, widths
    for page, (column, narrowest) in widths.items():
        assert narrowest >= column - 42, (page, column, narrowest)


# Each check above, proven on pages broken on purpose, browsed in one go.
# Contrast: hundreds of texts of one kind and one faint text; the colour
# rules, which check one text of each kind, still find it, and a kind
# already checked is not checked again on the next page.
READABLE = "\n".join(f'<p class="note">Readable {i}.</p>' for i in range(300))
CONTRAST = f"""<style>.note {{ color: #333 }} .faint {{ color: #bbb }}</style>
<main><h1>Contrast</h1>{READABLE}
<p class="note">Like the others, <span class="faint" id="faint">but faint</span>.</p>
<div style="background: #222"><p class="note" id="on-dark">On a dark ground.</p>
</div></main>"""
BROKEN = {
    # Past a phone's edge: a paragraph, not the code that scrolls; a table
    # that scrolls with no sign of it; an equation.
    "wide.html": """<main class="md-content"><h1>Wide</h1>
<p style="width: 600px">Too wide.</p>
<div style="overflow-x: auto"><pre style="width: 600px">Scrolls.</pre></div>
<div class="md-typeset__scrollwrap" style="overflow-x: auto">
<table style="width: 600px"><tr><td>Wide table</td></tr></table></div>
<div class="math" style="overflow-x: auto">
<b style="display: block; width: 600px">E = mc</b></div></main>""",
    # Loads from other hosts; a link to one is fine.
    "cdn.html": """<script src="https://cdn.example.org/mathjax.js"></script>
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
<main><h1>CDN</h1><a href="https://keras.io/">a link</a></main>""",
    # 300 kB of HTML and 300 kB of script: too heavy; a 600 kB image is not.
    "heavy.html": '<main><h1>Heavy</h1><script src="heavy.js"></script>'
    + f"<!-- {'x' * 300_000} --></main>",
    "image.html": '<main><h1>Image</h1><img src="image.svg" alt="A picture"></main>',
    # Two h1, an h3 under an h1, an image with no alt text.
    "outline.html": """<main><h1>One</h1><h1>Two</h1><h3>Three</h3>
<img src="image.svg"></main>""",
    # Math laid out with no size: it would show nothing.
    "math.html": """<main><h1>Math</h1>
<math style="display: block; width: 0; height: 0"><mi>x</mi></math></main>""",
    "one.html": CONTRAST,
    "again.html": CONTRAST,
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> dict[str, Visit]:
    site = tmp_path_factory.mktemp("broken-pages")
    for name, body in BROKEN.items():
        head = f'<!DOCTYPE html><html lang="en"><head><title>{name}</title></head>'
        (site / name).write_text(f"{head}<body>{body}</body></html>")
    (site / "heavy.js").write_text("// " + "x" * 300_000 + "\n")
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><!-- {"x" * 600_000} --></svg>'
    (site / "image.svg").write_text(svg)
    return browse(site, list(BROKEN))


def test_what_runs_off_a_phone_screen_is_caught(broken):
    assert broken["wide.html"].off_phone == [
        "<p> Too wide.",
        "table that hides its scrolling: Wide table",
        "equation, 600 px wide: E = mc",
    ], broken["wide.html"].off_phone


def test_a_page_that_loads_from_another_host_is_caught(broken):
    found = broken["cdn.html"].problems
    hosts = {urlsplit(p[11:]).netloc for p in found if p.startswith("request to")}
    assert hosts == {"cdn.example.org", "fonts.googleapis.com"}, found


def test_a_heavy_page_is_caught_and_images_do_not_count(broken):
    assert too_heavy(broken["heavy.html"]), broken["heavy.html"].weight
    assert not too_heavy(broken["image.html"]), broken["image.html"].weight


def test_a_page_with_a_broken_outline_is_caught(broken):
    outline = broken["outline.html"]
    assert outline.h1 == 2
    rules = {violation.split()[1] for violation in outline.violations}
    assert {"heading-order", "image-alt"} <= rules, outline.violations


def test_math_without_a_size_is_caught(broken):
    assert math_without_a_size(broken["math.html"]), broken["math.html"].math


def test_colour_rules_check_every_kind_of_text(broken):
    for scheme in ("light", "dark"):  # the page has one scheme: the same twice
        found = [v for v in broken["one.html"].violations if f"({scheme})" in v]
        assert len(found) == 1 and "'#faint'], ['#on-dark']" in found[0], found
    assert not broken["again.html"].violations  # the same kinds, checked once
