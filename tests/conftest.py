import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from docsite import ROOT, ScriptFailed

# Quiet TensorFlow's start-up logging before anything imports it; draw
# figures without a display.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# `make test` runs the tests in two processes (pytest-xdist), by group: the
# tests that build, read or browse the site form one group (one build, one
# browser); the others, one group per page: its scripts, its blocks and its
# claims, so that each script is trained in one process only.
SITE_MODULES = {"test_site.py", "test_built_site.py", "test_browser.py"}
PAGE_IN_ID = re.compile(r"\[(?:docs|snippets)/([\w-]+)")


def group(item) -> str:
    if {"broken_site", "broken"} & set(item.fixturenames):  # broken on purpose
        return "broken-copy"
    # The site's fixtures (built_site, visits, tab) all use site_build.
    if item.path.name in SITE_MODULES or "site_build" in item.fixturenames:
        return "site"
    if match := PAGE_IN_ID.search(item.nodeid):
        return match[1]
    return item.path.stem.removeprefix("test_claims_").replace("_", "-")


def pytest_addoption(parser):
    parser.addoption(
        "--page",
        metavar="PAGE",
        help="only the checks of docs/PAGE.md, its snippets and claims, and "
        "a strict build of the site",
    )


# The modules that hold a page's checks, besides its claims' (with --page,
# the others are not even imported).
PAGE_MODULES = {"test_pages.py", "test_snippets.py", "test_diagrams.py"}
PAGE_MODULES |= {"test_browser.py", "test_site.py"}


def claims_module(page: str) -> str:
    return f"test_claims_{page.replace('-', '_')}.py"


def pytest_ignore_collect(collection_path, config):
    page = config.getoption("--page")
    if page and collection_path.name.startswith("test_"):
        return collection_path.name not in PAGE_MODULES | {claims_module(page)}
    return None


def about_page(item, page: str) -> bool:
    return (
        item.path.name == claims_module(page)
        or f"docs/{page}.md]" in item.nodeid
        or f"[snippets/{page}/" in item.nodeid
        or item.name == "test_strict_build_has_no_warnings"
    )


def pytest_itemcollected(item):
    item.add_marker(pytest.mark.xdist_group(group(item)))


OWN_TEST = "test_snippet_trains"  # a script's own test, which reports it


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that only needs a failed script's results is skipped: the
    script's own test reports the failure, once."""
    try:
        return (yield)
    except ScriptFailed as failed:
        if item.originalname == OWN_TEST:
            raise
        pytest.skip(f"{failed.args[0].split(': ')[0]} fails; {OWN_TEST} reports it")


def pytest_collection_modifyitems(config, items):
    # The largest groups first (the site's, then by number of tests), so that
    # the last group to start is a short one and both workers end together.
    size = Counter(map(group, items))
    size["site"] = len(items)
    # In each group, the scripts' own tests first: a script that fails
    # does so in its own test.
    items.sort(key=lambda item: (-size[group(item)], item.originalname != OWN_TEST))
    if page := config.getoption("--page"):
        if not (ROOT / "docs" / f"{page}.md").is_file():
            raise pytest.UsageError(f"--page {page}: there is no docs/{page}.md")
        kept = [item for item in items if about_page(item, page)]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def site_build(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`mkdocs build --strict` of the site, once: (the process, the site)."""
    site = tmp_path_factory.mktemp("site")
    return build(ROOT, site), site


def build(root: Path, site: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def built_site(site_build) -> Path:
    """The built site's directory, for the tests that read it; they skip
    when the site does not build, which one test reports."""
    result, site = site_build
    if result.returncode != 0:
        pytest.skip("the site does not build: see test_strict_build_has_no_warnings")
    return site


@pytest.fixture(scope="session")
def tab(built_site):
    """One Chromium tab on the built site, offline, for the tests of the
    interactive figures (test_browser.open_tab)."""
    from test_browser import open_tab

    with open_tab(built_site) as tab:
        yield tab
