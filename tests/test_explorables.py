"""The explorables of the Dropout and Batch Normalization pages, in Chromium:
set as Keras was run, they show the numbers it gave (docs/data/<page>.json);
each control, used from the keyboard, changes what they show; no request
leaves the site and no error is logged; a wrong variance formula is caught."""

import json
import operator
import re
from urllib.parse import urlsplit

import pytest

from docsite import ROOT

# What the claim tests recorded from Keras, page by page.
DATA = ROOT / "docs" / "data"
FIGURES = {"moving-statistics": "batch-normalization/", "dropout": "dropout/"}
# A figure with its controls (in page order) set as a reader would set them
# (an input and a change event each), then after each of `clicks` clicks on
# its button: its numbers by name (data-out), its caption and its cells.
VIEWS = """([name, settings, clicks]) => {
    const figure = document.querySelector(`[data-explorable="${name}"]`);
    const all = (selector) => [...figure.querySelectorAll(selector)];
    all("select, input").forEach((control, i) => {
        control.value = settings[i];
        for (const type of ["input", "change"]) control.dispatchEvent(new Event(type));
    });
    return Array.from({length: clicks + 1}, (_, i) => {
        if (i) figure.querySelector("button").click();
        return {
            caption: figure.querySelector("caption")?.textContent,
            cells: all("td[class]").map(td => td.textContent).join(" "),
            ...Object.fromEntries(
                all("[data-out]").map(e => [e.dataset.out, e.textContent])),
        };
    });
}"""
# The key that changes a control, whatever its state: Enter on a button, an
# arrow on a <select> or a range input (back at the last option or the end).
KEY = """control => ({
    button: "Enter",
    select: control.selectedIndex < control.length - 1 ? "ArrowDown" : "ArrowUp",
    input: Number(control.value) < Number(control.max) ? "ArrowRight" : "ArrowLeft",
})[control.localName]"""


def wrong(view: dict, expected: dict, where: str) -> list[str]:
    """The numbers of `expected` that the view does not show, to within half a
    unit of the last digit shown, plus a relative 1e-5 (float32 and float64)."""
    found = []
    for name, value in expected.items():
        shown = view[name].replace("\u2212", "-").replace(",", "").rstrip("%")
        tolerance = 0.5 * 10 ** -len(shown.partition(".")[2]) + 1e-5 * abs(value)
        if abs(float(shown) - value) > tolerance + 1e-9:
            found.append(f"{name}: shown {view[name]}, Keras {value} ({where})")
    return found


def open_figure(tab, name: str) -> None:
    """The page of a figure, once the figure is set up; from another page by a
    link, as a reader goes (instant navigation: the scripts are not reloaded)."""
    page = FIGURES[name]
    if not tab.url.startswith(tab.base):
        tab.goto(tab.base + page, wait_until="domcontentloaded")
    elif urlsplit(tab.url).path != "/" + page:
        tab.locator(f'.md-nav a[href$="{page}"]').first.click()
    tab.wait_for_selector(f'[data-explorable="{name}"][data-ready]', state="attached")


@pytest.mark.parametrize(
    "rate, shape", [("0.3", "None"), ("0.5", "(None, 1, 6)"), ("0.9", "(None, 4, 1)")]
)
def test_dropout_shows_the_masks_keras_drew(tab, rate, shape):
    """Mask after mask ("New mask"): Keras's cells, how many it kept, its scale
    1 / (1 - rate), the output's mean and the mean over the masks so far."""
    open_figure(tab, "dropout")
    data = json.loads((DATA / "dropout.json").read_text())["explorable_masks"]
    masks, scale = data["masks"][rate][shape], data["scale"][rate]
    settings = [list(data["masks"]).index(rate), shape]
    found, means = [], []
    for view in tab.evaluate(VIEWS, ["dropout", settings, len(masks) - 1]):
        k = int(re.search(r"Mask (\d+) of", view["caption"])[1]) - 1
        cells = " ".join(f"{scale:.2f}" if c == "1" else "0" for c in masks[k])
        if view["cells"] != cells:
            found.append(f"cells: shown {view['cells']}, Keras {cells} (mask {k + 1})")
        kept = masks[k].count("1")
        means.append(scale * kept / len(masks[k]))
        running = sum(means) / len(means)
        expected = {"kept": kept, "scale": scale, "mean": means[-1], "running": running}
        found += wrong(view, expected, f"mask {k + 1}")
    assert not found, "\n".join(found)
    assert not tab.problems


def moving_mismatches(tab) -> list[str]:
    """What the figure shows, set as each recorded check, unlike Keras."""
    found = []
    data = json.loads((DATA / "batch-normalization.json").read_text())
    for check in data["explorable_moving_statistics"]["checks"]:
        # The settings; what remains is what Keras gave.
        settings = [check.pop(k) for k in ("momentum", "batch_size", "updates")]
        (view,) = tab.evaluate(VIEWS, ["moving-statistics", settings, 0])
        found += wrong(view, check, f"momentum, batch size, updates: {settings}")
    return found


def test_moving_statistics_are_keras_s(tab):
    """Reached from the Dropout page, without reloading the scripts."""
    open_figure(tab, "dropout")
    tab.evaluate("window.notReloaded = true")
    open_figure(tab, "moving-statistics")
    assert tab.evaluate("window.notReloaded") is True
    found = moving_mismatches(tab)
    assert not found, "\n".join(found)
    assert not tab.problems


@pytest.mark.parametrize("name", FIGURES)
def test_each_control_changes_the_figure_by_keyboard(tab, name):
    """Its key changes the figure's text, and its plot if it has one."""
    open_figure(tab, name)
    figure = tab.locator(f'[data-explorable="{name}"]')
    look = 'f => [f.innerText, ...[...f.querySelectorAll("svg")].map(s => s.innerHTML)]'
    for control in figure.locator("button, select, input").all():
        before, key = figure.evaluate(look), control.evaluate(KEY)
        control.press(key)
        changed = map(operator.ne, figure.evaluate(look), before)  # text, plot
        assert all(changed), f"{key} on {control} left the figure as it was"
    assert not tab.problems


def test_a_wrong_variance_is_caught(tab):
    """The figure alone, with a script that divides a batch's variance by
    m - 1, not m: the comparison with Keras's values fails."""
    html = (tab.site / "batch-normalization" / "index.html").read_text()
    figure = re.search(r'<div [^>]*"moving-statistics".*?</div>', html, re.S)[0]
    script = (tab.site / "javascripts" / "explorables.js").read_text()
    right, unbiased = "** 2, 0) / batch.length;", "** 2, 0) / (batch.length - 1);"
    assert script.count(right) == 1
    tab.goto("about:blank")  # a new document, without Material's scripts
    tab.set_content(
        '<!DOCTYPE html><html lang="en"><title>Gate</title>'
        f"{figure}<script>{script.replace(right, unbiased)}</script>"
    )
    found = {line.partition(":")[0] for line in moving_mismatches(tab)}
    assert {"moving_variance", "training_output"} <= found, found
    # The moving mean does not depend on the variance, and still agrees.
    assert "moving_mean" not in found, found
