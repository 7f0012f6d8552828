"""The labs (docsite/notebooks.py): each notebook is what its source makes,
was executed before it was committed, runs top to bottom (its exercises'
solutions checked by their asserts), and has a working page on the site."""

import pytest
from mkdocs.config import load_config
from mkdocs.structure.files import File

import docsite
from docsite import ROOT, notebooks

SOURCES = notebooks.sources()


def name(source):
    return docsite.rel(notebooks.target(source))


def test_there_are_notebooks():
    assert SOURCES, "no notebooks/*.md"


@pytest.mark.parametrize("source", SOURCES, ids=name)
def test_notebook_is_what_make_notebooks_writes(source):
    notebooks.check_in_sync(source)
    notebooks.check_executed(notebooks.target(source))


@pytest.mark.parametrize("source", SOURCES, ids=name)
def test_notebook_runs_top_to_bottom(source):
    docsite.run_blocks(notebooks.code_blocks(source))


def test_only_notebooks_become_notebook_pages():
    docs = ROOT / "docs"
    scripts = sorted(docsite.rel(path) for path in docs.rglob("*.py"))
    assert not scripts, f"Python files under docs/: {scripts}"
    # And mkdocs-jupyter would render none, wherever it were added; that it
    # renders every notebook, check_pages proves on the built site.
    plugin = load_config(str(ROOT / "mkdocs.yml")).plugins["mkdocs-jupyter"]
    for path in ["helper.py", "notebooks/helper.py", "notebooks/deeper/nb.ipynb"]:
        file = File(path, str(docs), str(docs / "site"), use_directory_urls=True)
        assert not plugin.should_include(file), path
    assert not plugin.config["execute"], "building the site must not run notebooks"


def test_every_notebook_has_a_page_with_a_download(built_site):
    notebooks.check_pages(built_site)
