"""Each gate of the suite, proven on a deliberately broken copy of the site:
the breakage is caught, and the report names the file at fault."""

import functools
import json
import operator
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
import resultscheck
from conftest import build
from pageblocks import check_fences, page_blocks

import docsite
from docsite import ROOT, SiteError, built, notebooks


def copy_site(root: Path) -> Path:
    """A copy of the site at ``root``, that a test may break."""
    ignore = shutil.ignore_patterns("__pycache__", ".ruff_cache")
    for name in ["docs", "docsite", "notebooks", "overrides", "snippets", "tests"]:
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    for name in ("mkdocs.yml", "README.md"):
        shutil.copy(ROOT / name, root / name)
    return root


@pytest.fixture
def site(tmp_path):
    return copy_site(tmp_path / "site-copy")


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(path, text):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def include(target):
    return f'\n```python\n--8<-- "{target}"\n```\n'


PUBLISHED = "https://example.github.io/dropout-batchnorm/"  # below a path
BUILD_REPORTS = [
    r"docs/dropout\.md:\d+: snippets/dropout/gone\.py:model: no such file",
    r"docs/together\.md:\d+: .*usual_order\.py:modle: .* no start marker",
    r"docs/pitfalls\.md:\d+: .*no_end\.py:model: .* no end marker",
    r"docs/from-scratch\.md:\d+: .*syntax\.py:1: SyntaxError",
    r"batch-normalization\.md.*no_such_number|no_such_number.*batch-normalization",
    r"pytorch\.md.*nowhere",
    r"index\.md.*'droput\.md'",
    r"index\.md.*'notebooks/droput\.ipynb'",
]


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory):
    """A copy with one of each mistake a contributor makes, each on its own
    page (reported as BUILD_REPORTS says), and its strict build."""
    root = copy_site(tmp_path_factory.mktemp("broken") / "site-copy")
    docs, snippets = root / "docs", root / "snippets"
    append(docs / "dropout.md", include("snippets/dropout/gone.py:model"))
    append(docs / "together.md", include("snippets/together/usual_order.py:modle"))
    (snippets / "pitfalls" / "no_end.py").write_text("# --8<-- [start:model]\nx = 1\n")
    append(docs / "pitfalls.md", include("snippets/pitfalls/no_end.py:model"))
    (snippets / "from-scratch" / "syntax.py").write_text("def broken(:\n")
    append(docs / "from-scratch.md", include("snippets/from-scratch/syntax.py"))
    append(docs / "batch-normalization.md", "\nIt holds {{ no_such_number }} rows.\n")
    append(docs / "pytorch.md", "\nSee [the layer](batch-normalization.md#nowhere).\n")
    append(
        docs / "index.md",
        "\n[A](droput.md), [B](notebooks/droput.ipynb), [C](notebook.html#Training).\n",
    )
    # A page that MkDocs copies without reading it, as a converted notebook
    # is: its links and anchors are checked on the built site only.
    (docs / "notebook.html").write_text('<a href="dropout/#no-such-section">x</a>\n')
    site = root.parent / "built"
    return root, site, build(root, site, SITE_URL=PUBLISHED)


def test_strict_build_reports_every_mistake_once(broken_site):
    _, site, result = broken_site
    assert result.returncode != 0, result.stderr
    for report in BUILD_REPORTS:
        count = len(re.findall(report, result.stderr))
        assert count == 1, f"{report!r} reported {count} times:\n{result.stderr}"
    # MkDocs does not read notebook.html: its links are checked on the built site.
    assert "notebook.html" not in result.stderr
    with pytest.raises(SiteError) as caught:
        built.check_links(site, PUBLISHED)
    for problem in [
        r"notebook\.html:\d+: .*no element with id 'no-such-section' in dropout/",
        r"index\.html:\d+: .*no element with id 'Training' in notebook\.html",
    ]:
        assert re.search(problem, str(caught.value)), caught.value


