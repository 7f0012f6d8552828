"""Each gate of the suite, proven on a deliberately broken copy of the site:
the breakage is caught, and the report names the file at fault."""

import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import background
import builtsite
import nbformat
import pytest
import sitecheck
from sitecheck import SiteError

sys.path.insert(0, str(sitecheck.ROOT / "tools"))
import notebooks


def copy_site(root: Path) -> Path:
    """A copy of the site at ``root``, that a test may break."""
    root.mkdir(parents=True)
    for name in ("docs", "notebooks", "snippets", "tests", "tools"):
        shutil.copytree(
            sitecheck.ROOT / name,
            root / name,
            ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"),
        )
    for name in ("mkdocs.yml", "README.md"):
        shutil.copy(sitecheck.ROOT / name, root / name)
    return root


@pytest.fixture
def site(tmp_path):
    """A copy of the site that a test may break."""
    return copy_site(tmp_path / "site-copy")


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@dataclass
class BrokenBuild:
    """A broken copy of the site, and its strict build."""

    root: Path
    site: Path  # the build's output, as far as it went
    returncode: int
    output: str

    def assert_fails_naming(self, *names: str) -> None:
        assert self.returncode != 0, self.output
        for name in names:
            assert name in self.output, self.output


# The broken copies whose strict build a test reads: name -> (the function
# that breaks a copy, environment variables for its build).
BROKEN_COPIES = {}


def breaks(name: str, **env: str):
    """Register the decorated function as the breakage of copy ``name``."""

    def register(break_it):
        BROKEN_COPIES[name] = (break_it, env)
        return break_it

    return register


@background.fixture
def broken_builds() -> dict[str, BrokenBuild]:
    """Each copy of BROKEN_COPIES broken and built, as a background job
    (see background.py), beside other tests. The builds run one after the
    other in one process (sitecheck.build_sites)."""
    copies = {}
    for name, (break_it, env) in BROKEN_COPIES.items():
        root = copy_site(background.scratch(name) / "site-copy")
        break_it(root)
        copies[name] = (root, root.parent / "built", env)
    results = sitecheck.build_sites(list(copies.values()))
    return {
        name: BrokenBuild(root, site, result.returncode, result.stdout)
        for (name, (root, site, _)), result in zip(copies.items(), results, strict=True)
    }


def test_the_unbroken_copy_passes(site):
    for page in sitecheck.pages(site):
        sitecheck.check_fences(page, site)
    sitecheck.check_no_orphans(site)
    for source in notebooks.sources(site):
        notebooks.check_in_sync(source, site)
        notebooks.check_executed(notebooks.target(source, site), site)
    # Its build is the real site's: test_site.py builds that, strictly.


@breaks("missing-snippet")
def remove_a_snippet(root):
    edit(
        root / "docs" / "dropout.md",
        "snippets/dropout/on_inputs.py:model",
        "snippets/dropout/gone.py:model",
    )


def test_missing_snippet_file(broken_builds):
    broken = broken_builds["missing-snippet"]
    with pytest.raises(SiteError, match=r"docs/dropout\.md:\d+: .*gone\.py"):
        sitecheck.blocks(broken.root / "docs" / "dropout.md", broken.root)
    broken.assert_fails_naming("dropout.md", "gone.py")


def test_missing_section(site):
    snippet = site / "snippets" / "dropout" / "on_inputs.py"
    edit(snippet, "[start:model]", "[start:modle]")
    edit(snippet, "[end:model]", "[end:modle]")
    page = site / "docs" / "dropout.md"
    with pytest.raises(
        SiteError, match=r"docs/dropout\.md:\d+: .*'model'.*on_inputs\.py:model"
    ):
        sitecheck.blocks(page, site)
    # The build fails too: the same pymdownx.snippets check as a missing file.


def test_snippet_that_raises(site):
    snippet = site / "snippets" / "dropout" / "on_inputs.py"
    edit(snippet, "import keras\n", 'import keras\n\nraise RuntimeError("boom")\n')
    with pytest.raises(
        SiteError, match=r"snippets/dropout/on_inputs\.py: RuntimeError: boom"
    ):
        sitecheck.run_snippet(snippet, site)


