"""Each gate of the suite, proven on a deliberately broken copy of the site:
the breakage is caught, and the report names the file at fault."""

import json
import re
import shutil

import pytest
import sitecheck
from sitecheck import SiteError


@pytest.fixture
def site(tmp_path):
    """A copy of the site that a test may break."""
    root = tmp_path / "site-copy"
    root.mkdir()
    for name in ("docs", "snippets", "tests", "tools"):
        shutil.copytree(
            sitecheck.ROOT / name,
            root / name,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    for name in ("mkdocs.yml", "README.md"):
        shutil.copy(sitecheck.ROOT / name, root / name)
    return root


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assert_build_fails(root, tmp_path, *names):
    result = sitecheck.build_site(root, tmp_path / "built")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for name in names:
        assert name in output, output


def test_the_unbroken_copy_passes(site, tmp_path):
    for page in sitecheck.pages(site):
        sitecheck.check_fences(page, site)
    sitecheck.check_no_orphans(site)
    result = sitecheck.build_site(site, tmp_path / "built")
    assert result.returncode == 0, result.stdout + result.stderr


def test_missing_snippet_file(site, tmp_path):
    page = site / "docs" / "dropout.md"
    edit(page, "snippets/dropout/on_inputs.py:model", "snippets/dropout/gone.py:model")
    with pytest.raises(SiteError, match=r"docs/dropout\.md:\d+: .*gone\.py"):
        sitecheck.blocks(page, site)
    assert_build_fails(site, tmp_path, "dropout.md", "gone.py")


def test_missing_section(site, tmp_path):
    snippet = site / "snippets" / "dropout" / "on_inputs.py"
    edit(snippet, "[start:model]", "[start:modle]")
    edit(snippet, "[end:model]", "[end:modle]")
    page = site / "docs" / "dropout.md"
    with pytest.raises(
        SiteError, match=r"docs/dropout\.md:\d+: .*'model'.*on_inputs\.py:model"
    ):
        sitecheck.blocks(page, site)
    assert_build_fails(site, tmp_path, "dropout.md", "'model'")


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


def test_broken_anchor(site, tmp_path):
    page = site / "docs" / "dropout.md"
    edit(
        page, "batch-normalization.md#where-to-put-it", "batch-normalization.md#nowhere"
    )
    assert_build_fails(site, tmp_path, "dropout.md", "nowhere")


def test_dead_link(site, tmp_path):
    page = site / "docs" / "index.md"
    edit(page, "(dropout.md)", "(droput.md)")
    assert_build_fails(site, tmp_path, "index.md", "droput.md")


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


def test_unknown_number_on_a_page(site, tmp_path):
    page = site / "docs" / "dropout.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(
        "---\nrender_macros: true\n---\n\n"
        + text.replace(
            "## The data\n",
            "## The data\n\nIt zeroes {{ no_such_number }}.\n",
            1,
        ),
        encoding="utf-8",
    )
    assert_build_fails(site, tmp_path, "dropout.md", "no_such_number")


def test_stale_number(tmp_path, monkeypatch):
    import measured

    monkeypatch.setattr(measured, "DATA", tmp_path)
    monkeypatch.setattr(measured, "ROOT", tmp_path.parent)
    (tmp_path / "dropout.json").write_text('{"zero_fraction": 0.31}')
    assert measured.record("dropout", "zero_fraction", 0.31) == 0.31
    with pytest.raises(
        AssertionError,
        match=r"dropout\.json: zero_fraction is 0\.31 but measures 0\.3; run `make",
    ):
        measured.record("dropout", "zero_fraction", 0.3)


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
