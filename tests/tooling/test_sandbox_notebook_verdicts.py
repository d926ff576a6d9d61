"""Attack 2 on the sandbox (issue 11), as root and as an unprivileged grader: the student's
kernel cannot forge or stop the verdicts of a notebook step (stolen descriptors, pidfd, signals
to pytest, the collector's files); correct code passes the step (the control).
Harness: tests/tooling/sandbox_harness.py."""

import json
import shutil

import pytest

from instructor.grading import launch, sandbox, steps
from instructor.grading import rubric as rubric_mod
from instructor.grading.workspace import SANITIZER, Workspace
from tests.tooling import sandbox_harness as harness
from tests.tooling.sandbox_harness import REPO

pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out


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
    scratch = harness.scratch_dir()
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


@pytest.mark.parametrize("mode", harness.MODES)
def test_control_correct_code_passes_the_notebook_step(mode):
    out = harness.as_grader(mode, scenario_notebook, student_code="def answer():\n    return 42\n")
    assert [o["passed"] for o in out["outcomes"].values()] == [True, True, True], out


@pytest.mark.parametrize("mode", harness.MODES)
def test_kernel_cannot_forge_or_stop_the_notebook_verdicts(mode):
    out = harness.as_grader(mode, scenario_notebook, student_code=NOTEBOOK_ATTACK)
    passed = [o["passed"] for o in out["outcomes"].values()]
    assert passed in ([True, False, False], [False, False, False]), out   # the stub fails
    seen = _seen_in(out["outcomes"])
    if mode == "root":   # other uid: the signal did not reach pytest, the run ended normally
        assert seen["kernel uid"] != seen["parent uid"]
        assert seen["SIGINT to pytest"] == "PermissionError"
    elif seen is None:   # same host uid: SIGINT reached pytest, the whole step failed
        assert "exit status 2" in out["problem"], out
        assert all("exit status 2" in o["message"] for o in out["outcomes"].values())
        out = harness.as_grader(mode, scenario_notebook, student_code=NOTEBOOK_ATTACK.replace(
            "_SPARE_PYTEST = False", "_SPARE_PYTEST = True"))
        seen = _seen_in(out["outcomes"])
    assert seen is not None, out
    assert seen["stolen"] == 0 and seen["pidfd_getfd errno"] == 1   # EPERM
    assert seen["N.ipynb"] != len(json.dumps(_reference_notebook()))   # not the reference
    assert seen["/tmp/.collector"] in ("PermissionError", [])   # the collector's home
    environ = next(v for k, v in seen.items() if k.endswith("/environ"))
    assert environ == "PermissionError"
