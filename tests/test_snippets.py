"""Every script under snippets/ runs, every model it leaves was trained, what it
prints is what its pages show, and every page that shows it finds it."""

import pytest

import docsite


@pytest.mark.parametrize("path", docsite.snippets(), ids=docsite.rel)
def test_snippet_trains(path):
    namespace = docsite.run_snippet(path)
    docsite.check_trained(path, namespace)
    docsite.check_outputs(path)  # what it prints, as its pages show it


@pytest.mark.parametrize("path", docsite.snippets(), ids=docsite.rel)
def test_snippet_declares_its_input_with_keras_input(path):
    docsite.check_keras_idioms(path)


def test_every_snippet_is_on_a_page():
    docsite.check_no_orphans()
