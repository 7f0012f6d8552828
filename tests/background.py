"""Session fixtures computed in the background, beside the other tests.

Most of the suite trains Keras models in the test process, one core's work.
The rest (a site build, the browser's visits, notebook kernels, builds of
broken copies) runs in other processes and can use the other core, if it
starts early. So

    @background.fixture
    def site_build():
        return sitecheck.build_site(...)

makes ``site_build`` a session fixture whose value is computed in a thread
of its own, started as soon as the tests are collected (see conftest.py).
A job takes other background fixtures as arguments, by name, as a fixture
does. ``@background.fixture(process=True)`` runs the job in a process of its
own (arguments and value are pickled): one that runs Python for long, such
as driving a browser, would otherwise take turns with the tests for the
interpreter lock.

Jobs, and every process they start, run at a lower priority than the tests,
and the tests that use a background fixture run after all the others: by
then their values are ready, or nearly. Some programs start a session of
their own (Jupyter kernels, Chromium); Linux then schedules each such session
as a group (an "autogroup") with as much CPU as the tests' own session, so
a watcher lowers the priority of those groups too.
"""

from __future__ import annotations

import importlib
import inspect
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

NICENESS = 10  # of the jobs; the tests run at 0
LOGS = Path(__file__).resolve().parent.parent / "build" / "background"


@dataclass
class Job:
    run: Callable
    arguments: list[str]  # the background fixtures it takes
    process: bool


JOBS: dict[str, Job] = {}
_started: dict[str, Future] = {}
_lock = threading.Lock()


def fixture(function: Callable | None = None, *, process: bool = False):
    """Register ``function`` as a job and return a session fixture of the
    same name whose value is the job's (or whose error is the job's)."""
    if function is None:
        return lambda function: fixture(function, process=process)
    name = function.__name__
    if name in JOBS and JOBS[name].run is not function:
        raise ValueError(f"two background fixtures are named {name!r}")
    arguments = list(inspect.signature(function).parameters)
    JOBS[name] = Job(function, arguments, process)

    @pytest.fixture(scope="session", name=name)
    def waiting():
        return result(name)

    waiting.__doc__ = function.__doc__
    return waiting


def _lower_priority() -> None:
    # Linux: a thread's priority; the processes it starts inherit it.
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def _autogroup(pid: int | str) -> str:
    """The scheduling group of a process: "/autogroup-<n> nice <k>"."""
    return Path(f"/proc/{pid}/autogroup").read_text().strip()


def _descendants(root: int) -> set[int]:
    """The processes below ``root``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The parent's pid follows the command's name in parentheses.
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # ended meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = set(), [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def own_autogroup() -> str | None:
    """The test process's scheduling group ("/autogroup-<n>"), or None where
    there are none: another OS, the feature off, or a container where
    /proc/<pid>/autogroup exists but reads empty."""
    try:
        return _autogroup("self").split()[0]
    except (OSError, IndexError):
        return None


@cache  # one watcher per session
def _watch_sessions() -> None:
    """Where Linux groups processes by session (autogroups), give the group
    of every session that a job's process starts the jobs' priority."""
    own = own_autogroup()
    if own is None:
        return

    def watch():
        lowered = set()
        while True:
            for pid in _descendants(os.getpid()):
                try:
                    group = _autogroup(pid).split()[0]
                    if group != own and group not in lowered:
                        Path(f"/proc/{pid}/autogroup").write_text(str(NICENESS))
                        lowered.add(group)
                except (OSError, IndexError):
                    continue  # ended meanwhile, or not ours to change
            time.sleep(0.5)

    threading.Thread(target=watch, name="background-sessions", daemon=True).start()


def _child(send, log: str, module: str, name: str, arguments: tuple) -> None:
    """In the job's own process: import the job's module (which registers
    the job), run it, and send back (True, its value) or (False, its error)."""
    _lower_priority()
    # What the process and those it starts print (TensorFlow's start-up
    # messages, for one) goes to its log, not among the tests' dots.
    with open(log, "w") as output:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
    try:
        importlib.import_module(module)
        outcome = (True, JOBS[name].run(*arguments))
    except BaseException as error:
        error.add_note(traceback.format_exc())
        outcome = (False, error)
    try:
        send.send(outcome)
    except Exception:  # a value or an error that does not pickle
        send.send((False, RuntimeError(repr(outcome[1]))))


def _in_a_process(name: str, *arguments):
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    spawn = multiprocessing.get_context("spawn")
    receive, send = spawn.Pipe(duplex=False)
    module = JOBS[name].run.__module__
    # A daemon: it is stopped if the tests end first (-x, Ctrl-C).
    process = spawn.Process(
        target=_child,
        args=(send, str(log), module, name, arguments),
        name=f"background-{name}",
        daemon=True,
    )
    process.start()
    send.close()
    try:
        succeeded, value = receive.recv()
    except EOFError:
        process.join()
        raise RuntimeError(
            f"background job {name!r} ended with exit code {process.exitcode} "
            f"and no result; its output: {log}"
        ) from None
    process.join()
    if not succeeded:
        value.add_note(f"the background job's output: {log}")
        raise value
    return value


def start(name: str) -> Future:
    """Start the job ``name`` (and those it takes), unless it was started."""
    _watch_sessions()
    with _lock:
        if name in _started:
            return _started[name]
        job, future = JOBS[name], Future()
        _started[name] = future

    def run():
        _lower_priority()
        try:
            arguments = [result(argument) for argument in job.arguments]
            if job.process:
                future.set_result(_in_a_process(name, *arguments))
            else:
                future.set_result(job.run(*arguments))
        except BaseException as error:  # raised in every test that waits
            future.set_exception(error)

    # A daemon: an interrupted session does not wait for it.
    threading.Thread(target=run, name=f"background-{name}", daemon=True).start()
    return future


def result(name: str):
    """The job's value, once it is done (started now if it was not)."""
    return start(name).result()


def needed_by(item: pytest.Item) -> list[str]:
    """The background fixtures that a test uses, directly or not."""
    return [name for name in getattr(item, "fixturenames", ()) if name in JOBS]


@cache
def _scratch_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="site-tests-"))


def scratch(name: str) -> Path:
    """A new, empty directory for a job (a job has no ``tmp_path``)."""
    path = _scratch_root() / name
    path.mkdir(parents=True)
    return path


def clean_up() -> None:
    """Remove every job's directory (at the end of the session)."""
    if _scratch_root.cache_info().currsize:
        shutil.rmtree(_scratch_root(), ignore_errors=True)