def fetch(url: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_serve_shows_mistakes_and_recovers(broken_site):
    """`mkdocs serve` on the broken copy keeps serving: each page shows its
    error, naming the file; fixing the file recovers the page."""
    root = broken_site[0]
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    command = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", address]
    server = subprocess.Popen(
        command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://{address}/"
    try:
        dropout = fetch(base + "dropout/")
        assert "snippets/dropout/gone.py:model: no such file" in dropout
        assert "no_such_number" in fetch(base + "batch-normalization/")
        assert "SyntaxError" in fetch(base + "from-scratch/")
        page = root / "docs" / "dropout.md"
        edit(page, include("snippets/dropout/gone.py:model"), "")
        deadline = time.monotonic() + 60
        while "gone.py" in fetch(base + "dropout/"):
            assert time.monotonic() < deadline, "the page did not recover"
            time.sleep(0.5)
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[1]
    assert "docs/pitfalls.md" in log and "no_end.py" in log, log


def test_one_failure_per_broken_script(site):
    """A page's scripts and its run (`make page`), on a copy with a script
    that raises and one that never ends: each fails its own test, naming
    the file, the second by its time limit; the page's run, which shows
    both, is skipped, not failed again (as are claims that need them)."""
    scripts = site / "snippets" / "from-scratch"
    append(scripts / "dropout_numpy.py", 'raise RuntimeError("boom")\n')
    (scripts / "hangs.py").write_text("import time\n\nwhile True:\n    time.sleep(1)\n")
    append(site / "docs" / "from-scratch.md", include("snippets/from-scratch/hangs.py"))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--timeout=5"]
    command += ["--page", "from-scratch", "-k", "snippet_trains or runs_top_to_bottom"]
    env = {**os.environ, "SITE_ROOT": str(site)}
    result = subprocess.run(
        command, cwd=site, env=env, capture_output=True, text=True, timeout=120
    )
    out = result.stdout
    failed = re.findall(r"^FAILED \S+\[snippets/from-scratch/(\S+)\]", out, re.M)
    assert len(re.findall("^FAILED", out, re.M)) == 2, out
    assert sorted(failed) == ["dropout_numpy.py", "hangs.py"], out
    assert "dropout_numpy.py: RuntimeError: boom" in out, out
    assert "Timeout" in out, out
    assert re.search(r"\b1 skipped", out), out  # the page


@pytest.mark.parametrize(
    ("folder", "code", "error"),
    [
        ("docs", "import not_a_module", "ModuleNotFoundError"),
        ("docs", "model.summary()", "NameError"),
        ("notebooks", "1 / 0", "ZeroDivisionError"),
    ],
    ids=["page block raises", "used before its setup", "lab cell raises"],
)
def test_block_that_fails(site, folder, code, error):
    page = site / folder / "new.md"
    page.write_text(f"# New\n\n```python\nx = 1\n```\n\n```python\n{code}\n```\n")
    blocks = page_blocks if folder == "docs" else notebooks.code_blocks
    with pytest.raises(SiteError, match=rf"{folder}/new\.md:7: {error}"):
        docsite.run_blocks(blocks(page, site), site)


@pytest.mark.parametrize(
    ("losses", "problem"),
    [
        ("", "was never trained"),
        ("[1.0, 2.0]", r"loss did not fall \(1 -> 2\)"),
        ("[1.0, float('nan')]", "non-finite loss"),
    ],
    ids=["untrained", "rising loss", "nan loss"],
)
def test_snippet_whose_model_did_not_learn(site, losses, problem):
    code = (
        "import keras\nimport numpy as np\n\n"
        "model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])\n"
    )
    if losses:  # trained, then as if training went so
        code += (
            'model.compile(optimizer="sgd", loss="mse")\n'
            "model.fit(np.ones((4, 3)), np.ones(4), epochs=2, verbose=0)\n"
            f"model.history.history['loss'] = {losses}\n"
        )
    snippet = site / "snippets" / "dropout" / "learns.py"
    snippet.write_text(code)
    namespace = docsite.run_snippet(snippet, site)
    with pytest.raises(SiteError, match=rf"snippets/dropout/learns\.py: .*{problem}"):
        docsite.check_trained(snippet, namespace, site)


def test_snippet_with_input_shape_on_a_layer_and_on_no_page(site):
    snippet = site / "snippets" / "dropout" / "shaped.py"
    snippet.write_text("import keras\n\nlayer = keras.layers.Dense(2, input_dim=3)\n")
    with pytest.raises(SiteError, match=r"snippets/dropout/shaped\.py:3: input_dim="):
        docsite.check_keras_idioms(snippet, site)
    with pytest.raises(SiteError, match=r"snippets/dropout/shaped\.py"):
        docsite.check_no_orphans(site)


@pytest.mark.parametrize(
    "fence", ['```python title="model.py"', "```py", "~~~python", "```python hl_lines"]
)
def test_python_block_that_would_be_skipped(site, fence):
    page = site / "docs" / "index.md"
    append(page, f"\n{fence}\nimport keras\n{fence[:3]}\n")
    with pytest.raises(SiteError, match=r"docs/index\.md:\d+: "):
        check_fences(page, site)


def test_claim_without_a_test(site):
    append(site / "docs" / "dropout.md", "\nYes. <!-- claim: dropout/untested -->\n")
    problem = r"docs/dropout\.md:\d+: claim 'dropout/untested' has no test"
    with pytest.raises(SiteError, match=problem):
        docsite.check_claims(site)


def test_stale_number(tmp_path, monkeypatch):
    (tmp_path / "docs" / "data").mkdir(parents=True)
    (tmp_path / "docs" / "data" / "dropout.json").write_text('{"zero": 0.31}')
    monkeypatch.delenv("UPDATE_DATA", raising=False)
    assert docsite.record("dropout", "zero", 0.31009, root=tmp_path) == 0.3101
    problem = r"docs/data/dropout\.json: zero is 0\.31 but measures 0\.3;"
    with pytest.raises(SiteError, match=problem):
        docsite.record("dropout", "zero", 0.3, root=tmp_path)


def test_missing_chromium_fails_on_ci_and_skips_elsewhere(tmp_path, monkeypatch):
    from test_browser import require_chromium

    reason = re.escape(f"Chromium not found at {tmp_path}")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=reason):
        require_chromium(tmp_path / "x")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=reason):
        require_chromium(tmp_path / "x")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("build --strict", "build", "not built with `mkdocs build --strict`"),
        ("bash .ci/run", "make test", "no step runs .ci/run"),
        ("${{ github.repository_owner }}.github.io", "me.github.io", "SITE_URL"),
    ],
)
def test_publishing_workflow_that_drifted(tmp_path, old, new, problem):
    workflow = tmp_path / built.WORKFLOW
    workflow.parent.mkdir(parents=True)
    shutil.copy(ROOT / built.WORKFLOW, workflow)
    built.check_workflow(tmp_path)
    edit(workflow, old, new)
    with pytest.raises(SiteError, match=rf"pages\.yml: .*{re.escape(problem)}"):
        built.check_workflow(tmp_path)


