"""pytest plugin copied into each work folder: streams one JSON line per test outcome.

Loaded with ``-p _grading_reporter --grading-report-fd N`` by the notebook steps. Lines go
to a pipe the grader reads while the run goes on (not to a file in the work folder), so the
results of every cell that finished survive a timeout or a crash of the run, and code running
in a Jupyter kernel (which does not inherit the pipe) cannot write to it. The hidden unit
tests do not use it: their verdicts come from :mod:`instructor.grading.verdicts`, outside the
sandbox.

Lines: ``{"event": "collected", "nodeids": [...]}``, ``{"event": "start", "nodeid": ...}``,
``{"event": "report", "nodeid", "when", "outcome", "message"}`` (message: the failure text,
cut to 3000 characters), ``{"event": "collect-error", "nodeid", "message"}``.

``--grading-test-timeout S``: a test running longer than S seconds is interrupted (SIGALRM)
and fails with a timeout message; a loop in C code that ignores signals is left to the
sandbox's wall-clock limit. Standard library and pytest only.

A notebook's kernel that ends while a cell runs (the student's code called ``os._exit`` at
import, say) fails that cell at once, with a message saying so: nbval itself would wait out
the cell's whole time limit for a reply from a dead kernel (and 5 s more for its output);
the later cells then fail at once as nbval's "Kernel dead on test start". See
:func:`watch_kernel`.
"""

import json
import os
import signal
import time
from queue import Empty

import pytest

MESSAGE_CHARS = 3000


class GradingTimeout(Exception):
    """Raised in a test that ran past --grading-test-timeout."""


def pytest_addoption(parser):
    group = parser.getgroup("grading", "instructor grading reporter")
    group.addoption("--grading-report-fd", type=int, default=None,
                    help="file descriptor to write one JSON line per test outcome to")
    group.addoption("--grading-test-timeout", type=float, default=0.0,
                    help="interrupt a test after this many seconds (0: never)")


def _emit(config, **event):
    fd = config.getoption("grading_report_fd")
    if fd is None:
        return
    line = json.dumps(event) + "\n"
    try:
        os.write(fd, line.encode("utf-8", errors="replace"))
    except OSError:
        pass


def _message(report):
    text = getattr(report, "longreprtext", "") or ""
    if len(text) > MESSAGE_CHARS:
        text = text[:MESSAGE_CHARS // 3] + "\n[...]\n" + text[-2 * MESSAGE_CHARS // 3:]
    return text


def pytest_collection_finish(session):
    _emit(session.config, event="collected", nodeids=[i.nodeid for i in session.items])


def pytest_collectreport(report):
    if report.failed:
        cfg = getattr(report, "config", None) or _CONFIG[0]
        _emit(cfg, event="collect-error", nodeid=report.nodeid, message=_message(report))


def pytest_runtest_logstart(nodeid, location):
    _emit(_CONFIG[0], event="start", nodeid=nodeid)


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        _emit(_CONFIG[0], event="report", nodeid=report.nodeid, when=report.when,
              outcome=report.outcome, message=_message(report))


_CONFIG = [None]


def pytest_configure(config):
    _CONFIG[0] = config


def _on_alarm(signum, frame):
    raise GradingTimeout("test interrupted: it ran longer than the time limit per test")


class KernelDied(Exception):
    """Raised in a notebook cell whose kernel ended while the cell waited for it."""


KERNEL_DIED = ("the notebook's kernel (the process running your code) ended while this cell "
               "ran: your code, or something it called, ended the process (os._exit, a "
               "crash, a limit)")
POLL_SECONDS = 0.5


def watch_kernel(kernel):
    """Make nbval's ``kernel.get_message`` (every wait of nbval for its kernel: the cell's
    reply, its outputs) wait in slices of :data:`POLL_SECONDS` and raise :class:`KernelDied`
    as soon as the kernel process is no longer alive, instead of waiting out the timeout.
    The verdict is still nbval's and the collector's: a dead kernel only fails a cell sooner;
    a live one is waited for exactly as long as before. Idempotent."""
    original = kernel.get_message
    if getattr(original, "_grading_watched", False):
        return

    def get_message(stream, timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise Empty
            try:
                return original(stream, timeout=POLL_SECONDS if left is None
                                else min(POLL_SECONDS, left))
            except Empty:
                if not kernel.is_alive():
                    raise KernelDied(KERNEL_DIED) from None

    get_message._grading_watched = True
    kernel.get_message = get_message


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    if kernel is not None and hasattr(kernel, "get_message") and hasattr(kernel, "is_alive"):
        watch_kernel(kernel)   # an nbval cell
    seconds = item.config.getoption("grading_test_timeout")
    if seconds and seconds > 0:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    else:
        yield
