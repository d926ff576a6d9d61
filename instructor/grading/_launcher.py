"""Inside-the-sandbox launcher: set up isolation, then run the graded command as a child.

Run by :mod:`instructor.grading.sandbox` as ``python -I -S _launcher.py CONFIG_JSON -- CMD...``,
usually as the first process of fresh namespaces made by ``unshare`` (so it is PID 1 there,
root inside the namespaces, and its death takes every process of the namespace with it).
Standard library only, and it imports nothing from the grader's repository, because the
repository is hidden from the sandbox by the steps below.

In order, each step only if CONFIG asks for it:

1. bring the loopback interface up (a fresh network namespace has only ``lo``, down; Jupyter
   kernels talk to nbval over TCP on 127.0.0.1, so it must be up -- it is a loopback private
   to this namespace, not the host's);
2. hide paths: for a folder others cannot enter that holds something the command needs (the
   Python installation under /root, say), mount a tmpfs over the folder with just that inside;
   mount an empty read-only tmpfs over each hidden folder, ``/dev/null`` over each
   hidden file (this needs the mount namespace);
3. set resource limits (``setrlimit``), inherited by everything the command starts;
4. drop privileges to an unprivileged uid/gid (when the grader runs as root);
5. fork the command in its folder with its environment, reap orphans while it runs (PID 1's
   duty), and write its exit status as one JSON line to the status file descriptor.

A setup step that fails is reported in the status line (``"setup_error"``) and the command is
not run: an isolation the grader reports must be an isolation that was in effect.
"""

import ctypes
import ctypes.util
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
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


def loopback_up():
    """Set IFF_UP on ``lo`` (the ``ip link set lo up`` of this namespace)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh14x", b"lo", flags | IFF_UP))


def hide(paths):
    """Mount an empty read-only tmpfs over folders and /dev/null over files."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    for path in paths:
        if not os.path.lexists(path) or os.path.islink(path):
            continue
        if os.path.isdir(path):
            args = (b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                    b"size=4k,mode=0555")
        else:
            args = (b"/dev/null", path.encode(), None, MS_BIND, None)
        if libc.mount(*args) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"cannot hide {path}: {os.strerror(err)}")


def reveal(parent, keep):
    """Replace ``parent`` (a folder others cannot enter, e.g. /root) by a tmpfs holding only
    ``keep`` (e.g. the Python installation), bind-mounted back at the same paths."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    fds = [os.open(k, os.O_PATH) for k in keep]
    if libc.mount(b"tmpfs", parent.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                  b"size=64k,mode=0755") != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"cannot mount a tmpfs over {parent}: {os.strerror(err)}")
    for k, fd in zip(keep, fds, strict=True):
        os.makedirs(k, mode=0o755, exist_ok=True)
        if libc.mount(f"/proc/self/fd/{fd}".encode(), k.encode(), None, MS_BIND, None) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"cannot expose {k}: {os.strerror(err)}")
        os.close(fd)


def main(argv):
    config = json.loads(argv[1])
    cmd = argv[argv.index("--") + 1:]
    status_fd = config["status_fd"]

    def report(**status):
        os.write(status_fd, (json.dumps(status) + "\n").encode())

    try:
        if config.get("loopback_up"):
            loopback_up()
        for parent, keep in config.get("reveal", {}).items():
            reveal(parent, keep)
        hide(config.get("hide", []))
        for name, value in config.get("rlimits", {}).items():
            # CPU: SIGXCPU at the soft limit (a clear signal), SIGKILL one second later.
            hard = value + 1 if name == "cpu" else value
            resource.setrlimit(RLIMITS[name], (value, hard))
        if config.get("uid") is not None:
            os.setgroups([])
            os.setgid(config["gid"])
            os.setuid(config["uid"])
        os.chdir(config["cwd"])
    except (OSError, ValueError) as exc:
        report(setup_error=f"{type(exc).__name__}: {exc}")
        return 125

    pid = os.fork()
    if pid == 0:
        os.close(status_fd)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as exc:
            os.write(2, f"cannot run {cmd[0]}: {exc}\n".encode())
            os._exit(127)
    # PID 1 of a namespace: adopt and reap orphans until the command itself has ended.
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 125
        if done == pid:
            break
    if os.WIFSIGNALED(status):
        report(signal=os.WTERMSIG(status))
        return 128 + os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    report(returncode=code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
