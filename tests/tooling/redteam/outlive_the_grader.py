"""Red-team fixture: processes that outlive their sandbox and the grader (issue 11, attack 13).

At import the code double-forks a process that leaves the session (``setsid``), ignores
SIGTERM, SIGINT and SIGHUP, and spins at full CPU forever. Defence: each sandbox is a PID
namespace and a cgroup that are killed at the end of every step, at a timeout, when the
grader dies (``PR_SET_PDEATHSIG``) and when it is stopped with SIGTERM or SIGINT.
"""

from tests.tooling.planting import append_call_to_layers

ATTACK = "13: sandbox processes that outlive the grading (setsid, signals ignored)"

CODE = r'''

def _redteam_outlive():
    import os, signal
    if os.fork() == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(s, signal.SIG_IGN)
                while True:
                    pass
        finally:
            os._exit(0)
'''


def plant(tree):
    append_call_to_layers(tree, CODE, "_redteam_outlive", once="REDTEAM_SPINNER")
