"""background.py itself: a job gets the values of the jobs it takes, runs in
a process of its own at a lower priority when asked, and its error reaches
the test that waits for it, with where to read its output. A session that a
job starts gets the jobs' priority too."""

import os
import subprocess
import sys
import time
from pathlib import Path

import background
import pytest

# Jobs that no test takes as a fixture: started here, by name, on demand.


@background.fixture
def numbers():
    return [1, 2, 3]


@background.fixture(process=True)
def total(numbers):
    return sum(numbers), os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)


@background.fixture(process=True)
def failing():
    raise ValueError("no such row")


def test_a_job_takes_other_jobs_values_in_a_process_of_its_own():
    value, pid, priority = background.result("total")
    assert value == 6
    assert pid != os.getpid()
    assert priority == background.NICENESS


def test_a_jobs_error_reaches_the_test_with_its_output():
    with pytest.raises(ValueError, match="no such row") as caught:
        background.result("failing")
    notes = "\n".join(caught.value.__notes__)
    assert "failing.log" in notes
    assert "in failing" in notes  # the job's own traceback


@background.fixture
def own_session():
    """A process that starts a session of its own, as a Jupyter kernel does;
    its pid, and the test process's scheduling group."""
    tests_group = background.own_autogroup()
    if tests_group is None:
        return None  # the test that takes it is skipped
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    return sleeper, tests_group


@pytest.mark.skipif(
    background.own_autogroup() is None,
    reason="no autogroups here: a new session is scheduled like the rest",
)
def test_a_session_that_a_job_starts_runs_at_the_jobs_priority():
    sleeper, tests_group = background.result("own_session")
    try:
        group = Path(f"/proc/{sleeper.pid}/autogroup")
        deadline = time.monotonic() + 10
        while not group.read_text().endswith(f" nice {background.NICENESS}\n"):
            assert time.monotonic() < deadline, group.read_text()
            time.sleep(0.1)
        assert group.read_text().split()[0] != tests_group  # a group of its own
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("content", ["", "\n"])
def test_an_empty_autogroup_file_means_no_autogroups(monkeypatch, content):
    # Some containers expose /proc/<pid>/autogroup but leave it empty.
    monkeypatch.setattr(background, "_autogroup", lambda pid: content.strip())
    assert background.own_autogroup() is None
