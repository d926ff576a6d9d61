"""Attack 11 on the sandbox (issue 11), as root and as an unprivileged grader: disk, memory and
processes are limited per sandbox, not per process, and nothing it writes outlives it.
Harness: tests/tooling/sandbox_harness.py."""

import os
import shutil

import pytest

from instructor.grading import sandbox
from instructor.grading.limits import MiB
from tests.tooling import sandbox_harness as harness

pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out


FILES_PROBE = r'''
import json, os
seen = {}
for name, path in (("work", "big1"), ("tmp", "/tmp/big2"), ("shm", "/dev/shm/big3")):
    try:
        with open(path, "wb") as f:
            for _ in range(100):
                f.write(b"0" * 2**20)
        seen[name] = "written"
    except OSError as exc:
        seen[name] = type(exc).__name__ + " " + str(exc.errno)
print("SEEN " + json.dumps(seen))
'''


SHM_PROBE = r'''
import json, os
seen = {"before": os.listdir("/dev/shm")}
open("/dev/shm/leak", "wb").write(b"0" * 64 * 2**20)
print("SEEN " + json.dumps(seen))
'''


def scenario_disk_quota():
    """Three 100 MiB files (work folder, /tmp, /dev/shm) against a 256 MiB sandbox total;
    then a 64 MiB file left in /dev/shm, looked for by the host and by the next sandbox."""
    scratch = harness.scratch_dir()
    try:
        work, uid = harness.work_folder(scratch)
        files = harness.hostile(work, uid, FILES_PROBE, scratch_bytes=256 * MiB)
        work_after = sorted(os.listdir(work))
        shutil.rmtree(work)
        work, uid = harness.work_folder(scratch)
        first = harness.hostile(work, uid, SHM_PROBE)
        host_leak = [n for n in os.listdir("/dev/shm") if n == "leak"]
        shutil.rmtree(work)
        work, uid = harness.work_folder(scratch)
        second = harness.hostile(work, uid, SHM_PROBE)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"files": files, "work_after": work_after, "first": first, "second": second,
            "host_leak": host_leak}


@pytest.mark.parametrize("mode", harness.MODES)
def test_disk_is_limited_per_sandbox_and_nothing_outlives_it(mode):
    out = harness.as_grader(mode, scenario_disk_quota)
    seen = out["files"]["seen"]
    assert seen is not None, out["files"]["output"]
    assert list(seen.values())[:2] == ["written", "written"]
    assert seen["shm"].startswith("OSError 28")   # ENOSPC: 256 MiB for the whole sandbox
    assert "big1" not in out["work_after"]        # the host's work folder was never written
    assert out["first"]["returncode"] == 0 and out["second"]["seen"]["before"] == []
    assert out["host_leak"] == []


MEMORY_PROBE = r'''
import json, os, time
children = []
for i in range(6):
    pid = os.fork()
    if pid == 0:
        block = bytearray(150 * 2**20)       # touched: really resident
        for j in range(0, len(block), 4096):
            block[j] = 1
        time.sleep(2)
        os._exit(0)
    children.append(pid)
done = 0
for pid in children:
    _, status = os.waitpid(pid, 0)
    done += os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
print("SEEN " + json.dumps({"completed": done}))
'''


PIDS_PROBE = r'''
import json, threading, time
started = 0
try:
    for i in range(200):
        threading.Thread(target=time.sleep, args=(3,), daemon=True).start()
        started += 1
except RuntimeError:
    pass
print("SEEN " + json.dumps({"started": started}))
'''


def scenario_memory_and_pids():
    """Six processes of 150 MiB each against a 512 MiB sandbox; 200 threads against 60."""
    scratch = harness.scratch_dir()
    try:
        work, uid = harness.work_folder(scratch)
        memory = harness.hostile(work, uid, MEMORY_PROBE, memory_bytes=512 * MiB)
        pids = harness.hostile(work, uid, PIDS_PROBE, processes=60)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"memory": memory, "pids": pids}


@pytest.mark.parametrize("mode", harness.MODES)
def test_memory_and_processes_are_limited_per_sandbox(mode):
    harness.in_mode(mode)
    if mode == "unprivileged":
        pytest.skip("an unprivileged grader may create no cgroup here (none is delegated to "
                    "it): its limits are per process, and its reports say so")
    if not sandbox.cgroups.detect().version:
        pytest.skip(sandbox.cgroups.detect().describe())
    out = harness.as_grader(mode, scenario_memory_and_pids)
    memory = out["memory"]
    assert memory["out_of_memory"], memory["output"]
    assert memory["seen"] is None or memory["seen"]["completed"] < 6
    assert out["pids"]["seen"]["started"] < 60
    assert any("cgroup" in line for line in out["memory"]["isolation"])
