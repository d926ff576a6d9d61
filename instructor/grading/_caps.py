"""Inside-the-sandbox half: uids, capabilities, dumpability and user namespaces (Linux).

Used by :mod:`instructor.grading._launcher` and :mod:`instructor.grading._kernel_launcher`
(standard library only; both load this file by path). Capabilities are the ``capset(2)`` /
``prctl(2)`` bits by number (``linux/capability.h``).
"""

import ctypes
import ctypes.util
import os

CAP_KILL = 5
CAP_SETGID = 6
CAP_SETUID = 7
CAP_SETPCAP = 8
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option, arg2=0, arg3=0, what="prctl"):
    _check(_libc.prctl(option, arg2, arg3, 0, 0), what)


def last_cap():
    with open("/proc/sys/kernel/cap_last_cap") as f:
        return int(f.read())


def _capset(caps):
    mask = 0
    for c in caps:
        mask |= 1 << c
    data = (_Data * 2)()
    for i in range(2):
        word = (mask >> (32 * i)) & 0xFFFFFFFF
        data[i].effective = data[i].permitted = data[i].inheritable = word
    header = _Header(_LINUX_CAPABILITY_VERSION_3, 0)
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def has_capability(cap):
    """True when ``cap`` is in this process's effective set."""
    with open("/proc/self/status") as f:
        line = next(ln for ln in f if ln.startswith("CapEff:"))
    return bool(int(line.split()[1], 16) >> cap & 1)


def non_dumpable():
    """No ptrace, no /proc/<pid>/fd, mem or environ, no pidfd_getfd by anyone but root of
    this user namespace (re-applied after each execve, which resets it)."""
    prctl(PR_SET_DUMPABLE, 0, what="PR_SET_DUMPABLE")


def die_with_parent(signum):
    prctl(PR_SET_PDEATHSIG, signum, what="PR_SET_PDEATHSIG")


def become(uid, gid, keep=()):
    """Switch to ``uid``/``gid`` (no supplementary groups) keeping only capabilities
    ``keep``, as ambient ones so that they survive ``execve`` (empty: none at all).

    Called with capability CAP_SETUID and CAP_SETGID (root of the sandbox, or a collector
    that kept them). Also sets no_new_privs: nothing executed later gains privileges.
    """
    if has_capability(CAP_SETPCAP):   # root here or of a user namespace: shrink the bounding set
        for c in range(last_cap() + 1):
            if c not in keep:
                prctl(PR_CAPBSET_DROP, c, what=f"dropping capability {c}")
    prctl(PR_SET_KEEPCAPS, 1, what="PR_SET_KEEPCAPS")
    if uid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, what="clearing ambient capabilities")
    _capset(keep)
    for c in keep:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, what=f"raising ambient capability {c}")
    prctl(PR_SET_KEEPCAPS, 0, what="PR_SET_KEEPCAPS")
    prctl(PR_SET_NO_NEW_PRIVS, 1, what="PR_SET_NO_NEW_PRIVS")


def own_user_namespace():
    """Enter a new user and mount namespace, as uid 0 there (the same host uid as now).

    Mounts of the parent namespace become locked here (they cannot be undone or made
    writable); processes of the parent namespace are out of this process's reach (no
    capability over them: no ptrace, no pidfd_getfd of a non-dumpable one).
    """
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(user, mount)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"),
                       ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
