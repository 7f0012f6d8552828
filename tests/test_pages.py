"""Every page's Python blocks run, in order, as a reader would paste them."""

import pytest
import sitecheck

PAGES = sitecheck.pages()


@pytest.mark.parametrize("page", PAGES, ids=sitecheck.rel)
def test_no_python_block_is_skipped(page):
    sitecheck.check_fences(page)


@pytest.mark.parametrize("page", PAGES, ids=sitecheck.rel)
def test_page_runs_top_to_bottom(page):
    sitecheck.run_page(page)


def test_every_claim_has_one_test():
    sitecheck.check_claims()
