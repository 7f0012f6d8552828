"""The claims of docs/together.md, one test each."""

import sitecheck
from measured import record
from sitecheck import ROOT, claim


@claim("together/variance-shift")
def test_variance_shift():
    shift = sitecheck.run_snippet(ROOT / "snippets/together/variance_shift.py")["shift"]
    # Dropout(0.5) first: training variance = 2 sigma^2 + mu^2 >= 2 sigma^2.
    assert shift[True] > 1.8
    # BatchNormalization first: it sees the same input in both modes.
    assert abs(shift[False] - 1) < 1e-4
    record("together", "shift_dropout_first", shift[True], digits=2)
    record("together", "shift_bn_first", shift[False], digits=2)
