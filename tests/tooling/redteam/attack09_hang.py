"""Red-team fixture (INSTRUCTOR ONLY), issue 11 attack 9: hangs past every limit. The
student's functions block SIGALRM and SIGINT (defeating an in-process per-test timeout) and
loop forever; the submission must still end within its time budget."""

from tests.tooling.planting import append_to_layers

ATTACK = "signals blocked, infinite loops in the student's functions"

CODE = '''

import signal as _signal

_signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGALRM, _signal.SIGINT, _signal.SIGTERM})


def _spin(*args, **kwargs):
    while True:
        pass


dropout_forward = batchnorm_forward = layernorm_forward = _spin
'''


def plant(tree):
    append_to_layers(tree, CODE)
