"""Strict MkDocs builds, several in one Python process.

Each build is what ``mkdocs build --strict --site-dir SITE_DIR`` run in
ROOT does (the same command-line entry point, with ROOT as the working
directory and ENV added to the environment), and reports the exit code and
everything the build printed. Most of a short build is the import of MkDocs
and its plugins: builds made here pay it once.

    python tests/mkdocs_builds.py BUILDS.json RESULTS.json

BUILDS.json holds ``[{"root": ..., "site_dir": ..., "env": {...}}, ...]``;
RESULTS.json receives ``[{"returncode": ..., "output": ...}, ...]``.
"""

import contextlib
import json
import logging
import os
import sys
import tempfile
import traceback
from pathlib import Path


@contextlib.contextmanager
def output_to(file):
    """File descriptors 1 and 2 (what MkDocs' log handlers and any
    subprocess write to) point to ``file``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(file.fileno(), 1)
    os.dup2(file.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def forget_modules_under(root: Path) -> None:
    """Unload the modules a build imported from its site (hooks, macros), so
    that the next site's build imports its own."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(root):
            del sys.modules[name]


def build(root: str, site_dir: str, env: dict[str, str]) -> dict:
    import click
    from mkdocs.__main__ import cli

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    # The command adds its log handlers on every run: keep only one set.
    loggers = [logging.getLogger(), logging.getLogger("mkdocs")]
    saved_handlers = [list(logger.handlers) for logger in loggers]
    os.environ.update(env)
    os.chdir(root)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as file:
        with output_to(file):
            try:
                cli.main(
                    ["build", "--strict", "--site-dir", site_dir],
                    prog_name="mkdocs",
                    standalone_mode=False,
                )
                returncode = 0
            except click.ClickException as error:  # mkdocs' Abort among them
                error.show()
                returncode = error.exit_code
            except SystemExit as exit:  # mkdocs-macros exits on a macro's error
                returncode = exit.code if isinstance(exit.code, int) else 1
            except Exception:  # what the command would die of, traceback shown
                traceback.print_exc()
                returncode = 1
        file.seek(0)
        output = file.read()
    for logger, handlers in zip(loggers, saved_handlers, strict=True):
        logger.handlers[:] = handlers
    os.chdir(saved_cwd)
    os.environ.clear()
    os.environ.update(saved_env)
    forget_modules_under(Path(root).resolve())
    return {"returncode": returncode, "output": output}


def main(builds_file: str, results_file: str) -> None:
    builds = json.loads(Path(builds_file).read_text(encoding="utf-8"))
    results = [build(b["root"], b["site_dir"], b["env"]) for b in builds]
    Path(results_file).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
