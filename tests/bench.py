"""Benchmark: how long the suite, the build and TensorFlow's import take, how
many examples the suite executes, and what each page weighs. Run it with
`make bench`."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import builtsite
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
        weights = page_weights(Path(tmp) / "site")
    tf_import = timed(sys.executable, "-c", "import tensorflow")
    # This machine's speed at the time: the same work whatever the suite
    # does, to compare suite times measured on different days or machines.
    reference = timed(sys.executable, "-c", REFERENCE, TF_CPP_MIN_LOG_LEVEL="2")
    snippets = sitecheck.snippets()
    blocks = [block for page in sitecheck.pages() for block in sitecheck.blocks(page)]

    rows = [
        ("test suite wall time", f"{suite:.1f} s"),
        ("site build time (mkdocs build --strict)", f"{build:.1f} s"),
        ("TensorFlow import time", f"{tf_import:.1f} s"),
        ("speed reference: a fixed Keras workload", f"{reference:.1f} s"),
        ("snippets executed", f"{executed['snippets']} of {len(snippets)}"),
        ("Python code blocks executed", f"{executed['code blocks']} of {len(blocks)}"),
        ("  of which whole snippets", str(executed["whole-script blocks"])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>8}")
    print()
    print(weights)


# A fixed workload, unrelated to the site's own code (which changes): the
# TensorFlow import, then three small models trained and evaluated.
REFERENCE = """
import keras
from sklearn.datasets import load_diabetes

keras.utils.set_random_seed(0)
x, y = load_diabetes(return_X_y=True)
for width in (16, 256, 1024):
    model = keras.Sequential([
        keras.Input(shape=(10,)),
        keras.layers.Dense(width, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    model.evaluate(x, y, verbose=0)
"""

KINDS = {".html": "HTML", ".css": "CSS", ".js": "JS"}


def page_weights(site: Path) -> str:
    """A table of the bytes each page loads from the site (uncompressed;
    images excluded), by kind of file; each file counts once per page."""
    header = ["page", *KINDS.values(), "budgeted", "other"]
    lines = []
    for page in builtsite.pages(site).values():
        sizes = dict.fromkeys(header[1:], 0)
        for file, size in builtsite.assets(site, page).items():
            kind = KINDS.get(Path(file).suffix, "other")
            sizes[kind] += size
            if kind != "other":
                sizes["budgeted"] += size
        lines.append([page.file, *(f"{size / 1000:.1f} kB" for size in sizes.values())])
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    table = [header, *lines]
    rows = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    ]
    limit = builtsite.MAX_PAGE_BYTES / 1000
    return (
        f"page weight (budgeted = HTML + CSS + JS, limit {limit:.0f} kB; "
        "other = data the page reads: search index, sitemap)\n" + "\n".join(rows)
    )


if __name__ == "__main__":
    main()
