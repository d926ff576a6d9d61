"""Run one untrusted command: own root filesystem, uids, namespaces, cgroup, limits, timeout.

:func:`run` is the only way grading runs student code. What it does, best first, falling back
to what the operating system allows (:func:`detect_isolation` finds out once per process by
running a trial sandbox, and :meth:`Isolation.describe` says in words what was in effect;
every report carries it):

* **Processes**: the command starts in a new session and, with ``unshare --pid --fork
  --kill-child``, in its own PID namespace, whose first process is
  :mod:`instructor.grading._launcher`. At the wall-clock timeout, at the end of the run and
  when the grader is stopped (SIGTERM/SIGINT, see :func:`install_signal_handlers`) the whole
  sandbox is killed (its cgroup, its process group, its PID namespace: even a process that
  called ``setsid()`` dies); ``PR_SET_PDEATHSIG`` kills it if the grader dies.
* **Network**: ``unshare --net`` gives a network namespace with a private loopback only (the
  Jupyter kernel needs 127.0.0.1; the host's 127.0.0.1 is not reachable from it).
* **Files**: an allow-listed root (mount namespace + ``pivot_root``, see
  :mod:`instructor.grading._rootfs` and :func:`root_spec`): the Python installation, the
  virtual environment and the data read-only, the work folder (changes go to a private
  tmpfs, the host folder is never written), private size-limited ``/tmp`` and ``/dev/shm``.
  Nothing else of the host exists there: not the instructor's checkout, the grades, the kit,
  other sandboxes or the host's unix sockets.
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

import ctypes
import ctypes.util
import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from instructor.grading import cgroups

HERE = Path(__file__).parent
LAUNCHER = HERE / "_launcher.py"
IN_SANDBOX = ("_kernel_launcher.py", "_caps.py", "_rootfs.py")   # copied to /opt/grading
REPO = Path(__file__).resolve().parents[2]
UID_BASE = 200_000  # sandbox uids: UID_BASE + 100 * pid + slot; far from real accounts
COLLECTOR_UID_OFFSET = 1_000_000_000   # a notebook step's collector: the student uid + this
PR_SET_PDEATHSIG = 1
OPT = "/opt/grading"                      # inside the sandbox: the launcher's own files
KERNEL_NAME = "grading-sandbox"           # the kernel spec a notebook step's nbval must use
COLLECTOR_HOME = "/tmp/.collector"        # inside the sandbox: the collector's private home
# Not root: the grader's uid inside its user namespace. Not 0: a nested user namespace (the
# notebook kernel's) may then map it without CAP_SETFCAP, which mapping a parent's root needs.
INNER_ID = 1000
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "hosts", "passwd",
             "group", "localtime", "fonts")

GiB = 2**30
MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """Per-command limits. Sizes in bytes, times in seconds.

    ``wall_seconds`` is for the whole command (e.g. one ``pytest --nbval`` of a notebook),
    ``cpu_seconds`` for each of its processes (RLIMIT_CPU), ``memory_bytes`` the memory of
    the whole sandbox (its cgroup, tmpfs included) and the address space of each process
    (RLIMIT_AS), ``file_bytes`` the largest file it may write, ``scratch_bytes`` all it may
    write together (work folder changes, /tmp, /dev/shm: one tmpfs), ``processes`` processes
    and threads of the sandbox (cgroup pids; RLIMIT_NPROC of its uid too when it has one of
    its own), ``output_bytes`` the output kept.
    """

    wall_seconds: float = 900.0
    cpu_seconds: int = 900
    memory_bytes: int = 4 * GiB
    file_bytes: int = 256 * MiB
    processes: int = 512
    output_bytes: int = 64 * 1024
    scratch_bytes: int = 512 * MiB

    def describe(self):
        return (f"wall {self.wall_seconds:g} s, CPU {self.cpu_seconds} s/process, "
                f"memory {self.memory_bytes / GiB:g} GiB, files "
                f"{self.file_bytes / MiB:g} MiB each and {self.scratch_bytes / MiB:g} MiB in "
                f"all, {self.processes} processes, output {self.output_bytes // 1024} KiB")


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
    out_of_memory: bool = False  # the sandbox's cgroup hit its memory limit

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
        if self.out_of_memory and self.signal:
            return (f"ran out of memory: killed at the sandbox's memory limit of "
                    f"{limits.memory_bytes / GiB:g} GiB ({self.signal})")
        if self.signal:
            return f"crashed ({self.signal})"
        return None

    def to_dict(self):
        return asdict(self)


# ------------------------------------------------------------------------------------------
# What this machine allows
# ------------------------------------------------------------------------------------------

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
        res = _run(iso, [sys.executable, "-c", "import os; os.listdir('/')"], tmp,
                   Limits(wall_seconds=60), None, None, None, (), None)
    if res.returncode != 0:
        why = res.setup_error or res.output.strip()[-500:]
        return Isolation(cgroup=limits_line,
                         notes=(f"the sandbox cannot be built here: {why}",))
    return iso


def data_dir():
    """The CIFAR-10 folder the sandbox reads (read-only): ``$CIFAR10_DIR`` of the grader, or
    ``datasets/cifar-10-batches-py`` of the grader's repository; None if neither exists."""
    path = Path(os.environ.get("CIFAR10_DIR") or REPO / "datasets" / "cifar-10-batches-py")
    return path.resolve() if path.is_dir() else None


