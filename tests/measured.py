"""Numbers that pages show come from here: a test measures a value, checks
the claim it supports, then records it in `docs/data/<page>.json`, which
the page renders at build time (see tools/macros.py).

Normally the stored value must equal the measurement (floats to within one
unit of the last stored digit), so a page can never show a stale number.
`make data` (UPDATE_DATA=1) rewrites the files instead.
"""

import json
import os

from sitecheck import ROOT

DATA = ROOT / "docs" / "data"
UPDATE = os.environ.get("UPDATE_DATA") == "1"


def record(page: str, name: str, value, digits: int = 4):
    """Store (with UPDATE_DATA=1) or check the value a page shows."""
    if isinstance(value, float):
        value = round(value, digits)
    path = DATA / f"{page}.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    if UPDATE:
        stored[name] = value
        DATA.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
        return value
    assert name in stored, f"{path.relative_to(ROOT)}: no {name!r}; run `make data`"
    # Floats may differ by one unit in the last stored digit between machines.
    same = (
        abs(stored[name] - value) <= 1.01 * 10**-digits
        if isinstance(value, float)
        else stored[name] == value
    )
    assert same, (
        f"{path.relative_to(ROOT)}: {name} is {stored[name]!r} but measures "
        f"{value!r}; run `make data`"
    )
    return value
