"""Run one untrusted command: own folder, process group and namespaces, limits, timeout.

:func:`run` is the only way grading runs student code. What it does, best first, falling back
to what the operating system allows (:func:`detect_isolation` finds out once per process, and
:meth:`Isolation.describe` says in words what was in effect; every report carries it):

* **Processes**: the command starts in a new session (its own process group); with
  ``unshare --pid --fork --kill-child`` it also gets its own PID namespace, whose first
  process is :mod:`instructor.grading._launcher`. At the wall-clock timeout the whole group is
  killed with SIGKILL; in a PID namespace the kernel then kills every process in it, even one
  that called ``setsid()`` to leave the group. ``PR_SET_PDEATHSIG`` kills the sandbox if the
  grader itself dies.
* **Network**: ``unshare --net`` gives a network namespace with a private loopback only (the
  Jupyter kernel needs 127.0.0.1; the host's 127.0.0.1 is not reachable from it).
* **Files**: a mount namespace hides the grader's repository (every top-level entry but the
  virtual environment and the datasets; see :func:`repo_hide_list`) under an empty read-only
  tmpfs. When the grader runs as root, the command runs as an unprivileged uid of its own
  (no account; one per concurrent sandbox), and the work folder is private to that uid
  (mode 0700), so two submissions graded at once cannot read each other's folders.
* **Limits** (``setrlimit``): CPU seconds, address space (memory), size of any file written,
  number of processes/threads of the uid; core dumps off.
* **Output**: stdout and stderr are merged and kept up to ``Limits.output_bytes`` (head and
  tail, with a marker saying how much was cut).

Without root and without user namespaces none of the namespaces are available; the command
then runs as the grader's user, in its own process group, with the limits, and the report
says so.
"""

import ctypes
import ctypes.util
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

LAUNCHER = Path(__file__).with_name("_launcher.py")
REPO = Path(__file__).resolve().parents[2]
UID_BASE = 200_000  # sandbox uids: UID_BASE + 100 * pid + slot; far from real accounts
PR_SET_PDEATHSIG = 1

GiB = 2**30
MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """Per-command limits. Sizes in bytes, times in seconds.

    ``wall_seconds`` is for the whole command (e.g. one ``pytest --nbval`` of a notebook),
    ``cpu_seconds`` for each of its processes (RLIMIT_CPU), ``memory_bytes`` the address
    space of each process (RLIMIT_AS), ``file_bytes`` the largest file it may write,
    ``processes`` processes and threads of its uid (RLIMIT_NPROC, enforced only when not
    root, i.e. when the sandbox switched uid), ``output_bytes`` the output kept.
    """

    wall_seconds: float = 900.0
    cpu_seconds: int = 900
    memory_bytes: int = 4 * GiB
    file_bytes: int = 256 * MiB
    processes: int = 512
    output_bytes: int = 64 * 1024

    def describe(self):
        return (f"wall {self.wall_seconds:g} s, CPU {self.cpu_seconds} s/process, "
                f"memory {self.memory_bytes / GiB:g} GiB/process, files "
                f"{self.file_bytes / MiB:g} MiB, {self.processes} processes, output "
                f"{self.output_bytes // 1024} KiB")


@dataclass(frozen=True)
class Isolation:
    """What :func:`run` can put in place on this machine (see the module docstring)."""

    unshare: tuple = ()          # the unshare(1) flags that work here, () = not available
    network: bool = False        # own network namespace (no network)
    mount: bool = False          # own mount namespace (grader's repo hidden)
    pid: bool = False            # own PID namespace (timeout kills every process)
    switch_uid: bool = False     # root: run as an unprivileged uid of its own
    notes: tuple = ()

    def describe(self):
        """One line per aspect, for reports."""
        return [
            "processes: own process group" + (
                " and PID namespace (a timeout kills every process it started)"
                if self.pid else " (a timeout kills the group)"),
            "network: " + ("none (own network namespace, private loopback only)"
                           if self.network else "NOT isolated (no network namespace here)"),
            "files: " + ("grader repository hidden (mount namespace); " if self.mount
                         else "grader repository NOT hidden (no mount namespace); ")
            + ("runs as an unprivileged uid of its own, work folder private to it"
               if self.switch_uid else "runs as the grader's user"),
            *self.notes,
        ]


