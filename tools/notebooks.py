"""The site's notebooks, generated from their sources: `make notebooks`.

A notebook's source is a jupytext "percent" script, `notebooks/<topic>.py`.
Its Markdown cells are written there. Its code cells take their code from the
snippets through include lines, written as comments so that the source stays
valid Python, and may add a few lines of their own:

    # %%
    # --8<-- "snippets/dropout/after_hidden.py:model"
    model.summary()

Each include is expanded by the site's own mechanism, `sitecheck.expand`
(pymdownx.snippets configured from mkdocs.yml), so a notebook shows exactly
the code that the pages show and the tests run. The generated notebook,
`docs/notebooks/<topic>.ipynb`, is executed from a clean kernel and written
with its outputs; mkdocs-jupyter renders those outputs and never runs it.

    python tools/notebooks.py             # every notebook
    python tools/notebooks.py dropout     # notebooks/dropout.py only
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import default

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import sitecheck  # the site's include mechanism, `expand`, and its checks
from sitecheck import ROOT, SiteError, rel

CELL = re.compile(r"^# %%( |$)")
INCLUDE = re.compile(r"^(?P<indent>\s*)# (?P<include>--8<-- .*)$")
TEX = re.compile(r"\$[^$\s][^$]*\$")
KERNELSPEC = {
    "name": "python3",
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
}
CELL_TIMEOUT = 120  # seconds; no cell should need more than a few


def sources(root: Path = ROOT) -> list[Path]:
    """Every notebook source, `notebooks/<topic>.py`."""
    return sorted((root / "notebooks").glob("*.py"))


def target(source: Path, root: Path = ROOT) -> Path:
    """The notebook generated from a source: `docs/notebooks/<topic>.ipynb`."""
    return root / "docs" / "notebooks" / f"{source.stem}.ipynb"


def generate(source: Path, root: Path = ROOT) -> nbformat.NotebookNode:
    """The notebook that a source describes, includes expanded, not executed."""
    name = rel(source, root)
    text = source.read_text(encoding="utf-8")
    if not text.startswith("# %% [markdown]"):
        raise SiteError(
            f"{name}:1: start with a `# %% [markdown]` cell: the notebook's "
            "title, and how to open it"
        )
    # The line of each cell marker, for messages that point into the source.
    starts = [n for n, line in enumerate(text.splitlines(), 1) if CELL.match(line)]
    parsed = jupytext.reads(text, fmt="py:percent")
    if len(parsed.cells) != len(starts):
        raise SiteError(
            f"{name}: {len(starts)} `# %%` markers, but jupytext reads "
            f"{len(parsed.cells)} cells"
        )
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": dict(KERNELSPEC)})
    for number, (cell, start) in enumerate(zip(parsed.cells, starts, strict=True), 1):
        where = f"{name}:{start}"
        body = cell.source.strip("\n")
        if cell.cell_type == "markdown":
            if "--8<--" in body:
                raise SiteError(
                    f"{where}: an include in a Markdown cell is not expanded; "
                    "put it in a code cell"
                )
            if TEX.search(body):
                raise SiteError(
                    f"{where}: notebook pages render no TeX math (no MathJax); "
                    "leave the equations to the Markdown pages"
                )
            new = nbformat.v4.new_markdown_cell(body)
        elif cell.cell_type == "code":
            code = "\n".join(
                INCLUDE.sub(r"\g<indent>\g<include>", line)
                for line in body.splitlines()
            )
            new = nbformat.v4.new_code_cell(
                sitecheck.expand(code, where, root).strip("\n")
            )
        else:
            raise SiteError(f"{where}: {cell.cell_type} cells are not supported")
        new.id = f"cell-{number}"  # stable ids: regenerating changes no line
        notebook.cells.append(new)
    return notebook


def without_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook as it was before it was executed."""
    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return copy


class ThisPython(AsyncKernelManager):
    """Kernels that run this very Python, with ipykernel's own kernel spec,
    whatever other kernels are installed."""

    @default("kernel_spec_manager")
    def _only_the_native_kernel(self):
        return KernelSpecManager(kernel_dirs=[])


async def _execute(notebook, name: str, slots: asyncio.Semaphore):
    current = {}
    async with slots:
        with tempfile.TemporaryDirectory() as workdir:
            client = NotebookClient(
                notebook,
                kernel_manager_class=ThisPython,
                kernel_name=KERNELSPEC["name"],
                timeout=CELL_TIMEOUT,
                allow_errors=False,
                record_timing=False,  # no timestamps in the committed files
                # One stdout output per cell however the kernel chunked it, so
                # that regenerating an unchanged notebook changes nothing.
                coalesce_streams=True,
                resources={"metadata": {"path": workdir}},
                # TensorFlow's C++ start-up messages go to the kernel's own
                # stderr, not into the notebook's outputs.
                extra_arguments=["--IPKernelApp.capture_fd_output=False"],
                on_cell_execute=lambda cell, cell_index: current.update(i=cell_index),
            )
            try:
                await client.async_execute()
            except CellExecutionError as error:
                where = f"{name}: cell {current.get('i', -1) + 1}"
                raise SiteError(f"{where}: {error.ename}: {error.evalue}") from None
            except (CellTimeoutError, DeadKernelError) as error:
                where = f"{name}: cell {current.get('i', -1) + 1}"
                raise SiteError(f"{where}: {type(error).__name__}: {error}") from None
    return notebook


