"""The site builds cleanly, and the code is linted and formatted."""

import subprocess
import sys

import sitecheck


def test_strict_build_has_no_warnings(tmp_path):
    result = sitecheck.build_site(sitecheck.ROOT, tmp_path / "site")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    assert (tmp_path / "site" / "index.html").is_file()


def ruff(*args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "snippets", "tests"],
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
