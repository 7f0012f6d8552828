"""The checks that keep the site honest, written once and used two ways.

The tests run them on the real site; ``test_gates.py`` runs them on a broken
copy to prove that each one fails, naming the file at fault.

Pages are the Markdown files under ``docs/`` plus ``README.md``. Their
Python code blocks are found by pytest-codeblocks' own extractor, and a block
that includes a snippet (``--8<-- "snippets/..."``) is expanded by the very
pymdownx.snippets preprocessor that MkDocs uses, configured from
``mkdocs.yml``.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import os
import re
import runpy
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
import pytest_codeblocks
from mkdocs.config import load_config
from pymdownx.snippets import SnippetMissingError

ROOT = Path(__file__).resolve().parent.parent
PYTHON_FENCE_NAMES = {"py", "py3", "python", "python3", "pycon"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")

# What the suite executed of the site itself (broken copies made by the gate
# tests are not counted); the benchmark reads it (see conftest.py).
executed = {"snippets": 0, "code blocks": 0, "whole-script blocks": 0}


def _count(root: Path, *keys: str) -> None:
    if root.resolve() == ROOT:
        for key in keys:
            executed[key] += 1


class SiteError(AssertionError):
    """A check failed; the message starts with the file at fault."""


@dataclass
class Block:
    page: Path
    lineno: int  # line of the opening fence in the page
    code: str  # after snippet expansion
    from_snippet: bool = False  # the block includes (part of) a snippet

    @property
    def where(self) -> str:
        return f"{self.page}:{self.lineno}"


def pages(root: Path = ROOT) -> list[Path]:
    """Every Markdown page of the site, and the README."""
    return [*sorted((root / "docs").rglob("*.md")), root / "README.md"]


def snippets(root: Path = ROOT) -> list[Path]:
    """Every script under ``snippets/``."""
    return sorted((root / "snippets").rglob("*.py"))


def rel(path: Path, root: Path = ROOT) -> str:
    return str(path.relative_to(root))


@cache
def _snippet_config(root: Path) -> dict:
    """The pymdownx.snippets options of ``mkdocs.yml``, paths made absolute."""
    config = load_config(str(root / "mkdocs.yml"))
    options = dict(config["mdx_configs"]["pymdownx.snippets"])
    options["base_path"] = [str(root / base) for base in options["base_path"]]
    return options


def _preprocessor(root: Path, seen: set[Path]):
    """pymdownx.snippets' preprocessor, noting in ``seen`` every file it reads."""
    md = markdown.Markdown(
        extensions=["pymdownx.snippets"],
        extension_configs={"pymdownx.snippets": _snippet_config(root)},
    )
    pre = md.preprocessors["snippet"]
    read_lines = pre.read_lines

    def recording_read_lines(path):
        seen.add(Path(path).resolve())
        return read_lines(path)

    pre.read_lines = recording_read_lines
    return pre


def expand(code: str, where: str, root: Path = ROOT, seen: set | None = None) -> str:
    """Replace snippet includes in ``code`` exactly as the site build does."""
    if "--8<--" not in code:
        return code
    pre = _preprocessor(root, set() if seen is None else seen)
    try:
        lines = pre.run(code.splitlines())
    except SnippetMissingError as error:
        includes = "; ".join(
            line.strip() for line in code.splitlines() if "--8<--" in line
        )
        raise SiteError(f"{where}: {error} (include: {includes})") from None
    return "\n".join(lines) + "\n"


def python_fences(page: Path) -> list[tuple[int, str]]:
    """(line, info string) of every fence that opens a Python block."""
    found, inside = [], None
    for lineno, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if not match:
            continue
        fence = match["fence"]
        if inside is None:
            inside = fence
            info = match["info"].strip()
            name = re.split(r"[\s{]", info, maxsplit=1)[0].lower() if info else ""
            if name in PYTHON_FENCE_NAMES:
                found.append((lineno, info))
        elif (
            fence[0] == inside[0]
            and len(fence) >= len(inside)
            and not match["info"].strip()
        ):
            inside = None
    return found


