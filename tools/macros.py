"""Build-time values for the pages, through the mkdocs-macros plugin.

A page opts in with `render_macros: true` in its front matter. Nothing here
imports TensorFlow, so building and serving the site stays fast: every
measured number comes from `docs/data/<name>.json`, which the tests that
measure it write (`make data`) and check on every run.
"""

import json
import math
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "docs" / "data"


def load_data() -> dict:
    return {
        path.stem: json.loads(path.read_text()) for path in sorted(DATA.glob("*.json"))
    }


def pct(value: float, digits: int = 1) -> str:
    """0.2987 -> '29.9%'."""
    return f"{value * 100:.{digits}f}%"


def updates_to_forget(momentum: float = 0.99, remaining: float = 0.01) -> int:
    """Updates after which the initial value weighs less than `remaining` in a
    moving average: the smallest n with momentum ** n < remaining."""
    return math.floor(math.log(remaining) / math.log(momentum)) + 1


def define_env(env):
    env.variables["data"] = load_data()
    env.filter(pct)
    env.macro(updates_to_forget)
