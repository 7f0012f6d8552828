"""The labs: notebooks generated from `notebooks/<topic>.md` by `make notebooks`
(`make notebooks NOTEBOOKS=dropout`: that lab only).

A lab's source is Markdown in jupytext's format: its prose becomes Markdown
cells (two blank lines start a new one) and each ```python block a code
cell; ```python tags=["solution"] marks an exercise's solution. A code cell
takes code from the snippets through include lines written as comments,
`# --8<-- "snippets/<page>/<name>.py:<section>"`, which the site's own
mechanism expands (docsite.expand): a lab shows exactly the code that the
pages show and the tests run. The notebook, `docs/notebooks/<topic>.ipynb`,
is executed from a clean kernel and written with its outputs;
mkdocs-jupyter renders them and never runs it.
"""

from __future__ import annotations

import re
import sys
import tempfile
from itertools import zip_longest
from pathlib import Path

import jupytext
import nbformat

from docsite import ROOT, Block, SiteError, expand, rel

INCLUDE = re.compile(r"^(?P<indent>\s*)# (?P<include>--8<-- .*)$", re.M)
TEX = re.compile(r"\$[^$\s][^$]*\$")


def sources(root: Path = ROOT) -> list[Path]:
    """Every lab's source, `notebooks/<topic>.md`."""
    return sorted((root / "notebooks").glob("*.md"))


def target(source: Path, root: Path = ROOT) -> Path:
    """The notebook generated from a source: `docs/notebooks/<topic>.ipynb`."""
    return root / "docs" / "notebooks" / f"{source.stem}.ipynb"


def _cells(source: Path, root: Path):
    """(where, cell, whether it includes a snippet) for each cell of the
    source, with its includes expanded and a stable id."""
    name = rel(source, root)
    text = source.read_text(encoding="utf-8")
    if not text.startswith("# "):
        raise SiteError(f"{name}:1: start with the lab's `# ` title")
    lines = enumerate(text.splitlines(), 1)
    fences = (n for n, line in lines if line.startswith("```python"))
    for number, cell in enumerate(jupytext.reads(text, fmt="md").cells, 1):
        body = cell.source.strip("\n")
        where, code = name, body
        if cell.cell_type == "code":
            where = f"{name}:{next(fences)}"
            code = INCLUDE.sub(r"\g<indent>\g<include>", body)
        elif "--8<--" in body:
            raise SiteError(f"{name}: an include in prose is not expanded: {body[:60]}")
        elif TEX.search(body):
            raise SiteError(
                f"{name}: notebook pages render no TeX math (no MathJax); "
                f"leave equations to the pages: {body[:60]}"
            )
        cell.source = expand(code, where, root).strip("\n")
        cell.id = f"cell-{number}"  # stable ids: regenerating changes no line
        # Only tags are kept: "solution" is shown collapsed on the site.
        tags = cell.metadata.get("tags")
        cell.metadata = {"tags": tags} if tags else {}
        yield where, cell, code != body


def generate(source: Path, root: Path = ROOT) -> nbformat.NotebookNode:
    """The notebook that a source describes, includes expanded, not executed."""
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": kernel})
    notebook.cells = [cell for _, cell, _ in _cells(source, root)]
    return notebook


def code_blocks(source: Path, root: Path = ROOT) -> list[Block]:
    """The lab's code cells, as blocks to run in order (docsite.run_blocks)."""
    return [
        Block(where, cell.source + "\n", from_snippet)
        for where, cell, from_snippet in _cells(source, root)
        if cell.cell_type == "code"
    ]