def execute(notebooks: dict[str, nbformat.NotebookNode]) -> dict:
    """Run every notebook (name: notebook) from a clean kernel of its own, in
    place. Kernels run side by side, one per CPU core. Returns name: the
    executed notebook, or the SiteError naming the notebook and the cell that
    failed."""

    async def run_all():
        slots = asyncio.Semaphore(os.cpu_count() or 1)
        results = await asyncio.gather(
            *(_execute(nb, name, slots) for name, nb in notebooks.items()),
            return_exceptions=True,
        )
        return dict(zip(notebooks, results, strict=True))

    # In a thread of its own: the caller's thread may already run an event
    # loop (Playwright's sync API leaves one behind, for one).
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        results = thread.submit(asyncio.run, run_all()).result()
    for result in results.values():
        if isinstance(result, BaseException) and not isinstance(result, SiteError):
            raise result
    return results


def output_kinds(notebook: nbformat.NotebookNode) -> list[list[tuple]]:
    """What each code cell showed: stream names and MIME types, not values."""
    return [
        [
            (out.output_type, out.get("name") or tuple(sorted(out.get("data", {}))))
            for out in cell.outputs
        ]
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def check_executed(path: Path, root: Path = ROOT) -> None:
    """The committed notebook was executed top to bottom in one kernel, and
    every code cell shows something."""
    name = rel(path, root)
    notebook = nbformat.read(path, as_version=4)
    count = 0
    for number, cell in enumerate(notebook.cells, 1):
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
        for output in cell.outputs:
            if output.output_type == "error":
                raise SiteError(f"{name}: cell {number} shows an {output.ename}")


def check_in_sync(source: Path, root: Path = ROOT) -> None:
    """The committed notebook's cells are what its source generates: cell
    types and sources are compared, outputs and metadata are not."""
    path = target(source, root)
    name, origin = rel(path, root), rel(source, root)
    if not path.exists():
        raise SiteError(
            f"{name}: missing; run `make notebooks` to make it from {origin}"
        )
    committed = nbformat.read(path, as_version=4).cells
    expected = generate(source, root).cells
    for number, (old, new) in enumerate(zip(committed, expected, strict=False), 1):
        if (old.cell_type, old.source) != (new.cell_type, new.source):
            raise SiteError(
                f"{name}: cell {number} differs from what {origin} makes; "
                "run `make notebooks`"
            )
    if len(committed) != len(expected):
        raise SiteError(
            f"{name}: {len(committed)} cells, but {origin} makes {len(expected)}; "
            "run `make notebooks`"
        )


DOWNLOAD = re.compile(r'<a href="([^"]+)" download\b')  # tools/overrides/main.html


def check_pages(site_dir: Path, root: Path = ROOT) -> None:
    """In the built site, every notebook has a page, rendered from its
    committed outputs, with a download link to that very notebook; and
    mkdocs-jupyter made no other page."""
    rendered = {
        str(page.relative_to(site_dir))
        for page in site_dir.rglob("*.html")
        if 'class="jupyter-wrapper"' in page.read_text(encoding="utf-8")
    }
    expected = {
        f"notebooks/{source.stem}/index.html": source for source in sources(root)
    }
    strays = sorted(rendered - set(expected))
    if strays:
        raise SiteError(
            "pages rendered by mkdocs-jupyter from files that are not notebooks "
            f"generated from notebooks/*.py: {', '.join(strays)}"
        )
    for page_name, source in expected.items():
        notebook = target(source, root)
        page = site_dir / page_name
        if page_name not in rendered:
            raise SiteError(f"{rel(notebook, root)}: no notebook page {page_name}")
        links = DOWNLOAD.findall(page.read_text(encoding="utf-8"))
        if len(links) != 1:
            raise SiteError(f"{page_name}: {len(links)} download links, not 1")
        download = (page.parent / links[0]).resolve()
        if not download.is_file() or site_dir.resolve() not in download.parents:
            raise SiteError(
                f"{page_name}: the download link {links[0]!r} leads nowhere"
            )
        if download.read_bytes() != notebook.read_bytes():
            raise SiteError(
                f"{page_name}: the download {links[0]!r} differs from "
                f"{rel(notebook, root)}"
            )


def main(topics: list[str]) -> int:
    chosen = {source.stem: source for source in sources()}
    unknown = [topic for topic in topics if topic not in chosen]
    if unknown:
        print(
            f"no notebooks/{unknown[0]}.py; known: {', '.join(chosen)}", file=sys.stderr
        )
        return 2
    if topics:
        chosen = {topic: chosen[topic] for topic in topics}
    try:
        generated = {rel(target(s)): generate(s) for s in chosen.values()}
    except SiteError as error:
        print(error, file=sys.stderr)
        return 1
    failed = 0
    for name, result in execute(generated).items():
        if isinstance(result, SiteError):
            print(result, file=sys.stderr)
            failed += 1
            continue
        path = ROOT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(result, path)
        try:
            check_executed(path)
        except SiteError as error:
            print(error, file=sys.stderr)
            failed += 1
            continue
        print(f"wrote {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
