"""The built site, file by file: links and anchors (docsite/built.py) and
math. The browser tests load the same build."""

import re

from docsite import ROOT, built
from docsite.hooks import to_mathml


def test_internal_links_and_anchors_resolve(built_site):
    external = built.check_links(built_site)
    # Other hosts are not fetched (the tests run offline); they are listed
    # for a reviewer in build/external-links.txt.
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "external-links.txt").write_text("\n".join(external) + "\n")


def test_math_is_mathml_built_in(built_site):
    html = (built_site / "batch-normalization" / "index.html").read_text()
    math = '<math xmlns="http://www.w3.org/1998/Math/MathML"'
    assert html.count(math) >= 5
    assert html.count(f'{math} display="block"') >= 3
    for page in built.html_files(built_site):
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(built_site)
        assert "arithmatex" not in text, f"{name}: TeX left unconverted"
        assert not re.search(r"<mtext>[^<]*\\[_%&#$]", text), f"{name}: TeX escape"


def test_tex_escapes_in_text_are_undone():
    out = to_mathml(r"\text{moving\_mean} + \text{5\% \& more}", "block")
    assert "<mtext>moving_mean</mtext>" in out
    assert "<mtext>5%&#x000A0;&amp;&#x000A0;more</mtext>" in out
