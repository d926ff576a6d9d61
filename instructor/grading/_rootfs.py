"""Inside-the-sandbox half: build an allow-listed root filesystem and ``pivot_root`` into it.

Loaded by :mod:`instructor.grading._launcher` (PID 1 of fresh mount and PID namespaces, root
there) before it starts the graded command; standard library only, nothing of the grader's
repository. :func:`build` turns a *spec* (made by :func:`instructor.grading.sandbox_view.root_spec`)
into the only filesystem the command can see::

    /                       tmpfs, read-only once built
    <ro paths>              read-only binds, nosuid, nodev: the Python installation, the
                            virtual environment, /usr and /lib*, a few files of /etc, the data
    /proc                   a new proc of the sandbox's PID namespace
    /dev                    null, zero, full, random, urandom, tty-less; /dev/shm (below)
    /tmp, /dev/shm          private, on the sandbox's scratch tmpfs (see below)
    <work folder>           the host folder as the lower layer of an overlay whose upper
                            layer is on the scratch tmpfs: the command sees and changes its
                            files, the host folder is never written
    <protect paths>         inside the work folder: read-only binds (e.g. ``tests/``); a
                            mount point cannot be renamed, removed or replaced
    /opt/grading            files the launcher writes (the kernel launcher, its kernel spec)

Everything the command writes -- work folder, ``/tmp``, ``/dev/shm`` -- lands on ONE tmpfs of
``scratch_bytes`` (its size is the disk quota of the whole sandbox; its pages count towards
the sandbox's cgroup memory), which vanishes with the mount namespace: nothing outlives the
sandbox. Nothing else of the host is reachable: after ``pivot_root`` the old root is
detached, so the instructor's checkout, the grades, the kit, other sandboxes' folders, the
host's ``/tmp`` and its path-based unix sockets do not exist here.

Sources are opened (``O_PATH``) before anything is mounted, so a source that a later mount
covers (a work folder under ``/tmp``, say) is still bound from the right place.
"""

import ctypes
import ctypes.util
import os
import platform
import stat

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}

STAGE = "/tmp"            # where the new root is assembled (inside our mount namespace only)
SCRATCH = "/.scratch"     # the sandbox's writable tmpfs, inside the new root
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _b(s):
    return None if s is None else os.fsencode(s)


def mount(src, dst, fstype=None, flags=0, data=None):
    if _libc.mount(_b(src), _b(dst), _b(fstype), flags, _b(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src} on {dst} ({fstype or 'bind'}): {os.strerror(err)}")


def _pivot_root(new, old):
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root: unknown syscall number on {platform.machine()}")
    if _libc.syscall(ctypes.c_long(number), _b(new), _b(old)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"pivot_root: {os.strerror(err)}")


def _inside(root, path):
    return os.path.join(root, path.lstrip("/"))


def _make_target(path, is_dir):
    if is_dir:
        os.makedirs(path, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        if not os.path.exists(path):
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))


