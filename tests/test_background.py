"""background.py itself: a job gets the values of the jobs it takes, runs in
a process of its own at a lower priority when asked, and its error reaches
the test that waits for it, with where to read its output."""

import os

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
