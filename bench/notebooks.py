"""Benchmark: how long the notebooks take, per notebook and per section.

Usage (from the repository root):

    python -m bench.notebooks                 # both notebooks; nbval timed once each
    python -m bench.notebooks --nbval-runs 3  # median of 3 nbval runs per notebook
    python -m bench.notebooks --nbval-runs 0  # only the per-section breakdown

Two measurements per notebook, both including kernel start and data loading:

1. execution with nbclient (what ``python -m tools.run_notebooks`` does), broken down by
   section: every code cell's time (kernel busy to idle, from the cell metadata nbclient
   records) is added to the latest markdown heading above it. "kernel start and
   overhead" is the wall time not spent in any cell.
2. ``pytest --nbval`` with the repository's sanitizer, in a subprocess (what graders and
   ``make test`` run); this is the number the performance budget is about.

The budget (issue 4) is what the original CS231n 2024 notebooks take with a reference
solution on the same 2-core machine: Dropout 19 s, BatchNormalization 67 s, both 85 s
(medians of 6 runs). Each nbval time is printed with its ratio to that budget.

Timings are only meaningful on an otherwise idle machine: OpenBLAS threads slow down a
lot when other processes compete for the two cores. The benchmark prints the load average
before and after, and the CPU time (user + system, of all the processes it started) next
to every wall time: CPU time barely changes with the load, so it tells a busy machine from
a slow notebook.
"""

import argparse
import datetime
import os
import resource
import statistics
import subprocess
import sys
import time

from tools.run_notebooks import REPO, execute_notebook

NOTEBOOKS = (
    REPO / "notebooks" / "Dropout.ipynb",
    REPO / "notebooks" / "BatchNormalization.ipynb",
)
SANITIZER = REPO / "notebooks" / "nbval_sanitize.cfg"
BUDGET_SECONDS = {"Dropout.ipynb": 19.0, "BatchNormalization.ipynb": 67.0}
TOTAL_BUDGET_SECONDS = 85.0
SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION")


def _timestamp(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_seconds(cell):
    """Seconds a code cell kept the kernel busy (0.0 when nbclient recorded no timing)."""
    execution = cell.get("metadata", {}).get("execution", {})
    if "iopub.status.busy" not in execution or "iopub.status.idle" not in execution:
        return 0.0
    busy = _timestamp(execution["iopub.status.busy"])
    idle = _timestamp(execution["iopub.status.idle"])
    return (idle - busy).total_seconds()


def section_times(notebook, max_level=2):
    """Adds up code-cell times per section.

    Inputs:
    - notebook: an executed NotebookNode (with nbclient's timing metadata).
    - max_level: deepest heading level that starts a section (2: "## ..." sections, with
      their "### ..." subsections folded in; 3: subsections separately).

    Returns a list of (heading, seconds) in notebook order, for sections with code;
    heading is the text of the latest markdown heading of level <= max_level above the
    cells, or "(before the first heading)". Solution marker lines ("### BEGIN SOLUTION")
    are not headings.
    """
    sections = {}
    heading = "(before the first heading)"
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                hashes = len(line) - len(line.lstrip("#"))
                text = line[hashes:].strip()
                if not 0 < hashes <= max_level or not line[hashes:].startswith(" "):
                    continue
                if text not in SOLUTION_MARKERS:
                    heading = text  # the last heading of a cell wins
        elif cell.cell_type == "code":
            sections[heading] = sections.get(heading, 0.0) + cell_seconds(cell)
    return list(sections.items())


def _children_cpu_seconds():
    """User + system CPU time of all terminated child processes (kernels, pytest) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_nbval(path):
    """Runs pytest --nbval on one notebook in a subprocess.

    Returns a tuple (wall seconds, CPU seconds, passed).
    """
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        str(path),
        "--nbval-sanitize-with",
        str(SANITIZER),
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    start, cpu_start = time.perf_counter(), _children_cpu_seconds()
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    return wall, _children_cpu_seconds() - cpu_start, completed.returncode == 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.notebooks", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--nbval-runs",
        type=int,
        default=1,
        help="pytest --nbval runs per notebook (median reported; 0 skips them; default 1)",
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=2,
        help="deepest markdown heading level that starts a section (default 2: '## ...')",
    )
    args = parser.parse_args(argv)

    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    present = [path for path in NOTEBOOKS if path.is_file()]
    for path in NOTEBOOKS:
        if not path.is_file():
            print(f"{path.name}: missing, skipped")

    total_execution = 0.0
    total_nbval = 0.0
    for path in present:
        cpu_start = _children_cpu_seconds()
        run = execute_notebook(path)
        cpu = _children_cpu_seconds() - cpu_start
        total_execution += run.seconds
        in_cells = 0.0
        print(
            f"\n{path.name}: executed in {run.seconds:.1f} s (kernel CPU {cpu:.1f} s) "
            f"({run.passed} checks passed, {run.failed} failed"
            f"{'; ERROR in ' + run.error if run.error else ''})"
        )
        for heading, seconds in section_times(run.notebook, args.depth):
            in_cells += seconds
            print(f"  {seconds:6.2f} s  {100 * seconds / run.seconds:4.0f}%  {heading}")
        overhead = run.seconds - in_cells
        print(
            f"  {overhead:6.2f} s  {100 * overhead / run.seconds:4.0f}%  "
            "(kernel start and overhead)"
        )
        if args.nbval_runs > 0:
            results = [time_nbval(path) for _ in range(args.nbval_runs)]
            median = statistics.median(wall for wall, _, _ in results)
            median_cpu = statistics.median(cpu for _, cpu, _ in results)
            total_nbval += median
            budget = BUDGET_SECONDS.get(path.name)
            ratio = f", {median / budget:.2f} x the {budget:.0f} s budget" if budget else ""
            verdicts = "passed" if all(ok for _, _, ok in results) else "FAILED"
            print(
                f"  pytest --nbval: {median:.1f} s (median of {len(results)}, {verdicts}; "
                f"CPU {median_cpu:.1f} s){ratio}"
            )

    print(f"\ntotal: executed in {total_execution:.1f} s", end="")
    if args.nbval_runs > 0:
        print(
            f"; pytest --nbval {total_nbval:.1f} s"
            f" ({total_nbval / TOTAL_BUDGET_SECONDS:.2f} x the "
            f"{TOTAL_BUDGET_SECONDS:.0f} s budget for both)"
        )
    else:
        print()
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
