"""The notebooks (tools/notebooks.py): each one is what its source makes, was
executed before it was committed, runs again from a clean kernel, and has a
working page on the built site. Every notebooks/<topic>.py is found by itself."""

import sys

import background
import nbformat
import pytest
import sitecheck
from mkdocs.config import load_config
from mkdocs.structure.files import File

sys.path.insert(0, str(sitecheck.ROOT / "tools"))
import notebooks

SOURCES = notebooks.sources()


def name(source):
    return sitecheck.rel(notebooks.target(source))


def committed(source):
    return nbformat.read(notebooks.target(source), as_version=4)


def test_there_are_notebooks():
    assert SOURCES, "no notebooks/*.py"


@pytest.mark.parametrize("source", SOURCES, ids=name)
def test_notebook_is_what_its_source_makes(source):
    notebooks.check_in_sync(source)


@pytest.mark.parametrize("source", SOURCES, ids=name)
def test_notebook_was_executed(source):
    notebooks.check_executed(notebooks.target(source))


@background.fixture(process=True)
def notebook_runs():
    """Every committed notebook, outputs removed, executed again from a clean
    kernel; the kernels run side by side, beside the other tests."""
    present = [source for source in SOURCES if notebooks.target(source).exists()]
    return notebooks.execute(
        {name(s): notebooks.without_outputs(committed(s)) for s in present}
    )


@pytest.mark.parametrize("source", SOURCES, ids=name)
def test_notebook_runs_from_a_clean_kernel(source, notebook_runs):
    result = notebook_runs.get(name(source))
    assert result is not None, f"{name(source)}: missing; run `make notebooks`"
    if isinstance(result, Exception):
        raise result
    # Every cell shows the same kinds of output as the committed notebook: the
    # same streams, the same figures. (The values are checked by the
    # notebooks' own asserts, and by the tests of the snippets they include.)
    assert notebooks.output_kinds(result) == notebooks.output_kinds(
        committed(source)
    ), f"{name(source)}: outputs differ from the committed ones; run `make notebooks`"


def test_only_notebooks_become_notebook_pages():
    docs = sitecheck.ROOT / "docs"
    scripts = sorted(sitecheck.rel(path) for path in docs.rglob("*.py"))
    assert not scripts, f"Python files under docs/: {scripts}"
    # And mkdocs-jupyter would not render one, wherever it were added.
    config = load_config(str(sitecheck.ROOT / "mkdocs.yml"))
    plugin = config.plugins["mkdocs-jupyter"]
    for path in ["helper.py", "notebooks/helper.py", "notebooks/deeper/nb.ipynb"]:
        file = File(path, str(docs), str(docs / "site"), use_directory_urls=True)
        assert not plugin.should_include(file), path
    for source in SOURCES:
        path = str(notebooks.target(source).relative_to(docs))
        file = File(path, str(docs), str(docs / "site"), use_directory_urls=True)
        assert plugin.should_include(file), path
    assert not plugin.config["execute"], "building the site must not run notebooks"


def test_every_notebook_has_a_page_with_a_download(built_site):
    notebooks.check_pages(built_site)
