"""The site as readers get it: every built page in a real browser (Debian's
Chromium, driven by Playwright), served from 127.0.0.1 with nothing else
reachable.

One build serves the whole session, and one background job (see
background.py) does all the browsing, in a process of its own, beside the
other tests, in one tab. It visits every page once: the visit records every
request and console error, measures the math, runs axe-core in the light
colour scheme and its colour rules again in the dark scheme, and clicks
every Python block's copy button; with SCREENSHOTS=1 in the environment, it
also saves a full-page screenshot to build/screenshots/<page>.png. Then, in
the same tab, it plays what a reader does (search, content tabs, the palette
toggle), each action returning what it observed. The tests below check what
the job recorded.
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

# Debian's package; CHROMIUM=/path/to/chromium make test names another.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
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
# Screenshots are for people to look at (no test checks them) and costly
# to take: taken on request only.
TAKE_SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"
# The reader's system preference, and the palette Material shows for it.
SCHEMES = {"light": "default", "dark": "slate"}
SERIOUS = {"serious", "critical"}
VIEWPORT = {"width": 1280, "height": 800}
# Generous: the browser runs at a low priority, beside the training tests.
TIMEOUT_MS = 60_000


def require_chromium(path: Path = CHROMIUM) -> None:
    """Skip without Chromium, except on CI, where its absence is a failure."""
    if path.exists():
        return
    message = (
        f"Chromium not found at {path}: sudo apt-get install chromium, "
        "or set CHROMIUM to the browser's path"
    )
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


# The URLs that may be on another host than 127.0.0.1: only requests for
# them need the round trip to Python that a route costs.
MAYBE_ELSEWHERE = re.compile(r"^(?!https?://127\.0\.0\.1[:/])")


def offline_context(browser, **options):
    """A browser context in which requests to any host but 127.0.0.1 fail;
    each is appended to the list ``context.blocked``, which its user may
    replace to record them apart."""
    context = browser.new_context(viewport=VIEWPORT, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.blocked = []

    def route(route):
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            context.blocked.append(url)
            route.abort()

    context.route(MAYBE_ELSEWHERE, route)
    return context


# The visits run scripts in the page with tab.evaluate alone: Playwright's
# selectors and waits would first load its selector engine into each page.
MATH_BOXES = """() => [...document.querySelectorAll("math")].map(m => {
    const box = m.getBoundingClientRect();
    return {width: box.width, height: box.height, shown: m.checkVisibility(),
            text: m.textContent.slice(0, 40)};
})"""
# Once Material shows the palette of the reader's colour scheme.
PALETTE_SHOWN = """([palette, timeout]) => new Promise((shown, late) => {
    setTimeout(() => late(new Error(`palette ${palette} not shown`)), timeout);
    const check = () => document.body.dataset.mdColorScheme === palette
        ? shown() : requestAnimationFrame(check);
    check();
})"""


# A text's contrast depends on its own styles and on what lies behind it. A
# long page has some 2,000 text nodes but only about a hundred kinds, most of
# them on every page (navigation, code, footer): the colour rules check one
# element of each kind (same chain of ancestors' tags and classes, colour,
# background, font size and weight) not checked yet in that colour scheme,
# marked here with data-contrast-sample.
SAMPLE_TEXT = """checked => {
    for (const element of document.querySelectorAll("[data-contrast-sample]"))
        element.removeAttribute("data-contrast-sample");
    // An element's ground and chain of ancestors, found once for all the
    // texts that it and its descendants hold.
    const once = find => {
        const found = new Map();
        return element => {
            if (!found.has(element)) found.set(element, find(element));
            return found.get(element);
        };
    };
    const background = once(element => {
        if (!element) return "none";
        const colour = getComputedStyle(element).backgroundColor;
        if (colour !== "rgba(0, 0, 0, 0)") return colour;
        return background(element.parentElement);
    });
    const ancestors = once(element => {
        if (!element || element === document.body) return "";
        const classes = [...element.classList].sort().map(c => "." + c).join("");
        const above = ancestors(element.parentElement);
        return element.tagName + classes + (above ? " < " + above : "");
    });
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
SAMPLED = "[data-contrast-sample]"
# The rules on colours, and the elements each applies to in axe-core 4.12
# (every element, when the rule names none).
COLOUR_RULES = {"color-contrast": "*", "link-in-text-block": "a[href], [role=link]"}
# Narrowed (by axe.configure) to the texts sampled and what they contain,
# the colour rules run with all the others in the light scheme: one run of
# axe-core, which starts by reading the whole page, rather than two.
AXE_SAMPLED = {
    "rules": [
        {
            "id": rule,
            "selector": ", ".join(
                f"{s}{SAMPLED}, {SAMPLED} {s}" for s in selector.split(", ")
            ),
        }
        for rule, selector in COLOUR_RULES.items()
    ]
}
AXE_ALL = {"resultTypes": ["violations"]}
AXE_COLOURS = {"resultTypes": ["violations"], "runOnly": list(COLOUR_RULES)}


@functools.cache
def axe_source() -> str:
    """axe-core's script, as axe-playwright-python ships it."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script


def run_axe(tab, options: dict) -> list[dict]:
    """axe-core's violations of impact serious or critical on the page."""
    if tab.evaluate("typeof axe") == "undefined":  # once a page
        tab.evaluate(axe_source())
        tab.evaluate("rules => axe.configure(rules)", AXE_SAMPLED)
    response = tab.evaluate("options => axe.run(document, options)", options)
    return [v for v in response["violations"] if v["impact"] in SERIOUS]


def accessibility_violations(tab, scheme: str, checked: set) -> list[tuple[str, dict]]:
    """(scheme, violation): every rule in the light scheme, the colour rules
    alone in the dark one; the colour rules on a text of each kind not yet
    in ``checked`` (which grows)."""
    added = tab.evaluate(SAMPLE_TEXT, sorted(checked))
    checked.update(added)
    if scheme == "light":
        found = run_axe(tab, AXE_ALL)
    elif added:
        found = run_axe(tab, AXE_COLOURS)
    else:  # nothing new to check
        found = []
    return [(scheme, violation) for violation in found]


def visit(tab, base: str, page: builtsite.Page, code: list[str]) -> Visit:
    """Load a page in the light scheme, measure its math, take its
    screenshot (on request) and run axe-core; switch the reader's system to
    dark (the palette follows it) and run axe-core's colour rules again;
    then click the copy button of each Python block (``code``: what each
    shows)."""
    result = Visit(page)
    tab.visits.append(result)  # where the tab's listeners record
    tab.context.blocked = result.blocked  # and its context's route
    tab.emulate_media(color_scheme="light")
    tab.goto(base + page.url, wait_until="load")
    result.math = tab.evaluate(MATH_BOXES)
    if TAKE_SCREENSHOTS:
        tab.screenshot(
            path=SCREENSHOTS / f"{page.name}.png",
            full_page=True,
            animations="disabled",
        )
    for scheme, palette in SCHEMES.items():
        tab.emulate_media(color_scheme=scheme)
        tab.evaluate(PALETTE_SHOWN, [palette, TIMEOUT_MS])
        checked = tab.contrast_checked.setdefault(scheme, set())
        result.violations += accessibility_violations(tab, scheme, checked)
    result.copies = copy_each_block(tab, code)  # after axe: it shows a dialog
    return result


# Each Python block's copy button, clicked as a reader would: a block hidden
# in an inactive content tab or a closed "Whole script" block is revealed
# first (by a click on the tab's label or the block's summary) and drawn;
# then the click (Material's own handler copies) and the clipboard's text.
COPY_EACH_BLOCK = """async () => {
    const copied = [];
    const blocks = document.querySelectorAll(".md-content .language-python.highlight");
    for (const [index, block] of blocks.entries()) {
        let revealed = false;
        const tabbed = block.closest(".tabbed-block");
        if (tabbed && !tabbed.checkVisibility()) {
            const set = tabbed.closest(".tabbed-set");
            const position = [...tabbed.parentElement.children].indexOf(tabbed);
            set.querySelectorAll(":scope > .tabbed-labels > label")[position].click();
            revealed = true;
        }
        const details = block.closest("details");
        if (details && !details.open) {
            details.querySelector("summary").click();
            revealed = true;
        }
        if (revealed)  // what Material adds to a block once it is shown
            await new Promise(drawn => requestAnimationFrame(() => setTimeout(drawn)));
        const button = block.querySelector("button[data-md-type=copy]");
        if (!button) throw new Error(`Python block ${index + 1} has no copy button`);
        await navigator.clipboard.writeText("");
        button.click();
        copied.push(await navigator.clipboard.readText());
    }
    return copied;
}"""


def copy_each_block(tab, code: list[str]) -> list[tuple[int, str, str]]:
    """Click each Python block's copy button: (block number, what the
    clipboard then holds, the code that the page's source shows)."""
    copied = tab.evaluate(COPY_EACH_BLOCK)
    if len(copied) != len(code):
        return [(0, f"{len(copied)} Python blocks shown", f"{len(code)} written")]
    pairs = enumerate(zip(copied, code, strict=True), 1)
    return [(number, text, shown) for number, (text, shown) in pairs]


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
        browsed = browse(browser, base, site)
        browser.close()
    return browsed


def browse(browser, base: str, site: Path) -> Browsing:
    """Every page visited, then each reader action played, all in one tab:
    a new tab, or a new context, costs a new renderer process."""
    context = offline_context(
        browser, permissions=["clipboard-read", "clipboard-write"]
    )
    tab = context.new_page()
    visits = visit_every_page(tab, base, site)
    actions = {}
    for name, action in READER_ACTIONS.items():
        try:
            new_reader(tab, base)
            actions[name] = action(tab, base, site)
        except Exception as error:  # reported by the action's own test
            actions[name] = f"{type(error).__name__}: {error}"
    context.close()
    return Browsing(visits, actions)


def visit_every_page(tab, base: str, site: Path) -> dict[str, Visit]:
    # The Python blocks of each Markdown page, as the site renders them.
    code = {page_url(md): [b.code for b in sitecheck.blocks(md)] for md in DOC_PAGES}
    # Taken or not, no screenshot of an earlier build is left.
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True)
    tab.visits = []  # the listeners record into the last one
    tab.contrast_checked = {}  # scheme: kinds of text checked

    def on_console(message):
        if message.type == "error":
            tab.visits[-1].errors.append(message.text)

    listeners = {
        "console": on_console,
        "pageerror": lambda error: tab.visits[-1].errors.append(str(error)),
        "request": lambda request: tab.visits[-1].requests.append(request.url),
    }
    for event, listener in listeners.items():
        tab.on(event, listener)
    visits = {
        page.url: visit(tab, base, page, code.get(page.url, []))
        for page in builtsite.pages(site).values()
    }
    for event, listener in listeners.items():  # not the reader actions'
        tab.remove_listener(event, listener)
    return visits


