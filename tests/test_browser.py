"""The site as readers get it: every built page in a real browser (Debian's
Chromium, driven by Playwright), served from 127.0.0.1 with nothing else
reachable.

One build serves the whole session, and one background job (see
background.py) does all the browsing, in a process of its own, beside the
other tests. It visits every page once, in one tab: the visit records every
request and console error, measures the math, saves a full-page screenshot
to build/screenshots/<page>.png, runs axe-core in the light colour scheme
and its colour rules again in the dark scheme, and clicks every Python
block's copy button. Then it plays what a reader does (search, content tabs,
the palette toggle), each action returning what it observed. The tests
below check what the job recorded.
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
    # Generous: the browser runs at a low priority, beside the training tests.
    context.set_default_timeout(60_000)
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


@dataclass
class Browsing:
    visits: dict[str, Visit]  # page URL: its visit
    actions: dict[str, dict | str]  # reader action: what it observed, or its error


@background.fixture(process=True)
def browsing(site_build, chromium) -> Browsing:
    """Every built page visited once, then each reader action played, in one
    Chromium, in a process of its own."""
    from playwright.sync_api import sync_playwright

    site = site_build[1]
    with sync_playwright() as playwright, serve(site) as base:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        visits = visit_every_page(browser, base, site)
        actions = {}
        for name, action in READER_ACTIONS.items():
            try:
                actions[name] = action(browser, base, site)
            except Exception as error:  # reported by the action's own test
                actions[name] = f"{type(error).__name__}: {error}"
        browser.close()
    return Browsing(visits, actions)


def visit_every_page(browser, base: str, site: Path) -> dict[str, Visit]:
    # The Python blocks of each Markdown page, as the site renders them.
    code = {page_url(md): [b.code for b in sitecheck.blocks(md)] for md in DOC_PAGES}
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
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
    visits = {
        page.url: visit(tab, base, page, code.get(page.url, []))
        for page in builtsite.pages(site).values()
    }
    context.close()
    return visits


@pytest.fixture(scope="session")
def visits(browsing) -> dict[str, Visit]:
    return browsing.visits


def observed(browsing: Browsing, action: str) -> dict:
    """What a reader action observed; its error fails the test."""
    seen = browsing.actions[action]
    if isinstance(seen, str):
        pytest.fail(f"{action}: {seen}")
    return seen


# What a reader does on the site, played after the visits: each action
# returns what it observed, which its test below checks.
READER_ACTIONS = {}


def reader_action(function):
    READER_ACTIONS[function.__name__] = function
    return function


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


@reader_action
def colour_sampling(browser, base, site) -> dict:
    context = offline_context(browser)
    tab = context.new_page()
    readable = "\n".join(f'<p class="note">Readable {i}.</p>' for i in range(300))
    tab.set_content(CONTRAST_PAGE.format(readable=readable))
    found = accessibility_violations(tab, "light", set())
    checked = set()
    again = [accessibility_violations(tab, "dark", checked) for _ in range(2)]
    context.close()
    return {
        "faint": sorted(
            node["target"][0]
            for _, violation in found
            if violation["id"] == "color-contrast"
            for node in violation["nodes"]
        ),
        "kinds": len(checked),
        "violations in dark, twice": [len(found) for found in again],
    }


def test_colour_rules_check_every_kind_of_text(browsing):
    """Checking one text of each kind still finds the one faint text among
    hundreds of readable ones, and a readable style on a dark ground; a kind
    checked once is not checked again."""
    seen = observed(browsing, "colour_sampling")
    assert seen["faint"] == ["#faint", "#on-dark"], seen
    first, second = seen["violations in dark, twice"]
    assert seen["kinds"] > 0 and first > 0 and second == 0, seen


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


@reader_action
def search(browser, base, site) -> dict:
    context = offline_context(browser)
    tab = context.new_page()
    tab.goto(base, wait_until="load")
    tab.locator(".md-search__input").click()
    tab.keyboard.type("momentum")
    # Several pages mention momentum; the reader picks Batch Normalization's
    # (once the results for the whole word are shown: they are redrawn as
    # each letter is typed).
    tab.locator(".md-search-result__meta", has_text="matching").wait_for()
    page = tab.locator(
        f'.md-search-result__link[href^="{base}batch-normalization/"]'
    ).first
    page.click()  # scrolls to the link; found again if the list was redrawn
    tab.wait_for_url(f"{base}batch-normalization/**")
    seen = {"title": tab.locator("h1").inner_text(), "blocked": context.blocked}
    context.close()
    return seen


def test_search_finds_a_page(browsing):
    seen = observed(browsing, "search")
    assert seen["title"].rstrip("¶") == "Batch Normalization", seen
    assert not seen["blocked"], seen


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


@reader_action
def content_tabs(browser, base, site) -> dict:
    with_tabs = [
        page
        for page in builtsite.pages(site).values()
        if 'class="tabbed-set' in (site / page.file).read_text(encoding="utf-8")
    ]
    if not with_tabs:
        return {"labels": 0}
    context = offline_context(browser)
    tab = context.new_page()
    tab.goto(base + with_tabs[0].url, wait_until="load")
    tabs = tab.locator(".tabbed-set").first
    labels = tabs.locator(":scope > .tabbed-labels > label")
    blocks = tabs.locator(":scope > .tabbed-content > .tabbed-block")
    first, second = (blocks.nth(i).locator("pre").first for i in (0, 1))
    shown = [(first.is_visible(), second.is_visible())]
    for label in (1, 0):
        labels.nth(label).click()
        shown.append((first.is_visible(), second.is_visible()))
    seen = {"labels": labels.count(), "shown": shown}
    context.close()
    return seen


def test_content_tabs_switch(browsing):
    seen = observed(browsing, "content_tabs")
    assert seen["labels"] >= 2, "no page uses content tabs"
    # first shown; the second label shows the second; the first, the first
    assert seen["shown"] == [(True, False), (False, True), (True, False)], seen


@reader_action
def palette_toggle(browser, base, site) -> dict:
    context = offline_context(browser, color_scheme="light")
    tab = context.new_page()
    tab.goto(base, wait_until="load")
    body = tab.locator("body")
    initial = scheme = body.get_attribute("data-md-color-scheme")
    toggles = tab.locator("form[data-md-component=palette] label")
    # The toggle cycles system preference -> light -> dark: at most one
    # click per palette changes the scheme.
    for _ in range(toggles.count()):
        toggles.locator("visible=true").first.click()
        scheme = body.get_attribute("data-md-color-scheme")
        if scheme != initial:
            break
    tab.reload(wait_until="load")
    seen = {
        "initial": initial,
        "chosen": scheme,
        "after reload": body.get_attribute("data-md-color-scheme"),
        "blocked": context.blocked,
    }
    context.close()
    return seen


def test_palette_toggle_switches_and_persists(browsing):
    seen = observed(browsing, "palette_toggle")
    assert seen["chosen"] != seen["initial"], seen
    assert seen["after reload"] == seen["chosen"], seen
    assert not seen["blocked"], seen
