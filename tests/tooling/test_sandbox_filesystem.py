"""Attack 3 on the sandbox (issue 11), as root and as an unprivileged grader: the sandbox sees
only its allow-listed files -- not the solution, the kit, the grades, other sandboxes, the
host's /tmp, /dev/shm and unix sockets -- and cannot write into the Python environment.
Harness: tests/tooling/sandbox_harness.py."""

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import pytest

from tests.tooling import sandbox_harness as harness
from tests.tooling.counting_server import counting_server
from tests.tooling.sandbox_harness import REPO

pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out


FILESYSTEM_PROBE = r'''
import json, os, socket, sys
seen = {"root": sorted(os.listdir("/"))}
for path in PATHS:
    seen[path] = os.path.exists(path)
try:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(SOCK)
    seen["unix socket"] = "connected"
except OSError as exc:
    seen["unix socket"] = type(exc).__name__
found = []
skip = {"/proc", "/sys", "/usr", sys.base_prefix, sys.prefix, VENV}
for dirpath, dirnames, filenames in os.walk("/"):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        found += [os.path.join(dirpath, f) for f in filenames
                  if f in ("layers.py", "test_layers.py", "rubric.toml", "kit.json")
                  or f.endswith(".json") and "results" in dirpath]
seen["solution-like files"] = found
for target in (os.path.join(sys.prefix, "lib", "evil.pth"), "/usr/lib/evil",
               "/opt/grading/evil", "/evil"):
    try:
        open(target, "w").write("import os")
        seen["write " + target] = "written"
    except OSError as exc:
        seen["write " + target] = type(exc).__name__
print("SEEN " + json.dumps(seen))
'''


def scenario_filesystem():
    """A stub that looks for the solution, the kit, the grades, other sandboxes, host /tmp
    and /dev/shm files and the host's unix sockets, and tries to write a .pth into .venv."""
    scratch = harness.scratch_dir()
    other = scratch / "other-sandbox" / "work"
    other.mkdir(parents=True)
    (other / "layers.py").write_text("SOLUTION = 1\n")
    kit = scratch / "GRADES" / ".kit" / "hidden" / "tests"
    kit.mkdir(parents=True)
    (kit / "test_layers.py").write_text("hidden\n")
    (scratch / "GRADES" / "results").mkdir()
    (scratch / "GRADES" / "results" / "alice.json").write_text("{}")
    token = f"cs231n-sandbox-test-{os.getpid()}"
    host_tmp, host_shm = Path(f"/tmp/{token}.txt"), Path(f"/dev/shm/{token}")
    host_tmp.write_text("x")
    host_shm.write_text("x")
    sock_path = f"/tmp/{token}.sock"
    paths = [str(REPO / "instructor" / "grading" / "sandbox.py"), str(REPO / ".git"),
             str(REPO / "assignment" / "layers.py"), str(kit / "test_layers.py"),
             str(other / "layers.py"), str(scratch / "GRADES"), str(host_tmp), str(host_shm),
             "/sys/fs/cgroup", "/root/.ssh", "/etc/shadow"]
    work, uid = harness.work_folder(scratch)
    code = (f"PATHS = {paths!r}\nSOCK = {sock_path!r}\nVENV = {os.path.realpath(sys.prefix)!r}\n"
            + FILESYSTEM_PROBE)
    try:
        with counting_server(socket.AF_UNIX, sock_path) as (_, hits):
            out = harness.hostile(work, uid, code)
        out["paths"], out["socket_hits"] = paths, len(hits)
        out["venv_evil"] = (Path(sys.prefix) / "lib" / "evil.pth").exists()
    finally:
        for p in (host_tmp, host_shm, Path(sock_path)):
            p.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return out


@pytest.mark.parametrize("mode", harness.MODES)
def test_sandbox_sees_only_its_allow_list(mode):
    out = harness.as_grader(mode, scenario_filesystem)
    seen = out["seen"]
    assert seen is not None, out["output"]
    assert [p for p in out["paths"] if seen[p]] == []
    assert seen["solution-like files"] == []
    # The system folders, plus the top folder of each path the sandbox binds where it lives on
    # the host (the checkout and the Python environment: /work here, wherever CI clones).
    bound = {Path(p).resolve().parts[1] for p in (REPO, sys.prefix, tempfile.gettempdir())}
    assert set(seen["root"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32",
                                 "opt", "proc", "root", "sbin", "tmp", "usr", "var",
                                 ".scratch"} | bound
    assert seen["unix socket"] != "connected" and out["socket_hits"] == 0
    assert all(v != "written" for k, v in seen.items() if k.startswith("write "))
    assert not out["venv_evil"]
    assert any("allow-listed root" in line for line in out["isolation"])
