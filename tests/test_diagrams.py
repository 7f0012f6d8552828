"""The diagrams of the pages (docsite/diagrams.py): every one a page asks for
exists and renders, through the site's Markdown and inside a content tab, as
valid SVG with an accessible name and a caption; the Dropout masks drawn are
exactly those that Keras drew (docs/data/dropout.json)."""

import functools
import json
import re
import xml.etree.ElementTree as ET

import jinja2
import markdown
import pytest

from docsite import ROOT, diagrams, markdown_config, numbers, pages, rel

SVG = "{http://www.w3.org/2000/svg}"
DRAWN = {"svg", "style", "g", "text", "rect", "path", "polygon"}
FIGURE = re.compile(r'<figure class="diagram">.*?</figure>')
CALL = re.compile(r"\{\{-?\s*diagram\(\s*[\"']([\w-]+)[\"']")
# Code shows a call without making it: fenced blocks and inline code.
CODE = re.compile(r"^([ \t]*`{3,}).*?^\1|`[^`\n]+`", re.S | re.M)
# The diagrams each page calls, outside code (the contributors' guide shows some).
CALLS = {
    rel(page): CALL.findall(CODE.sub("", page.read_text(encoding="utf-8")))
    for page in pages()
}


def svgs(html: str):
    """The SVG of each diagram's figure in some HTML, once checked: a named
    image with a caption, drawn with SVG elements only (no glossary <abbr> or
    emphasis in its text)."""
    for figure in map(ET.fromstring, FIGURE.findall(html)):
        svg = figure.find(f"{SVG}svg")
        assert svg is not None and svg.get("role") == "img"
        tags = {el.tag.removeprefix(SVG) for el in svg.iter()}
        assert tags <= DRAWN, tags - DRAWN
        assert len(svg.get("aria-label", "").split()) >= 4, svg.get("aria-label")
        assert "".join(figure.find("figcaption").itertext()).strip()
        assert svg.get("viewBox") == f"0 0 {svg.get('width')} {svg.get('height')}"
        assert 150 <= float(svg.get("width")) <= 480  # its text stays legible
        yield svg


@functools.cache
def converter():
    extensions, options = markdown_config()
    return markdown.Markdown(extensions=extensions, extension_configs=options)


@pytest.mark.parametrize("page", [page for page, names in CALLS.items() if names])
def test_page_diagrams_render_as_valid_svg(page):
    """Each figure in a content tab, where Markdown reads it as inline HTML,
    with the glossary, whose terms it would mark up; an unknown diagram fails
    the page's render."""
    source = (ROOT / page).read_text(encoding="utf-8")
    assert re.search(r"^render_macros: true\b", source, re.M), page
    text, unknown = numbers.render(source, ROOT)
    assert not unknown
    tabs = "".join(f'=== "Tab"\n\n    {figure}\n\n' for figure in FIGURE.findall(text))
    tabs += '--8<-- "docs/includes/abbreviations.md"\n'
    drawn = svgs(converter().reset().convert(tabs))
    assert len(list(drawn)) == len(CALL.findall(source))


def test_dropout_masks_drawn_are_the_recorded_ones():
    """Each layer's panel: its output's values as text, kept cells filled."""
    masks = json.loads((ROOT / "docs/data/dropout.json").read_text())["mask_example"]
    (svg,) = svgs(diagrams.render("dropout-mask", masks))
    for panel, mask in zip(svg.findall(f"{SVG}g[@class='panel']"), masks, strict=True):
        output = [v for row in mask["output"] for v in row]
        assert [float(t.text) for t in panel.iter(f"{SVG}text")] == output
        fills = [rect.get("class") for rect in panel.iter(f"{SVG}rect")]
        assert fills == ["a" if v else "i" for v in output], mask["layer"]
        assert mask["layer"] in svg.get("aria-label")


def test_diagram_calls_are_found_and_mistakes_reported():
    """The pattern finds the pages' calls; an unknown diagram raises, and a
    number missing from docs/data/ is reported as anywhere on a page."""
    assert {"dropout-mask", "bn-modes", "stack"} <= set().union(*CALLS.values())
    with pytest.raises(jinja2.TemplateRuntimeError, match="unknown diagram"):
        numbers.render('{{ diagram("no-such") }}', ROOT)
    page = '{{ diagram("dropout-mask", data.dropout.no_such) }}'
    html, unknown = numbers.render(page, ROOT)
    assert unknown and "⚠ unknown" in html
