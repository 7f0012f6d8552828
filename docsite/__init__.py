"""The site model, shared by the MkDocs hooks, the make targets and the tests.

A page is a Markdown file under ``docs/``. Its Python blocks show snippets,
the scripts under ``snippets/<page>/``, whole or by named section, through
include lines (``--8<-- "snippets/<page>/<name>.py:<section>"``) that
pymdownx.snippets expands, in the build and here alike. A sentence about a
layer's behaviour carries a claim marker, ``<!-- claim: <page>/<name> -->``,
checked by exactly one test marked ``@pytest.mark.claim("<page>/<name>")``.
A number a page shows is measured by a test and stored in
``docs/data/<page>.json`` (:func:`record`); the page renders it.

Every check raises :class:`SiteError` (or :class:`IncludeError`) with a
message that starts with the file at fault.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import math
import os
import re
import runpy
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from unittest import mock

# The site's root: this checkout, or a copy of it (SITE_ROOT, for the tests
# that break a copy on purpose).
ROOT = Path(os.environ.get("SITE_ROOT") or Path(__file__).resolve().parent.parent)


class SiteError(AssertionError):
    """A check failed; the message starts with the file at fault."""


class IncludeError(SiteError):
    """An include line does not resolve: the strict build reports it."""


def pages(root: Path = ROOT) -> list[Path]:
    """Every Markdown page of the site, and the README; not the files under
    docs/includes/, which pages include (mkdocs.yml excludes them)."""
    docs = root / "docs"
    found = set(docs.rglob("*.md")) - set((docs / "includes").rglob("*.md"))
    return [*sorted(found), root / "README.md"]


def snippets(root: Path = ROOT) -> list[Path]:
    return sorted((root / "snippets").rglob("*.py"))


def rel(path: Path, root: Path = ROOT) -> str:
    return Path(path).resolve().relative_to(root.resolve()).as_posix()


# Includes: `--8<-- "path"` or `--8<-- "path:section"` alone on a line.
INCLUDE = re.compile(
    r'^\s*(?:#\s*)?--8<--\s+"(?P<target>(?P<path>[^":]+)(?::(?P<section>[\w-]+))?)"'
)
# Sections: the lines between `# --8<-- [start:<section>]` and its end.
SECTION = re.compile(r"^\s*# --8<-- \[(?P<kind>start|end):(?P<name>[\w-]+)\]")


def _sections(source: str) -> dict[str, list[int]]:
    """Each section's start and end marker lines (0: no such marker)."""
    found: dict[str, list[int]] = {}
    for lineno, line in enumerate(source.splitlines(), 1):
        if match := SECTION.match(line):
            start_end = found.setdefault(match["name"], [0, 0])
            start_end[0 if match["kind"] == "start" else 1] = lineno
    return found


def include_problems(text: str, where: str, root: Path = ROOT) -> list[str]:
    """What is wrong with each include line of ``text`` (a page, a block or a
    notebook source, named ``where``): a missing file, a section without its
    start or end marker, a snippet that does not parse. One line each."""
    problems = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not (match := INCLUDE.match(line)):
            continue
        path, section = root / match["path"], match["section"]
        at = f"{where}:{lineno}: {match['target']}"
        if not path.is_file():
            problems.append(f"{at}: no such file")
            continue
        source = path.read_text(encoding="utf-8")
        start, end = _sections(source).get(section, [0, 0])
        if section and (not start or end < start):
            missing = "end" if start else "start"
            marker = f"# --8<-- [{missing}:{section}]"
            problems.append(f"{at}: {match['path']} has no {missing} marker '{marker}'")
            continue
        if path.suffix == ".py":
            try:
                ast.parse(source, filename=match["path"])
            except SyntaxError as error:
                problems.append(
                    f"{at}: {match['path']}:{error.lineno}: SyntaxError: {error.msg}"
                )
    return problems


@cache
def markdown_config(root: Path = ROOT) -> tuple[list[str], dict]:
    """The site's Markdown extensions and their options, as MkDocs reads
    them from ``mkdocs.yml``, with pymdownx.snippets' paths made absolute."""
    from mkdocs.config import load_config

    config = load_config(str(root / "mkdocs.yml"))
    options = dict(config["mdx_configs"])
    snippets = dict(options["pymdownx.snippets"])
    snippets["base_path"] = [str(root / base) for base in snippets["base_path"]]
    options["pymdownx.snippets"] = snippets
    return list(config["markdown_extensions"]), options


def expand(code: str, where: str, root: Path = ROOT) -> str:
    """``code`` with its includes replaced, by the very pymdownx.snippets
    preprocessor that the build uses."""
    if "--8<--" not in code:
        return code
    problems = include_problems(code, where, root)
    if problems:
        raise IncludeError("\n".join(problems))
    import markdown
    from pymdownx.snippets import SnippetExtension

    options = markdown_config(root.resolve())[1]["pymdownx.snippets"]
    md = markdown.Markdown(extensions=[SnippetExtension(**options)])
    lines = md.preprocessors["snippet"].run(code.splitlines())
    return "\n".join(lines) + "\n"


