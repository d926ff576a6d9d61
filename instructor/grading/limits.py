"""The limits of one sandboxed command (:func:`instructor.grading.sandbox.run`).

The rubric's ``[limits]`` table (:mod:`instructor.grading.rubric`) sets them; the launcher
(:mod:`instructor.grading.launch`) applies them per process (``setrlimit``), per sandbox (its
cgroup, :mod:`instructor.grading.cgroups`; the size of its scratch tmpfs) and as a wall-clock
timeout.
"""

from dataclasses import dataclass

GiB = 2**30
MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """Per-command limits. Sizes in bytes, times in seconds.

    ``wall_seconds`` is for the whole command (e.g. one ``pytest --nbval`` of a notebook),
    ``cpu_seconds`` for each of its processes (RLIMIT_CPU), ``memory_bytes`` the memory of
    the whole sandbox (its cgroup, tmpfs included) and the address space of each process
    (RLIMIT_AS), ``file_bytes`` the largest file it may write, ``scratch_bytes`` all it may
    write together (work folder changes, /tmp, /dev/shm: one tmpfs), ``processes`` processes
    and threads of the sandbox (cgroup pids; RLIMIT_NPROC of its uid too when it has one of
    its own), ``output_bytes`` the output kept.
    """

    wall_seconds: float = 900.0
    cpu_seconds: int = 900
    memory_bytes: int = 4 * GiB
    file_bytes: int = 256 * MiB
    processes: int = 512
    output_bytes: int = 64 * 1024
    scratch_bytes: int = 512 * MiB

    def describe(self):
        return (f"wall {self.wall_seconds:g} s, CPU {self.cpu_seconds} s/process, "
                f"memory {self.memory_bytes / GiB:g} GiB, files "
                f"{self.file_bytes / MiB:g} MiB each and {self.scratch_bytes / MiB:g} MiB in "
                f"all, {self.processes} processes, output {self.output_bytes // 1024} KiB")
