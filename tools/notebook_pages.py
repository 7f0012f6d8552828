"""MkDocs hook: the edit link of a notebook page opens the notebook's source.

`docs/notebooks/<topic>.ipynb` is generated from `notebooks/<topic>.py` by
`make notebooks` (tools/notebooks.py); an edit to the .ipynb itself would be
lost, and fails the tests.
"""

from pathlib import PurePosixPath
from urllib.parse import urljoin


def on_page_context(context, page, config, nav):
    source = PurePosixPath(page.file.src_uri)
    if (
        page.edit_url
        and source.parent.name == "notebooks"
        and source.suffix == ".ipynb"
    ):
        # <edit_uri>notebooks/<topic>.ipynb, with edit_uri ending in docs/
        page.edit_url = urljoin(page.edit_url, f"../../notebooks/{source.stem}.py")
    return context