def new_reader(tab, base: str) -> None:
    """Make ``tab`` a new reader's: blank, the system in the light scheme,
    nothing that the site stored (the palette, the content tab chosen), and
    the requests to other hosts recorded afresh, in ``tab.context.blocked``."""
    tab.goto("about:blank")  # no page of the site left running
    tab.emulate_media(color_scheme="light")
    # The site's storage, which a blank page cannot reach.
    cdp = tab.context.new_cdp_session(tab)
    cdp.send(
        "Storage.clearDataForOrigin",
        {"origin": base.rstrip("/"), "storageTypes": "local_storage"},
    )
    cdp.detach()
    tab.context.blocked = []


@pytest.fixture(scope="session")
def visits(browsing) -> dict[str, Visit]:
    return browsing.visits


def observed(browsing: Browsing, action: str) -> dict:
    """What a reader action observed; its error fails the test."""
    seen = browsing.actions[action]
    if isinstance(seen, str):
        pytest.fail(f"{action}: {seen}")
    return seen


# What a reader does on the site, played after the visits, in their tab
# (made a new reader's first, see new_reader): each action returns what it
# observed, which its test below checks.
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
def colour_sampling(tab, base, site) -> dict:
    # On the blank page: in place of a page of the site, this page would
    # keep the site's scripts running.
    readable = "\n".join(f'<p class="note">Readable {i}.</p>' for i in range(300))
    tab.set_content(CONTRAST_PAGE.format(readable=readable))
    found = accessibility_violations(tab, "light", set())
    checked = set()
    again = [accessibility_violations(tab, "dark", checked) for _ in range(2)]
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
def search(tab, base, site) -> dict:
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
    return {"title": tab.locator("h1").inner_text(), "blocked": tab.context.blocked}


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


