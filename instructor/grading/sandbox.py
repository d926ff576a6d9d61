"""Run one untrusted command: own root filesystem, uids, namespaces, cgroup, limits, timeout.

:func:`run` is the only way grading runs student code. What it does, best first, falling back
to what the operating system allows (:func:`detect_isolation` finds out once per process by
running a trial sandbox, and :meth:`Isolation.describe` says in words what was in effect;
every report carries it):

* **Processes**: the command starts in a new session and, with ``unshare --pid --fork
  --kill-child``, in its own PID namespace, whose first process is
  :mod:`instructor.grading._launcher` (started by :mod:`instructor.grading.launch`). At the
  wall-clock timeout, at the end of the run and when the grader is stopped (SIGTERM/SIGINT,
  see :func:`instructor.grading.launch.install_signal_handlers`) the whole sandbox is killed
  (its cgroup, its process group, its PID namespace: even a process that called ``setsid()``
  dies); ``PR_SET_PDEATHSIG`` kills it if the grader dies.
* **Network**: ``unshare --net`` gives a network namespace with a private loopback only (the
  Jupyter kernel needs 127.0.0.1; the host's 127.0.0.1 is not reachable from it).
* **Files**: an allow-listed root (mount namespace + ``pivot_root``, see
  :mod:`instructor.grading._rootfs` and :mod:`instructor.grading.sandbox_view`): the Python
  installation, the virtual environment and the data read-only, the work folder (changes go
  to a private tmpfs, the host folder is never written), private size-limited ``/tmp`` and
  ``/dev/shm``. Nothing else of the host exists there: not the instructor's checkout, the
  grades, the kit, other sandboxes or the host's unix sockets.
* **Uids**: when the grader runs as root, the command runs as an unprivileged uid of its own
  (no account; one per concurrent sandbox) with no capabilities. Without root, a user
  namespace gives the same filesystem and process isolation (the command keeps the
  grader's uid there, with no capabilities). Without either, :func:`run` refuses to
  run untrusted code unless :func:`allow_unsafe` was called (``--unsafe-no-isolation``).
* **Notebook steps** (``collector=...``): the collector (pytest + nbval, which writes the
  verdicts) runs as a uid of its own, non-dumpable; the Jupyter kernel that runs the
  student's code is started under the student's uid (see
  :mod:`instructor.grading._kernel_launcher`), so it cannot reach the collector.
* **Limits**: a cgroup per sandbox (:mod:`instructor.grading.cgroups`: memory, including the
  tmpfs, and processes of the whole sandbox) where the grader may create one; per process
  (``setrlimit``) CPU seconds, address space, size of any file written, processes of the
  uid; core dumps off; the scratch tmpfs size caps everything written.
* **Output**: stdout and stderr are merged and kept up to ``Limits.output_bytes`` (head and
  tail, with a marker saying how much was cut).
"""

import dataclasses
import functools
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from instructor.grading import cgroups
from instructor.grading.launch import launch
from instructor.grading.limits import Limits

# Not root: the grader's uid inside its user namespace. Not 0: a nested user namespace (the
# notebook kernel's) may then map it without CAP_SETFCAP, which mapping a parent's root needs.
INNER_ID = 1000


@dataclass(frozen=True)
class Isolation:
    """What :func:`run` can put in place on this machine (see the module docstring)."""

    unshare: tuple = ()          # the unshare(1) flags that work here, () = not available
    network: bool = False        # own network namespace (no network)
    mount: bool = False          # own mount namespace with the allow-listed root
    pid: bool = False            # own PID namespace (timeout kills every process)
    switch_uid: bool = False     # root: run as an unprivileged uid of its own
    userns: bool = False         # not root: a user namespace stands in for root
    cgroup: str = ""             # cgroups.Support.describe()
    unsafe: bool = False         # no isolation, and told to run untrusted code anyway
    notes: tuple = ()

    @property
    def safe(self):
        """Enough isolation to run untrusted code (see the module docstring)."""
        return self.mount and self.pid and self.network

    def describe(self):
        """One line per aspect, for reports."""
        if not self.safe:
            head = ["UNSAFE: NO ISOLATION (--unsafe-no-isolation): the code ran as the "
                    "grader's user and could read and change anything the grader can"
                    if self.unsafe else "no isolation available: untrusted code is not run"]
            return [*head, f"limits: {self.cgroup}", *self.notes]
        who = ("an unprivileged uid of its own with no capabilities" if self.switch_uid else
               "the grader's uid in a user namespace of its own, with no capabilities (grader "
               "not root)")
        kernel = ("the notebook kernel runs under the student's uid, the process that "
                  "collects the verdicts under another, non-dumpable" if self.switch_uid else
                  "the notebook kernel runs in a user and mount namespace of its own, the "
                  "process that collects the verdicts is non-dumpable and out of its reach")
        return [
            "processes: own PID namespace (a timeout or stopping the grader kills every "
            "process the code started)",
            "network: none (own network namespace, private loopback only)",
            "files: allow-listed root (pivot_root): the Python installation, the virtual "
            "environment and the data read-only, its own work folder, private size-limited "
            "/tmp and /dev/shm; nothing else of the host",
            f"runs as {who}",
            f"notebooks: {kernel}",
            f"limits: {self.cgroup}",
            *self.notes,
        ]


