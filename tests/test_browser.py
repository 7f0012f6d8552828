"""The site as readers get it: every built page in a real browser (Debian's
Chromium, driven by Playwright), served from 127.0.0.1 with nothing else
reachable.

One build serves the whole session. Every page is visited once, in one tab,
by a background job that runs beside the in-process tests: the visit records
every request and console error, measures the math, saves a full-page
screenshot to build/screenshots/<page>.png, runs axe-core in the light
colour scheme, clicks every Python block's copy button, and runs axe-core's
colour rules again in the dark scheme. Search, content tabs and the palette
toggle are then used as a reader uses them.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import background
import builtsite
import pytest
import sitecheck

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = sitecheck.ROOT / "build" / "screenshots"
# The reader's system preference, and the palette Material shows for it.
SCHEMES = {"light": "default", "dark": "slate"}
SERIOUS = {"serious", "critical"}
VIEWPORT = {"width": 1280, "height": 800}


def require_chromium(path: Path = CHROMIUM) -> None:
    """Skip without Chromium, except on CI, where its absence is a failure."""
    if path.exists():
        return
    message = f"Chromium not found at {path}: sudo apt-get install chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser(chromium):
    """Chromium, for the tests that use it in this process."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """``directory`` over HTTP on a free port of 127.0.0.1; its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def server(built_site):
    """The built site's base URL, for the tests that use the browser."""
    with serve(built_site) as base:
        yield base


@dataclass
class Visit:
    page: builtsite.Page
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # to other hosts
    errors: list[str] = field(default_factory=list)  # console and page errors
    math: list[dict] = field(default_factory=list)  # size of each math element
    # (colour scheme, axe-core violation) of impact serious or critical
    violations: list[tuple[str, dict]] = field(default_factory=list)
    # (block number, what its copy button copied, the code the page shows)
    copies: list[tuple[int, str, str]] = field(default_factory=list)


def offline_context(browser, **options):
    """A browser context in which requests to any host but 127.0.0.1 fail;
    ``context.blocked`` lists them."""
    context = browser.new_context(viewport=VIEWPORT, **options)
    context.set_default_timeout(10_000)
    context.blocked = []

    def route(route):
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            context.blocked.append(url)
            route.abort()

    context.route("**/*", route)
    return context


MATH_BOXES = """elements => elements.map(m => {
    const box = m.getBoundingClientRect();
    return {width: box.width, height: box.height, shown: m.checkVisibility(),
            text: m.textContent.slice(0, 40)};
})"""


COLOUR_RULES = ["color-contrast", "link-in-text-block"]
AXE_OTHERS = {  # every rule but those on colours: they do not depend on the scheme
    "resultTypes": ["violations"],
    "rules": {rule: {"enabled": False} for rule in COLOUR_RULES},
}
AXE_COLOURS = {"resultTypes": ["violations"], "runOnly": COLOUR_RULES}

# A text's contrast depends on its own styles and on what lies behind it. A
# long page has some 2,000 text nodes but only about a hundred kinds, most of
# them on every page (navigation, code, footer): the colour rules check one
# element of each kind (same chain of ancestors' tags and classes, colour,
# background, font size and weight) not checked yet in that colour scheme,
# marked here with data-contrast-sample.
SAMPLE_TEXT = """checked => {
    for (const element of document.querySelectorAll("[data-contrast-sample]"))
        element.removeAttribute("data-contrast-sample");
    const background = element => {
        for (let e = element; e; e = e.parentElement) {
            const colour = getComputedStyle(e).backgroundColor;
            if (colour !== "rgba(0, 0, 0, 0)") return colour;
        }
        return "none";
    };
    const ancestors = element => {
        const chain = [];
        for (let e = element; e && e !== document.body; e = e.parentElement)
            chain.push(e.tagName + [...e.classList].sort().map(c => "." + c).join(""));
        return chain.join(" < ");
    };
    const kinds = new Set(checked), added = [];
    const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (texts.nextNode()) {
        if (!texts.currentNode.textContent.trim()) continue;
        const element = texts.currentNode.parentElement;
        const style = getComputedStyle(element);
        const kind = [ancestors(element), style.color, background(element),
                      style.fontSize, style.fontWeight].join(" | ");
        if (!kinds.has(kind)) {
            kinds.add(kind);
            added.push(kind);
            element.setAttribute("data-contrast-sample", "");
        }
    }
    return added;
}"""
SAMPLES = {"include": [["[data-contrast-sample]"]]}