def pages_containing(site: Path, markup: str) -> list[builtsite.Page]:
    """The built pages whose HTML contains ``markup``."""
    return [
        page
        for page in builtsite.pages(site).values()
        if markup in (site / page.file).read_text(encoding="utf-8")
    ]


@reader_action
def content_tabs(tab, base, site) -> dict:
    with_tabs = pages_containing(site, 'class="tabbed-set')
    if not with_tabs:
        return {"labels": 0}
    tab.goto(base + with_tabs[0].url, wait_until="load")
    tabs = tab.locator(".tabbed-set").first
    labels = tabs.locator(":scope > .tabbed-labels > label")
    blocks = tabs.locator(":scope > .tabbed-content > .tabbed-block")
    first, second = (blocks.nth(i).locator("pre").first for i in (0, 1))
    shown = [(first.is_visible(), second.is_visible())]
    for label in (1, 0):
        labels.nth(label).click()
        shown.append((first.is_visible(), second.is_visible()))
    return {"labels": labels.count(), "shown": shown}


def test_content_tabs_switch(browsing):
    seen = observed(browsing, "content_tabs")
    assert seen["labels"] >= 2, "no page uses content tabs"
    # first shown; the second label shows the second; the first, the first
    assert seen["shown"] == [(True, False), (False, True), (True, False)], seen


