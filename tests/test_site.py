"""The site builds cleanly, and the code is linted and formatted."""

import re
import subprocess
import sys
import tomllib

import pytest
from packaging.utils import canonicalize_name

from docsite import ROOT


def test_strict_build_has_no_warnings(site_build):
    result = site_build[0]
    # What MkDocs reported: its warnings and errors, each naming a file.
    lines = result.stderr.splitlines()
    reported = [line for line in lines if line.startswith(("WARNING", "ERROR"))]
    if result.returncode or reported:
        pytest.fail("\n".join(reported) or result.stderr, pytrace=False)


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff(command):
    ruff = [sys.executable, "-m", "ruff", *command]  # on the whole repository
    result = subprocess.run(ruff, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def normalise(requirement: str) -> str:
    name, _, version = requirement.partition("==")
    return f"{canonicalize_name(name)}=={version}"


def test_lock_pins_every_direct_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    locked = {normalise(line) for line in lines if "==" in line}
    for requirement in project["project"]["dependencies"]:
        assert "==" in requirement, f"pyproject.toml: {requirement} is not pinned"
        assert normalise(requirement) in locked, (
            f"requirements.lock does not pin {requirement}; run `make lock`"
        )


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", quick_start, flags=re.M)
    assert commands == ["make serve", "make test"], commands
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line and line[0].isalpha()]
    assert commands[-1] == "make test", commands
    assert [line for line in commands if line.startswith("make ")] == ["make test"]
    # Anything else it installs, the README's Quick start says to install.
    for package in re.findall(r"apt-get install -y (\S+)", ci):
        assert f"`sudo apt-get install {package}`" in quick_start, package