def _closed_ancestor(path):
    """The topmost folder above ``path`` that other users cannot enter (no o+x), or None."""
    path = Path(path).resolve()
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & 0o001:
            return parent
    return None


# ------------------------------------------------------------------------------------------
# The sandbox's root filesystem
# ------------------------------------------------------------------------------------------

def _system_entries():
    """``(read-only binds, symlinks)`` for the system: /usr, /bin, /lib*, /sbin, a few of
    /etc (the dynamic loader's cache, fonts, passwd/group, hosts)."""
    ro, links = [], {}
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / name
        if p.is_symlink():
            links[str(p)] = os.readlink(p)
        elif p.is_dir():
            ro.append((str(p), str(p)))
    for name in ETC_FILES:
        p = Path("/etc") / name
        if p.exists():
            ro.append((str(p.resolve()), str(p)))
    return ro, links


def python_paths():
    """``[(host path, path inside)]``: the Python installation and the virtual environment,
    at the paths the grader uses (a symlinked venv is bound at both its paths)."""
    out = [(str(Path(sys.base_prefix).resolve()), str(Path(sys.base_prefix).resolve()))]
    venv, real = Path(sys.prefix), Path(sys.prefix).resolve()
    out.append((str(real), str(real)))
    if str(venv) != str(real):
        out.append((str(real), str(venv)))
    return out


def root_spec(workdir, env, limits, readonly=(), protect=None, private_dirs=None, files=None):
    """The allow-list of :mod:`instructor.grading._rootfs` for one sandbox.

    Read-only: the system, the Python installation and virtual environment, the data folder,
    every folder on the command's ``PYTHONPATH`` (e.g. the work folder's ``tools/``) and
    ``readonly``; read-write: ``workdir`` (through an overlay); ``protect`` (default: the
    work folder's ``tests/``) read-only inside it.
    """
    ro, links = _system_entries()
    ro += python_paths()
    if data_dir() is not None:
        ro.append((str(data_dir()), str(data_dir())))
    for entry in (env.get("PYTHONPATH") or "").split(os.pathsep):
        if entry and Path(entry).exists():
            ro.append((str(Path(entry).resolve()), entry))
    ro += [(str(Path(p).resolve()), str(p)) for p in readonly]
    workdir = str(workdir)
    if protect is None:
        protect = [str(Path(workdir) / "tests")]
    return {"ro": ro, "rw": [(str(Path(workdir).resolve()), workdir)], "symlinks": links,
            "protect": list(protect), "scratch_bytes": int(limits.scratch_bytes),
            "userns": os.geteuid() != 0, "private_dirs": private_dirs or {},
            "files": files or {}, "modes": {}}


def _in_sandbox_files():
    return {f"{OPT}/{name}": (HERE / name).read_text(encoding="utf-8") for name in IN_SANDBOX}


def collector_uid(uid):
    """The uid of a notebook step's collector, given the student's sandbox uid."""
    return None if uid is None else uid + COLLECTOR_UID_OFFSET


def _collector_setup(iso, spec, env, uid, private):
    """Make ``spec`` ready for a notebook step: kernel spec, collector home and environment.

    Returns the launcher's ``collector`` config."""
    a_uid = collector_uid(uid) if iso.switch_uid else None
    kernel_config = {"uid": uid if iso.switch_uid else None, "env": env,
                     "python": sys.executable, "hide": [*private, COLLECTOR_HOME]}
    kernel_spec = {"argv": [sys.executable, "-I", "-S", f"{OPT}/_kernel_launcher.py",
                            json.dumps(kernel_config), "{connection_file}"],
                   "display_name": "Python 3 (grading sandbox)", "language": "python"}
    spec["files"][f"{OPT}/jupyter/kernels/{KERNEL_NAME}/kernel.json"] = json.dumps(kernel_spec)
    spec["private_dirs"][COLLECTOR_HOME] = (a_uid, 0o700)   # None: the launcher's own uid
    spec["modes"][spec["rw"][0][1]] = 0o755   # the collector passes through the work folder
    h = COLLECTOR_HOME
    collector_env = {**env, "HOME": h, "TMPDIR": h, "JUPYTER_RUNTIME_DIR": f"{h}/runtime",
                     "JUPYTER_DATA_DIR": f"{h}/data", "JUPYTER_CONFIG_DIR": f"{h}/config",
                     "IPYTHONDIR": f"{h}/ipython", "MPLCONFIGDIR": f"{h}/mpl",
                     "JUPYTER_PATH": f"{OPT}/jupyter", "PYTHONSAFEPATH": "1"}
    return {"uid": a_uid, "private": list(private), "env": collector_env}


# ------------------------------------------------------------------------------------------
# Uids, live sandboxes, stopping
# ------------------------------------------------------------------------------------------

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

