"""Checks of the results page and its figures, used on the real site by
``test_experiments.py`` and on a broken copy by ``test_gates.py``.

The page's numbers are rendered at build time from ``docs/data/results.json``;
these checks make sure that no number is typed by hand into its prose, and
that every figure under ``docs/figures/`` is shown with a real alt text.
"""

from __future__ import annotations

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
    shown: dict[Path, list[tuple[str, str]]] = {}
    for page in docsite.pages(root):
        text = page.read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            for image in IMAGE.finditer(line):
                # Material's "#only-light" and "#only-dark" pick the scheme.
                src = image["src"].partition("#")[0]
                target = (page.parent / src).resolve()
                where = f"{rel(page, root)}:{lineno}"
                shown.setdefault(target, []).append((where, image["alt"]))
    problems = []
    for figure in sorted((root / "docs" / "figures").glob("*.svg")):
        uses = shown.get(figure.resolve())
        if not uses:
            problems.append(f"{rel(figure, root)}: no page shows this figure")
        problems += [
            f"{where}: {figure.name} needs an alt text of {MIN_ALT_WORDS} words "
            f"or more that says what it shows (found {alt!r})"
            for where, alt in uses or []
            if len(alt.split()) < MIN_ALT_WORDS
        ]
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
