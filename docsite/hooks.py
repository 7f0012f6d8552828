"""MkDocs hooks of the site (mkdocs.yml `hooks:`).

They render the numbers of pages that ask for them (docsite/numbers.py),
check every include line before pymdownx.snippets reads it, render TeX as
MathML, name two theme elements for screen readers, and fold lab solutions.
A contributor's mistake (an include that does not resolve, a snippet that
does not parse, an unknown number, TeX that does not convert) is logged as
an error that names the file, once, and the rest of the page still builds:
`mkdocs build --strict` fails; `mkdocs serve` shows the error on the page
and keeps serving, and fixing the file recovers it.
"""

import functools
import html
import logging
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

import jinja2
from latex2mathml.converter import convert

from docsite import INCLUDE, block_key, include_problems, numbers, stored_data

log = logging.getLogger("mkdocs.hooks.docsite")


# A Python block; it shows a snippet when it holds nothing but an include.
PYTHON = re.compile(
    r"^(?P<indent>[ \t]*)```python\n(?P<code>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)


def add_outputs(markdown: str, page: str, root: Path) -> str:
    """Under each Python block, what it printed when the tests ran it, as
    they stored it in docs/data/<page>.json: a snippet's part, in its own
    run (its folder's file); the page's own block, in the page's run."""

    stored = functools.cache(lambda name: stored_data(name, root))

    def output(match):
        indent = match["indent"]
        code = re.sub(f"(?m)^{re.escape(indent)}", "", match["code"])
        shown = INCLUDE.match(code.strip())
        if shown and "\n" not in code.strip():  # snippets/<folder>/<name>.py
            script = PurePosixPath(shown["path"])
            printed = stored(script.parent.name).get(f"output:{script.name}", {})
            text = printed.get(shown["section"] or "")
        elif "--8<--" not in code:
            text = stored(page).get("output:blocks", {}).get(block_key(code))
        else:
            text = None
        if not text:
            return match[0]
        fence = "`" * max([3, *(len(run) + 1 for run in re.findall("`+", text))])
        body = "".join(f"{indent}{line}".rstrip() + "\n" for line in text.splitlines())
        return (
            f'{match[0]}\n\n{indent}{fence} {{ .text .output title="Output" }}\n'
            f"{body}{indent}{fence}"
        )

    return PYTHON.sub(output, markdown)


def on_page_markdown(markdown, page, config, files):
    where = f"docs/{page.file.src_uri}"
    root = Path(config.config_file_path).parent  # the site being built
    problems = []
    if page.meta.get("render_macros"):
        try:
            markdown, unknown = numbers.render(markdown, root)
            problems += [f"{where}: unknown number {name!r}" for name in unknown]
        except jinja2.TemplateError as error:
            line = getattr(error, "lineno", None) or "?"
            problems.append(f"{where}:{line}: {type(error).__name__}: {error}")
    problems += include_problems(markdown, where, root)
    if not problems:
        return add_outputs(markdown, Path(page.file.src_uri).stem, root)
    lines = markdown.splitlines()
    for problem in problems:
        log.error(problem)
        # pymdownx.snippets (check_paths) would stop the build at an include
        # at fault: it gets a comment instead.
        lineno = problem.split(":")[1]
        if lineno.isdigit() and (include := INCLUDE.match(lines[int(lineno) - 1])):
            indent = include[0].split("-")[0]
            lines[int(lineno) - 1] = f"{indent}# ERROR {problem}"
    notice = "\n".join(f"    {p}" for p in problems)
    return f'!!! failure "This page does not build"\n\n{notice}\n\n' + "\n".join(lines)


# TeX to MathML: pymdownx.arithmatex (generic mode) wraps $...$ and $$...$$;
# latex2mathml turns each into MathML, which browsers render with no script.
# latex2mathml copies \text{...} verbatim, escapes included: moving\_mean.
TEXT_ESCAPE = re.compile(r"\\([_%&#$\{\}])(?=[^<]*</mtext>)")
INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
BLOCK = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)


def to_mathml(tex: str, display: str) -> str:
    mathml = convert(html.unescape(tex).strip(), display=display)
    return TEXT_ESCAPE.sub(lambda escape: html.escape(escape[1]), mathml)


NOT_SEARCHED = re.compile(
    r'<div class="jp-OutputArea jp-Cell-outputArea"|<span class="notice"'
)
# mkdocs-jupyter appends the notebook's inline stylesheets as text, which the
# notebook template empties (overrides/notebook-page.html.j2) and Markdown
# then shows as a code block: "<style> [] </style>".
EMPTY_STYLE = re.compile(
    r'<div class="language-text highlight"><pre><span></span><code>\s*'
    r"&lt;style&gt;\s*\[\]\s*&lt;/style&gt;\s*</code></pre></div>"
)


def on_page_content(html_text, page, config, files):
    if page.file.src_uri.endswith(".ipynb"):  # a lab ranks below its page,
        page.meta.setdefault("search", {"boost": 0.5})
        # and its outputs and copy notices are not searched.
        html_text = NOT_SEARCHED.sub(r"\g<0> data-search-exclude", html_text)
        html_text = EMPTY_STYLE.sub("", html_text)

    def render(match, display):
        try:
            return to_mathml(match[1], display)
        except Exception as error:  # latex2mathml raises bare exceptions
            log.error(
                f"docs/{page.file.src_uri}: cannot render TeX {match[1]!r}: {error}"
            )
            return f"<code>{match[1]}</code>"

    html_text = BLOCK.sub(
        lambda m: f'<div class="math">{render(m, "block")}</div>', html_text
    )
    return INLINE.sub(lambda m: render(m, "inline"), html_text)


# Accessible names that Material's templates leave out (axe-core rules
# aria-dialog-name and aria-progressbar-name).
NAMES = {
    'data-md-component="search" role="dialog"': "Search",
    'data-md-component="progress" role="progressbar"': "Loading page",
}


def add_names(output: str) -> str:
    for attributes, name in NAMES.items():
        output = output.replace(attributes, f'{attributes} aria-label="{name}"')
    return output


# A lab's solutions (cells tagged "solution") stay closed until the reader
# opens them.
SOLUTION = re.compile(r'<div class="jp-Cell [^"]*celltag_solution[^"]*">\n(?=<div)')
DIV = re.compile(r"<div\b|</div>")


def fold_solutions(output: str) -> str:
    while match := SOLUTION.search(output):
        depth = 0
        for tag in DIV.finditer(output, match.start()):
            depth += 1 if tag[0] == "<div" else -1
            if depth == 0:
                break
        start, end = match.start(), tag.end()
        cell = output[start:end].replace("celltag_solution", "", 1)
        folded = f'<details class="solution"><summary>Solution</summary>{cell}'
        output = f"{output[:start]}{folded}</details>{output[end:]}"
    return output


def on_post_page(output, page, config):
    return add_names(fold_solutions(output))


def on_post_template(output_content, template_name, config):
    return add_names(output_content)  # 404.html, a theme template, not a page


def on_page_context(context, page, config, nav):
    # A notebook page's edit link opens its source, notebooks/<topic>.md.
    source = PurePosixPath(page.file.src_uri)
    if page.edit_url and source.match("notebooks/*.ipynb"):
        page.edit_url = urljoin(page.edit_url, f"../../notebooks/{source.stem}.md")
    return context
