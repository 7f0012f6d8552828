"""Every page's Python blocks run, in order, as a reader would paste them;
every claim a page makes has one test."""

import pytest
from pageblocks import check_fences, page_blocks

import docsite


@pytest.mark.parametrize("page", docsite.pages(), ids=docsite.rel)
def test_page_runs_top_to_bottom(page):
    check_fences(page)  # no Python block is skipped
    try:
        blocks = page_blocks(page)
    except docsite.IncludeError:
        if page.name == "README.md":  # not part of the build
            raise
        pytest.skip("its includes do not resolve: the strict build reports them")
    printed = docsite.run_blocks(blocks)
    if page.parent.name == "docs":  # what the page shows under its own blocks
        docsite.check_block_outputs(page, printed)


def test_every_claim_has_one_test():
    docsite.check_claims()
