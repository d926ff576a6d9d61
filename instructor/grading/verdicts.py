"""The hidden tests' verdicts, decided in a process that never runs student code.

TRUSTED SIDE. ``python -m instructor.grading.verdicts CONFIG_JSON`` is started by
:func:`instructor.grading.steps.hidden_tests` as the grader's own user, *outside* the
sandbox, in a private folder holding the release's given files and the hidden tests (not the
student's code). It makes itself non-dumpable (``PR_SET_DUMPABLE 0``: no ptrace, no
``/proc/<pid>/fd`` for other processes of its uid), replaces the student's modules by
proxies of a sandboxed worker (:mod:`instructor.grading.remote`), and runs the hidden tests
with pytest and this plugin:

* **Selection inside pytest** (``pytest_collection_modifyitems``): the tests the rubric
  uses are kept by node id; the ids come from the trusted test files and the release's names
  (never from the student's code, whose ``__name__`` or module contents cannot make a test
  vanish). An expected test that is not collected fails as "not collected".
* **Time**: every call into the worker waits at most ``test_seconds`` (the rubric's limit
  per hidden test applies to each call of the student's code: the trusted side's own work,
  e.g. a numerical gradient, does not count) and never past the submission's budget; a call
  past it kills the worker, and the other checks of that function fail at once. Once the
  budget is spent, the remaining tests fail at once.
* **Outcomes**: one JSON line per test on a pipe to the grader (``outcomes_fd``; no file
  the worker could find): ``{"event": "report", "nodeid", "passed", "kind", "message"}``.
  Messages say which kind of failure it was (:func:`classify`), never the test's source or
  the reference values.
"""

import ctypes
import ctypes.util
import json
import sys
import time
from pathlib import Path

import pytest

from instructor.grading import module_proxies, public_hints, remote_errors
from instructor.grading import remote as remote_mod
from instructor.grading.limits import Limits

PR_SET_DUMPABLE = 4

KINDS = {
    "wrong": "wrong result: a check of this test failed (a value, shape, dtype or in-place "
             "effect differs from the reference)",
    "no-error": "an error was expected (bad input), but your code raised none or another one",
    "unusable": "the result could not be used by the test ({detail}): check the return "
                "type and structure the docstring gives",
}


def classify(excinfo, test_seconds):
    """``(kind, message)`` for a failed test; the message names the student's exception or
    the kind of failure, and quotes nothing of the test."""
    exc = excinfo.value
    if isinstance(exc, remote_errors.StudentCodeError):
        first = (exc.student_message.strip().splitlines() or [""])[0][:300]
        if exc.type_name == "NotImplementedError":
            return "raised", f"NotImplementedError: {first}"
        return "raised", f"your code raised {exc.type_name}: {first}"
    if isinstance(exc, remote_errors.CallTimeout):
        if exc.again:
            return "timeout", (f"{exc.label} was not called again: it ran past the time limit "
                               f"of {test_seconds:g} s per call in an earlier check (an "
                               "infinite loop?)")
        return "timeout", (f"{exc.label} did not finish within the time limit of "
                           f"{test_seconds:g} s per call (an infinite loop?)")
    if isinstance(exc, remote_errors.WorkerGone):
        return "crash", f"your code ended the process it ran in: {exc}"
    if isinstance(exc, remote_errors.BadReply):
        return "bad-reply", f"your code returned something that cannot be checked: {exc}"
    if isinstance(exc, BudgetSpent):
        return "budget", str(exc)
    if isinstance(exc, AssertionError):
        return "wrong", KINDS["wrong"]
    if type(exc).__name__ == "Failed":   # pytest.raises without the expected exception
        return "no-error", KINDS["no-error"]
    return "unusable", KINDS["unusable"].format(detail=type(exc).__name__)


class BudgetSpent(Exception):
    """The submission's time budget is spent: the remaining tests are not run."""


class VerdictPlugin:
    def __init__(self, config):
        self.cfg = config
        self.out = open(config["outcomes_fd"], "w", encoding="utf-8", closefd=True)
        limits = Limits(**config["limits"])
        self.remote = remote_mod.Remote(config["template"], config["work"], config["tools"],
                                        limits, config["env"], config.get("uid"),
                                        config.get("budget_deadline"))
        self.selected = set(config["selected"])
        self.test_seconds = float(config["test_seconds"])
        self.failed = {}   # node id -> message: the public checks for hints (public_hints)

    def emit(self, **event):
        self.out.write(json.dumps(event, ensure_ascii=True) + "\n")
        self.out.flush()

    def pytest_collection_modifyitems(self, session, config, items):
        keep = [i for i in items if i.nodeid in self.selected]
        drop = [i for i in items if i.nodeid not in self.selected]
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep
        self.emit(event="collected", nodeids=[i.nodeid for i in keep])

    def pytest_collectreport(self, report):
        if report.failed:
            self.emit(event="collect-error", nodeid=report.nodeid,
                      message="the test file could not be collected")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        budget = self.cfg.get("budget_deadline")
        if budget is not None and time.time() >= budget:
            raise BudgetSpent("not run: the submission's time budget "
                              f"({self.cfg.get('budget_seconds', 0):g} s) was spent")
        self.remote.call_seconds = self.test_seconds
        try:
            yield
        finally:
            self.remote.call_seconds = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or report.failed:
            if report.passed:
                self.emit(event="report", nodeid=item.nodeid, passed=True)
            elif report.failed:
                kind, message = (classify(call.excinfo, self.test_seconds)
                                 if call.excinfo is not None else ("wrong", KINDS["wrong"]))
                self.emit(event="report", nodeid=item.nodeid, passed=False, kind=kind,
                          message=message)
                self.failed[item.nodeid] = message
            else:
                self.emit(event="report", nodeid=item.nodeid, passed=False, skipped=True,
                          message="skipped")

    def pytest_sessionfinish(self, session):
        self.emit_public()
        self.remote.stop()
        for problem in self.remote.problems:
            self.emit(event="problem", message=problem)
        self.out.close()

    def emit_public(self):
        """The public checks covering the failed tests, for the feedback's hints (never a
        verdict: see :mod:`instructor.grading.public_hints`); not once the budget is spent."""
        budget = self.cfg.get("budget_deadline")
        names = public_hints.needed(self.failed)
        if not names or (budget is not None and time.time() >= budget):
            return
        try:
            results = public_hints.run(names, self.remote, self.test_seconds)
        except Exception as exc:  # noqa: BLE001 - hints are optional; the verdicts stand
            self.emit(event="problem-hints", message=f"public checks not run: {exc!r}"[:300])
            return
        self.emit(event="public", results=results)


def _not_dumpable():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except OSError:
        pass


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    _not_dumpable()
    config = json.loads(Path(argv[0]).read_text())
    plugin = VerdictPlugin(config)
    module_proxies.install(plugin.remote, config["student_files"], config["release"])
    args = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", "--color=no",
            "-p", "no:randomly", "--tb=short", *config["test_files"]]
    code = pytest.main(args, plugins=[plugin])
    return 0 if code in (0, 1, 5) else int(code)


if __name__ == "__main__":
    sys.exit(main())
