"""The site as readers get it: every built page in a real browser (Debian's
Chromium, driven by Playwright), served from 127.0.0.1 with nothing else
reachable.

One browser and one build serve the whole session. Each page is loaded
once: that visit records every request and console error, measures the
math, saves a full-page screenshot to build/screenshots/<page>.png, and
runs axe-core in the light and the dark colour scheme. Search, copy
buttons, content tabs and the palette toggle are then used as a reader
uses them.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

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
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def server(built_site):
    """The built site over HTTP on a free port of 127.0.0.1; its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
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


AXE_ALL = {"resultTypes": ["violations"]}
AXE_COLOURS = {**AXE_ALL, "runOnly": ["color-contrast", "link-in-text-block"]}


def visit(context, base: str, page: builtsite.Page, axe) -> Visit:
    """Load a page in the light scheme, take its screenshot, run axe-core,
    then switch the reader's system to dark (the palette follows it) and
    run axe-core's colour rules again."""
    result = Visit(page)
    tab = context.new_page()

    def on_console(message):
        if message.type == "error":
            result.errors.append(message.text)

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: result.errors.append(str(error)))
    tab.on("request", lambda request: result.requests.append(request.url))
    start = len(context.blocked)
    tab.goto(base + page.url, wait_until="load")
    result.math = tab.eval_on_selector_all("math", MATH_BOXES)
    tab.screenshot(
        path=SCREENSHOTS / f"{page.name}.png", full_page=True, animations="disabled"
    )
    rules = AXE_ALL
    for scheme, palette in SCHEMES.items():
        tab.emulate_media(color_scheme=scheme)
        tab.wait_for_function(f"document.body.dataset.mdColorScheme == '{palette}'")
        response = axe.run(tab, options=rules).response
        rules = AXE_COLOURS  # the other rules do not depend on the scheme
        result.violations += [
            (scheme, violation)
            for violation in response["violations"]
            if violation["impact"] in SERIOUS
        ]
    tab.wait_for_load_state("networkidle")  # the search index, for one
    result.blocked = context.blocked[start:]
    tab.close()
    return result


@pytest.fixture(scope="session")
def visits(browser, server, built_site) -> list[Visit]:
    """Every built page, loaded once."""
    from axe_playwright_python.sync_playwright import Axe

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    axe = Axe()
    context = offline_context(browser, color_scheme="light")
    done = [
        visit(context, server, page, axe)
        for page in builtsite.pages(built_site).values()
    ]
    context.close()
    return done


def test_every_page_loads_offline_without_errors(visits, built_site):
    assert len(visits) == len(builtsite.html_files(built_site))
    problems = []
    for v in visits:
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
        for v in visits
        for scheme, violation in v.violations
    ]
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


def test_math_renders(visits):
    shown = [(v.page.file, m) for v in visits for m in v.math if m["shown"]]
    assert any(file == "batch-normalization/index.html" for file, _ in shown)
    empty = [
        f"{file}: <math> {m['text']!r} is {m['width']}x{m['height']} px"
        for file, m in shown
        if not (m["width"] > 0 and m["height"] > 0)
    ]
    assert not empty, "\n".join(empty)


def test_page_weight_counts_everything_the_browser_loads(visits, built_site, server):
    """builtsite.assets (page weight, `make bench`) misses no file a page
    loads, images aside."""
    missing = []
    for v in visits:
        counted = builtsite.assets(built_site, v.page)
        for url in v.requests:
            if not url.startswith(server):
                continue
            path = urlsplit(url).path
            if Path(path).suffix in builtsite.IMAGE_SUFFIXES:
                continue
            file = builtsite.target_file(built_site, path.lstrip("/"))
            if file is None or file.relative_to(built_site).as_posix() not in counted:
                missing.append(f"{v.page.file}: loads {path}, not counted")
    assert not missing, "\n".join(sorted(set(missing)))


def page_url(markdown: Path) -> str:
    """docs/dropout.md -> "dropout/", docs/index.md -> "" (directory URLs)."""
    name = markdown.relative_to(sitecheck.ROOT / "docs").with_suffix("").as_posix()
    name = re.sub(r"(^|/)index$", "", name)
    return f"{name}/" if name else ""


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


@pytest.mark.parametrize(
    "markdown",
    [p for p in sitecheck.pages() if p.is_relative_to(sitecheck.ROOT / "docs")],
    ids=sitecheck.rel,
)
def test_copy_buttons_copy_exactly_the_code(browser, server, markdown):
    """Each Python block's copy button puts on the clipboard exactly the
    code the page shows: the snippet's section (or whole file) as the site
    renders it, without section markers, prompts or annotation markers."""
    expected = [block.code for block in sitecheck.blocks(markdown)]
    if not expected:
        return  # no Python block on this page
    context = offline_context(
        browser, permissions=["clipboard-read", "clipboard-write"]
    )
    tab = context.new_page()
    tab.goto(server + page_url(markdown), wait_until="load")
    blocks = tab.locator(".md-content .language-python.highlight")
    assert blocks.count() == len(expected), sitecheck.rel(markdown)
    wrong = []
    for index, code in enumerate(expected):
        block = blocks.nth(index)
        block.evaluate(REVEAL)
        tab.evaluate("navigator.clipboard.writeText('')")
        block.locator("button[data-md-type=copy]").click()
        copied = tab.evaluate("navigator.clipboard.readText()")
        if copied not in {code.rstrip("\n"), code.rstrip("\n") + "\n"}:
            wrong.append(f"block {index + 1}:\n--- copied\n{copied}\n--- shown\n{code}")
    context.close()
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
