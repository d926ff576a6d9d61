"""Attack 13 on the sandbox (issue 11), as root and as an unprivileged grader: sandboxes die with
the grader -- stopping it (SIGTERM, SIGINT) kills every sandbox process, a setsid() busy loop
included. Harness: tests/tooling/sandbox_harness.py."""

import os
import signal
import subprocess
import time

import pytest

from instructor.grading import launch, sandbox
from instructor.grading.limits import Limits
from tests.tooling import sandbox_harness as harness
from tests.tooling.sandbox_harness import PY, REPO

pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out


SPINNER = r'''
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            pass
    os._exit(0)
while True:
    time.sleep(1)
'''


def scenario_grader_with_spinner(token):
    """A grader (its own process) whose sandbox leaves a setsid() busy loop behind."""
    launch.install_signal_handlers()
    scratch = harness.scratch_dir()
    work, uid = harness.work_folder(scratch)
    sandbox.run([PY, "-c", SPINNER + f"# {token}"], work, Limits(wall_seconds=300),
                uid=uid)
    return {}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("mode", harness.MODES)
def test_stopping_the_grader_kills_every_sandbox_process(mode, signum):
    harness.in_mode(mode)
    token = f"spinner-{os.getpid()}-{mode}-{signum}"
    proc = subprocess.Popen(harness.grader_cmd(mode, scenario_grader_with_spinner, token=token),
                            cwd=REPO, env=harness.grader_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(harness.processes_with(token)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)   # launcher-run python, its setsid child's child: the spinner
        assert len(harness.processes_with(token)) >= 2, "the sandbox did not start"
        proc.send_signal(signum)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while harness.processes_with(token) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert harness.processes_with(token) == []
        assert proc.returncode == -signum
    finally:
        for pid in harness.processes_with(token):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
