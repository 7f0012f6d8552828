"""The Results page's explorer, in Chromium: for a few fixed choices it shows
each seed's score of both variants as docs/data/results.json holds them, and
the paired differences, their mean and interval that
experiments.results.paired computes; a new choice redraws the plots; the page
loads nothing from another host and logs no error."""

from __future__ import annotations

import itertools
import json

import pytest

from docsite import ROOT
from docsite.numbers import delta, pct
from experiments.results import paired

pytestmark = pytest.mark.timeout(60)

# (experiment/dataset, score, variant A, variant B), chosen in this order.
CHOICES = [
    ("placements/diabetes", "val_loss", "dropout_inputs", "baseline"),
    (
        "placements/breast_cancer_raw",
        "val_accuracy",
        "dropout_then_bn",
        "bn_relu_dropout",
    ),
    (
        "high_lr_sgd/diabetes",
        "val_loss",
        "bn_before_activation_slow_output",
        "baseline",
    ),
    # Diverged in every seed: nothing to pair.
    ("high_lr_sgd/diabetes", "val_loss", "bn_before_activation", "baseline"),
]
# The page stores six significant digits (experiments.results.number), and
# the explorer sums in a different order than Python's exact mean: its mean
# and interval may differ from paired()'s by one unit in the sixth digit.
RELATIVE = 1e-5

SHOWN = """root => ({
    plots: [...root.querySelectorAll(".results-explorer__panel")]
        .map(p => p.hidden ? "" : p.innerHTML),
    summary: {...root.querySelector(".results-explorer__summary").dataset},
    delta: root.querySelector(".results-explorer__delta")?.textContent ?? null,
    live: root.querySelector("[aria-live=polite] .results-explorer__summary") !== null,
    rows: [...root.querySelectorAll(".results-explorer__table tbody tr")].map(tr =>
        [...tr.querySelectorAll("td")].map(td => [td.dataset.value, td.textContent])),
})"""
# Each choice as a reader makes it: the <select> set, its change event sent,
# in the order of the controls; then what the explorer shows.
CHOOSE = """([root, choice]) => {
    for (const [key, value] of Object.entries(choice)) {
        const select = root.querySelector(`select[data-choice=${key}]`);
        select.value = value;
        select.dispatchEvent(new Event("change", {bubbles: true}));
    }
    return (SHOWN)(root);
}""".replace("SHOWN", SHOWN)


def score(value, metric: str) -> str:
    if value is None:
        return "diverged"
    return pct(value) if metric == "val_accuracy" else f"{value:.3f}"


def test_explorer_shows_the_paired_differences_of_the_results_file(tab):
    results = json.loads((ROOT / "docs" / "data" / "results.json").read_text())
    summary = results["summary"]
    shown, before = [], len(tab.problems)
    tab.set_viewport_size({"width": 390, "height": 844})  # a phone's
    tab.goto(tab.base + "results/", wait_until="domcontentloaded")
    root = tab.locator("[data-results-explorer]")
    root.locator(".results-explorer__table").wait_for()
    for label in ("Experiment and data", "Score", "Variant A", "Variant B"):
        assert root.get_by_label(label).count() == 1, label  # one per <select>
    handle = root.element_handle()
    for group, metric, a, b in CHOICES:
        choice = {"group": group, "metric": metric, "a": a, "b": b}
        shown.append(tab.evaluate(CHOOSE, [handle, choice]))
    tab.set_viewport_size({"width": 1280, "height": 800})

    assert tab.problems[before:] == []  # no other host, no error
    for (group, metric, a, b), seen in zip(CHOICES, shown, strict=True):
        experiment, dataset = group.split("/")
        values = [summary[experiment][dataset][v][metric]["values"] for v in (a, b)]
        expected = paired(*values)
        assert seen["live"], "the numbers are not in the aria-live region"
        # Each seed: both scores as stored, as the page formats them.
        assert len(seen["rows"]) == len(values[0])
        for row, x, y in zip(seen["rows"], *values, strict=True):
            for (raw, text), value in zip(row[:2], (x, y), strict=True):
                assert (None if raw == "null" else float(raw)) == value
                assert text == score(value, metric)
        paired_seeds = [float(row[2][0]) for row in seen["rows"] if row[2][0] != "null"]
        assert paired_seeds == pytest.approx(expected["values"], rel=RELATIVE)
        assert int(seen["summary"]["n"]) == expected["n"]
        if expected["n"] < 2:
            assert seen["delta"] is None and not seen["plots"][1]
            continue
        for key in ("mean", "low", "high"):
            assert float(seen["summary"][key]) == pytest.approx(
                expected[key], rel=RELATIVE
            ), (group, a, b, key)
        assert seen["delta"] == delta(expected, metric), (group, a, b)
    # Every new choice redrew the plots.
    for before, after in itertools.pairwise(shown):
        assert before["plots"][0] != after["plots"][0]