def test_page_block_that_raises(site):
    page = site / "docs" / "index.md"
    edit(page, "import sklearn\n", "import sklearn\nimport not_a_module\n")
    with pytest.raises(SiteError, match=r"docs/index\.md:\d+: ModuleNotFoundError"):
        sitecheck.run_page(page, site)


def test_block_used_before_its_setup(site):
    page = site / "docs" / "dropout.md"
    data = '```python\n--8<-- "snippets/dropout/on_inputs.py:data"\n```\n'
    train = '```python\n--8<-- "snippets/dropout/on_inputs.py:train"\n```\n'
    edit(page, data, train)  # train the model before any data or model exists
    with pytest.raises(SiteError, match=r"docs/dropout\.md:\d+: NameError"):
        sitecheck.run_page(page, site)


def test_snippet_without_a_trained_model(site):
    snippet = site / "snippets" / "dropout" / "untrained.py"
    snippet.write_text(
        "import keras\n\n"
        "model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])\n",
        encoding="utf-8",
    )
    namespace = sitecheck.run_snippet(snippet, site)
    with pytest.raises(
        SiteError, match=r"snippets/dropout/untrained\.py: .* was never trained"
    ):
        sitecheck.check_trained(snippet, namespace, site)


def test_snippet_with_input_shape_on_a_layer(site):
    snippet = site / "snippets" / "dropout" / "after_hidden.py"
    edit(snippet, "keras.Input(shape=(10,)),\n", "")
    edit(snippet, 'activation="relu")', 'activation="relu", input_shape=(10,))')
    with pytest.raises(
        SiteError, match=r"snippets/dropout/after_hidden\.py:\d+: input_shape= "
    ):
        sitecheck.check_keras_idioms(snippet, site)


@pytest.mark.parametrize(
    ("losses", "problem"),
    [
        ("[1.0, 2.0]", r"loss did not fall \(1 -> 2\)"),
        ("[1.0, float('nan')]", "non-finite"),
    ],
)
def test_snippet_whose_loss_did_not_fall(site, losses, problem):
    snippet = site / "snippets" / "dropout" / "rising.py"
    snippet.write_text(
        "import keras\n"
        "import numpy as np\n\n"
        "model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])\n"
        'model.compile(optimizer="sgd", loss="mse")\n'
        "model.fit(np.ones((4, 3)), np.ones(4), epochs=2, verbose=0)\n"
        f"model.history.history['loss'] = {losses}  # as if training went so\n",
        encoding="utf-8",
    )
    namespace = sitecheck.run_snippet(snippet, site)
    with pytest.raises(SiteError, match=rf"snippets/dropout/rising\.py: .*{problem}"):
        sitecheck.check_trained(snippet, namespace, site)


def test_orphan_snippet(site):
    (site / "snippets" / "dropout" / "orphan.py").write_text("print(1)\n")
    with pytest.raises(SiteError, match=r"snippets/dropout/orphan\.py"):
        sitecheck.check_no_orphans(site)


@pytest.mark.parametrize(
    "fence",
    ['```python title="model.py"', "```py", "~~~python", "```python hl_lines='2'"],
)
def test_python_block_that_would_be_skipped(site, fence):
    page = site / "docs" / "index.md"
    edit(page, "```python\nimport keras", f"{fence}\nimport keras")
    edit(page, "sklearn.__version__)\n```", f"sklearn.__version__)\n{fence[:3]}")
    with pytest.raises(SiteError, match=r"docs/index\.md:\d+: "):
        sitecheck.check_fences(page, site)


@breaks("unknown-number")
def use_an_unknown_number(root):
    # The page renders numbers (render_macros: true); this one is unknown.
    # (The first page built: the build stops at the first error.)
    edit(
        root / "docs" / "batch-normalization.md",
        "## The data\n",
        "## The data\n\nIt holds {{ no_such_number }} rows.\n",
    )


def test_unknown_number_on_a_page(broken_builds):
    broken_builds["unknown-number"].assert_fails_naming(
        "batch-normalization.md", "no_such_number"
    )


def test_claim_without_a_test(site):
    page = site / "docs" / "dropout.md"
    edit(
        page,
        "## What the layer computes\n",
        "## What the layer computes\n\n<!-- claim: dropout/untested -->\n",
    )
    with pytest.raises(
        SiteError, match=r"docs/dropout\.md:\d+: claim 'dropout/untested' has no test"
    ):
        sitecheck.check_claims(site)


