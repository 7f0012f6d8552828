"""A page's Python blocks, as pytest-codeblocks finds them, includes expanded
by the site's own mechanism (docsite.expand)."""

import re
from pathlib import Path

import pytest_codeblocks

from docsite import ROOT, Block, SiteError, expand, rel

# Python fences that pytest-codeblocks would skip silently: anything that
# names Python but is not exactly ```python.
PYTHON_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(py|python|python3|py3|pycon)\b(.*)$")


def check_fences(page: Path, root: Path = ROOT) -> None:
    text = page.read_text(encoding="utf-8")
    bad = [
        f"{rel(page, root)}:{lineno}: {line.strip()}"
        for lineno, line in enumerate(text.splitlines(), 1)
        if (match := PYTHON_FENCE.match(line))
        and (match[1] != "```" or match[2] != "python" or match[3].strip())
    ]
    if bad:
        raise SiteError(
            "Python blocks that would not be executed (write exactly ```python, "
            "with no title or other options):\n" + "\n".join(bad)
        )


def page_blocks(page: Path, root: Path = ROOT) -> list[Block]:
    """The page's Python blocks in reading order."""
    name = rel(page, root)
    with page.open(encoding="utf-8") as handle:
        found = pytest_codeblocks.extract_from_buffer(handle)
    return [
        Block(
            f"{name}:{block.lineno}",
            expand(block.code, f"{name}:{block.lineno}", root),
            "--8<--" in block.code,
        )
        for block in found
        if block.syntax == "python"
    ]