@functools.cache
def axe_source() -> str:
    """axe-core's script, as axe-playwright-python ships it."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script


def run_axe(tab, options: dict, context: dict | None = None) -> list[dict]:
    """axe-core's violations of impact serious or critical on the page."""
    if tab.evaluate("typeof axe") == "undefined":  # once a page
        tab.evaluate(axe_source())
    response = tab.evaluate(
        "([context, options]) => axe.run(context ?? document, options)",
        [context, options],
    )
    return [v for v in response["violations"] if v["impact"] in SERIOUS]


def accessibility_violations(tab, scheme: str, checked: set) -> list[tuple[str, dict]]:
    """(scheme, violation): every rule in the light scheme; the colour rules
    in both, on a text of each kind not yet in ``checked`` (which grows)."""
    found = run_axe(tab, AXE_OTHERS) if scheme == "light" else []
    added = tab.evaluate(SAMPLE_TEXT, sorted(checked))
    checked.update(added)
    if added:
        found += run_axe(tab, AXE_COLOURS, SAMPLES)
    return [(scheme, violation) for violation in found]


def visit(tab, base: str, page: builtsite.Page, code: list[str]) -> Visit:
    """Load a page in the light scheme, take its screenshot and run axe-core;
    switch the reader's system to dark (the palette follows it) and run
    axe-core's colour rules again; then click the copy button of each Python
    block (``code``: what each shows)."""
    result = Visit(page)
    tab.visits.append(result)  # where the tab's listeners record
    start = len(tab.context.blocked)
    tab.emulate_media(color_scheme="light")
    tab.goto(base + page.url, wait_until="load")
    result.math = tab.eval_on_selector_all("math", MATH_BOXES)
    tab.screenshot(
        path=SCREENSHOTS / f"{page.name}.png", full_page=True, animations="disabled"
    )
    for scheme, palette in SCHEMES.items():
        tab.emulate_media(color_scheme=scheme)
        tab.wait_for_function(f"document.body.dataset.mdColorScheme == '{palette}'")
        checked = tab.contrast_checked.setdefault(scheme, set())
        result.violations += accessibility_violations(tab, scheme, checked)
    result.copies = copy_each_block(tab, code)  # after axe: it shows a dialog
    result.blocked = tab.context.blocked[start:]
    return result


# Reveal a code block hidden in an inactive content tab or a closed
# "Whole script" block, as a reader would: by clicking the tab's label or
# the block's summary.
REVEAL = """block => {
    const tab = block.closest(".tabbed-block");
    if (tab && !tab.checkVisibility()) {
        const set = tab.closest(".tabbed-set");
        const index = [...tab.parentElement.children].indexOf(tab);
        set.querySelectorAll(":scope > .tabbed-labels > label")[index].click();
    }
    const details = block.closest("details");
    if (details && !details.open) details.querySelector("summary").click();
}"""


def copy_each_block(tab, code: list[str]) -> list[tuple[int, str, str]]:
    """Click each Python block's copy button: (block number, what the
    clipboard then holds, the code that the page's source shows)."""
    blocks = tab.locator(".md-content .language-python.highlight")
    if blocks.count() != len(code):
        return [(0, f"{blocks.count()} Python blocks shown", f"{len(code)} written")]
    copies = []
    for index, shown in enumerate(code):
        block = blocks.nth(index)
        block.evaluate(REVEAL)
        tab.evaluate("navigator.clipboard.writeText('')")
        # The click a reader makes, without Playwright's wait for the button
        # to stop moving: Material's own handler copies.
        block.locator("button[data-md-type=copy]").dispatch_event("click")
        copied = tab.evaluate("navigator.clipboard.readText()")
        copies.append((index + 1, copied, shown))
    return copies


