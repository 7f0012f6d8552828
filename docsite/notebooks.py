"""The labs: notebooks generated from `notebooks/<topic>.md` (`make notebooks`).

A lab's source is Markdown in jupytext's format: its prose becomes Markdown
cells (two blank lines start a new one) and each ```python block a code
cell; ```python tags=["solution"] marks an exercise's solution. A code cell
takes code from the snippets through include lines written as comments:

    ```python
    # --8<-- "snippets/dropout/after_hidden.py:model"
    model.summary()
    ```

Each include is expanded by the site's own mechanism (docsite.expand), so a
lab shows exactly the code that the pages show and the tests run. The
notebook, `docs/notebooks/<topic>.ipynb`, is executed from a clean kernel
and written with its outputs; mkdocs-jupyter renders them and never runs it.

    python -m docsite.notebooks           # every lab (make notebooks)
    python -m docsite.notebooks dropout   # notebooks/dropout.md only
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

from docsite import ROOT, Block, SiteError, expand, rel

INCLUDE = re.compile(r"^(?P<indent>\s*)# (?P<include>--8<-- .*)$", re.M)
TEX = re.compile(r"\$[^$\s][^$]*\$")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def sources(root: Path = ROOT) -> list[Path]:
    """Every lab's source, `notebooks/<topic>.md`."""
    return sorted((root / "notebooks").glob("*.md"))


def target(source: Path, root: Path = ROOT) -> Path:
    """The notebook generated from a source: `docs/notebooks/<topic>.ipynb`."""
    return root / "docs" / "notebooks" / f"{source.stem}.ipynb"


def _cells(source: Path, root: Path):
    """(where, cell type, source with includes expanded, includes a snippet,
    tags) of each cell of the source."""
    name = rel(source, root)
    text = source.read_text(encoding="utf-8")
    if not text.startswith("# "):
        raise SiteError(f"{name}:1: start with the lab's `# ` title")
    fences = [
        n for n, line in enumerate(text.splitlines(), 1) if line[:9] == "```python"
    ]
    code_cells = iter(fences)
    for cell in jupytext.reads(text, fmt="md").cells:
        body = cell.source.strip("\n")
        tags = list(cell.metadata.get("tags", []))
        if cell.cell_type == "code":
            where = f"{name}:{next(code_cells)}"
            code = INCLUDE.sub(r"\g<indent>\g<include>", body)
            yield (
                where,
                "code",
                expand(code, where, root).strip("\n"),
                code != body,
                tags,
            )
            continue
        if "--8<--" in body:
            raise SiteError(f"{name}: an include in prose is not expanded: {body[:60]}")
        if TEX.search(body):
            raise SiteError(
                f"{name}: notebook pages render no TeX math (no MathJax); "
                f"leave equations to the pages: {body[:60]}"
            )
        yield name, "markdown", body, False, tags


def generate(source: Path, root: Path = ROOT) -> nbformat.NotebookNode:
    """The notebook that a source describes, includes expanded, not executed."""
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": dict(KERNELSPEC)})
    for number, (_, kind, body, _, tags) in enumerate(_cells(source, root), 1):
        make = (
            nbformat.v4.new_code_cell
            if kind == "code"
            else nbformat.v4.new_markdown_cell
        )
        new = make(body)
        new.id = f"cell-{number}"  # stable ids: regenerating changes no line
        if tags:  # "solution": shown collapsed on the site
            new.metadata["tags"] = tags
        notebook.cells.append(new)
    return notebook


def code_blocks(source: Path, root: Path = ROOT) -> list[Block]:
    """The lab's code cells, as blocks to run in order (docsite.run_blocks)."""
    return [
        Block(where, body + "\n", from_snippet)
        for where, kind, body, from_snippet, _ in _cells(source, root)
        if kind == "code"
    ]


def without_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook as it was before it was executed."""
    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return copy


def execute(notebook: nbformat.NotebookNode, name: str) -> None:
    """Run the notebook from a clean kernel, in place; a failing cell raises
    SiteError naming the notebook and the cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    with tempfile.TemporaryDirectory() as workdir:
        client = NotebookClient(
            notebook,
            kernel_name="python3",
            timeout=120,
            record_timing=False,  # no timestamps in the committed files
            coalesce_streams=True,  # one output per stream: stable files
            resources={"metadata": {"path": workdir}},
            # TensorFlow's start-up messages stay out of the outputs.
            extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        )
        try:
            client.execute()
        except CellExecutionError as error:
            raise SiteError(f"{name}: {error.ename}: {error.evalue}") from None


def check_executed(path: Path, root: Path = ROOT) -> None:
    """The committed notebook was executed top to bottom in one kernel, and
    every code cell shows something."""
    name = rel(path, root)
    count = 0
    for number, cell in enumerate(nbformat.read(path, as_version=4).cells, 1):
        if cell.cell_type != "code":
            continue
        count += 1
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
    """The committed notebook's cells are what its source generates: cell
    types, sources and tags are compared, outputs are not."""
    path = target(source, root)
    name, origin = rel(path, root), rel(source, root)
    if not path.exists():
        raise SiteError(
            f"{name}: missing; run `make notebooks` to make it from {origin}"
        )

    def cells(notebook):
        return [(c.cell_type, c.source, c.metadata.get("tags")) for c in notebook.cells]

    committed = cells(nbformat.read(path, as_version=4))
    expected = cells(generate(source, root))
    for number, (old, new) in enumerate(zip(committed, expected, strict=False), 1):
        if old != new:
            raise SiteError(
                f"{name}: cell {number} differs from what {origin} makes; "
                "run `make notebooks`"
            )
    if len(committed) != len(expected):
        raise SiteError(
            f"{name}: {len(committed)} cells, but {origin} makes {len(expected)}; "
            "run `make notebooks`"
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
    expected = {f"notebooks/{s.stem}/index.html": s for s in sources(root)}
    if rendered - set(expected):
        strays = ", ".join(sorted(rendered - set(expected)))
        raise SiteError(f"notebook pages not made from notebooks/*.md: {strays}")
    for page_name, source in expected.items():
        notebook = target(source, root)
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
