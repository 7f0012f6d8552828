"""The site model, shared by the MkDocs hooks, the make targets and the tests.

A page is a Markdown file under ``docs/``. Its Python blocks show snippets,
the scripts under ``snippets/<page>/``, whole or by named section, through
include lines (``--8<-- "snippets/<page>/<name>.py:<section>"``) that
pymdownx.snippets expands, in the build and here alike. A sentence about a
layer's behaviour carries a claim marker, ``<!-- claim: <page>/<name> -->``,
checked by exactly one test marked ``@pytest.mark.claim("<page>/<name>")``.
A number a page shows is measured by a test and stored in
``docs/data/<page>.json`` (:func:`record`); the page renders it.
"""

from docsite.model import (
    ROOT,
    Block,
    IncludeError,
    SiteError,
    check_claims,
    check_keras_idioms,
    check_no_orphans,
    check_trained,
    expand,
    include_problems,
    pages,
    record,
    rel,
    run_blocks,
    run_snippet,
    snippets,
)

__all__ = [
    "ROOT",
    "Block",
    "IncludeError",
    "SiteError",
    "check_claims",
    "check_keras_idioms",
    "check_no_orphans",
    "check_trained",
    "expand",
    "include_problems",
    "pages",
    "record",
    "rel",
    "run_blocks",
    "run_snippet",
    "snippets",
]