def test_stale_number(tmp_path, monkeypatch):
    import measured

    monkeypatch.setattr(measured, "DATA", tmp_path)
    monkeypatch.setattr(measured, "UPDATE", False)
    monkeypatch.setattr(measured, "ROOT", tmp_path.parent)
    (tmp_path / "dropout.json").write_text('{"zero_fraction": 0.31}')
    assert measured.record("dropout", "zero_fraction", 0.31) == 0.31
    assert measured.record("dropout", "zero_fraction", 0.31009) == 0.3101
    with pytest.raises(
        AssertionError,
        match=r"dropout\.json: zero_fraction is 0\.31 but measures 0\.3; run `make",
    ):
        measured.record("dropout", "zero_fraction", 0.3)


# Gates on the built site (tests/builtsite.py): a broken copy of the build.


@pytest.fixture
def built(built_site, tmp_path):
    """A copy of the built site that a test may break."""
    return shutil.copytree(built_site, tmp_path / "built-copy")


def test_dangling_anchor_in_a_built_page(built):
    edit(
        built / "dropout" / "index.html",
        "<h2 ",
        '<p><a href="../batch-normalization/#nowhere">see</a></p>\n<h2 ',
    )
    with pytest.raises(
        SiteError,
        match=r"dropout/index\.html:\d+: .*no element with id 'nowhere' "
        r"in batch-normalization/index\.html",
    ):
        builtsite.check_links(built)


def test_link_to_a_missing_file_in_a_built_page(built):
    edit(built / "index.html", "<h2 ", '<p><a href="gone/">gone</a></p>\n<h2 ')
    with pytest.raises(
        SiteError, match=r"index\.html:\d+: .*no file gone/ in the site"
    ):
        builtsite.check_links(built)


# A page that MkDocs copies without reading it, as a notebook converted to
# HTML is: its links, anchors and images are checked on the built site only.
NOTEBOOK = """<!DOCTYPE html>
<html lang="en"><head><title>Demo notebook</title></head><body>
<h1 id="Demo-notebook">Demo notebook<a class="anchor-link" href="#Demo-notebook">
</a></h1>
<p>See <a href="dropout/#no-such-section">the dropout page</a>.</p>
<h3 id="Loss">Loss</h3>
<img src="data:image/png;base64,iVBORw0KGgo=">
</body></html>
"""


# Built as published: below a path of the host, not at its root.
PUBLISHED = "https://example.github.io/dropout-batchnorm/"


@breaks("broken-links", SITE_URL=PUBLISHED)
def break_links_and_anchors(root):
    edit(
        root / "docs" / "dropout.md",
        "batch-normalization.md#where-to-put-it",
        "batch-normalization.md#nowhere",
    )
    index = root / "docs" / "index.md"
    edit(index, "(dropout.md)", "(droput.md)")
    # A notebook page is a page too: a link to one that does not exist fails.
    edit(index, "(notebooks/dropout.ipynb)", "(notebooks/droput.ipynb)")
    (root / "docs" / "notebook.html").write_text(NOTEBOOK, encoding="utf-8")
    edit(
        index,
        "## What you will find here\n",
        "## What you will find here\n\nA [notebook](notebook.html#Training).\n",
    )


def test_broken_links_and_anchors(broken_builds):
    """The strict build fails on every broken link and anchor of a Markdown
    page, and reports them all at once; those of a page that MkDocs does not
    read (a notebook's HTML) only the built-site check catches."""
    broken = broken_builds["broken-links"]
    broken.assert_fails_naming(
        "dropout.md", "nowhere", "index.md", "'droput.md'", "'notebooks/droput.ipynb'"
    )
    assert "notebook.html" not in broken.output  # MkDocs misses it...
    built = broken.site  # ...though it wrote the site before failing
    with pytest.raises(SiteError) as caught:
        builtsite.check_links(built, PUBLISHED)
    report = str(caught.value)
    problems = [
        r"\nnotebook\.html:\d+: .*no element with id 'no-such-section' in "
        r"dropout/index\.html",
        r"\nindex\.html:\d+: .*no element with id 'Training' in notebook\.html",
        r"\ndropout/index\.html:\d+: .*no element with id 'nowhere' in "
        r"batch-normalization/index\.html",
        r"\nindex\.html:\d+: .*no file droput\.md in the site",
        r"\nindex\.html:\d+: .*no file notebooks/droput\.ipynb in the site",
    ]
    for problem in problems:
        assert re.search(problem, report), report
    assert len(report.splitlines()) == 1 + len(problems), report  # title + each
    with pytest.raises(SiteError, match=r"notebook\.html:\d+: <img .* no alt text"):
        builtsite.check_images(built)
    with pytest.raises(
        SiteError, match=r"notebook\.html:\d+: h3 'Loss' follows h1 \(h2 skipped\)"
    ):
        builtsite.check_headings(built)


