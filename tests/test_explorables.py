"""The explorables of the Dropout and Batch Normalization pages, in Chromium:
set to the settings that Keras was run with, they show the numbers it gave
(docs/data/<page>.json); each control, used from the keyboard, changes what
they show; nothing is requested from another host and no error is logged. A
copy whose script computes the variance the wrong way is caught.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from docsite import ROOT


def recorded(page: str, name: str):
    """A value that a claim test recorded in docs/data/<page>.json."""
    return json.loads((ROOT / "docs" / "data" / f"{page}.json").read_text())[name]


# Each shown number agrees with Keras's to within half a unit of its last
# shown digit, plus a relative 1e-5 for float32 against JavaScript's float64.
RELATIVE = 1e-5
# Settings of the Dropout figure: (rate, noise_shape).
DROPOUT_SETTINGS = [("0.3", "None"), ("0.5", "(None, 1, 6)"), ("0.9", "(None, 4, 1)")]


def number(text: str) -> float:
    """A shown number: typographic minus, thousands separators, a % sign."""
    return float(text.replace("\u2212", "-").replace(",", "").rstrip("%"))


def close(shown: str, expected: float) -> bool:
    decimals = len(shown.partition(".")[2].rstrip("%"))
    tolerance = 0.5 * 10**-decimals + RELATIVE * abs(expected) + 1e-9
    return abs(number(shown) - expected) <= tolerance


def open_page(tab, page: str) -> None:
    """The page, once its explorable is set up; the tests of one page share
    one visit (a page takes seconds to load on a busy machine)."""
    if urlsplit(tab.url).path != "/" + page:
        tab.goto(tab.base + page, wait_until="domcontentloaded")
    tab.wait_for_selector("[data-explorable][data-ready]", state="attached")


def shown(tab, root: str) -> dict[str, str]:
    """The numbers an explorable shows, by name."""
    return tab.evaluate(SHOWN, root)


SHOWN = """root => Object.fromEntries([...document.querySelectorAll(
    `[data-explorable="${root}"] [data-out]`)]
    .map(e => [e.dataset.out, e.textContent]))"""
# A range input set to a value, as a reader's drag would (an input event).
SET_RANGE = """([selector, value]) => {
    const slider = document.querySelector(selector);
    slider.value = value;
    slider.dispatchEvent(new Event("input"));
}"""
# Dropout's figure, mask after mask: its caption, cells and numbers, then a
# click on "New mask".
MASKS_SHOWN = """([root, count]) => {
    const figure = document.querySelector(`[data-explorable="${root}"]`);
    const shown = [];
    for (let i = 0; i < count; i++) {
        shown.push({
            caption: figure.querySelector("caption").textContent,
            cells: [...figure.querySelectorAll("td[class]")].map(td => td.textContent),
            numbers: Object.fromEntries([...figure.querySelectorAll("[data-out]")]
                .map(e => [e.dataset.out, e.textContent])),
        });
        figure.querySelector("button").click();
    }
    return shown;
}"""


def dropout_mismatches(tab) -> list[str]:
    """Every mask of each setting, as shown, against Keras's."""
    found = []
    root = '[data-explorable="dropout"]'
    data = recorded("dropout", "explorable_masks")
    rates = list(data["masks"])
    for rate, shape in DROPOUT_SETTINGS:
        tab.evaluate(SET_RANGE, [f"{root} input[type=range]", rates.index(rate)])
        tab.locator(f"{root} select").select_option(shape)
        masks, scale = data["masks"][rate][shape], data["scale"][rate]
        seen = []
        for figure in tab.evaluate(MASKS_SHOWN, ["dropout", len(masks)]):
            k = int(re.search(r"Mask (\d+) of", figure["caption"])[1]) - 1
            seen.append(k)
            expected = [f"{scale:.2f}" if c == "1" else "0" for c in masks[k]]
            if figure["cells"] != expected:
                found.append(f"rate {rate}, {shape}, mask {k + 1}: {figure['cells']}")
            means = [scale * masks[m].count("1") / len(masks[m]) for m in seen]
            for name, value in [
                ("kept", masks[k].count("1")),
                ("scale", scale),
                ("mean", means[-1]),
                ("running", sum(means) / len(means)),
            ]:
                if not close(figure["numbers"][name], value):
                    found.append(f"rate {rate}, {shape}, mask {k + 1}: {name} {figure}")
    return found


