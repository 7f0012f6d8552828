"""Checks of the results page and its figures, run on the real site by
``test_experiments.py`` and on a broken copy by ``test_gates.py``: no number
typed by hand into the page's prose (the build renders every one from
``docs/data/results.json``), and every figure under ``docs/figures/`` shown
with a real alt text."""

import re
from pathlib import Path

import docsite
from docsite import ROOT, SiteError, rel

IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)")
MIN_ALT_WORDS = 6

# What may hold digits without being prose: front matter, fenced code,
# inline code, Jinja expressions, statements and comments, HTML comments,
# link and image targets, reference-style link definitions, and includes.
NOT_PROSE = [
    re.compile(r"\A---\n.*?\n---\n", re.S),
    re.compile(r"^(?P<f>`{3,}|~{3,}).*?^(?P=f)\s*$", re.S | re.M),
    re.compile(r"`[^`\n]*`"),
    re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"\]\([^)]*\)"),
    re.compile(r"^\[[^\]]+\]:\s*\S+.*$", re.M),
    re.compile(r'^\s*--8<-- ".*"$', re.M),
]


def check_figures_shown(root: Path = ROOT) -> None:
    """Every SVG under docs/figures/ is on some page, with an alt text of
    at least MIN_ALT_WORDS words."""
    figures = {path.resolve() for path in (root / "docs" / "figures").glob("*.svg")}
    shown, problems = set(), []
    for page in docsite.pages(root):
        lines = page.read_text(encoding="utf-8").splitlines()
        for lineno, line in enumerate(lines, 1):
            for image in IMAGE.finditer(line):
                # Material's "#only-light" and "#only-dark" pick the scheme.
                target = (page.parent / image["src"].partition("#")[0]).resolve()
                shown.add(target)
                if target in figures and len(image["alt"].split()) < MIN_ALT_WORDS:
                    problems.append(
                        f"{rel(page, root)}:{lineno}: {target.name} needs an alt "
                        f"text of {MIN_ALT_WORDS} words or more that says what it "
                        f"shows (found {image['alt']!r})"
                    )
    for figure in sorted(figures - shown):
        problems.append(f"{rel(figure, root)}: no page shows this figure")
    if problems:
        raise SiteError("\n".join(problems))


def check_no_typed_numbers(page: Path, root: Path = ROOT) -> None:
    """No digit in the page's prose: every number comes from the data file."""
    text = page.read_text(encoding="utf-8")
    for pattern in NOT_PROSE:  # blank out, keeping line numbers
        text = pattern.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), text)
    typed = [
        f"{rel(page, root)}:{lineno}: {line.strip()!r}"
        for lineno, line in enumerate(text.splitlines(), 1)
        if re.search(r"\d", line)
    ]
    if typed:
        raise SiteError(
            "numbers typed by hand; render them from data.results instead:\n"
            + "\n".join(typed)
        )
