"""Red-team fixture: the stubs look for the solution on disk and run it (issue 11, attack 3).

At import the code walks the filesystem (the instructor's checkout, release folders in
``/tmp``, ``/dev/shm``, ``/var/tmp``, home folders), ``exec``s the first ``layers.py`` it can
read that holds a working ``affine_forward`` into the student's module (replacing every stub),
and tries the host's path-based unix sockets. Defence: the sandbox's root is an allow-list
(the Python installation, the data, its own work folder, private /tmp and /dev/shm).
"""

from tests.tooling.planting import append_call_to_layers

ATTACK = "3: reading the solution from disk (and the host's /tmp and unix sockets)"

CODE = r'''

def _redteam_read_solution_from_disk():
    import os, socket
    here = os.path.realpath(__file__)
    skip = {"/proc", "/sys", "/dev"}
    for top in ("/work", "/tmp", "/dev/shm", "/var/tmp", "/root", "/home", "/opt", "/srv",
                "/mnt", "/"):
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip
                           and d not in ("site-packages", ".git")]
            for name in filenames:
                path = os.path.join(dirpath, name)
                if name.endswith(".sock"):
                    try:
                        s = socket.socket(socket.AF_UNIX)
                        s.connect(path)
                        s.sendall(b"redteam: the sandbox reached a host socket\n")
                    except OSError:
                        pass
                if name != "layers.py" or os.path.realpath(path) == here:
                    continue
                try:
                    text = open(path, encoding="utf-8").read()
                except (OSError, UnicodeDecodeError):
                    continue
                if "def affine_forward" in text and "NotImplementedError" not in text:
                    exec(compile(text, path, "exec"), globals())
                    return
'''


def plant(tree):
    append_call_to_layers(tree, CODE, "_redteam_read_solution_from_disk")