def moving_mismatches(tab) -> list[str]:
    """The moving statistics and the first wine's outputs, as shown after
    each checked setting's updates, against Keras's."""
    found = []
    root = '[data-explorable="moving-statistics"]'
    data = recorded("batch-normalization", "explorable_moving_statistics")
    for check in data["checks"]:
        selects = tab.locator(f"{root} select")
        selects.nth(0).select_option(str(check["momentum"]))
        selects.nth(1).select_option(str(check["batch_size"]))
        tab.evaluate(SET_RANGE, [f"{root} input[type=range]", check["updates"]])
        numbers = shown(tab, "moving-statistics")
        for name in (
            "moving_mean",
            "moving_variance",
            "training_output",
            "inference_output",
        ):
            if not close(numbers[name], check[name]):
                found.append(
                    f"{name}: {numbers[name]}, Keras {check[name]} (momentum "
                    f"{check['momentum']}, batches of {check['batch_size']}, "
                    f"{check['updates']} updates)"
                )
    return found


def test_dropout_shows_the_masks_keras_drew(tab):
    open_page(tab, "dropout/")
    assert not dropout_mismatches(tab)
    assert not tab.problems


# The key that changes a control, whatever its state: Enter on a button, an
# arrow on a <select> or a range input (back at the last option or the end).
KEY = """control => ({
    button: "Enter",
    select: control.selectedIndex < control.length - 1 ? "ArrowDown" : "ArrowUp",
    input: Number(control.value) < Number(control.max) ? "ArrowRight" : "ArrowLeft",
})[control.localName]"""


def each_control(figure):
    """Each control of the figure, and the key that changes it."""
    for i in range(figure.locator("button, select, input").count()):
        control = figure.locator("button, select, input").nth(i)
        yield control, control.evaluate(KEY)


def test_dropout_controls_change_the_figure_by_keyboard(tab):
    open_page(tab, "dropout/")
    figure = tab.locator('[data-explorable="dropout"]')
    for control, key in each_control(figure):
        before = figure.inner_text()
        control.press(key)
        assert figure.inner_text() != before, (control, key)
    assert not tab.problems


def test_moving_statistics_are_keras_s(tab):
    """Reached from the Dropout page by a link, as a reader would: Material's
    instant navigation swaps the page without reloading the scripts."""
    open_page(tab, "dropout/")
    tab.evaluate("window.notReloaded = true")
    tab.locator('.md-nav a[href$="batch-normalization/"]').first.click()
    tab.wait_for_selector('[data-explorable="moving-statistics"][data-ready]')
    assert tab.evaluate("window.notReloaded") is True
    assert not moving_mismatches(tab)
    assert not tab.problems


def test_moving_statistics_controls_change_the_figure_by_keyboard(tab):
    open_page(tab, "batch-normalization/")
    figure = tab.locator('[data-explorable="moving-statistics"]')
    plot = figure.locator("svg")
    for control, key in each_control(figure):
        before = plot.inner_html(), figure.inner_text()
        control.press(key)
        assert plot.inner_html() != before[0], (control, key)
        assert figure.inner_text() != before[1], (control, key)
    assert not tab.problems


FIGURE = re.compile(
    r'<div class="explorable" data-explorable="moving-statistics".*?</div>', re.S
)


def test_a_wrong_variance_is_caught(tab):
    """The figure alone, with a script that divides a batch's variance by
    m - 1, not m: the comparison with Keras's values fails."""
    html = (tab.site / "batch-normalization" / "index.html").read_text()
    script = (tab.site / "javascripts" / "explorables.js").read_text()
    right, wrong = "** 2, 0) / batch.length;", "** 2, 0) / (batch.length - 1);"
    assert script.count(right) == 1
    tab.goto("about:blank")  # a new document, without Material's scripts
    tab.set_content(
        '<!DOCTYPE html><html lang="en"><title>Gate</title>'
        f"{FIGURE.search(html)[0]}<script>{script.replace(right, wrong)}</script>"
    )
    wrong = {line.partition(":")[0] for line in moving_mismatches(tab)}
    assert {"moving_variance", "training_output"} <= wrong, wrong
    # The moving mean does not depend on the variance, and still agrees.
    assert "moving_mean" not in wrong, wrong
