"""Inside-the-sandbox launcher: set up isolation, then run the graded command as a child.

Run by :mod:`instructor.grading.sandbox` as ``python -I -S _launcher.py CONFIG_JSON -- CMD...``,
as the first process of fresh namespaces made by ``unshare`` (so it is PID 1 there, root
inside the namespaces, and its death takes every process of the namespace with it).
Standard library only; it imports nothing from the grader's repository but its two sibling
files (:mod:`._rootfs`, :mod:`._caps`), loaded by path before the root changes.

In order, each step only if CONFIG asks for it:

1. make itself non-dumpable and die with its parent (``PR_SET_PDEATHSIG``: when ``unshare``
   dies, because the grader died, this PID 1 dies and the kernel kills the namespace);
2. bring the loopback interface up (a fresh network namespace has only ``lo``, down; Jupyter
   kernels talk to nbval over TCP on 127.0.0.1 -- a loopback private to this namespace);
3. build the allow-listed root filesystem and ``pivot_root`` into it (:mod:`._rootfs`);
4. set resource limits (``setrlimit``), inherited by everything the command starts;
5. fork the command: in the child, switch to the sandbox's uid with no capabilities at all
   (or, for a notebook step's *collector*, to the collector's uid keeping CAP_SETUID,
   CAP_SETGID and CAP_KILL as ambient capabilities, so that it can start the kernel under
   the student's uid: see :mod:`._kernel_launcher`), enter the work folder, ``exec``;
6. reap orphans while the command runs (PID 1's duty) and write its exit status as one JSON
   line to the status file descriptor.

A setup step that fails is reported in the status line (``"setup_error"``) and the command is
not run: an isolation the grader reports must be an isolation that was in effect.
"""

import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

RLIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
    "fsize": resource.RLIMIT_FSIZE,
    "nproc": resource.RLIMIT_NPROC,
    "core": resource.RLIMIT_CORE,
}


# python -I leaves the script's folder off sys.path: put it back for the siblings
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _caps as caps  # noqa: E402
import _rootfs as rootfs  # noqa: E402


def loopback_up():
    """Set IFF_UP on ``lo`` (the ``ip link set lo up`` of this namespace)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh14x", b"lo", flags | IFF_UP))


def _private(paths, uid):
    """Make files the collector's alone (mode 0600): the reference notebook, say."""
    for path in paths:
        if os.path.isfile(path):
            os.chown(path, uid, uid)
            os.chmod(path, 0o600)


def _child(config, cmd, status_fd):
    os.close(status_fd)
    collector = config.get("collector")
    if collector and config.get("uid") is not None:
        _private(collector.get("private", []), collector["uid"])
        caps.become(collector["uid"], collector["uid"],
                    keep=(caps.CAP_SETUID, caps.CAP_SETGID, caps.CAP_KILL))
    elif config.get("drop_caps"):
        caps.become(config.get("uid"), config.get("uid"), keep=())
    os.chdir(config["cwd"])
    os.execvpe(cmd[0], cmd, config["collector"]["env"] if collector else os.environ)


def main(argv):
    config = json.loads(argv[1])
    cmd = argv[argv.index("--") + 1:]
    status_fd = config["status_fd"]

    def report(**status):
        os.write(status_fd, (json.dumps(status) + "\n").encode())

    try:
        caps.die_with_parent(signal.SIGKILL)
        caps.non_dumpable()
        if config.get("loopback_up"):
            loopback_up()
        if config.get("root"):
            rootfs.build(config["root"])
        for name, value in config.get("rlimits", {}).items():
            # CPU: SIGXCPU at the soft limit (a clear signal), SIGKILL one second later.
            hard = value + 1 if name == "cpu" else value
            resource.setrlimit(RLIMITS[name], (value, hard))
    except (OSError, ValueError) as exc:
        report(setup_error=f"{type(exc).__name__}: {exc}")
        return 125

    err_r, err_w = os.pipe2(os.O_CLOEXEC)   # a failure between fork and exec, reported back
    pid = os.fork()
    if pid == 0:
        os.close(err_r)
        try:
            _child(config, cmd, status_fd)
        except OSError as exc:
            os.write(err_w, f"{type(exc).__name__}: {exc}".encode())
            os._exit(127)
    os.close(err_w)
    # PID 1 keeps only the status pipe: the report pipe is the command's alone.
    for fd in config.get("close_fds", []):
        try:
            os.close(fd)
        except OSError:
            pass
    with os.fdopen(err_r, "rb") as f:
        exec_error = f.read().decode(errors="replace")
    # PID 1 of a namespace: adopt and reap orphans until the command itself has ended.
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 125
        if done == pid:
            break
    if exec_error:
        report(setup_error=f"cannot start {cmd[0]}: {exec_error}")
        return 125
    if os.WIFSIGNALED(status):
        report(signal=os.WTERMSIG(status))
        return 128 + os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    report(returncode=code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
