"""What a sandboxed command sees: its root filesystem, the launcher's files, its environment.

The allow-list of the sandbox's root (:func:`root_spec`, built inside the sandbox by
:mod:`instructor.grading._rootfs`): the system, the Python installation and virtual
environment, the data folder and the command's ``PYTHONPATH`` read-only, the work folder
through an overlay, private size-limited ``/tmp`` and ``/dev/shm``; nothing else of the host.
The launcher's own files go to :data:`OPT`; a notebook step's collector gets a private home
and a kernel spec that starts the student's kernel under the student's uid
(:func:`collector_setup`). :func:`sandbox_env` is the command's whole environment: nothing of
the grader's is passed on.
"""

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
IN_SANDBOX = ("_kernel_launcher.py", "_caps.py", "_rootfs.py")   # copied to /opt/grading
REPO = Path(__file__).resolve().parents[2]
COLLECTOR_UID_OFFSET = 1_000_000_000   # a notebook step's collector: the student uid + this
OPT = "/opt/grading"                      # inside the sandbox: the launcher's own files
KERNEL_NAME = "grading-sandbox"           # the kernel spec a notebook step's nbval must use
COLLECTOR_HOME = "/tmp/.collector"        # inside the sandbox: the collector's private home
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "hosts", "passwd",
             "group", "localtime", "fonts")


def data_dir():
    """The CIFAR-10 folder the sandbox reads (read-only): ``$CIFAR10_DIR`` of the grader, or
    ``datasets/cifar-10-batches-py`` of the grader's repository; None if neither exists."""
    path = Path(os.environ.get("CIFAR10_DIR") or REPO / "datasets" / "cifar-10-batches-py")
    return path.resolve() if path.is_dir() else None


def closed_ancestor(path):
    """The topmost folder above ``path`` that other users cannot enter (no o+x), or None."""
    path = Path(path).resolve()
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & 0o001:
            return parent
    return None


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


def in_sandbox_files():
    return {f"{OPT}/{name}": (HERE / name).read_text(encoding="utf-8") for name in IN_SANDBOX}


def collector_uid(uid):
    """The uid of a notebook step's collector, given the student's sandbox uid."""
    return None if uid is None else uid + COLLECTOR_UID_OFFSET


def collector_setup(iso, spec, env, uid, private):
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
