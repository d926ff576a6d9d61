"""Attacks on the sandbox (instructor/grading/sandbox.py), each run as root and as an
unprivileged grader (issue 11: attacks 2, 3, 5, 11, 12, 13).

Every test runs a hostile command (or notebook) in a real sandbox and asserts what it could
not see or do. The *scenarios* are plain functions returning JSON-able dicts; a test runs one
in this process (the grader is root) or in a child process that is an unprivileged grader:
uid ``nobody``, in a mount namespace of its own where the Python installation (under
``/root``, closed to other users) is exposed; that grader isolates with a user namespace.
Tests skip, saying why, where the machine cannot do one of the two.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from instructor.grading import launch, sandbox, sandbox_view, steps
from instructor.grading import rubric as rubric_mod
from instructor.grading.limits import GiB, Limits, MiB
from instructor.grading.workspace import SANITIZER, Workspace
from tests.tooling.counting_server import counting_server
from tests.tooling.unprivileged import grader_env, in_mode
from tests.tooling.unprivileged import unprivileged_prefix as _unprivileged_prefix

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out
PY = sys.executable
MODES = ["root", "unprivileged"]


# ------------------------------------------------------------------------------ harness

def grader_cmd(mode, scenario, **kwargs):
    """The command that runs ``scenario(**kwargs)`` in a grader process of ``mode``."""
    code = ("import json, sys; from tests.tooling import test_sandbox as t; "
            "print('RESULT ' + json.dumps(getattr(t, sys.argv[1])(**json.loads(sys.argv[2]))))")
    prefix = _unprivileged_prefix() if (mode == "unprivileged" and os.geteuid() == 0) else []
    return [*prefix, PY, "-c", code, scenario, json.dumps(kwargs)]


def as_grader(mode, scenario, **kwargs):
    """Run a scenario as a grader of ``mode``; returns its dict."""
    in_mode(mode)
    if mode == "root" or os.geteuid() != 0:
        return globals()[scenario](**kwargs)
    proc = subprocess.run(grader_cmd(mode, scenario, **kwargs), cwd=REPO, env=grader_env(),
                          capture_output=True, text=True, timeout=600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def _scratch():
    path = Path(tempfile.mkdtemp(prefix="cs231n-grade-test-"))
    path.chmod(0o711)
    return path


def _work(scratch, files=None, protected=()):
    """A work folder with ``files`` ({rel: text}), given to a fresh sandbox uid (root)."""
    work = scratch / "work"
    work.mkdir()
    sandbox_view.make_home(work)
    for rel, text in (files or {}).items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    uid = launch.UIDS.acquire() if sandbox.detect_isolation().switch_uid else None
    if uid is not None:
        for dirpath, dirnames, filenames in os.walk(work):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                mine = not any(p == work / d or work / d in p.parents for d in protected)
                os.lchown(p, uid if mine else 0, uid if mine else 0)
        os.chown(work, uid, uid)
        work.chmod(0o700)
    return work, uid


def _hostile(work, uid, code, **limits):
    res = sandbox.run([PY, "-c", code], work, Limits(**limits), uid=uid)
    if uid is not None:
        launch.UIDS.release(uid)
    lines = [ln for ln in res.output.splitlines() if ln.startswith("SEEN ")]
    seen = json.loads(lines[-1][5:]) if lines else None
    return {"returncode": res.returncode, "signal": res.signal, "setup_error": res.setup_error,
            "output": res.output[-3000:], "seen": seen, "out_of_memory": res.out_of_memory,
            "problem": res.problem(Limits(**limits)),
            "isolation": sandbox.detect_isolation().describe()}


def _tree(folder):
    """{relative path: (mode, owner, bytes)} of a folder, to prove it did not change."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            data = p.read_bytes().hex() if p.is_file() and not p.is_symlink() else ""
            out[str(p.relative_to(folder))] = [st.st_mode, st.st_uid, data]
    return out