def check_fences(page: Path, root: Path = ROOT) -> None:
    """Fail on any Python block that pytest-codeblocks would skip silently."""
    bad = [
        f"{rel(page, root)}:{lineno}: ```{info}"
        for lineno, info in python_fences(page)
        if info != "python" or not _opens_with_backticks(page, lineno)
    ]
    if bad:
        raise SiteError(
            "Python blocks that would not be executed (write exactly ```python, "
            "with no title or other options):\n" + "\n".join(bad)
        )


def _opens_with_backticks(page: Path, lineno: int) -> bool:
    line = page.read_text(encoding="utf-8").splitlines()[lineno - 1]
    return line.lstrip().startswith("```")


def blocks(page: Path, root: Path = ROOT, seen: set | None = None) -> list[Block]:
    """The page's Python blocks in reading order, includes expanded."""
    name = rel(page, root)
    with page.open(encoding="utf-8") as handle:
        extracted = pytest_codeblocks.extract_from_buffer(handle)
    found = []
    for block in extracted:
        if block.syntax != "python":
            continue
        where = f"{name}:{block.lineno}"
        if block.marks or block.importorskip or block.expected_output:
            raise SiteError(
                f"{where}: pytest-codeblocks markers are not used on this site; "
                "every Python block runs unconditionally"
            )
        found.append(
            Block(
                Path(name),
                block.lineno,
                expand(block.code, where, root, seen),
                from_snippet="--8<--" in block.code,
            )
        )
    fences = python_fences(page)
    if len(found) != len(fences):
        raise SiteError(
            f"{name}: {len(fences)} Python fences but {len(found)} extracted blocks; "
            "check the fences' syntax"
        )
    return found


def run_page(page: Path, root: Path = ROOT) -> dict:
    """Run a page's Python blocks in order in one fresh namespace, as a reader
    pasting them one after another into a new interpreter would.

    A block that shows a whole snippet file is a complete script: it is run
    as that script (once per session, shared with the snippet's own test)
    rather than trained a second time. A block that shows sections of a
    snippet runs with `fit` capped at two epochs: the snippet's own test
    trains it in full, and here only the page's order is at stake.
    """
    # How each snippet reads on a page (its section markers removed).
    whole_files = {
        expand(f'--8<-- "{rel(s, root)}"', rel(s, root), root).strip(): s
        for s in snippets(root)
    }
    namespace: dict = {"__name__": "__main__"}
    _reset_keras()
    for block in blocks(page, root):
        script = whole_files.get(block.code.strip())
        if script is not None:
            run_snippet(script, root)
            _count(root, "code blocks", "whole-script blocks")
            continue
        short = _short_training() if block.from_snippet else contextlib.nullcontext()
        try:
            with short:
                exec(compile(block.code, block.where, "exec"), namespace)
        except Exception as error:
            message = f"{block.where}: {type(error).__name__}: {error}"
            raise SiteError(message) from error
        _count(root, "code blocks")
    return namespace


@contextlib.contextmanager
def _short_training(max_epochs: int = 2):
    import keras

    fit = keras.Model.fit

    def short_fit(self, *args, epochs=1, **kwargs):
        return fit(self, *args, epochs=min(epochs, max_epochs), **kwargs)

    keras.Model.fit = short_fit
    try:
        yield
    finally:
        keras.Model.fit = fit


def included(root: Path = ROOT) -> set[Path]:
    """Every snippet file that some page includes, whole or in part."""
    seen: set[Path] = set()
    for page in pages(root):
        blocks(page, root, seen)
    return seen


def check_no_orphans(root: Path = ROOT) -> None:
    seen = included(root)
    orphans = [rel(s, root) for s in snippets(root) if s.resolve() not in seen]
    if orphans:
        raise SiteError(
            "snippets that no page includes (embed them, or delete them):\n"
            + "\n".join(orphans)
        )


# Keras 3 takes a model's input shape from keras.Input, and only warns about
# (then ignores) input_shape= or input_dim= on a layer. docs/pitfalls.md
# shows that mistake on purpose, so its snippets alone may make it.
SHOWS_MISTAKES = "snippets/pitfalls/"
LEGACY_SHAPE_ARGUMENTS = {"input_shape", "input_dim"}


