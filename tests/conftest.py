import json
import os

# Quiet TensorFlow's start-up logging before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import background
import pytest
import sitecheck


@background.fixture
def site_build():
    """`mkdocs build --strict` of the site, once per session:
    (the finished process, the built site's directory)."""
    site = background.scratch("site-build") / "site"
    return sitecheck.build_site(sitecheck.ROOT, site), site


@pytest.fixture(scope="session")
def built_site(site_build):
    """The directory of the built site, for the tests that read it."""
    result, site = site_build
    if result.returncode != 0:
        pytest.fail(
            "the site does not build (see test_strict_build_has_no_warnings):\n"
            + result.stdout
            + result.stderr
        )
    return site


def pytest_collection_modifyitems(items):
    # The tests that wait for a background job run after all the others, in
    # their usual order: meanwhile the jobs run beside the in-process tests.
    items.sort(key=lambda item: bool(background.needed_by(item)))


def _selects_after_collection(config) -> bool:
    """Whether options may yet deselect collected tests (-k, -m, ...)."""
    option = config.option
    return bool(
        option.keyword
        or option.markexpr
        or option.deselect
        or getattr(option, "lf", False)
        or getattr(option, "failedfirst", False)
    )


def pytest_itemcollected(item):
    # Every collected test will run: its background jobs start now, while
    # the rest is collected (importing TensorFlow takes seconds).
    config = item.config
    if not config.option.collectonly and not _selects_after_collection(config):
        for name in background.needed_by(item):
            background.start(name)


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    needed = (name for item in session.items for name in background.needed_by(item))
    for name in dict.fromkeys(needed):
        background.start(name)


def pytest_unconfigure(config):
    background.clean_up()


def pytest_sessionfinish(session, exitstatus):
    """Leave the counts of executed examples for the benchmark command."""
    report = os.environ.get("SITE_BENCH_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as handle:
            json.dump(sitecheck.executed, handle)
