import json
import os

# Quiet TensorFlow's start-up logging before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import sitecheck


def pytest_sessionfinish(session, exitstatus):
    """Leave the counts of executed examples for the benchmark command."""
    report = os.environ.get("SITE_BENCH_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as handle:
            json.dump(sitecheck.executed, handle)
