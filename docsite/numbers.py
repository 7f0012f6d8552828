"""Numbers on pages, rendered at build time from ``docs/data/<page>.json``.

A page opts in with `render_macros: true` in its front matter; its
``{{ ... }}`` expressions are then Jinja, with ``data`` (every data file,
by page name: ``data["batch-normalization"].params_total``), the ``pct``
filter, ``updates_to_forget``, ``delta`` (a paired difference and its
interval), ``diagram`` (docsite/diagrams.py) and ``results_extract`` (the
results explorer's data). Nothing here imports TensorFlow: the tests
that measure a number write it (`make data`) and check it on every run.

An unknown name is reported, naming the page, and shown in place as
"⚠ unknown: <name>", so the rest of the page still renders.
"""

import json
import math
from pathlib import Path

import jinja2

from docsite import diagrams
from experiments.results import extract


def pct(value: float, digits: int = 1) -> str:
    """0.2987 -> '29.9%'."""
    return f"{value * 100:.{digits}f}%"


def delta(d: dict, metric: str = "val_loss") -> str:
    """A paired difference (docs/data/results.json's `differences`): its mean
    over the seeds, then its interval; accuracy in percentage points."""
    digits, factor, unit = (
        (1, 100, " points") if metric == "val_accuracy" else (3, 1, "")
    )

    def signed(x):  # rounded first, plus zero: a tiny negative shows as +0.0
        return f"{round(x * factor, digits) + 0.0:+.{digits}f}"

    level = round(d["level"] * 100)
    return (
        f"{signed(d['mean'])}{unit}, {level} % interval "
        f"{signed(d['low'])} to {signed(d['high'])}"
    )


def updates_to_forget(momentum: float = 0.99, remaining: float = 0.01) -> int:
    """Updates after which the initial value weighs less than `remaining` in a
    moving average: the smallest n with momentum ** n < remaining."""
    return math.floor(math.log(remaining) / math.log(momentum)) + 1


def render(markdown: str, root: Path) -> tuple[str, list[str]]:
    """The page with its expressions rendered, and the unknown names."""
    unknown: list[str] = []

    class Unknown(jinja2.ChainableUndefined):
        def _report(self):
            unknown.append(self._undefined_name or "?")
            return f"⚠ unknown: {self._undefined_name}"

        __str__ = __html__ = _report

        def __float__(self):
            self._report()
            return math.nan

        def __format__(self, spec):
            return self._report()

    env = jinja2.Environment(undefined=Unknown, keep_trailing_newline=True)
    env.filters["pct"] = pct
    env.globals["updates_to_forget"] = updates_to_forget
    env.globals["delta"] = delta
    env.globals["diagram"] = diagrams.render  # docsite/diagrams.py
    env.globals["data"] = {
        path.stem: json.loads(path.read_text())
        for path in sorted((root / "docs" / "data").glob("*.json"))
    }
    # The results page's explorer: a few kB of docs/data/results.json.
    env.globals["results_extract"] = lambda: extract(env.globals["data"]["results"])
    return env.from_string(markdown).render(), unknown