def page_url(markdown: Path) -> str:
    """docs/dropout.md -> "dropout/", docs/index.md -> "" (directory URLs)."""
    name = markdown.relative_to(sitecheck.ROOT / "docs").with_suffix("").as_posix()
    name = re.sub(r"(^|/)index$", "", name)
    return f"{name}/" if name else ""


DOC_PAGES = [p for p in sitecheck.pages() if p.is_relative_to(sitecheck.ROOT / "docs")]


@background.fixture
def chromium() -> Path:
    """The browser's executable (the tests that need it skip, or fail on CI,
    without it)."""
    require_chromium()
    return CHROMIUM


@background.fixture(process=True)
def visits(site_build, chromium) -> dict[str, Visit]:
    """Every built page, visited once: its URL -> the visit."""
    from playwright.sync_api import sync_playwright

    site = site_build[1]
    # The Python blocks of each Markdown page, as the site renders them.
    code = {page_url(md): [b.code for b in sitecheck.blocks(md)] for md in DOC_PAGES}
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as playwright, serve(site) as base:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        context = offline_context(
            browser, permissions=["clipboard-read", "clipboard-write"]
        )
        # One tab for every page: a new tab costs a new renderer process.
        tab = context.new_page()
        tab.visits = []  # the listeners record into the last one
        tab.contrast_checked = {}  # scheme: kinds of text checked

        def on_console(message):
            if message.type == "error":
                tab.visits[-1].errors.append(message.text)

        tab.on("console", on_console)
        tab.on("pageerror", lambda error: tab.visits[-1].errors.append(str(error)))
        tab.on("request", lambda request: tab.visits[-1].requests.append(request.url))
        done = {
            page.url: visit(tab, base, page, code.get(page.url, []))
            for page in builtsite.pages(site).values()
        }
        browser.close()
    return done


def test_every_page_loads_offline_without_errors(visits, built_site):
    assert len(visits) == len(builtsite.html_files(built_site))
    problems = []
    for v in visits.values():
        problems += [f"{v.page.file}: request to {url}" for url in v.blocked]
        problems += [f"{v.page.file}: console error: {text}" for text in v.errors]
    assert not problems, "\n".join(problems)


def why(node: dict) -> str:
    """axe-core's first reason for a node's failure."""
    checks = node["any"] + node["all"] + node["none"]
    return checks[0]["message"] if checks else node["failureSummary"]


def test_no_serious_accessibility_violations(visits):
    problems = [
        f"{v.page.file} ({scheme}): {violation['id']} ({violation['impact']}): "
        f"{violation['help']}\n"
        + "\n".join(f"    {node['target']}: {why(node)}" for node in violation["nodes"])
        for v in visits.values()
        for scheme, violation in v.violations
    ]
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