@reader_action
def notebook_widths(tab, base, site) -> dict:
    """Per notebook page: the width of the content column, and of its
    narrowest code cell."""
    widths = {}
    for page in pages_containing(site, 'class="jupyter-wrapper"'):
        tab.goto(base + page.url, wait_until="load")
        widths[page.url] = tab.evaluate(
            """() => [
                document.querySelector(".md-content__inner").clientWidth,
                Math.min(...[...document.querySelectorAll(".jp-InputArea-editor")]
                    .map(cell => cell.getBoundingClientRect().width)),
            ]"""
        )
    return widths


def test_notebook_code_cells_take_the_column_width(browsing):
    # A notebook's cells sit in padding of 2 x (10 + 5 + 5) px, and no less
    # wide: JupyterLab's overflow on the notebook once kept every cell
    # clear of the page's floated buttons, about 64 px narrower.
    seen = observed(browsing, "notebook_widths")
    assert len(seen) >= 3, seen
    for url, (column, narrowest) in seen.items():
        assert narrowest >= column - 42, (url, column, narrowest)


@reader_action
def palette_toggle(tab, base, site) -> dict:
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
    return {
        "initial": initial,
        "chosen": scheme,
        "after reload": body.get_attribute("data-md-color-scheme"),
        "blocked": tab.context.blocked,
    }


def test_palette_toggle_switches_and_persists(browsing):
    seen = observed(browsing, "palette_toggle")
    assert seen["chosen"] != seen["initial"], seen
    assert seen["after reload"] == seen["chosen"], seen
    assert not seen["blocked"], seen