# ---------------------------------------------------------- attack 3: allow-listed files

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
    scratch = _scratch()
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
    work, uid = _work(scratch)
    code = (f"PATHS = {paths!r}\nSOCK = {sock_path!r}\nVENV = {os.path.realpath(sys.prefix)!r}\n"
            + FILESYSTEM_PROBE)
    try:
        with counting_server(socket.AF_UNIX, sock_path) as (_, hits):
            out = _hostile(work, uid, code)
        out["paths"], out["socket_hits"] = paths, len(hits)
        out["venv_evil"] = (Path(sys.prefix) / "lib" / "evil.pth").exists()
    finally:
        for p in (host_tmp, host_shm, Path(sock_path)):
            p.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return out


@pytest.mark.parametrize("mode", MODES)
def test_sandbox_sees_only_its_allow_list(mode):
    out = as_grader(mode, "scenario_filesystem")
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


# ------------------------------------------- attack 11: limits per sandbox, not per process

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
    scratch = _scratch()
    try:
        work, uid = _work(scratch)
        files = _hostile(work, uid, FILES_PROBE, scratch_bytes=256 * MiB)
        work_after = sorted(os.listdir(work))
        shutil.rmtree(work)
        work, uid = _work(scratch)
        first = _hostile(work, uid, SHM_PROBE)
        host_leak = [n for n in os.listdir("/dev/shm") if n == "leak"]
        shutil.rmtree(work)
        work, uid = _work(scratch)
        second = _hostile(work, uid, SHM_PROBE)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"files": files, "work_after": work_after, "first": first, "second": second,
            "host_leak": host_leak}


@pytest.mark.parametrize("mode", MODES)
def test_disk_is_limited_per_sandbox_and_nothing_outlives_it(mode):
    out = as_grader(mode, "scenario_disk_quota")
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
    scratch = _scratch()
    try:
        work, uid = _work(scratch)
        memory = _hostile(work, uid, MEMORY_PROBE, memory_bytes=512 * MiB)
        pids = _hostile(work, uid, PIDS_PROBE, processes=60)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"memory": memory, "pids": pids}


@pytest.mark.parametrize("mode", MODES)
def test_memory_and_processes_are_limited_per_sandbox(mode):
    in_mode(mode)
    if mode == "unprivileged":
        pytest.skip("an unprivileged grader may create no cgroup here (none is delegated to "
                    "it): its limits are per process, and its reports say so")
    if not sandbox.cgroups.detect().version:
        pytest.skip(sandbox.cgroups.detect().describe())
    out = as_grader(mode, "scenario_memory_and_pids")
    memory = out["memory"]
    assert memory["out_of_memory"], memory["output"]
    assert memory["seen"] is None or memory["seen"]["completed"] < 6
    assert out["pids"]["seen"]["started"] < 60
    assert any("cgroup" in line for line in out["memory"]["isolation"])


# -------------------------------------------------- attack 12: what the trusted side reads

TESTS_PROBE = r'''
import json, os
seen = {}
for what, fn in (("rename tests", lambda: os.rename("tests", "tests-old")),
                 ("write tests/test_x.py", lambda: open("tests/test_x.py", "w").write("x")),
                 ("add tests/conftest.py", lambda: open("tests/conftest.py", "w").write("x")),
                 ("remove tests/test_x.py", lambda: os.unlink("tests/test_x.py")),
                 ("chmod tests", lambda: os.chmod("tests", 0o777))):
    try:
        fn()
        seen[what] = "done"
    except OSError as exc:
        seen[what] = type(exc).__name__
open("assignment.py", "w").write("changed")   # its own files: allowed, in the sandbox only
print("SEEN " + json.dumps(seen))
'''


def scenario_protected_tests():
    scratch = _scratch()
    try:
        work, uid = _work(scratch, {"tests/test_x.py": "def test(): pass\n",
                                    "assignment.py": "original\n"}, protected=["tests"])
        before = _tree(work)
        out = _hostile(work, uid, TESTS_PROBE)
        out["unchanged"] = _tree(work) == before
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


