"""A page's Python blocks, as pytest-codeblocks finds them, includes expanded
by the site's own mechanism (docsite.expand)."""

import re
from pathlib import Path

import pytest_codeblocks

from docsite import ROOT, Block, SiteError, expand, rel

# A fence that names Python: pytest-codeblocks runs it only if it is exactly
# ```python, and skips any other silently.
PYTHON_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(py|python|python3|py3|pycon)\b")


def check_fences(page: Path, root: Path = ROOT) -> None:
    text = page.read_text(encoding="utf-8")
    bad = [
        f"{rel(page, root)}:{lineno}: {line.strip()}"
        for lineno, line in enumerate(text.splitlines(), 1)
        if PYTHON_FENCE.match(line) and line.strip() != "```python"
    ]
    if bad:
        raise SiteError(
            "Python blocks that would not be executed (write exactly ```python, "
            "with no title or other options):\n" + "\n".join(bad)
        )


def page_blocks(page: Path, root: Path = ROOT) -> list[Block]:
    """The page's Python blocks in reading order."""
    blocks = []
    for block in pytest_codeblocks.extract_from_file(page):
        if block.syntax == "python":
            where = f"{rel(page, root)}:{block.lineno}"
            blocks.append(
                Block(where, expand(block.code, where, root), "--8<--" in block.code)
            )
    return blocks
