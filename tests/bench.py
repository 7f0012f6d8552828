"""Benchmark: how long the suite, the build and TensorFlow's import take, and
how many examples the suite executes. Run it with `make bench`."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sitecheck

ROOT = sitecheck.ROOT


def timed(*command: str, **env: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env},
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "executed.json"
        print("running the test suite...", file=sys.stderr, flush=True)
        suite = timed(
            sys.executable, "-m", "pytest", "-q", SITE_BENCH_REPORT=str(report)
        )
        executed = json.loads(report.read_text())
        print("building the site...", file=sys.stderr, flush=True)
        build = timed(
            sys.executable, "-m", "mkdocs", "build", "--strict", "-d", f"{tmp}/site"
        )
    tf_import = timed(sys.executable, "-c", "import tensorflow")
    snippets = sitecheck.snippets()
    blocks = [block for page in sitecheck.pages() for block in sitecheck.blocks(page)]

    rows = [
        ("test suite wall time", f"{suite:.1f} s"),
        ("site build time (mkdocs build --strict)", f"{build:.1f} s"),
        ("TensorFlow import time", f"{tf_import:.1f} s"),
        ("snippets executed", f"{executed['snippets']} of {len(snippets)}"),
        ("Python code blocks executed", f"{executed['code blocks']} of {len(blocks)}"),
        ("  of which whole snippets", str(executed["whole-script blocks"])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>8}")


if __name__ == "__main__":
    main()
