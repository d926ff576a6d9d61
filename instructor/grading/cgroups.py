"""Control groups: one per sandbox, limiting memory and processes of everything it starts.

``setrlimit`` limits each process on its own (six processes of 4 GiB each hold 24 GiB); a
cgroup limits the sandbox as a whole: every process the command starts (pytest, the Jupyter
kernel, what the student's code forks) and the tmpfs pages they write (the sandbox's
``/tmp``, ``/dev/shm`` and work-folder changes, see :mod:`instructor.grading._rootfs`) count
towards one ``memory`` limit, and one ``pids`` limit caps their number.

:func:`detect` finds, once per process, where this grader may create cgroups: a child of its
own cgroup in the unified (v2) hierarchy when the ``memory`` and ``pids`` controllers can be
enabled there, else children of its own cgroups in the v1 ``memory`` and ``pids``
hierarchies (what many hosts still mount), else none; :meth:`Support.describe` says which,
for the reports. Children of the grader's own cgroup: whatever limits the grader's cgroup
has, the sandboxes stay within them.

A :class:`Cgroup` is made before the sandbox starts (:func:`create`), the sandbox's first
process moves itself in (:meth:`Cgroup.attach`, from ``preexec_fn``), and at the end
:meth:`Cgroup.close` kills whatever is left in it and removes it. Its name carries the
grader's pid, so :func:`remove_stale` can clear the cgroups of a grader that was killed.
"""

import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "cs231n-grade-"
_counter = itertools.count()


def _own_cgroups():
    """``{controller or "": path}`` from /proc/self/cgroup ("" is the unified hierarchy)."""
    out = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


def _mounts():
    """``{fstype or controller: mount point}`` of the cgroup file systems."""
    out = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fstype, _, options = right.split(" ")[:3]
        point = left.split(" ")[4]
        if fstype == "cgroup2":
            out.setdefault("", point)
        elif fstype == "cgroup":
            for opt in options.split(","):
                out.setdefault(opt, point)
    return out


@dataclass(frozen=True)
class Support:
    """Where sandboxes' cgroups go: ``version`` "v2", "v1" or None; ``parents`` maps
    ``memory``/``pids`` (v1) or "" (v2) to the grader's own cgroup folder."""

    version: str | None
    parents: tuple = ()
    why_not: str = ""

    def describe(self):
        """One line for reports: the level of the limits in effect."""
        if self.version is None:
            return ("per process only (setrlimit): no cgroup available to this grader"
                    + (f" ({self.why_not})" if self.why_not else ""))
        return (f"per sandbox (cgroup {self.version}): memory, tmpfs included, and number of "
                "processes of everything the sandbox runs, together")


def _writable(folder):
    try:
        probe = Path(folder) / f"{PREFIX}probe-{os.getpid()}"
        probe.mkdir()
        probe.rmdir()
        return True
    except OSError:
        return False


def _v2(own, mounts):
    if "" not in mounts or "" not in own:
        return None, "no unified hierarchy"
    parent = Path(mounts[""]) / own[""].lstrip("/")
    try:
        available = (parent / "cgroup.controllers").read_text().split()
        if not {"memory", "pids"} <= set(available):
            return None, "v2 memory/pids controllers not available"
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        if not {"memory", "pids"} <= set(enabled):
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError as exc:
        return None, f"v2: {exc.strerror}"
    if not _writable(parent):
        return None, "v2: own cgroup not writable"
    return (("", str(parent)),), ""


def _v1(own, mounts):
    parents = []
    for c in ("memory", "pids"):
        if c not in mounts or c not in own:
            return None, f"v1 {c} hierarchy not mounted"
        parent = Path(mounts[c]) / own[c].lstrip("/")
        if not _writable(parent):
            return None, f"v1 {c}: own cgroup not writable"
        parents.append((c, str(parent)))
    return tuple(parents), ""


@functools.cache
def detect():
    """The cgroup support of this machine for this grader (see the module docstring)."""
    try:
        own, mounts = _own_cgroups(), _mounts()
    except OSError as exc:
        return Support(None, why_not=str(exc))
    parents, why2 = _v2(own, mounts)
    if parents:
        return Support("v2", parents)
    parents, why1 = _v1(own, mounts)
    if parents:
        return Support("v1", parents)
    return Support(None, why_not=f"{why2}; {why1}")


class Cgroup:
    """The cgroup(s) of one sandbox (one folder per hierarchy)."""

    def __init__(self, support, memory_bytes, pids):
        name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
        self.version = support.version
        self.folders = {c: Path(parent) / name for c, parent in support.parents}
        for c, folder in self.folders.items():
            folder.mkdir()
            if self.version == "v2":
                (folder / "memory.max").write_text(str(memory_bytes))
                (folder / "memory.swap.max").write_text("0")
                (folder / "pids.max").write_text(str(pids))
            elif c == "memory":
                (folder / "memory.limit_in_bytes").write_text(str(memory_bytes))
                memsw = folder / "memory.memsw.limit_in_bytes"
                if memsw.exists():
                    memsw.write_text(str(memory_bytes))
            else:
                (folder / "pids.max").write_text(str(pids))

    def attach(self, pid=0):
        """Move process ``pid`` (0: the caller) in; safe to call in ``preexec_fn``."""
        pid = pid or os.getpid()
        for folder in self.folders.values():
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, str(pid).encode())
            finally:
                os.close(fd)

    def pids(self):
        found = set()
        for folder in self.folders.values():
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def out_of_memory(self):
        """True when the memory limit was hit (an allocation failed or the OOM killer ran)."""
        folder = self.folders.get("" if self.version == "v2" else "memory")
        try:
            if self.version == "v2":
                events = dict(line.split() for line in
                              (folder / "memory.events").read_text().splitlines())
                return int(events.get("oom_kill", 0)) > 0 or int(events.get("max", 0)) > 0
            control = dict(line.split() for line in
                           (folder / "memory.oom_control").read_text().splitlines())
            return int(control.get("oom_kill", 0)) > 0
        except (OSError, ValueError, AttributeError):
            return False

    def kill(self):
        """SIGKILL every process in the cgroup, until none is left (a few seconds at most)."""
        if self.version == "v2":
            kill_file = self.folders[""] / "cgroup.kill"
            if kill_file.exists():
                try:
                    kill_file.write_text("1")
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            left = self.pids()
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def close(self):
        self.kill()
        for folder in self.folders.values():
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def create(memory_bytes, pids):
    """A new cgroup with these limits, or None where :func:`detect` found no support."""
    support = detect()
    if support.version is None:
        return None
    return Cgroup(support, memory_bytes, pids)


def remove_stale():
    """Remove the (empty) cgroups of graders that are gone; returns their paths."""
    removed = []
    for _, parent in detect().parents:
        for folder in Path(parent).glob(f"{PREFIX}*-*"):
            pid = folder.name[len(PREFIX):].split("-", 1)[0]
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                os.kill(int(pid), 0)
                continue
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            try:
                for p in (folder / "cgroup.procs").read_text().split():
                    os.kill(int(p), signal.SIGKILL)
                folder.rmdir()
                removed.append(folder)
            except OSError:
                pass
    return removed
