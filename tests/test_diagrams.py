"""The diagrams of the pages (docsite/diagrams.py): every one a page asks for
exists and renders as valid SVG with an accessible name, and the dropout
masks drawn are exactly those that Keras drew (docs/data/dropout.json)."""

import json
import re
import xml.etree.ElementTree as ET

import jinja2
import pytest

from docsite import ROOT, diagrams, numbers, pages

SVG = "{http://www.w3.org/2000/svg}"
CALL = re.compile(r"\{\{-?\s*diagram\(\s*[\"']([\w-]+)[\"']")


def calls():
    """(page, diagram name) of every diagram call on the pages."""
    return [
        (page.relative_to(ROOT).as_posix(), name)
        for page in pages()
        for name in CALL.findall(page.read_text(encoding="utf-8"))
    ]


def figures(html: str) -> list[ET.Element]:
    """The figures of one line of rendered HTML, parsed as XML."""
    found = re.findall(r'<figure class="diagram">.*?</figure>', html)
    return [ET.fromstring(figure) for figure in found]


def check(figure: ET.Element) -> ET.Element:
    """A figure with a caption and one SVG image with a name; the SVG."""
    svg = figure.find(f"{SVG}svg")
    assert svg is not None and svg.get("role") == "img"
    assert len(svg.get("aria-label", "").split()) >= 4, svg.get("aria-label")
    assert (figure.findtext("figcaption") or "").strip()
    width = float(svg.get("width"))
    assert svg.get("viewBox") == f"0 0 {svg.get('width')} {svg.get('height')}"
    assert 150 <= width <= 480, width  # fits the column; its text stays legible
    return svg


def test_every_call_names_a_known_diagram():
    found = calls()
    assert {"dropout-mask", "bn-modes", "stack"} <= {name for _, name in found}
    unknown = [
        f"{page}: {name}" for page, name in found if name not in diagrams.DIAGRAMS
    ]
    assert not unknown, unknown


@pytest.mark.parametrize("page", sorted({page for page, _ in calls()}))
def test_page_diagrams_render_as_valid_svg(page):
    markdown = (ROOT / page).read_text(encoding="utf-8")
    assert re.search(r"^render_macros: true\b", markdown, re.M), page
    html, unknown = numbers.render(markdown, ROOT)
    assert not unknown
    rendered = figures(html)
    assert len(rendered) == len(CALL.findall(markdown))
    for figure in rendered:
        check(figure)


@pytest.mark.parametrize("name", ["bn-modes", "norm-axes"])
def test_diagrams_without_data_render(name):
    for figure in figures(diagrams.render(name)):
        check(figure)


def test_dropout_masks_drawn_are_the_recorded_ones():
    data = json.loads((ROOT / "docs" / "data" / "dropout.json").read_text())
    masks = data["mask_example"]
    (figure,) = figures(diagrams.render("dropout-mask", masks))
    panels = check(figure).findall(f"{SVG}g[@class='panel']")
    assert len(panels) == len(masks)
    for panel, mask in zip(panels, masks, strict=True):
        values = [float(t.text) for t in panel.iter(f"{SVG}text")]
        assert values == [v for row in mask["output"] for v in row], mask["layer"]
        fills = [rect.get("class") for rect in panel.iter(f"{SVG}rect")]
        assert fills == ["a" if v else "i" for row in mask["output"] for v in row]
    label = check(figure).get("aria-label")
    assert all(m["layer"] in label for m in masks)


def test_unknown_diagram_or_missing_data_is_reported():
    page = '{{ diagram("no-such") }}'
    with pytest.raises(jinja2.TemplateRuntimeError, match="unknown diagram"):
        numbers.render(page, ROOT)
    html, unknown = numbers.render(
        '{{ diagram("dropout-mask", data.dropout.no_such) }}', ROOT
    )
    assert unknown and "⚠ unknown" in html