_LIVE = {}                     # id -> (Popen, Cgroup or None): the sandboxes running now
_LIVE_LOCK = threading.RLock()   # re-entrant: taken again by a signal handler
_STOPPING = threading.Event()


def terminate_all():
    """Kill every sandbox this process runs (their cgroups, groups and PID namespaces) and
    start no new one. Safe in a signal handler."""
    _STOPPING.set()
    with _LIVE_LOCK:
        live = list(_LIVE.values())
    for proc, cg in live:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if cg is not None:
            cg.close()


def _on_stop(signum, frame):
    terminate_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install_signal_handlers():
    """SIGTERM/SIGINT to the grader kill every sandbox, then the grader (with that signal).
    Call from the main thread of a grading command."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _on_stop)


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


def _preexec(cg):
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if cg is not None:
        cg.attach()


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


def run(cmd, workdir, limits=None, env=None, hide=None, uid=None, on_start=None, *,
        collector=None, readonly=(), protect=None):
    """Run ``cmd`` (a list) in ``workdir`` under the isolation this machine allows.

    ``uid``: the uid to run as (root only; :mod:`instructor.grading.job` takes one from
    :data:`UIDS`), the work folder must already belong to it. An argument equal to
    :data:`REPORT_FD` is replaced by the number of a pipe the command may write results to
    (kept out of the merged output; read back as ``RunResult.report``). ``on_start(proc)``
    is called once the command started (``proc``: its Popen; ``os.killpg(proc.pid,
    SIGKILL)`` ends the sandbox early).

    ``collector``: for a command that starts Jupyter kernels (nbval): a dict with
    ``private`` (files only the collector may read, e.g. the reference notebook); the
    command must ask nbval for the kernel :data:`KERNEL_NAME`. ``readonly``: more host
    paths to show read-only; ``protect``: paths inside the work folder made read-only
    (default: ``tests/``). ``hide`` is accepted for compatibility and ignored: the sandbox
    sees only its allow-list.

    Returns a :class:`RunResult`; never raises for anything the command does.
    """
    del hide
    return _run(detect_isolation(), cmd, workdir, limits or Limits(), env, uid, collector,
                readonly, protect, on_start)


def _refused(iso, why):
    return RunResult(returncode=None, signal=None, timed_out=False, output="",
                     output_total_bytes=0, seconds=0.0, setup_error=why,
                     isolation=iso.describe())


def _run(iso, cmd, workdir, limits, env, uid, collector, readonly, protect, on_start=None):
    if _STOPPING.is_set():
        return _refused(iso, "the grader is stopping")
    if not iso.safe and not iso.unsafe:
        return _refused(iso, "refusing to run untrusted code without isolation ("
                        + "; ".join(iso.notes) + "); run as root or where user namespaces "
                        "work, or pass --unsafe-no-isolation to accept the risk")
    env = dict(env or sandbox_env(workdir))
    uid = uid if iso.switch_uid else None
    status_r, status_w = os.pipe()
    report_r, report_w = os.pipe()
    cmd = [str(report_w) if c == REPORT_FD else c for c in cmd]
    config = {
        "status_fd": status_w,
        "close_fds": [report_w],
        "cwd": str(workdir),
        "loopback_up": iso.network,
        "rlimits": {"cpu": int(limits.cpu_seconds), "as": int(limits.memory_bytes),
                    "fsize": int(limits.file_bytes), "nproc": int(limits.processes),
                    "core": 0},
        "uid": uid,
        "drop_caps": iso.mount,
        "collector": None,
    }
    if iso.mount:
        spec = root_spec(workdir, env, limits, readonly, protect, files=_in_sandbox_files())
        if collector is not None:
            config["collector"] = _collector_setup(iso, spec, env, uid,
                                                   collector.get("private", []))
        config["root"] = spec
    prefix = ["unshare", *iso.unshare, "--"] if iso.unshare else []
    argv = [*prefix, sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(config), "--",
            *[str(c) for c in cmd]]
    try:
        cg = cgroups.create(limits.memory_bytes, limits.processes)
    except OSError as exc:
        os.close(status_w)
        os.close(report_w)
        os.close(status_r)
        os.close(report_r)
        return _refused(iso, f"cannot create the sandbox's cgroup: {exc}")
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True, pass_fds=(status_w, report_w),
                            preexec_fn=functools.partial(_preexec, cg))
    key = object()
    with _LIVE_LOCK:
        _LIVE[key] = (proc, cg)
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
    oom = cg.out_of_memory() if cg is not None else False
    if cg is not None:
        cg.close()   # whatever is left (a process that left the group, say) dies now
    with _LIVE_LOCK:
        _LIVE.pop(key, None)
    reader.join(timeout=10)
    drainer.join(timeout=10)
    proc.stdout.close()
    with os.fdopen(status_r, "rb") as f:
        lines = f.read().decode(errors="replace").splitlines()
    status = json.loads(lines[-1]) if lines else {}
    signum = status.get("signal")
    if signum is None and proc.returncode < 0 and not timed_out:
        signum = -proc.returncode
    if _STOPPING.is_set() and not status:
        status = {"setup_error": "the grader was stopped"}
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
        out_of_memory=oom,
    )