@dataclass
class RunResult:
    """What happened to one command."""

    returncode: int | None       # exit code; None if killed by a signal or timeout
    signal: str | None           # e.g. "SIGSEGV", "SIGXCPU" (CPU limit), "SIGKILL"
    timed_out: bool              # killed at the wall-clock timeout
    output: str                  # merged stdout+stderr, truncated to Limits.output_bytes
    output_total_bytes: int
    seconds: float
    setup_error: str | None = None
    isolation: list = field(default_factory=list)
    report: str = ""             # what the command wrote to the report pipe (see run)

    @property
    def ok(self):
        return self.returncode == 0 and not self.timed_out

    def problem(self, limits):
        """A sentence about an abnormal end (timeout, limit, crash), or None."""
        if self.setup_error:
            return f"the sandbox could not be set up: {self.setup_error}"
        if self.timed_out:
            return f"stopped after the time limit of {limits.wall_seconds:g} s"
        if self.signal == "SIGXCPU":
            return f"killed at the CPU time limit of {limits.cpu_seconds} s"
        if self.signal == "SIGXFSZ":
            return f"killed for writing a file larger than {limits.file_bytes // MiB} MiB"
        if self.signal:
            return f"crashed ({self.signal})"
        return None

    def to_dict(self):
        return asdict(self)