def without_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook as it was before it was executed."""
    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return copy


def execute(notebook: nbformat.NotebookNode, name: str) -> None:
    """Run the notebook from a clean kernel, in place, in an empty directory;
    a failing cell raises SiteError naming the notebook and the error."""
    import nbclient
    from nbclient.exceptions import CellExecutionError

    try:
        with tempfile.TemporaryDirectory() as workdir:
            nbclient.execute(
                notebook,
                cwd=workdir,
                kernel_name="python3",
                timeout=120,
                record_timing=False,  # no timestamps in the committed files
                coalesce_streams=True,  # one output per stream: stable files
                # TensorFlow's start-up messages stay out of the outputs.
                extra_arguments=["--IPKernelApp.capture_fd_output=False"],
            )
    except CellExecutionError as error:
        raise SiteError(f"{name}: {error.ename}: {error.evalue}") from None


def check_executed(path: Path, root: Path = ROOT) -> None:
    """The committed notebook was executed top to bottom in one kernel, and
    every code cell shows something."""
    name = rel(path, root)
    cells = enumerate(nbformat.read(path, as_version=4).cells, 1)
    code = [(number, cell) for number, cell in cells if cell.cell_type == "code"]
    for count, (number, cell) in enumerate(code, 1):
        if cell.execution_count != count:
            raise SiteError(
                f"{name}: cell {number} has execution count {cell.execution_count}, "
                f"not {count}: it was not executed in order; run `make notebooks`"
            )
        if not cell.outputs:
            raise SiteError(
                f"{name}: cell {number} has no output; run `make notebooks` (and "
                "give every code cell something to show)"
            )
        errors = [out.ename for out in cell.outputs if out.output_type == "error"]
        if errors:
            raise SiteError(f"{name}: cell {number} shows an {errors[0]}")


def check_in_sync(source: Path, root: Path = ROOT) -> None:
    """The committed notebook, its outputs cleared, is what its source
    generates."""
    path = target(source, root)
    name, origin = rel(path, root), rel(source, root)
    if not path.exists():
        raise SiteError(
            f"{name}: missing; run `make notebooks` to make it from {origin}"
        )
    committed = without_outputs(nbformat.read(path, as_version=4)).cells
    expected = generate(source, root).cells
    for number, (old, new) in enumerate(zip_longest(committed, expected), 1):
        if old != new:
            raise SiteError(
                f"{name}: cell {number} of {len(committed)} differs from what "
                f"{origin} makes ({len(expected)} cells); run `make notebooks`"
            )


DOWNLOAD = re.compile(r'<a href="([^"]+)" download\b')  # overrides/main.html


def check_pages(site_dir: Path, root: Path = ROOT) -> None:
    """In the built site, every lab has a page, rendered from its committed
    outputs, its solutions closed, with a download link to that very
    notebook; and mkdocs-jupyter made no other page."""
    rendered = {
        page.relative_to(site_dir).as_posix()
        for page in site_dir.rglob("*.html")
        if 'class="jupyter-wrapper"' in page.read_text(encoding="utf-8")
    }
    expected = {
        f"notebooks/{s.stem}/index.html": target(s, root) for s in sources(root)
    }
    if strays := sorted(rendered - expected.keys()):
        raise SiteError(f"notebook pages not made from notebooks/*.md: {strays}")
    for page_name, notebook in expected.items():
        if page_name not in rendered:
            raise SiteError(f"{rel(notebook, root)}: no notebook page {page_name}")
        page = site_dir / page_name
        html = page.read_text(encoding="utf-8")
        solutions = sum(
            "solution" in cell.metadata.get("tags", [])
            for cell in nbformat.read(notebook, as_version=4).cells
        )
        if html.count('<details class="solution">') != solutions:
            raise SiteError(
                f"{page_name}: not every one of {solutions} solutions closed"
            )
        links = DOWNLOAD.findall(html)
        if len(links) != 1:
            raise SiteError(f"{page_name}: {len(links)} download links, not 1")
        download = page.parent / links[0]
        if not download.is_file() or download.read_bytes() != notebook.read_bytes():
            raise SiteError(
                f"{page_name}: the download {links[0]!r} is not {rel(notebook, root)}"
            )


def main(topics: list[str]) -> int:
    chosen = {source.stem: source for source in sources()}
    unknown = [topic for topic in topics if topic not in chosen]
    if unknown:
        print(f"no notebooks/{unknown[0]}.md; known: {', '.join(chosen)}")
        return 2
    for source in [chosen[t] for t in topics] or chosen.values():
        path = target(source)
        try:
            notebook = generate(source)
            execute(notebook, rel(path))
        except SiteError as error:
            print(error, file=sys.stderr)
            return 1
        nbformat.write(notebook, path)
        check_executed(path)
        print(f"wrote {rel(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
