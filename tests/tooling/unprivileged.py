"""Running a grader as an unprivileged user while the tests run as root (issue 11).

A grader that is not root isolates student code with a user namespace instead of uids of its
own, and may have no cgroup to put the sandboxes in; the sandbox and red-team tests run
their attacks against both kinds of grader. As root, :func:`unprivileged_prefix` is the
command prefix that makes a child process such a grader: uid and gid ``nobody``, no groups,
no capabilities, in a mount namespace of its own where the Python installation is exposed
when it lives under a folder other users cannot enter (pyenv under ``/root``). What that
grader reads (the repository, the virtual environment, the data) must be readable by
``nobody``; what it writes (its output folder, its kit) must belong to it
(:func:`give_to_nobody`); its temporary folders go to ``/tmp``.

When the tests themselves do not run as root, they are the unprivileged grader: the
"unprivileged" mode runs in the test process and the "root" mode is skipped (:func:`in_mode`).
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

from instructor.grading import sandbox_view

NOBODY = 65534
REPO = Path(__file__).resolve().parents[2]


def unprivileged_prefix():
    """The command prefix that makes a child process an unprivileged grader (we are root)."""
    if shutil.which("setpriv") is None or shutil.which("unshare") is None:
        pytest.skip("setpriv/unshare not installed: cannot start an unprivileged grader")
    base = Path(sys.base_prefix).resolve()
    closed = sandbox_view.closed_ancestor(base)
    script = "mount --make-rprivate / && "
    if closed is not None:   # expose the interpreter where nobody could not reach it
        script += (f"stash=$(mktemp -d) && mount --bind {base} $stash && "
                   f"mount -t tmpfs -o mode=755 tmpfs {closed} && mkdir -p {base} && "
                   f"mount --move $stash {base} && ")
    script += (f'exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups '
               f'--inh-caps=-all "$@"')
    return ["unshare", "--mount", "sh", "-c", script, "sh"]


def in_mode(mode):
    """Skip unless this test process can act as a grader of ``mode`` ("root" or
    "unprivileged")."""
    root = os.geteuid() == 0
    if mode == "root" and not root:
        pytest.skip("not root: the root grader cannot be tested here")
    if mode == "unprivileged" and root:
        unprivileged_prefix()


def needs_child(mode):
    """Whether a grader of ``mode`` must be a child process (we are root, it must not be)."""
    return mode == "unprivileged" and os.geteuid() == 0


def grader_env():
    """The environment of a child grader: no variable of the test process leaks into it."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp",
            "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}


def give_to_nobody(folder):
    """Make ``folder`` and everything in it belong to ``nobody`` (the child grader's files)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), NOBODY, NOBODY)
    os.chown(folder, NOBODY, NOBODY)
