"""A notebook page keeps only the JupyterLab CSS it uses (see hooks.py).

mkdocs-jupyter inlines JupyterLab's whole stylesheet (about 575 kB) into
every notebook page. This hook drops, from each large inline stylesheet of a
notebook page, the rules whose selectors name a class that the page does not
use, and the custom properties (`--jp-...`) that nothing references, so that
a notebook page weighs about as much as any other page.
"""

import re
from functools import cache
from pathlib import Path

import tinycss2

LARGE = 50_000  # bytes: only JupyterLab's own stylesheet is this big
STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S)
CLASS_ATTR = re.compile(r'class="([^"]*)"')
CLASS_IN_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
VAR_REFERENCE = re.compile(r"var\(\s*(--[\w-]+)")
SITE_CSS = Path(__file__).resolve().parent.parent / "docs" / "notebooks"


def _keep_selector(selector: str, classes: set[str]) -> bool:
    needed = CLASS_IN_SELECTOR.findall(selector)
    return bool(needed) and all(name in classes for name in needed)


def _selectors(prelude: list) -> list[str]:
    """The selectors of a rule: split on its top-level commas only, not on
    those inside `:is(...)` and other functions."""
    selectors, current = [], []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append(current)
            current = []
        else:
            current.append(token)
    selectors.append(current)
    return [tinycss2.serialize(tokens).strip() for tokens in selectors]


@cache  # every notebook page inlines the same stylesheet: parse it once a build
def _rules(css: str) -> tuple:
    return _split(
        tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)
    )


def _split(rules: list) -> tuple:
    """Each rule with the selectors of its prelude, and at-rules' inner rules
    split the same way, so that each page only has to look them up."""
    split = []
    for rule in rules:
        if rule.type == "qualified-rule":
            split.append((rule, _selectors(rule.prelude)))
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports"):
            inner = tinycss2.parse_rule_list(
                rule.content, skip_whitespace=True, skip_comments=True
            )
            split.append((rule, _split(inner)))
    return tuple(split)


def _used_rules(rules: tuple, classes: set[str]) -> list[tuple[str, list]]:
    """(selector or at-rule prelude, declarations or nested rules) kept."""
    kept = []
    for rule, parts in rules:
        if rule.type == "qualified-rule":
            used = [s for s in parts if _keep_selector(s, classes)]
            if used:
                declarations = tinycss2.parse_blocks_contents(
                    rule.content, skip_whitespace=True, skip_comments=True
                )
                kept.append((", ".join(used), declarations))
        else:
            inner = _used_rules(parts, classes)
            if inner:
                prelude = f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}"
                kept.append((prelude, inner))
    return kept


def _declared(kept: list) -> dict[str, str]:
    """Custom property name -> every value declared for it."""
    values: dict[str, str] = {}
    for _, body in kept:
        for item in body:
            if isinstance(item, tuple):
                values.update(_declared([item]))
            elif item.type == "declaration" and item.name.startswith("--"):
                values[item.name] = values.get(item.name, "") + tinycss2.serialize(
                    item.value
                )
    return values


def _serialize(kept: list, needed: set[str]) -> str:
    out = []
    for head, body in kept:
        if head.startswith("@"):
            out.append(f"{head}{{{_serialize(body, needed)}}}")
            continue
        declarations = [
            f"{d.name}:{tinycss2.serialize(d.value)}"
            + (" !important" if d.important else "")
            for d in body
            if d.type == "declaration"
            and (not d.name.startswith("--") or d.name in needed)
        ]
        if declarations:
            out.append(f"{head}{{{';'.join(declarations)}}}")
    return "".join(out)


def purge(css: str, page_html: str) -> str:
    """The part of `css` that the page can use."""
    classes = {name for attr in CLASS_ATTR.findall(page_html) for name in attr.split()}
    kept = _used_rules(_rules(css), classes)
    declared = _declared(kept)
    # Custom properties referenced by the page, its other styles, the site's
    # notebook stylesheet, or (transitively) by the kept rules.
    outside = STYLE.sub("", page_html) + "".join(
        p.read_text(encoding="utf-8") for p in SITE_CSS.glob("*.css")
    )
    small_styles = "".join(m[2] for m in STYLE.finditer(page_html) if len(m[2]) < LARGE)
    needed: set[str] = set()
    pending = set(VAR_REFERENCE.findall(outside + small_styles))
    pending |= set(VAR_REFERENCE.findall(_serialize(kept, set())))
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending |= set(VAR_REFERENCE.findall(declared.get(name, "")))
    return _serialize(kept, needed)


def purge_page(output: str, page) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    return STYLE.sub(
        lambda m: m[1] + purge(m[2], output) + m[3] if len(m[2]) >= LARGE else m[0],
        output,
    )