def test_page_with_two_h1_headings(built):
    edit(built / "dropout" / "index.html", "<h2 ", "<h1>Another title</h1>\n<h2 ")
    with pytest.raises(SiteError, match=r"dropout/index\.html: 2 h1 headings"):
        builtsite.check_headings(built)


def test_page_too_heavy(built):
    page = built / "batch-normalization" / "index.html"
    page.write_text(page.read_text() + f"<!-- {'x' * 500_000} -->\n")
    with pytest.raises(
        SiteError, match=r"batch-normalization/index\.html: [\d,]+ bytes \(limit"
    ):
        builtsite.check_weight(built)


def test_missing_chromium_fails_on_ci_and_skips_elsewhere(tmp_path, monkeypatch):
    from test_browser import require_chromium

    missing = tmp_path / "chromium"
    reason = f"Chromium not found at {missing}: sudo apt-get install chromium"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=re.escape(reason)):
        require_chromium(missing)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=re.escape(reason)):
        require_chromium(missing)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("build --strict", "build", "not built with `mkdocs build --strict`"),
        ("bash .ci/run", "make test", "no step runs .ci/run"),
        ("${{ github.repository_owner }}.github.io", "me.github.io", "SITE_URL"),
    ],
)
def test_publishing_workflow_that_drifted(tmp_path, old, new, problem):
    workflow = tmp_path / builtsite.WORKFLOW
    workflow.parent.mkdir(parents=True)
    shutil.copy(sitecheck.ROOT / builtsite.WORKFLOW, workflow)
    builtsite.check_workflow(tmp_path)
    edit(workflow, old, new)
    with pytest.raises(
        SiteError, match=rf"\.github/workflows/pages\.yml: .*{re.escape(problem)}"
    ):
        builtsite.check_workflow(tmp_path)


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        # The notebook's source changed...
        ("notebooks/dropout.py", "# ## The model\n", "# ## The network\n"),
        # ...or a snippet section that it includes did.
        ("snippets/dropout/after_hidden.py", "# Zeroes each", "# Sets each"),
    ],
    ids=["source", "included snippet"],
)
def test_notebook_not_regenerated(site, path, old, new):
    edit(site / path, old, new)
    with pytest.raises(
        SiteError,
        match=r"docs/notebooks/dropout\.ipynb: cell \d+ differs from what "
        r"notebooks/dropout\.py makes; run `make notebooks`",
    ):
        notebooks.check_in_sync(site / "notebooks" / "dropout.py", site)


def test_notebook_include_that_does_not_resolve(site):
    source = site / "notebooks" / "dropout.py"
    edit(source, "after_hidden.py:model", "after_hidden.py:modle")
    with pytest.raises(SiteError, match=r"notebooks/dropout\.py:\d+: .*'modle'"):
        notebooks.generate(source, site)


def test_notebook_committed_without_outputs(site):
    path = site / "docs" / "notebooks" / "dropout.ipynb"
    nbformat.write(notebooks.without_outputs(nbformat.read(path, as_version=4)), path)
    notebooks.check_in_sync(site / "notebooks" / "dropout.py", site)  # sources agree
    with pytest.raises(
        SiteError, match=r"docs/notebooks/dropout\.ipynb: cell \d+ has execution count"
    ):
        notebooks.check_executed(path, site)