def test_notebook_not_regenerated_or_its_include_broken(site):
    source = site / "notebooks" / "dropout.md"
    append(source, "\n```python\nprint('added')\n```\n")
    problem = r"docs/notebooks/dropout\.ipynb: .* notebooks/dropout\.md"
    with pytest.raises(SiteError, match=problem):
        notebooks.check_in_sync(source, site)
    append(source, include("snippets/dropout/after_hidden.py:modle"))
    with pytest.raises(SiteError, match=r"notebooks/dropout\.md:\d+:.*:modle: "):
        notebooks.generate(source, site)


def test_notebook_committed_without_outputs(site):
    path = site / "docs" / "notebooks" / "dropout.ipynb"
    nbformat.write(notebooks.without_outputs(nbformat.read(path, as_version=4)), path)
    with pytest.raises(SiteError, match=r"dropout\.ipynb: cell \d+ has execution"):
        notebooks.check_executed(path, site)


# The results page (tests/resultscheck.py, experiments/).


@pytest.fixture
def results_copy(tmp_path):
    """Copies of the results file and the figures that a test may break."""
    shutil.copy(ROOT / "docs" / "data" / "results.json", tmp_path)
    shutil.copytree(ROOT / "docs" / "figures", tmp_path / "figures")
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
    append(directory / "placements.svg", "<!-- edited -->")
    problems = "\n".join(figures.stale(path, directory))
    for name, problem in [
        ("dropout-learning-curves.svg", "out of date"),
        ("placements.svg", "out of date"),
        ("bn-unscaled-inputs.svg", "missing"),
        ("old-figure.svg", "not drawn from results.json"),
    ]:
        assert re.search(rf"figures/{re.escape(name)}: {problem}", problems), problems


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("environment", "keras"), 3, r"\$\.environment\.keras: 3 is not of type"),
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
    *parents, key = path  # data[path[0]]...[path[-1]] = value
    functools.reduce(operator.getitem, parents, data)[key] = value
    results.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=rf"^{re.escape(str(results))}: .*{message}"):
        read(results)


def test_number_typed_into_the_results_page(site):
    page = site / "docs" / "results.md"
    append(page, "\nIt took 5 minutes.\n")
    with pytest.raises(SiteError, match=r"docs/results\.md:\d+: 'It took 5 minutes\.'"):
        resultscheck.check_no_typed_numbers(page, site)


def test_figure_without_alt_text_or_page(site):
    page = site / "docs" / "results.md"
    text = page.read_text(encoding="utf-8")
    image = re.search(r"!\[([^\]]+)\]\(figures/placements\.svg(#only-light)?\)", text)
    edit(page, image[1], "Figure")
    with pytest.raises(SiteError, match=r"docs/results\.md:\d+: placements\.svg needs"):
        resultscheck.check_figures_shown(site)
    edit(page, image[0].replace(image[1], "Figure"), "")
    problem = r"docs/figures/placements\.svg: no page shows this figure"
    with pytest.raises(SiteError, match=problem):
        resultscheck.check_figures_shown(site)