@pytest.mark.parametrize("mode", MODES)
def test_tests_folder_cannot_be_replaced_and_host_folder_is_never_written(mode):
    out = as_grader(mode, "scenario_protected_tests")
    assert out["seen"] is not None, out["output"]
    assert [k for k, v in out["seen"].items() if v == "done"] == []
    assert out["unchanged"]


# ------------------------------------------------- attack 13: sandboxes die with the grader

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
    scratch = _scratch()
    work, uid = _work(scratch)
    sandbox.run([PY, "-c", SPINNER + f"# {token}"], work, Limits(wall_seconds=300),
                uid=uid)
    return {}


def _processes_with(token):
    found = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and token.encode() in (p / "cmdline").read_bytes():
                found.append(int(p.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("mode", MODES)
def test_stopping_the_grader_kills_every_sandbox_process(mode, signum):
    in_mode(mode)
    token = f"spinner-{os.getpid()}-{mode}-{signum}"
    proc = subprocess.Popen(grader_cmd(mode, "scenario_grader_with_spinner", token=token),
                            cwd=REPO, env=grader_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(_processes_with(token)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)   # launcher-run python, its setsid child's child: the spinner
        assert len(_processes_with(token)) >= 2, "the sandbox did not start"
        proc.send_signal(signum)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while _processes_with(token) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_with(token) == []
        assert proc.returncode == -signum
    finally:
        for pid in _processes_with(token):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


# ------------------------------------------------ attack 2: forged notebook verdicts

NOTEBOOK_ATTACK = r'''
import ctypes, json, os, signal
_SPARE_PYTEST = False
_libc = ctypes.CDLL(None, use_errno=True)
_seen = {"kernel uid": os.getuid()}
_parent = os.getppid()
_seen["parent uid"] = int(next(line for line in open(f"/proc/{_parent}/status")
                              if line.startswith("Uid:")).split()[1])
_pidfd = _libc.syscall(434, _parent, 0)                 # pidfd_open
_seen["pidfd_open"] = _pidfd if _pidfd < 0 else "ok"
_stolen = []
for _fd in range(3, 64):
    _got = _libc.syscall(438, _pidfd, _fd, 0)           # pidfd_getfd
    if _got >= 0:
        _stolen.append(_got)
_seen["pidfd_getfd errno"] = ctypes.get_errno()
for _fd in range(3, 64):
    try:
        _stolen.append(os.open(f"/proc/{_parent}/fd/{_fd}", os.O_WRONLY))
    except OSError:
        pass
for _fd in _stolen:
    for _cell in range(20):
        _line = json.dumps({"event": "report", "nodeid": f"notebooks/N.ipynb::Cell {_cell}",
                            "when": "call", "outcome": "passed", "message": ""}) + "\n"
        try:
            os.write(_fd, _line.encode())
        except OSError:
            pass
_seen["stolen"] = len(_stolen)
for _path in ("/proc/%d/environ" % _parent, "N.ipynb", "/tmp/.collector"):
    try:
        _seen[_path] = len(open(_path, "rb").read()) if os.path.isfile(_path) else os.listdir(_path)
    except OSError as exc:
        _seen[_path] = type(exc).__name__
try:
    if not _SPARE_PYTEST:
        os.kill(_parent, signal.SIGINT)
    _seen["SIGINT to pytest"] = "sent"
except OSError as exc:
    _seen["SIGINT to pytest"] = type(exc).__name__


def answer():   # a stub, which reports what the attack achieved
    raise NotImplementedError("SEEN " + json.dumps(_seen))
'''

REFERENCE_CELLS = [
    ("import sys, os\nsys.path.insert(0, os.path.abspath('..'))\nimport assignment", ""),
    ("from assignment import answer\nprint(answer())", "42\n"),
    ("print(answer() + 1)", "43\n"),
]


def _reference_notebook():
    cells = []
    for n, (src, out) in enumerate(REFERENCE_CELLS):
        outputs = ([{"name": "stdout", "output_type": "stream", "text": out}] if out else [])
        cells.append({"cell_type": "code", "execution_count": n + 1, "id": f"c{n}",
                      "metadata": {}, "outputs": outputs, "source": src})
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                        "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _mini_kit(folder):
    """The least a Workspace needs: a release with a package, the sanitizer, kit.json."""
    (folder / "release" / "assignment").mkdir(parents=True)
    (folder / "release" / "notebooks").mkdir()
    (folder / "release" / "assignment" / "__init__.py").write_text(
        "def answer():\n    return 42\n")
    (folder / "reference").mkdir()
    shutil.copy2(REPO / "notebooks" / SANITIZER, folder / "reference" / SANITIZER)
    (folder / "kit.json").write_text(json.dumps(
        {"student_files": ["assignment/__init__.py"], "notebooks": ["N.ipynb"],
         "hidden": [], "test_ids": []}))
    return folder


def scenario_notebook(student_code):
    """The reference-notebook step with the student's ``assignment/__init__.py``."""
    scratch = _scratch()
    try:
        kit = _mini_kit(scratch / "kit")
        ws = Workspace(kit, {"assignment/__init__.py": student_code.encode()}, scratch)
        rub = rubric_mod.from_dict({
            "item": [{"id": "nb", "points": 1, "notebook": "N.ipynb", "sections": ["*"]}],
            "files": {"notebooks": ["N.ipynb"]},
            "limits": {"step_seconds": 120, "cell_seconds": 30}})
        uid = launch.UIDS.acquire() if sandbox.detect_isolation().switch_uid else None
        ref = json.dumps(_reference_notebook()).encode()
        outcomes, log = steps.notebook(ws, "N.ipynb", ref, "ref", rub, uid)
        ws.remove()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"outcomes": outcomes, "problem": log.problem, "output": log.output}


def _seen_in(outcomes):
    for out in outcomes.values():
        for line in out.get("message", "").splitlines():
            if "SEEN {" in line:
                return json.loads(line[line.index("SEEN ") + 5:])
    return None


@pytest.mark.parametrize("mode", MODES)
def test_control_correct_code_passes_the_notebook_step(mode):
    out = as_grader(mode, "scenario_notebook", student_code="def answer():\n    return 42\n")
    assert [o["passed"] for o in out["outcomes"].values()] == [True, True, True], out


@pytest.mark.parametrize("mode", MODES)
def test_kernel_cannot_forge_or_stop_the_notebook_verdicts(mode):
    out = as_grader(mode, "scenario_notebook", student_code=NOTEBOOK_ATTACK)
    passed = [o["passed"] for o in out["outcomes"].values()]
    assert passed in ([True, False, False], [False, False, False]), out   # the stub fails
    seen = _seen_in(out["outcomes"])
    if mode == "root":   # other uid: the signal did not reach pytest, the run ended normally
        assert seen["kernel uid"] != seen["parent uid"]
        assert seen["SIGINT to pytest"] == "PermissionError"
    elif seen is None:   # same host uid: SIGINT reached pytest, the whole step failed
        assert "exit status 2" in out["problem"], out
        assert all("exit status 2" in o["message"] for o in out["outcomes"].values())
        out = as_grader(mode, "scenario_notebook", student_code=NOTEBOOK_ATTACK.replace(
            "_SPARE_PYTEST = False", "_SPARE_PYTEST = True"))
        seen = _seen_in(out["outcomes"])
    assert seen is not None, out
    assert seen["stolen"] == 0 and seen["pidfd_getfd errno"] == 1   # EPERM
    assert seen["N.ipynb"] != len(json.dumps(_reference_notebook()))   # not the reference
    assert seen["/tmp/.collector"] in ("PermissionError", [])   # the collector's home
    environ = next(v for k, v in seen.items() if k.endswith("/environ"))
    assert environ == "PermissionError"


# ---------------------------------------------------- attack 5: no isolation, no grading

def test_without_isolation_untrusted_code_is_refused_unless_unsafe(tmp_path):
    bare = sandbox.Isolation(notes=("simulated: no namespaces",))
    marker = tmp_path / "ran"
    cmd = [PY, "-c", f"open({str(marker)!r}, 'w').write('x')"]
    res = launch.launch(bare, cmd, tmp_path, Limits(), None, None, None, (), None)
    assert "refusing to run untrusted code" in res.setup_error and not marker.exists()
    assert res.isolation[0].startswith("no isolation available")
    unsafe = sandbox.Isolation(unsafe=True, notes=("simulated",))
    res = launch.launch(unsafe, cmd, tmp_path, Limits(), None, None, None, (), None)
    assert res.returncode == 0 and marker.exists()
    assert res.isolation[0].startswith("UNSAFE: NO ISOLATION")


# ------------------------------------- the red-team fixtures (tests/tooling/redteam/)

# The sandbox layer's attacks (2, 3, 5, 11, 12, 13); the verdict layer's fixtures (attackNN_*)
# plant code that only means something to the grader: tests/tooling/test_redteam.py grades
# them all.
REDTEAM = sorted(p.stem for p in (Path(__file__).parent / "redteam").glob("*.py")
                 if not p.stem.startswith("attack"))
STUB = "def affine_forward(x, w, b):\n    raise NotImplementedError('affine_forward: stub')\n"


@pytest.mark.parametrize("name", REDTEAM)
def test_redteam_fixture_runs_and_is_contained(name):
    """Each attack of tests/tooling/redteam, planted in a stub, imported in a sandbox: the stub
    is still a stub, the host's work folder is unchanged, no process of it survives."""
    in_mode("root")
    import importlib
    fixture = importlib.import_module(f"tests.tooling.redteam.{name}")
    assert fixture.ATTACK.split(":")[0].isdigit() and fixture.__doc__
    scratch, uid = _scratch(), None
    try:
        tree = scratch / "tree"
        (tree / "assignment").mkdir(parents=True)
        (tree / "assignment" / "__init__.py").write_text("")
        (tree / "assignment" / "layers.py").write_text(STUB)
        fixture.plant(tree)
        planted = (tree / "assignment" / "layers.py").read_text()
        assert planted.startswith(STUB) and len(planted) > len(STUB)
        token = f"redteam-{name}-{os.getpid()}"
        work, uid = _work(scratch, {"assignment/__init__.py": "", "assignment/layers.py":
                                    planted, "tests/test_x.py": "x = 1\n"},
                          protected=["tests"])
        before = _tree(work)
        code = (f"# {token}\nimport sys; sys.path.insert(0, '.')\n"
                "import assignment.layers as L\nL.affine_forward(1, 2, 3)\n")
        res = sandbox.run([PY, "-c", code], work, Limits(
            wall_seconds=120, memory_bytes=1 * GiB, scratch_bytes=256 * MiB),
            uid=uid)
        assert "NotImplementedError: affine_forward: stub" in res.output, res.output[-2000:]
        assert _tree(work) == before
        assert _processes_with(token) == []
    finally:
        if uid is not None:
            launch.UIDS.release(uid)
        shutil.rmtree(scratch, ignore_errors=True)


def test_grade_command_refuses_to_start_without_isolation(tmp_path, monkeypatch, capsys):
    from instructor.grading import cli

    monkeypatch.setattr(sandbox, "_detect", lambda: sandbox.Isolation(
        notes=("simulated: not root, no user namespaces",)))
    monkeypatch.setattr(sandbox, "_UNSAFE", [False])
    (tmp_path / "subs").mkdir()
    code = cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "GRADES")])
    err = capsys.readouterr().err
    assert code == 2 and "refusing to grade" in err and "--unsafe-no-isolation" in err
    assert "simulated: not root" in err
    assert not (tmp_path / "GRADES" / ".kit").exists()   # stopped before building anything
    sandbox.allow_unsafe()
    assert sandbox.detect_isolation().unsafe
    assert sandbox.detect_isolation().describe()[0].startswith("UNSAFE: NO ISOLATION")