def test_page_that_loads_from_a_cdn(tmp_path):
    from mkdocs_jupyter.mathjax import mathjax_script

    # What mkdocs-jupyter adds to every page unless configured not to: a
    # loader whose script comes from a CDN. And a web font, the classic way.
    page = tmp_path / "notebooks" / "dropout" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(f"<html><body><p>Text</p>{mathjax_script()}</body></html>")
    font = tmp_path / "index.html"
    font.write_text(
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
        '<a href="https://keras.io/">an ordinary link, allowed</a>'
    )
    with pytest.raises(SiteError) as caught:
        sitecheck.check_no_external_assets(tmp_path)
    report = str(caught.value)
    assert (
        "notebooks/dropout/index.html: <script data-mkdocs-jupyter-mathjax>" in report
    )
    assert "index.html: <link rel='stylesheet'>: https://fonts.googleapis" in report
    assert "keras.io" not in report


def test_notebook_cell_that_raises():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Broken"),
            nbformat.v4.new_code_cell("print('fine')"),
            nbformat.v4.new_code_cell("1 / 0"),
        ]
    )
    name = "docs/notebooks/broken.ipynb"
    result = notebooks.execute({name: notebook})[name]
    assert isinstance(result, SiteError), result
    assert str(result).startswith(f"{name}: cell 3: ZeroDivisionError"), result


@pytest.fixture
def results_copy(tmp_path):
    """Copies of the results file and the figures that a test may break."""
    shutil.copy(sitecheck.ROOT / "docs" / "data" / "results.json", tmp_path)
    shutil.copytree(sitecheck.ROOT / "docs" / "figures", tmp_path / "figures")
    return tmp_path / "results.json", tmp_path / "figures"


def test_stale_figures(results_copy):
    from experiments import figures

    path, directory = results_copy
    data = json.loads(path.read_text())
    run = next(r for r in data["runs"] if r["variant"] == "baseline")
    run["history"]["val_loss"][9] += 0.5  # neither the final nor the best value
    path.write_text(json.dumps(data))
    (directory / "bn-unscaled-inputs.svg").unlink()
    (directory / "old-figure.svg").write_text("<svg/>")
    with (directory / "placements.svg").open("a") as svg:
        svg.write("<!-- edited -->")
    problems = "\n".join(figures.stale(path, directory))
    for name, problem in [
        ("dropout-learning-curves.svg", "out of date"),
        ("placements.svg", "out of date"),
        ("bn-unscaled-inputs.svg", "missing"),
        ("old-figure.svg", "not drawn from results.json"),
    ]:
        assert re.search(rf"figures/{re.escape(name)}: {problem}", problems), problems


def _set(data, path, value):
    *parents, last = path
    for key in parents:
        data = data[key]
    if value is None:
        del data[last]
    else:
        data[last] = value


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("environment", "keras"), None, r"\$\.environment: 'keras' is a required"),
        (
            ("summary", "placements", "diabetes", "baseline", "val_loss", "mean"),
            0.1,
            "the summary does not match the runs",
        ),
        (("runs", 3, "seed"), 9, "runs do not match the configuration"),
        (("runs", 0, "history", "val_loss"), [0.5], "val_loss has 1 epochs, not"),
    ],
    ids=["schema", "summary edited", "run missing", "curve too short"],
)
def test_results_file_edited_by_hand(results_copy, path, value, message):
    from experiments.results import ResultsError, read

    results, _ = results_copy
    data = json.loads(results.read_text())
    _set(data, path, value)
    results.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=rf"^{re.escape(str(results))}: .*{message}"):
        read(results)


def test_number_typed_into_the_results_page(site):
    import resultscheck

    page = site / "docs" / "results.md"
    edit(page, "## Every placement\n", "## Every placement\n\nIt took 5 minutes.\n")
    with pytest.raises(SiteError, match=r"docs/results\.md:\d+: 'It took 5 minutes\.'"):
        resultscheck.check_no_typed_numbers(page, site)


def test_figure_without_alt_text_or_page(site):
    import resultscheck

    page = site / "docs" / "results.md"
    text = page.read_text(encoding="utf-8")
    alt = re.search(r"!\[([^\]]+)\]\(figures/placements\.svg\)", text)[1]
    edit(page, alt, "Figure")
    with pytest.raises(SiteError, match=r"docs/results\.md:\d+: placements\.svg needs"):
        resultscheck.check_figures_shown(site)
    edit(page, "![Figure](figures/placements.svg)", "")
    with pytest.raises(
        SiteError, match=r"docs/figures/placements\.svg: no page shows this figure"
    ):
        resultscheck.check_figures_shown(site)
