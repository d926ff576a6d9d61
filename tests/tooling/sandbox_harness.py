"""The harness of the sandbox attack tests (tests/tooling/test_sandbox_*.py): run a scenario as
a grader of each mode, in a real sandbox.

A *scenario* is a plain function of a test module returning a JSON-able dict; a test runs one
in this process (the grader is root) or in a child process that is an unprivileged grader:
uid ``nobody``, in a mount namespace of its own where the Python installation (under
``/root``, closed to other users) is exposed; that grader isolates with a user namespace.
Tests skip, saying why, where the machine cannot do one of the two.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from instructor.grading import launch, sandbox, sandbox_view
from instructor.grading.limits import Limits
from tests.tooling.unprivileged import grader_env, in_mode, unprivileged_prefix

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
MODES = ["root", "unprivileged"]


def grader_cmd(mode, scenario, **kwargs):
    """The command that runs ``scenario(**kwargs)`` in a grader process of ``mode``.

    ``scenario``: a function of a module in tests/tooling (the child imports that module)."""
    module = "tests.tooling." + scenario.__module__.rsplit(".", 1)[-1]
    code = ("import importlib, json, sys; t = importlib.import_module(sys.argv[1]); "
            "print('RESULT ' + json.dumps(getattr(t, sys.argv[2])(**json.loads(sys.argv[3]))))")
    prefix = unprivileged_prefix() if (mode == "unprivileged" and os.geteuid() == 0) else []
    return [*prefix, PY, "-c", code, module, scenario.__name__, json.dumps(kwargs)]


def as_grader(mode, scenario, **kwargs):
    """Run ``scenario(**kwargs)`` as a grader of ``mode``; returns its dict."""
    in_mode(mode)
    if mode == "root" or os.geteuid() != 0:
        return scenario(**kwargs)
    proc = subprocess.run(grader_cmd(mode, scenario, **kwargs), cwd=REPO, env=grader_env(),
                          capture_output=True, text=True, timeout=600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def scratch_dir():
    path = Path(tempfile.mkdtemp(prefix="cs231n-grade-test-"))
    path.chmod(0o711)
    return path


def work_folder(scratch, files=None, protected=()):
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


def hostile(work, uid, code, **limits):
    res = sandbox.run([PY, "-c", code], work, Limits(**limits), uid=uid)
    if uid is not None:
        launch.UIDS.release(uid)
    lines = [ln for ln in res.output.splitlines() if ln.startswith("SEEN ")]
    seen = json.loads(lines[-1][5:]) if lines else None
    return {"returncode": res.returncode, "signal": res.signal, "setup_error": res.setup_error,
            "output": res.output[-3000:], "seen": seen, "out_of_memory": res.out_of_memory,
            "problem": res.problem(Limits(**limits)),
            "isolation": sandbox.detect_isolation().describe()}


def tree_state(folder):
    """{relative path: (mode, owner, bytes)} of a folder, to prove it did not change."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            data = p.read_bytes().hex() if p.is_file() and not p.is_symlink() else ""
            out[str(p.relative_to(folder))] = [st.st_mode, st.st_uid, data]
    return out


def processes_with(token):
    found = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and token.encode() in (p / "cmdline").read_bytes():
                found.append(int(p.name))
        except OSError:
            continue
    return found
