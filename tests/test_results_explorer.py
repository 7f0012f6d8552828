"""The Results page's explorer, in Chromium, on a phone's screen: for a few
choices it shows each seed's scores of both variants as docs/data/results.json
holds them, and the paired differences, mean and interval that
experiments.results.paired computes; a new choice redraws the plots; the page
loads nothing from another host and logs no error."""

import itertools

import pytest

from docsite import ROOT
from docsite.numbers import delta, pct
from experiments.results import paired, read

# Each choice, made in the <select>s by their labels; in the last one, A
# diverged in every seed: nothing to pair.
LABELS = ("Experiment and data", "Score", "Variant A", "Variant B")
CHOICES = [
    "placements/diabetes val_loss dropout_inputs baseline",
    "placements/breast_cancer_raw val_accuracy dropout_then_bn bn_relu_dropout",
    "high_lr_sgd/diabetes val_loss bn_before_activation_slow_output baseline",
    "high_lr_sgd/diabetes val_loss bn_before_activation baseline",
]
# The page stores six significant digits (experiments.results.number), and
# the explorer sums in a different order than Python's exact mean: its mean
# and interval may differ from paired()'s by one unit in the sixth digit.
RELATIVE = 1e-5
# What the explorer shows: its plots (hidden: ""); the summary's numbers, read
# in the aria-live region (announced), and its difference as written; each
# seed's row: [value, text] of A, B and A minus B.
SHOWN = """root => ({
    plots: [...root.querySelectorAll(".results-explorer__panel")]
        .map(p => p.hidden ? "" : p.innerHTML),
    summary: {...root.querySelector(
        "[aria-live=polite] .results-explorer__summary")?.dataset},
    delta: root.querySelector(".results-explorer__delta")?.textContent ?? null,
    rows: [...root.querySelectorAll(".results-explorer__table tbody tr")].map(tr =>
        [...tr.querySelectorAll("td")]
            .map(td => [JSON.parse(td.dataset.value), td.textContent])),
})"""


def test_explorer_shows_the_paired_differences_of_the_results_file(tab):
    summary = read(ROOT / "docs" / "data" / "results.json")["summary"]
    shown, before = [], len(tab.problems)
    tab.set_viewport_size({"width": 390, "height": 844})  # a phone's
    tab.goto(tab.base + "results/", wait_until="domcontentloaded")
    root = tab.locator("[data-results-explorer]")
    root.locator(".results-explorer__table").wait_for()
    for choice in CHOICES:
        for label, value in zip(LABELS, choice.split(), strict=True):
            root.get_by_label(label).select_option(value)  # its one <select>
        shown.append(root.evaluate(SHOWN))
    tab.set_viewport_size({"width": 1280, "height": 800})

    assert tab.problems[before:] == []  # no other host, no error
    for choice, seen in zip(CHOICES, shown, strict=True):
        group, metric, a, b = choice.split()
        experiment, dataset = group.split("/")
        values = [summary[experiment][dataset][v][metric]["values"] for v in (a, b)]
        expected = paired(*values)
        # Each seed: both scores, as stored and as the page writes them.
        written = pct if metric == "val_accuracy" else "{:.3f}".format
        assert [row[:2] for row in seen["rows"]] == [
            [[x, "diverged" if x is None else written(x)] for x in scores]
            for scores in zip(*values, strict=True)
        ], choice
        differences = [row[2][0] for row in seen["rows"] if row[2][0] is not None]
        assert differences == pytest.approx(expected["values"], rel=RELATIVE), choice
        # The summary: n, and the mean and interval if there are two or more.
        keys = ("n", "mean", "low", "high") if expected["n"] > 1 else ("n",)
        assert {k: float(v) for k, v in seen["summary"].items()} == pytest.approx(
            {k: expected[k] for k in keys}, rel=RELATIVE
        ), (choice, "the summary, in the aria-live region")
        assert seen["delta"] == (delta(expected, metric) if expected["n"] > 1 else None)
        assert bool(seen["plots"][1]) == (expected["n"] > 1), "differences' plot"
    for before, after in itertools.pairwise(shown):
        assert before["plots"][0] != after["plots"][0], "a choice left the plot"