@dataclass
class Block:
    """A piece of code that runs in a page's (or notebook's) order."""

    where: str  # file:line
    code: str  # includes expanded
    from_snippet: bool = False  # it shows (part of) a snippet


def run_blocks(blocks: list[Block], root: Path = ROOT) -> dict[str, str]:
    """Run ``blocks`` in order in one fresh namespace, as a reader pasting
    them one after another into a new interpreter would. A block that is a
    whole snippet is that snippet's run (shared with its own test); a block
    that shows sections of a snippet trains for one epoch at most, since
    the snippet's own test trains it in full. Returns what the other blocks
    printed, by :func:`block_key` (a snippet's part prints in its own run)."""
    import keras

    whole = {
        expand(f'--8<-- "{rel(s, root)}"', rel(s, root), root).strip(): s
        for s in snippets(root)
    }
    namespace: dict = {"__name__": "__main__"}
    printed = {}
    keras.backend.clear_session()  # as in a new interpreter: names count from 0
    keras.utils.set_random_seed(0)
    for block in blocks:
        script = whole.get(block.code.strip())
        if script is not None:
            run_snippet(script, root)
            # The random state after it, whether it ran now or earlier: what
            # the next blocks print must not depend on the order of tests.
            keras.utils.set_random_seed(0)
            continue
        output = io.StringIO()
        try:
            with _keras_as_tested(block.from_snippet), redirect_stdout(output):
                exec(compile(block.code, block.where, "exec"), namespace)
        except Exception as error:
            raise SiteError(
                f"{block.where}: {type(error).__name__}: {error}"
            ) from error
        if not block.from_snippet and output.getvalue().strip():
            printed[block_key(block.code)] = output.getvalue()
    return printed


def block_key(code: str) -> str:
    """The name under which a page's own block (not a snippet's) keeps its
    output in docs/data/<page>.json: its code's digest."""
    return "block:" + hashlib.sha256(code.strip().encode()).hexdigest()[:12]


def check_block_outputs(page: Path, printed: dict[str, str], root: Path = ROOT):
    """What the page's own blocks printed (:func:`run_blocks`) is what the
    page shows under them (docs/data/<page>.json, ``make data`` rewrites it);
    a page whose blocks no longer print must not show what they printed."""
    if printed or "output:blocks" in stored_data(page.stem, root):
        record(page.stem, "output:blocks", printed, root=root)


def _keras_as_tested(one_epoch: bool = False):
    """Keras as the tests run the site's code: 64 training steps to a call of
    the compiled step (``steps_per_execution``), the same updates in the same
    order with less Python between them, so every number is the one a reader
    gets; with ``one_epoch``, ``fit`` trains one epoch at most."""
    import keras

    compile_, fit = keras.Model.compile, keras.Model.fit

    def compile(self, *args, **kwargs):
        kwargs.setdefault("steps_per_execution", 64)
        return compile_(self, *args, **kwargs)

    def short_fit(self, *args, epochs=1, **kwargs):
        return fit(self, *args, epochs=min(epochs, 1), **kwargs)

    return mock.patch.multiple(
        keras.Model, compile=compile, fit=short_fit if one_epoch else fit
    )


class ScriptFailed(SiteError):
    """A snippet failed. Its own test reports it; a test that only needs
    its results is skipped (tests/conftest.py), so one cause, one failure."""


_runs: dict[Path, dict | str] = {}  # a snippet's namespace, or why it failed
_printed: dict[Path, list[tuple[int, str]]] = {}  # (line that printed, text)


def run_snippet(path: Path, root: Path = ROOT) -> dict:
    """Run a snippet as ``python snippets/<page>/<name>.py`` would, in this
    process, once: every test that needs its result shares it. A snippet
    that failed (raised, or never finished) is not run again: every later
    call raises :class:`ScriptFailed` at once."""
    import keras

    path = Path(path).resolve()
    if path not in _runs:
        keras.backend.clear_session()
        printed = _Printed(str(path))
        try:
            with redirect_stdout(printed), _keras_as_tested():
                _runs[path] = runpy.run_path(str(path), run_name="__main__")
        except BaseException as error:  # a time limit's too: it stops the script
            _runs[path] = f"{rel(path, root)}: {type(error).__name__}: {error}"
            if isinstance(error, Exception):
                raise ScriptFailed(_runs[path]) from error
            raise
        _printed[path] = printed.writes
    if isinstance(_runs[path], str):
        raise ScriptFailed(_runs[path])
    return _runs[path]


class _Printed(io.TextIOBase):
    """Standard output that notes which line of the script printed each
    piece (the innermost frame of the script that is running)."""

    def __init__(self, filename: str):
        self.filename, self.writes = filename, []

    def write(self, text: str) -> int:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.filename:
            frame = frame.f_back
        self.writes.append((frame.f_lineno if frame else 0, text))
        return len(text)