def _try_unshare(flags):
    try:
        proc = subprocess.run(["unshare", *flags, "--", "true"], capture_output=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


@functools.cache
def detect_isolation():
    """Find, once per process, which isolation this machine allows (see :class:`Isolation`)."""
    root = os.geteuid() == 0
    base = [] if root else ["--map-root-user"]
    candidates = [
        [*base, "--mount", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"],
        [*base, "--mount", "--net", "--pid", "--fork", "--kill-child"],
        [*base, "--net"],
    ]
    for flags in candidates:
        if _try_unshare(flags):
            mount = "--mount" in flags
            # An unprivileged uid must be able to run the interpreter: when it lives in a
            # folder closed to others, only the mount namespace can expose it.
            switch = root and (mount or not reveal_map())
            return Isolation(unshare=tuple(flags), network="--net" in flags,
                             mount=mount, pid="--pid" in flags, switch_uid=switch)
    notes = ["unshare(1) unavailable or not permitted here (no namespaces)"]
    switch = root and not reveal_map()
    if root and not switch:
        notes.append("the Python installation is closed to other users: cannot switch uid")
    return Isolation(switch_uid=switch, notes=tuple(notes))


def repo_hide_list(repo=REPO, visible=(".venv", "datasets")):
    """The grader's repository entries the sandbox hides: all top-level ones but ``visible``.

    The virtual environment (the interpreter and packages the student's code runs with) and
    the datasets stay readable. Folders named in ``visible`` but not inside the repository
    need nothing.
    """
    repo = Path(repo)
    keep = {(repo / v).resolve() for v in visible}
    return sorted(str(p) for p in repo.iterdir() if p.resolve() not in keep)


def _closed_ancestor(path):
    """The topmost folder above ``path`` that other users cannot enter (no o+x), or None."""
    path = Path(path).resolve()
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & 0o001:
            return parent
    return None


def data_dir():
    """The CIFAR-10 folder the sandbox reads (read-only): ``$CIFAR10_DIR`` of the grader, or
    ``datasets/cifar-10-batches-py`` of the grader's repository; None if neither exists."""
    path = Path(os.environ.get("CIFAR10_DIR") or REPO / "datasets" / "cifar-10-batches-py")
    return path.resolve() if path.is_dir() else None


def reveal_map():
    """Folders to re-expose to an unprivileged uid: ``{closed ancestor: [needed paths]}``.

    The interpreter (or the data) may live where only root can enter (e.g. pyenv under
    ``/root``); the launcher then mounts a tmpfs over that folder holding just what is needed.
    """
    needed = {Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent}
    if data_dir() is not None:
        needed.add(data_dir())
    out = {}
    for path in sorted(needed):
        top = _closed_ancestor(path)
        if top is not None:
            out.setdefault(str(top), []).append(str(path))
    return out


class _UidPool:
    """One unprivileged uid per concurrent sandbox of this process (root only)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._used = set()

    def acquire(self):
        with self._lock:
            slot = next(i for i in range(100) if i not in self._used)
            self._used.add(slot)
        return UID_BASE + 100 * os.getpid() + slot

    def release(self, uid):
        with self._lock:
            self._used.discard((uid - UID_BASE) % 100)


UIDS = _UidPool()


def sandbox_env(workdir, extra=None):
    """A clean environment for the command: nothing of the grader's is passed on."""
    home = Path(workdir) / ".home"
    venv_bin = Path(sys.executable).parent
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "TMPDIR": str(home / "tmp"),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(home / "mpl"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(home / "jupyter-runtime"),
        "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
        "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }
    if data_dir() is not None:
        env["CIFAR10_DIR"] = str(data_dir())
    env.update(extra or {})
    return env


def make_home(workdir):
    """Create the folders :func:`sandbox_env` points at."""
    home = Path(workdir) / ".home"
    for sub in ("tmp", "mpl", "ipython", "jupyter-runtime", "jupyter-data", "jupyter-config"):
        (home / sub).mkdir(parents=True, exist_ok=True)


def _preexec():
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _reader(stream, limit, sink):
    """Keep the first 3/4 and the last 1/4 of ``limit`` bytes; count the rest."""
    head_max, tail_max = limit * 3 // 4, limit - limit * 3 // 4
    head, tail, total = bytearray(), bytearray(), 0
    for chunk in iter(lambda: stream.read1(65536), b""):
        total += len(chunk)
        room = head_max - len(head)
        if room > 0:
            head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            tail += chunk
            del tail[:-tail_max or len(tail)]
    cut = total - len(head) - len(tail)
    text = head.decode(errors="replace")
    if cut > 0:
        text += f"\n[... {cut} bytes of output cut (limit {limit} bytes) ...]\n"
    sink.update(text=text + tail.decode(errors="replace"), total=total)


def _drain(fd, limit, sink):
    """Read a pipe to its end, keeping at most ``limit`` bytes."""
    data = bytearray()
    with os.fdopen(fd, "rb") as f:
        for chunk in iter(lambda: f.read1(65536), b""):
            if len(data) < limit:
                data += chunk[:limit - len(data)]
    sink["report"] = data.decode(errors="replace")


REPORT_FD = "{REPORT_FD}"
REPORT_LIMIT = 16 * MiB


def run(cmd, workdir, limits=None, env=None, hide=None, uid=None, on_start=None):
    """Run ``cmd`` (a list) in ``workdir`` under the isolation this machine allows.

    ``hide``: paths to hide (default :func:`repo_hide_list`); ``uid``: the uid to run as
    (root only; :mod:`instructor.grading.job` takes one from :data:`UIDS`), the work folder
    must already belong to it. An argument equal to :data:`REPORT_FD` is replaced by the
    number of a pipe the command may write results to (kept out of the merged output; read
    back as ``RunResult.report``). ``on_start(proc)`` is called once the command started
    (``proc``: its Popen; ``os.killpg(proc.pid, SIGKILL)`` ends the sandbox early). Returns
    a :class:`RunResult`; never raises for anything the command does.
    """
    limits = limits or Limits()
    iso = detect_isolation()
    hide = repo_hide_list() if hide is None else list(hide)
    status_r, status_w = os.pipe()
    report_r, report_w = os.pipe()
    cmd = [str(report_w) if c == REPORT_FD else c for c in cmd]
    config = {
        "status_fd": status_w,
        "cwd": str(workdir),
        "loopback_up": iso.network,
        "hide": hide if iso.mount else [],
        "reveal": reveal_map() if (iso.mount and iso.switch_uid and uid is not None) else {},
        "rlimits": {"cpu": int(limits.cpu_seconds), "as": int(limits.memory_bytes),
                    "fsize": int(limits.file_bytes), "nproc": int(limits.processes),
                    "core": 0},
        "uid": uid if (iso.switch_uid and uid is not None) else None,
        "gid": uid if (iso.switch_uid and uid is not None) else None,
    }
    prefix = ["unshare", *iso.unshare, "--"] if iso.unshare else []
    argv = [*prefix, sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(config), "--",
            *[str(c) for c in cmd]]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env or sandbox_env(workdir),
                            start_new_session=True, pass_fds=(status_w, report_w),
                            preexec_fn=_preexec)
    os.close(status_w)
    os.close(report_w)
    if on_start is not None:
        on_start(proc)
    sink = {}
    reader = threading.Thread(target=_reader, args=(proc.stdout, limits.output_bytes, sink),
                              daemon=True)
    reader.start()
    drainer = threading.Thread(target=_drain, args=(report_r, REPORT_LIMIT, sink), daemon=True)
    drainer.start()
    timed_out = False
    try:
        proc.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    reader.join(timeout=10)
    drainer.join(timeout=10)
    proc.stdout.close()
    with os.fdopen(status_r, "rb") as f:
        lines = f.read().decode(errors="replace").splitlines()
    status = json.loads(lines[-1]) if lines else {}
    signum = status.get("signal")
    if signum is None and proc.returncode < 0 and not timed_out:
        signum = -proc.returncode
    return RunResult(
        returncode=None if (timed_out or signum) else status.get("returncode",
                                                                proc.returncode),
        signal=signal.Signals(signum).name if signum else None,
        timed_out=timed_out,
        output=sink.get("text", ""),
        output_total_bytes=sink.get("total", 0),
        seconds=time.monotonic() - start,
        setup_error=status.get("setup_error"),
        isolation=iso.describe(),
        report=sink.get("report", ""),
    )

