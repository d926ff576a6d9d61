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
"""

import json
import os
import signal

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
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
