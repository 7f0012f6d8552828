"""Every script under snippets/ runs, and every model it leaves was trained."""

import pytest
import sitecheck


@pytest.mark.parametrize("path", sitecheck.snippets(), ids=sitecheck.rel)
def test_snippet_trains(path):
    namespace = sitecheck.run_snippet(path)
    sitecheck.check_trained(path, namespace)


@pytest.mark.parametrize("path", sitecheck.snippets(), ids=sitecheck.rel)
def test_snippet_declares_its_input_with_keras_input(path):
    sitecheck.check_keras_idioms(path)


def test_every_snippet_is_on_a_page():
    sitecheck.check_no_orphans()
