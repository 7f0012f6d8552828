"""The site builds cleanly, and the code is linted and formatted."""

import re
import subprocess
import sys
import tomllib

import sitecheck


def test_strict_build_has_no_warnings(built_site):
    site_dir, result = built_site
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    assert (site_dir / "index.html").is_file()


def test_no_page_loads_from_another_host(built_site):
    site_dir, result = built_site
    assert result.returncode == 0, result.stdout + result.stderr
    sitecheck.check_no_external_assets(site_dir)


def ruff(*args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],  # the whole repository
        cwd=sitecheck.ROOT,
        capture_output=True,
        text=True,
    )


def test_ruff_check():
    result = ruff("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def normalise(requirement: str) -> str:
    name, _, version = requirement.partition("==")
    return f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}"


def test_lock_pins_every_direct_dependency():
    project = tomllib.loads((sitecheck.ROOT / "pyproject.toml").read_text())
    lines = (sitecheck.ROOT / "requirements.lock").read_text().splitlines()
    locked = {normalise(line) for line in lines if "==" in line}
    for requirement in project["project"]["dependencies"]:
        assert "==" in requirement, f"pyproject.toml: {requirement} is not pinned"
        assert normalise(requirement) in locked, (
            f"requirements.lock does not pin {requirement}; run `make lock`"
        )


def test_ci_runs_the_readme_test_command():
    readme = (sitecheck.ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", quick_start, flags=re.M)
    assert commands == ["make serve", "make test"], commands
    ci = (sitecheck.ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line.startswith("make ")] == [
        "make test"
    ]