def check_keras_idioms(path: Path, root: Path = ROOT) -> None:
    """A snippet declares its input with ``keras.Input(shape=...)``, never
    with ``input_shape=`` or ``input_dim=`` on a layer."""
    name = rel(path, root)
    if name.startswith(SHOWS_MISTAKES):
        return
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
    found = [
        f"{name}:{node.lineno}: {keyword.arg}= on a layer; "
        "declare the input first with keras.Input(shape=...)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg in LEGACY_SHAPE_ARGUMENTS
    ]
    if found:
        raise SiteError("\n".join(found))


def _reset_keras() -> None:
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()


def run_snippet(path: Path, root: Path = ROOT) -> dict:
    """Run a snippet as ``python snippets/<page>/<name>.py`` would, in this
    process (TensorFlow is imported once for the whole suite), and only once:
    the result is shared by every test that needs it."""
    return _run_snippet(path.resolve(), root.resolve())


@cache
def _run_snippet(path: Path, root: Path) -> dict:
    _reset_keras()
    try:
        namespace = runpy.run_path(str(path), run_name="__main__")
    except Exception as error:
        message = f"{rel(path, root)}: {type(error).__name__}: {error}"
        raise SiteError(message) from error
    _count(root, "snippets")
    return namespace


def check_trained(path: Path, namespace: dict, root: Path = ROOT) -> list:
    """Every model a snippet leaves is built, was trained, and its loss fell.

    A snippet that leaves no model (a from-scratch implementation, say) must
    check its own result with ``assert`` or ``numpy.testing``.
    """
    import keras

    name = rel(path, root)
    models = [value for value in namespace.values() if isinstance(value, keras.Model)]
    if not models:
        source = path.read_text(encoding="utf-8")
        if not re.search(r"^\s*assert |\btesting\.assert_", source, flags=re.M):
            raise SiteError(f"{name}: leaves no keras.Model and asserts nothing")
    for model in models:
        label = f"{name}: model {model.name!r}"
        if not model.built:
            raise SiteError(f"{label} is not built")
        optimizer = getattr(model, "optimizer", None)
        if optimizer is None or int(optimizer.iterations) == 0:
            raise SiteError(f"{label} was never trained")
        losses = getattr(model, "history", None) and model.history.history.get("loss")
        if not losses or len(losses) < 2:
            raise SiteError(f"{label} has no loss history of two epochs or more")
        if not all(math.isfinite(loss) for loss in losses):
            raise SiteError(f"{label} has a non-finite loss: {losses}")
        if not losses[-1] < losses[0]:
            raise SiteError(
                f"{label}: loss did not fall ({losses[0]:.4g} -> {losses[-1]:.4g})"
            )
    return models


