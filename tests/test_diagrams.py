"""The diagrams of the pages (docsite/diagrams.py): every one a page asks for
exists and renders, through the site's Markdown, as valid SVG with an
accessible name, and the dropout masks drawn are exactly those that Keras
drew (docs/data/dropout.json)."""

import functools
import json
import re
import xml.etree.ElementTree as ET

import jinja2
import pytest

from docsite import ROOT, diagrams, markdown_config, numbers, pages

SVG = "{http://www.w3.org/2000/svg}"
DRAWN = {"svg", "style", "g", "text", "rect", "path", "polygon"}
CALL = re.compile(r"\{\{-?\s*diagram\(\s*[\"']([\w-]+)[\"']")


# Code shows a call without making it: fenced blocks and inline code.
CODE = re.compile(r"^([ \t]*`{3,}).*?^\1|`[^`\n]+`", re.S | re.M)


def calls():
    """(page, diagram name) of every diagram call on the pages, outside
    code (the contributors' guide shows some)."""
    return [
        (page.relative_to(ROOT).as_posix(), name)
        for page in pages()
        for name in CALL.findall(CODE.sub("", page.read_text(encoding="utf-8")))
    ]


def figures(html: str) -> list[ET.Element]:
    """The diagrams' figures in some HTML, each parsed as XML."""
    found = re.findall(r'<figure class="diagram">.*?</figure>', html)
    return [ET.fromstring(figure) for figure in found]


@functools.cache
def converter():
    """The site's Markdown, with its extensions and their options."""
    import markdown

    extensions, options = markdown_config()
    return markdown.Markdown(extensions=extensions, extension_configs=options)


def in_tabs(text: str) -> str:
    """The page's figures, each in a content tab, where Markdown reads it as
    inline HTML, and the glossary, whose terms it would mark up."""
    lines = [line.strip() for line in text.splitlines() if 'class="diagram"' in line]
    tabs = "".join(f'=== "Tab"\n\n    {line}\n\n' for line in lines)
    return tabs + '--8<-- "docs/includes/abbreviations.md"\n'


def check(figure: ET.Element) -> ET.Element:
    """A figure with a caption and one SVG image with a name, drawn with SVG
    elements only (no glossary <abbr> or emphasis in its text); the SVG."""
    svg = figure.find(f"{SVG}svg")
    assert svg is not None and svg.get("role") == "img"
    tags = {el.tag.removeprefix(SVG) for el in svg.iter()}
    assert tags <= DRAWN, tags - DRAWN
    assert len(svg.get("aria-label", "").split()) >= 4, svg.get("aria-label")
    assert "".join(figure.find("figcaption").itertext()).strip()
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
    source = (ROOT / page).read_text(encoding="utf-8")
    assert re.search(r"^render_macros: true\b", source, re.M), page
    text, unknown = numbers.render(source, ROOT)
    assert not unknown
    rendered = figures(converter().reset().convert(in_tabs(text)))
    assert len(rendered) == len(CALL.findall(source))
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
