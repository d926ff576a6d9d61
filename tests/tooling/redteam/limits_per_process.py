"""Red-team fixture: limits per process are not limits per submission (issue 11, attack 11).

At import the code starts six processes that each hold 800 MiB (4.8 GiB together, each
under a 4 GiB per-process limit), writes three 200 MiB files (each under a 256 MiB per-file
limit) into the work folder, ``/tmp`` and ``/var/tmp``, and leaves a 64 MiB file in
``/dev/shm`` meant to outlive the grading. Defence: a cgroup per sandbox (memory including
its tmpfs, processes) where the grader may create one, one size-limited tmpfs for everything
the sandbox writes, and private ``/tmp`` and ``/dev/shm`` that vanish with it.
"""

from tests.tooling.planting import append_call_to_layers

ATTACK = "11: limits per process, not per submission (memory, disk, /dev/shm)"

CODE = r'''

def _redteam_limits_per_process():
    import os, time
    try:
        open(f"/dev/shm/redteam-{os.getpid()}", "wb").write(b"\0" * (64 << 20))
    except OSError:
        pass
    for path in ("redteam-big", "/tmp/redteam-big", "/var/tmp/redteam-big"):
        try:
            with open(path, "wb") as f:
                for _ in range(200):
                    f.write(b"\1" * (1 << 20))
        except OSError:
            pass
    for _ in range(6):
        try:
            if os.fork() == 0:
                try:
                    block = bytearray(800 << 20)
                    for i in range(0, len(block), 4096):
                        block[i] = 1
                    time.sleep(20)
                finally:
                    os._exit(0)
        except OSError:
            break
'''


def plant(tree):
    append_call_to_layers(tree, CODE, "_redteam_limits_per_process", once="REDTEAM_LIMITS_CHILD")