def build_site(root: Path, site_dir: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of the site at ``root``."""
    return build_sites([(root, site_dir, {})])[0]


def build_sites(
    builds: list[tuple[Path, Path, dict]],
) -> list[subprocess.CompletedProcess]:
    """``mkdocs build --strict`` of each (site root, site directory, added
    environment variables), one after the other in one new Python process
    (tests/mkdocs_builds.py), which imports MkDocs and its plugins once.
    Each result's ``stdout`` holds all that its build printed."""
    with tempfile.TemporaryDirectory() as scratch:
        specs, results = Path(scratch) / "builds.json", Path(scratch) / "results.json"
        specs.write_text(
            json.dumps(
                [
                    {"root": str(root), "site_dir": str(site_dir), "env": env}
                    for root, site_dir, env in builds
                ]
            ),
            encoding="utf-8",
        )
        driver = Path(__file__).with_name("mkdocs_builds.py")
        done = subprocess.run(
            [sys.executable, str(driver), str(specs), str(results)],
            env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
            capture_output=True,
            text=True,
            timeout=120 * len(builds),
        )
        if done.returncode != 0 or not results.exists():
            raise SiteError(f"{driver.name} failed:\n{done.stdout}{done.stderr}")
        reports = json.loads(results.read_text(encoding="utf-8"))
    return [
        subprocess.CompletedProcess(
            ["mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
            report["returncode"],
            stdout=report["output"],
            stderr="",
        )
        for (root, site_dir, env), report in zip(builds, reports, strict=True)
    ]


# Claims: a sentence about a layer's behaviour carries an invisible marker,
# `<!-- claim: <page>/<name> -->`, and one test carries `@claim("<page>/<name>")`.
CLAIM_ON_PAGE = re.compile(r"<!--\s*claim:\s*([\w./-]+)\s*-->")
CLAIM_IN_TEST = re.compile(r"""@(?:sitecheck\.)?claim\(\s*["']([\w./-]+)["']""")


def claim(name: str):
    """Mark the test that checks the claim ``name`` made on a page."""
    return pytest.mark.claim(name)


def claims_on_pages(root: Path = ROOT) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for page in pages(root):
        text = page.read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            for name in CLAIM_ON_PAGE.findall(line):
                found.setdefault(name, []).append(f"{rel(page, root)}:{lineno}")
    return found


def claims_in_tests(root: Path = ROOT) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for test in sorted((root / "tests").rglob("test_*.py")):
        for name in CLAIM_IN_TEST.findall(test.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(rel(test, root))
    return found


def check_claims(root: Path = ROOT) -> None:
    on_pages, in_tests = claims_on_pages(root), claims_in_tests(root)
    problems = [
        f"{where[0]}: claim {name!r} has no test (@claim({name!r}))"
        for name, where in on_pages.items()
        if name not in in_tests
    ]
    problems += [
        f"{where[0]}: tests claim {name!r}, which no page makes"
        for name, where in in_tests.items()
        if name not in on_pages
    ]
    problems += [
        f"{', '.join(where)}: claim {name!r} is tested twice"
        for name, where in in_tests.items()
        if len(where) > 1
    ]
    if problems:
        raise SiteError("\n".join(problems))


# The built site loads everything from its own files: no script, stylesheet,
# font, image or frame from another host (no CDN), on any page.
EXTERNAL_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.I)
SCRIPT_URL = re.compile(r"https?://[^\s'\"<>]+")
NAMESPACES = ("http://www.w3.org/",)  # SVG/XML namespace names: never fetched
LOADED_BY = {  # element: attributes whose URL the browser fetches
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "source": ("src", "srcset"),
    "track": ("src",),
    "audio": ("src",),
    "video": ("src", "poster"),
    "object": ("data",),
    "input": ("src",),
}
LINKS_NOT_LOADED = {"canonical", "alternate", "prev", "next", "edit", "author"}


class _ExternalAssets(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._inside: str | None = None

    def _url(self, what: str, url: str) -> None:
        if EXTERNAL_URL.match(url) and not url.strip().startswith(NAMESPACES):
            self.found.append(f"{what}: {url.strip()}")

    def _css(self, what: str, css: str) -> None:
        for match in CSS_URL.finditer(css):
            self._url(what, match[1] or match[2])

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        for name in LOADED_BY.get(tag, ()):
            if name in attrs:
                for url in attrs[name].split(","):  # srcset: "url 2x, url 3x"
                    self._url(f"<{tag} {name}>", url.strip().split(" ")[0])
        rel = set(attrs.get("rel", "").lower().split())
        if tag == "link" and "href" in attrs and not rel & LINKS_NOT_LOADED:
            self._url(f"<link rel={attrs.get('rel', '')!r}>", attrs["href"])
        if tag == "script":  # a loader may keep its URL in a data- attribute
            for name, value in attrs.items():
                for url in SCRIPT_URL.findall(value):
                    self._url(f"<script {name}>", url)
        if "style" in attrs:
            self._css(f"<{tag} style>", attrs["style"])
        self._inside = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._inside = None

    def handle_data(self, data):
        if self._inside == "style":
            self._css("<style>", data)
        elif self._inside == "script":
            for url in SCRIPT_URL.findall(data):
                self._url("<script> code", url)


def external_assets(html_text: str) -> list[str]:
    """What a page would load from another host."""
    parser = _ExternalAssets()
    parser.feed(html_text)
    return parser.found


def check_no_external_assets(site_dir: Path) -> None:
    problems = [
        f"{page.relative_to(site_dir)}: {asset}"
        for page in sorted(site_dir.rglob("*.html"))
        for asset in external_assets(page.read_text(encoding="utf-8"))
    ]
    if problems:
        raise SiteError(
            "built pages load from other hosts (serve the file from the site):\n"
            + "\n".join(problems)
        )
