"""A notebook step whose kernel ends while a cell runs fails that cell at once, saying so.

nbval alone waits out the cell's whole time limit (and 5 s for output) for a reply from a
kernel that is gone: the red-team submission whose ``layers.py`` calls ``os._exit(0)`` at
import (tests/tooling/redteam/attack01_forged_verdicts.py) spent its whole time budget that
way. The grading reporter (instructor/grading/_pytest_reporter.py, loaded into the
collector) makes nbval's waits notice the dead kernel; the cell still fails, and so do the
cells after it.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from queue import Empty

import pytest

from instructor.grading import _pytest_reporter as reporter
from instructor.grading.steps import parse_report

REPO = Path(__file__).resolve().parents[2]


class FakeKernel:
    """nbval's RunningKernel as far as the watch goes: messages queued, alive or not."""

    def __init__(self, alive, messages=()):
        self.alive, self.messages, self.waited = alive, list(messages), 0.0

    def get_message(self, stream, timeout=None):
        if self.messages:
            return self.messages.pop(0)
        time.sleep(timeout)
        self.waited += timeout
        raise Empty

    def is_alive(self):
        return self.alive


def test_a_dead_kernel_fails_the_wait_after_one_slice_not_the_timeout():
    kernel = FakeKernel(alive=False)
    reporter.watch_kernel(kernel)
    with pytest.raises(reporter.KernelDied, match="kernel .* ended while this cell ran"):
        kernel.get_message("shell", timeout=30)
    assert kernel.waited == reporter.POLL_SECONDS


def test_a_live_kernel_is_waited_for_the_whole_timeout_and_its_messages_pass_through():
    kernel = FakeKernel(alive=True, messages=[{"msg_type": "status"}])
    reporter.watch_kernel(kernel)
    reporter.watch_kernel(kernel)   # idempotent: one wrapper
    assert kernel.get_message("iopub", timeout=1.2) == {"msg_type": "status"}
    with pytest.raises(Empty):
        kernel.get_message("iopub", timeout=1.2)
    assert kernel.waited == pytest.approx(1.2, abs=0.05)


def notebook(*sources):
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
              "outputs": [], "source": src} for i, src in enumerate(sources)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                       "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 5}


def test_nbval_with_the_reporter_fails_the_cell_whose_kernel_died_without_waiting(tmp_path):
    """A real nbval run (the current environment's kernel) of a notebook whose first cell
    ends the kernel: the cell fails with the reporter's message (before it, nbval waited the
    600 s of the cell's limit: this run's timeout), the next cell as nbval's dead kernel."""
    nb = tmp_path / "Dies.ipynb"
    nb.write_text(json.dumps(notebook("import os\nos._exit(0)", "print(1)")))
    read, write = os.pipe()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "instructor.grading._pytest_reporter",
         "--grading-report-fd", str(write), "-p", "nbval", "--nbval", "--nbval-current-env",
         "--nbval-cell-timeout", "600", "-p", "no:cacheprovider", "-q", "-o", "addopts=",
         str(nb)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO),
                           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        pass_fds=(write,), capture_output=True, text=True, timeout=120)
    os.close(write)
    with os.fdopen(read) as f:
        _, _, outcomes = parse_report(f.read())
    cells = {nid.split("::")[-1]: out for nid, out in outcomes.items()}
    assert set(cells) == {"Cell 0", "Cell 1"}, proc.stdout[-2000:]
    assert not cells["Cell 0"]["passed"] and not cells["Cell 1"]["passed"]
    assert reporter.KERNEL_DIED in cells["Cell 0"]["message"], cells["Cell 0"]["message"][-1000:]
    assert "Kernel dead" in cells["Cell 1"]["message"], cells["Cell 1"]["message"][-1000:]