def _bind(fd, is_dir, dst, readonly):
    """Bind the (already opened) source ``fd`` at ``dst``, read-only if asked."""
    _make_target(dst, is_dir)
    mount(f"/proc/self/fd/{fd}", dst, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (MS_RDONLY if readonly else 0)
    mount(None, dst, None, flags)


def _open(path):
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    return fd, stat.S_ISDIR(os.fstat(fd).st_mode)


def build(spec):
    """Assemble the new root described by ``spec`` and make it this process's ``/``.

    ``spec`` keys: ``ro`` / ``rw`` (lists of ``[host path, path inside]``), ``protect``
    (paths inside ``rw`` folders to make read-only), ``symlinks`` (``{path: target}``, e.g.
    /bin -> usr/bin as on the host), ``files`` (``{path: text}`` written under /opt/grading
    and the like, read-only), ``scratch_bytes``, ``private_dirs`` (``{path: [uid or None, mode]}``
    made on the scratch tmpfs, e.g. the collector's home; None: this process's uid).
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)   # nothing we mount propagates to the host
    ro = [(_open(src), dst) for src, dst in spec.get("ro", [])]
    rw = [(_open(src), dst) for src, dst in spec.get("rw", [])]
    devices = [(_open(f"/dev/{d}"), f"/dev/{d}") for d in DEVICES]

    new = STAGE
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    for path, target in spec.get("symlinks", {}).items():
        os.symlink(target, _inside(new, path))

    # /proc of our PID namespace; /dev with a handful of devices
    os.makedirs(_inside(new, "/proc"))
    mount("proc", _inside(new, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(_inside(new, "/dev"))
    mount("tmpfs", _inside(new, "/dev"), "tmpfs", MS_NOSUID, "size=64k,mode=0755")
    for (fd, is_dir), dst in devices:
        _make_target(_inside(new, dst), is_dir)
        mount(f"/proc/self/fd/{fd}", _inside(new, dst), None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, _inside(new, f"/dev/{name}"))

    # one tmpfs for everything the command writes: /tmp, /dev/shm, the work folders' changes
    scratch = _inside(new, SCRATCH)
    os.makedirs(scratch)
    mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={int(spec['scratch_bytes'])},mode=0755")
    for sub, dst in (("tmp", "/tmp"), ("shm", "/dev/shm")):
        os.makedirs(f"{scratch}/{sub}")
        os.chmod(f"{scratch}/{sub}", 0o1777)
        os.makedirs(_inside(new, dst), exist_ok=True)
        mount(f"{scratch}/{sub}", _inside(new, dst), None, MS_BIND)
    os.makedirs(_inside(new, "/var"), exist_ok=True)
    os.symlink("../tmp", _inside(new, "/var/tmp"))
    # read-only binds after /tmp: a folder to show may live under the host's /tmp
    for (fd, is_dir), dst in ro:
        _bind(fd, is_dir, _inside(new, dst), readonly=True)
    for n, ((fd, is_dir), dst) in enumerate(rw):
        target = _inside(new, dst)
        _bind(fd, is_dir, target, readonly=True)
        upper, work = f"{scratch}/upper{n}", f"{scratch}/ovl{n}"
        os.makedirs(upper)
        os.makedirs(work)
        os.chown(upper, os.fstat(fd).st_uid, os.fstat(fd).st_gid)
        os.chmod(upper, stat.S_IMODE(os.stat(f"/proc/self/fd/{fd}").st_mode))
        mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV,
              f"lowerdir={target},upperdir={upper},workdir={work}"
              + (",userxattr" if spec.get("userns") else ""))
    for path in spec.get("protect", []):
        target = _inside(new, path)
        if os.path.isdir(target):
            mount(target, target, None, MS_BIND | MS_REC)
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for path, mode in spec.get("modes", {}).items():
        os.chmod(_inside(new, path), mode)
    for path, (uid, mode) in spec.get("private_dirs", {}).items():
        os.makedirs(_inside(new, path), exist_ok=True)
        if uid is not None:
            os.chown(_inside(new, path), uid, uid)
        os.chmod(_inside(new, path), mode)
    for path, text in spec.get("files", {}).items():
        _make_target(_inside(new, path), False)
        with open(_inside(new, path), "w", encoding="utf-8") as f:
            f.write(text)

    # the scratch tmpfs stays reachable only through /tmp, /dev/shm and the overlays
    mount("tmpfs", scratch, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    mount(None, new, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for (fd, _), _dst in [*ro, *rw, *devices]:
        os.close(fd)
    os.chdir(new)
    _pivot_root(".", ".")             # the old root now sits under the new one ...
    if _libc.umount2(b".", MNT_DETACH) != 0:   # ... and is detached: gone from this sandbox
        err = ctypes.get_errno()
        raise OSError(err, f"detaching the old root: {os.strerror(err)}")
    os.chdir("/")