def check_outputs(path: Path, root: Path = ROOT) -> None:
    """What a snippet prints when it runs, the whole script's (key ``""``)
    and each section's (from the lines between its markers), is what its
    pages show under its blocks: docs/data/<folder>.json, which ``make data``
    rewrites."""
    path = Path(path).resolve()
    run_snippet(path, root)
    lines = {"": [0, math.inf], **_sections(path.read_text(encoding="utf-8"))}
    printed = {
        name: "".join(text for at, text in _printed[path] if start < at < end)
        for name, (start, end) in lines.items()
    }
    printed = {name: text for name, text in printed.items() if text.strip()}
    if printed:
        record(path.parent.name, f"output:{path.name}", printed, root=root)


def check_trained(path: Path, namespace: dict, root: Path = ROOT) -> None:
    """Every model a snippet leaves was trained, and its loss fell.
    A snippet that leaves no model must check its result with ``assert``."""
    import keras

    name = rel(path, root)
    models = [value for value in namespace.values() if isinstance(value, keras.Model)]
    if not models:
        source = Path(path).read_text(encoding="utf-8")
        if not re.search(r"^\s*assert |\btesting\.assert_", source, flags=re.M):
            raise SiteError(f"{name}: leaves no keras.Model and asserts nothing")
    for model in models:
        label = f"{name}: model {model.name!r}"
        optimizer = getattr(model, "optimizer", None)
        if optimizer is None or not int(optimizer.iterations):
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


def check_no_orphans(root: Path = ROOT) -> None:
    """Every snippet is included by some page."""
    included = {
        (root / match["path"]).resolve()
        for page in pages(root)
        for line in page.read_text(encoding="utf-8").splitlines()
        if (match := INCLUDE.match(line))
    }
    orphans = [rel(s, root) for s in snippets(root) if s.resolve() not in included]
    if orphans:
        raise SiteError(
            "snippets that no page includes (embed them, or delete them):\n"
            + "\n".join(orphans)
        )


def check_keras_idioms(path: Path, root: Path = ROOT) -> None:
    """A snippet declares its input with ``keras.Input(shape=...)``, never
    with ``input_shape=`` or ``input_dim=`` on a layer."""
    name = rel(path, root)
    if name == "snippets/pitfalls/input_shape.py":  # the page shows the mistake
        return
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=name)
    found = [
        f"{name}:{node.lineno}: {keyword.arg}= on a layer; "
        "declare the input first with keras.Input(shape=...)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg in {"input_shape", "input_dim"}
    ]
    if found:
        raise SiteError("\n".join(found))


# Claims: `<!-- claim: <page>/<name> -->` on a page, and exactly one test
# marked `@pytest.mark.claim("<page>/<name>")`.
CLAIM_ON_PAGE = re.compile(r"<!--\s*claim:\s*([\w./-]+)\s*-->")
CLAIM_IN_TEST = re.compile(r"""@pytest\.mark\.claim\(\s*["']([\w./-]+)["']""")


def _find(pattern: re.Pattern, files: list[Path], root: Path) -> dict[str, list]:
    found: dict[str, list[str]] = {}
    for file in files:
        for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            for name in pattern.findall(line):
                found.setdefault(name, []).append(f"{rel(file, root)}:{lineno}")
    return found


def check_claims(root: Path = ROOT) -> None:
    on_pages = _find(CLAIM_ON_PAGE, pages(root), root)
    in_tests = _find(CLAIM_IN_TEST, sorted((root / "tests").rglob("test_*.py")), root)
    problems = [
        f'{where[0]}: claim {name!r} has no test (@pytest.mark.claim("{name}"))'
        for name, where in on_pages.items()
        if name not in in_tests
    ]
    for name, where in in_tests.items():
        if name not in on_pages:
            problems.append(f"{where[0]}: tests claim {name!r}, which no page makes")
        if len(where) > 1:
            problems.append(f"{', '.join(where)}: claim {name!r} is tested twice")
    if problems:
        raise SiteError("\n".join(problems))


# Numbers: a test measures a value and records it in docs/data/<page>.json,
# which the page renders. With UPDATE_DATA=1 (`make data`) the file is
# rewritten; otherwise the stored value must equal the measurement (a float
# to within one unit of its last stored digit), so no page shows a stale one.
def record(page: str, name: str, value, digits: int = 4, root: Path = ROOT):
    if isinstance(value, float):
        value = round(value, digits)
    stored = stored_data(page, root)
    path = root / "docs" / "data" / f"{page}.json"
    where = rel(path, root)
    if os.environ.get("UPDATE_DATA") == "1":
        stored[name] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
        return value
    if name not in stored:
        raise SiteError(f"{where}: no {name!r}; run `make data`")
    same = (
        abs(stored[name] - value) <= 1.01 * 10**-digits
        if isinstance(value, float)
        else stored[name] == value
    )
    if not same:
        raise SiteError(
            f"{where}: {name} is {stored[name]!r} but measures {value!r}; "
            "run `make data`"
        )
    return value


def stored_data(page: str, root: Path = ROOT) -> dict:
    """What docs/data/<page>.json holds (nothing yet: an empty dict)."""
    path = root / "docs" / "data" / f"{page}.json"
    return json.loads(path.read_text()) if path.exists() else {}