_UNSAFE = [False]


def allow_unsafe(flag=True):
    """Let :func:`run` run untrusted code even without isolation (``--unsafe-no-isolation``)."""
    _UNSAFE[0] = bool(flag)


def _try_unshare(flags):
    try:
        proc = subprocess.run(["unshare", *flags, "--", "true"], capture_output=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def namespace_flags(root=None):
    """The unshare(1) flags of a sandbox: as root, or (not root) with a user namespace."""
    root = os.geteuid() == 0 if root is None else root
    userns = [f"--map-user={INNER_ID}", f"--map-group={INNER_ID}", "--keep-caps"]
    return ([] if root else userns) + ["--mount", "--net", "--pid", "--fork", "--kill-child"]


def detect_isolation():
    """Which isolation this machine allows (see :class:`Isolation`), found once per process:
    the namespaces must work, and a trial sandbox must build its root and run Python.
    Without isolation, ``unsafe`` says whether :func:`allow_unsafe` was called."""
    iso = _detect()
    return iso if iso.safe else dataclasses.replace(iso, unsafe=_UNSAFE[0])


@functools.cache
def _detect():
    root = os.geteuid() == 0
    cgroups.remove_stale()   # left by graders that were killed
    limits_line = cgroups.detect().describe()
    flags = namespace_flags(root)
    if not _try_unshare(flags):
        why = ("unshare(1) unavailable or not permitted here" if root else
               "not root, and user namespaces are not available to this user")
        return Isolation(cgroup=limits_line, notes=(why,))
    iso = Isolation(unshare=tuple(flags), network=True, mount=True, pid=True,
                    switch_uid=root, userns=not root, cgroup=limits_line)
    with tempfile.TemporaryDirectory(prefix="cs231n-grade-probe-") as tmp:
        res = launch(iso, [sys.executable, "-c", "import os; os.listdir('/')"], tmp,
                   Limits(wall_seconds=60), None, None, None, (), None)
    if res.returncode != 0:
        why = res.setup_error or res.output.strip()[-500:]
        return Isolation(cgroup=limits_line,
                         notes=(f"the sandbox cannot be built here: {why}",))
    return iso


def run(cmd, workdir, limits=None, env=None, hide=None, uid=None, on_start=None, *,
        collector=None, readonly=(), protect=None):
    """Run ``cmd`` (a list) in ``workdir`` under the isolation this machine allows.

    ``uid``: the uid to run as (root only; :mod:`instructor.grading.job` takes one from
    :data:`instructor.grading.launch.UIDS`), the work folder must already belong to it. An
    argument equal to :data:`instructor.grading.launch.REPORT_FD` is replaced by the number
    of a pipe the command may write results to (kept out of the merged output; read back as
    ``RunResult.report``). ``on_start(proc)`` is called once the command started (``proc``:
    its Popen; ``os.killpg(proc.pid, SIGKILL)`` ends the sandbox early).

    ``collector``: for a command that starts Jupyter kernels (nbval): a dict with
    ``private`` (files only the collector may read, e.g. the reference notebook); the
    command must ask nbval for the kernel
    :data:`instructor.grading.sandbox_view.KERNEL_NAME`. ``readonly``: more host
    paths to show read-only; ``protect``: paths inside the work folder made read-only
    (default: ``tests/``). ``hide`` is accepted for compatibility and ignored: the sandbox
    sees only its allow-list.

    Returns a :class:`instructor.grading.launch.RunResult`; never raises for anything the
    command does.
    """
    del hide
    return launch(detect_isolation(), cmd, workdir, limits or Limits(), env, uid, collector,
                  readonly, protect, on_start)
