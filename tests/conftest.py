import json
import os

# Quiet TensorFlow's start-up logging before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest
import sitecheck


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The site built once with `mkdocs build --strict`, for every test that
    reads the result: (site directory, finished process)."""
    site_dir = tmp_path_factory.mktemp("built") / "site"
    return site_dir, sitecheck.build_site(sitecheck.ROOT, site_dir)


def pytest_sessionfinish(session, exitstatus):
    """Leave the counts of executed examples for the benchmark command."""
    report = os.environ.get("SITE_BENCH_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as handle:
            json.dump(sitecheck.executed, handle)
