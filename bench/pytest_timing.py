"""pytest in a tree, in a subprocess, timed: the one way the benchmarks time plain test runs.

``bench.notebooks`` times ``pytest --nbval`` of one notebook (in this checkout or in its
anchor's tree); ``bench.grading`` times the work its grader does, done without the grader
(the hidden-test files and nbval of the graded notebooks, in this checkout or in its
baseline's tree). Both need wall and CPU seconds of pytest *and everything it started* (the
notebook kernels), which the operating system adds to this process's children once pytest has
ended and reaped them.

Public API: :func:`time_pytest`, :func:`children_cpu_seconds`.
"""

import resource
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Timed:
    wall: float     # seconds
    cpu: float      # user + system seconds of pytest and the processes it started
    passed: bool    # pytest's exit status was 0
    output: str     # the end of pytest's output, for an error message


def children_cpu_seconds():
    """User + system CPU time of all terminated child processes (kernels, pytest) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_pytest(args, tree, env=None):
    """Run ``python -m pytest -q -p no:cacheprovider ARGS`` in the folder ``tree`` (paths in
    ``args`` are relative to it) with the environment ``env`` (None: this one's); returns a
    :class:`Timed`."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, args)]
    start, cpu_start = time.perf_counter(), children_cpu_seconds()
    completed = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True,
                               check=False)
    wall = time.perf_counter() - start
    return Timed(wall, children_cpu_seconds() - cpu_start, completed.returncode == 0,
                 (completed.stdout + completed.stderr)[-3000:])
