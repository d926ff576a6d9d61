"""Launching one sandboxed command, and the sandboxes this process runs.

:func:`launch` starts ``_launcher.py`` (:mod:`instructor.grading._launcher`) under ``unshare``
with the isolation :func:`instructor.grading.sandbox.detect_isolation` found, in a cgroup of
its own, with the per-process limits (:class:`~instructor.grading.limits.Limits`) and the
root filesystem of :mod:`instructor.grading.sandbox_view`; it keeps the head and tail of the
merged output, reads the report pipe, kills the whole sandbox at the wall-clock timeout and
returns a :class:`RunResult`. The live sandboxes are tracked so that stopping the grader
(:func:`install_signal_handlers`) kills them all; :data:`UIDS` hands out one unprivileged uid
per concurrent sandbox (root only).
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

from instructor.grading import cgroups
from instructor.grading.limits import GiB, MiB
from instructor.grading.sandbox_view import (
    collector_setup,
    in_sandbox_files,
    root_spec,
    sandbox_env,
)

LAUNCHER = Path(__file__).with_name("_launcher.py")
UID_BASE = 200_000  # sandbox uids: UID_BASE + 100 * pid + slot; far from real accounts
PR_SET_PDEATHSIG = 1


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


def drain(fd, limit, sink):
    """Read a pipe to its end, keeping at most ``limit`` bytes."""
    data = bytearray()
    with os.fdopen(fd, "rb") as f:
        for chunk in iter(lambda: f.read1(65536), b""):
            if len(data) < limit:
                data += chunk[:limit - len(data)]
    sink["report"] = data.decode(errors="replace")


REPORT_FD = "{REPORT_FD}"
REPORT_LIMIT = 16 * MiB


def _refused(iso, why):
    return RunResult(returncode=None, signal=None, timed_out=False, output="",
                     output_total_bytes=0, seconds=0.0, setup_error=why,
                     isolation=iso.describe())


def launch(iso, cmd, workdir, limits, env, uid, collector, readonly, protect, on_start=None):
    """Run ``cmd`` under ``iso`` (an :class:`~instructor.grading.sandbox.Isolation`); see
    :func:`instructor.grading.sandbox.run`, the entry point, for the arguments."""
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
        spec = root_spec(workdir, env, limits, readonly, protect, files=in_sandbox_files())
        if collector is not None:
            config["collector"] = collector_setup(iso, spec, env, uid,
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
    drainer = threading.Thread(target=drain, args=(report_r, REPORT_LIMIT, sink), daemon=True)
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
