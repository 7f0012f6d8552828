"""MkDocs hook: render the pages' TeX math as MathML at build time.

pymdownx.arithmatex (generic mode) wraps `$...$` and `$$...$$` in
`<span class="arithmatex">\\(...\\)</span>` and `<div class="arithmatex">
\\[...\\]</div>`; this hook swaps each for MathML from latex2mathml, which
browsers render natively. No script, no font and no CDN is needed.
"""

import html
import re

from latex2mathml.converter import convert

# latex2mathml copies \text{...} verbatim, escapes included: moving\_mean.
MTEXT = re.compile(r"<mtext>(.*?)</mtext>", re.S)
TEX_ESCAPE = re.compile(r"\\([_%&#$\{\}])")
INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
BLOCK = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)


def to_mathml(tex: str, display: str) -> str:
    try:
        mathml = convert(html.unescape(tex).strip(), display=display)
    except Exception as error:  # latex2mathml raises bare exceptions
        raise ValueError(f"cannot render TeX {tex!r}: {error}") from error
    return MTEXT.sub(_unescape_text, mathml)


def _unescape_text(match: re.Match) -> str:
    text = TEX_ESCAPE.sub(lambda escape: html.escape(escape[1]), match[1])
    return f"<mtext>{text}</mtext>"


def on_page_content(html_text, page, config, files):
    try:
        html_text = BLOCK.sub(
            lambda m: f'<div class="math">{to_mathml(m[1], "block")}</div>', html_text
        )
        return INLINE.sub(lambda m: to_mathml(m[1], "inline"), html_text)
    except ValueError as error:
        raise ValueError(f"{page.file.src_path}: {error}") from error
