"""Inside-the-sandbox half: start a notebook step's Jupyter kernel out of the collector's reach.

In a notebook step the sandbox runs two parties: the *collector* (pytest + nbval, which
compares outputs and writes the verdicts to the report pipe; it never runs student code) and
the *kernel* (IPython, which runs the notebook's cells, i.e. the student's code). nbval starts
the kernel through the kernel spec ``grading-sandbox`` that the launcher writes into the
sandbox (``/opt/grading/jupyter/kernels``), whose command is this file::

    python -I -S _kernel_launcher.py CONFIG_JSON CONNECTION_FILE

It reads the connection file (the collector's, private to it), then

* when the sandbox can switch uids (the grader is root): becomes the kernel uid -- not the
  collector's -- dropping every capability (the collector passed CAP_SETUID/CAP_SETGID on as
  ambient capabilities for exactly this); the collector is non-dumpable and of another uid,
  so the kernel can neither ptrace it, nor take its file descriptors (``pidfd_getfd``), nor
  signal it, nor read its files (the reference notebook is the collector's, mode 0600);
* otherwise (a user namespace with a single uid): enters a user and mount namespace of its
  own, where the collector's files (``CONFIG["hide"]``) are covered and every mount is locked,
  and drops every capability; the collector, non-dumpable, stays out of reach (the kernel
  can still signal it, which ends the step as failed);

writes the connection file where the kernel can read it, and ``exec``s ipykernel with the
kernel's environment (``CONFIG["env"]``). Standard library only.
"""

import json
import os
import sys

# python -I leaves the script's folder off sys.path: put it back for the siblings
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _caps as caps  # noqa: E402


def _hide(paths):
    import _rootfs as rootfs

    for path in paths:
        if os.path.isdir(path):
            rootfs.mount("tmpfs", path, "tmpfs", rootfs.MS_RDONLY | rootfs.MS_NOSUID
                         | rootfs.MS_NODEV, "size=4k,mode=0555")
        elif os.path.lexists(path):
            rootfs.mount("/dev/null", path, None, rootfs.MS_BIND)


def main(argv):
    config = json.loads(argv[1])
    with open(argv[2], "rb") as f:
        connection = f.read()
    if config.get("uid") is not None:
        caps.become(config["uid"], config["uid"], keep=())
    else:
        caps.own_user_namespace()
        _hide(config.get("hide", []))
        caps.become(None, None, keep=())
    env = config["env"]
    runtime = env.get("JUPYTER_RUNTIME_DIR") or env.get("TMPDIR") or "/tmp"
    os.makedirs(runtime, exist_ok=True)
    path = os.path.join(runtime, f"kernel-{os.getpid()}.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, connection)
    os.close(fd)
    python = config["python"]
    os.execve(python, [python, "-m", "ipykernel_launcher", "-f", path], env)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