CONTRAST_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Contrast</title>
<style>.note {{ color: #333 }} .faint {{ color: #bbb }}</style></head>
<body><main><h1>Contrast</h1>
{readable}
<p class="note">Like the others, <span class="faint" id="faint">but faint</span>.</p>
<div style="background: #222"><p class="note" id="on-dark">On a dark ground.</p></div>
</main></body></html>"""


def test_colour_rules_check_every_kind_of_text(browser):
    """Checking one text of each kind still finds the one faint text among
    hundreds of readable ones, and a readable style on a dark ground; a kind
    checked once is not checked again."""
    context = offline_context(browser)
    tab = context.new_page()
    readable = "\n".join(f'<p class="note">Readable {i}.</p>' for i in range(300))
    tab.set_content(CONTRAST_PAGE.format(readable=readable))
    found = accessibility_violations(tab, "light", set())
    targets = {
        node["target"][0]
        for _, violation in found
        if violation["id"] == "color-contrast"
        for node in violation["nodes"]
    }
    assert targets == {"#faint", "#on-dark"}, found
    checked = set()
    assert accessibility_violations(tab, "dark", checked)
    assert checked and not accessibility_violations(tab, "dark", checked)
    context.close()


def test_math_renders(visits):
    shown = [(v.page.file, m) for v in visits.values() for m in v.math if m["shown"]]
    assert any(file == "batch-normalization/index.html" for file, _ in shown)
    empty = [
        f"{file}: <math> {m['text']!r} is {m['width']}x{m['height']} px"
        for file, m in shown
        if not (m["width"] > 0 and m["height"] > 0)
    ]
    assert not empty, "\n".join(empty)


def test_page_weight_counts_everything_the_browser_loads(visits, built_site):
    """builtsite.assets (page weight, `make bench`) misses no file a page
    loads, images aside."""
    missing = []
    for v in visits.values():
        counted = builtsite.assets(built_site, v.page)
        for url in v.requests:
            if urlsplit(url).hostname != "127.0.0.1":
                continue
            path = urlsplit(url).path
            if Path(path).suffix in builtsite.IMAGE_SUFFIXES:
                continue
            file = builtsite.target_file(built_site, path.lstrip("/"))
            if file is None or file.relative_to(built_site).as_posix() not in counted:
                missing.append(f"{v.page.file}: loads {path}, not counted")
    assert not missing, "\n".join(sorted(set(missing)))


def test_search_finds_a_page(browser, server):
    context = offline_context(browser)
    tab = context.new_page()
    tab.goto(server, wait_until="load")
    tab.locator(".md-search__input").click()
    tab.keyboard.type("momentum")
    results = tab.locator(".md-search-result__item .md-search-result__link")
    results.first.wait_for(state="visible")
    # Several pages mention momentum; the reader picks Batch Normalization's.
    page = tab.locator(
        f'.md-search-result__link[href^="{server}batch-normalization/"]'
    ).first
    page.scroll_into_view_if_needed()
    page.click()
    tab.wait_for_url(f"{server}batch-normalization/**")
    assert tab.locator("h1").inner_text().rstrip("¶") == "Batch Normalization"
    assert not context.blocked, context.blocked
    context.close()


@pytest.mark.parametrize("markdown", DOC_PAGES, ids=sitecheck.rel)
def test_copy_buttons_copy_exactly_the_code(visits, markdown):
    """Each Python block's copy button puts on the clipboard exactly the
    code the page shows: the snippet's section (or whole file) as the site
    renders it, without section markers, prompts or annotation markers."""
    copies = visits[page_url(markdown)].copies
    wrong = [
        f"block {index}:\n--- copied\n{copied}\n--- shown\n{shown}"
        for index, copied, shown in copies
        if copied not in {shown.rstrip("\n"), shown.rstrip("\n") + "\n"}
    ]
    assert not wrong, f"{sitecheck.rel(markdown)}: " + "\n".join(wrong)


def test_content_tabs_switch(browser, server, built_site):
    with_tabs = [
        page
        for page in builtsite.pages(built_site).values()
        if 'class="tabbed-set' in (built_site / page.file).read_text(encoding="utf-8")
    ]
    assert with_tabs, "no page uses content tabs"
    context = offline_context(browser)
    tab = context.new_page()
    tab.goto(server + with_tabs[0].url, wait_until="load")
    tabs = tab.locator(".tabbed-set").first
    labels = tabs.locator(":scope > .tabbed-labels > label")
    blocks = tabs.locator(":scope > .tabbed-content > .tabbed-block")
    first, second = (blocks.nth(i).locator("pre").first for i in (0, 1))
    assert labels.count() >= 2
    assert first.is_visible() and second.is_hidden()
    labels.nth(1).click()
    assert second.is_visible() and first.is_hidden()
    labels.nth(0).click()
    assert first.is_visible() and second.is_hidden()
    context.close()


def test_palette_toggle_switches_and_persists(browser, server):
    context = offline_context(browser, color_scheme="light")
    tab = context.new_page()
    tab.goto(server, wait_until="load")
    body = tab.locator("body")
    initial = body.get_attribute("data-md-color-scheme")
    toggles = tab.locator("form[data-md-component=palette] label")
    # The toggle cycles system preference -> light -> dark: at most one
    # click per palette changes the scheme.
    for _ in range(toggles.count()):
        toggles.locator("visible=true").first.click()
        scheme = body.get_attribute("data-md-color-scheme")
        if scheme != initial:
            break
    assert scheme != initial, f"the palette toggle never left {initial!r}"
    tab.reload(wait_until="load")
    assert body.get_attribute("data-md-color-scheme") == scheme
    assert not context.blocked, context.blocked
    context.close()
