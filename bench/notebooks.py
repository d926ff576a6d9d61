"""Benchmark: how long the notebooks take, per notebook and per section.

Usage (from the repository root):

    python -m bench.notebooks                 # both notebooks; nbval timed once each
    python -m bench.notebooks --nbval-runs 3  # median of 3 nbval runs per notebook
    python -m bench.notebooks --nbval-runs 0  # only the per-section breakdown
    python -m bench.notebooks --no-anchor     # without the anchor (fixed seconds: see below)

Two measurements per notebook, both including kernel start and data loading:

1. execution with nbclient (what ``python -m tools.run_notebooks`` does), broken down by
   section: every code cell's time (kernel busy to idle, from the cell metadata nbclient
   records) is added to the latest markdown heading above it. "kernel start and
   overhead" is the wall time not spent in any cell.
2. ``pytest --nbval`` with the repository's sanitizer, in a subprocess (what graders and
   ``make test`` run); this is the number the performance budget is about.

The budget (issues 4 and 13): ``pytest --nbval`` of both notebooks, kernel start and data
loading included, takes at most 0.7 x what the original CS231n 2024 notebooks with a reference
solution take on the same machine. The originals are not available offline, and the machine's
speed changes from day to day, so a fixed number of seconds is no budget. The benchmark
therefore times, in the same run, an *anchor* whose ratio to the originals is known: this
repository's notebooks at commit :data:`ANCHOR_COMMIT` (extracted with ``git archive`` into a
temporary folder and run there with this checkout's Python environment and CIFAR-10). On the
day the originals took 85 s (Dropout 19 s, BatchNormalization 67 s, medians of 6 runs), the
anchor took 43.9 s (Dropout 10.8 s, BatchNormalization 33.1 s; :data:`ANCHOR_SECONDS`). So
today's estimate of the originals is ``original then x anchor today / anchor then``, per
notebook and for both, and this checkout's time is reported as a ratio to it. The anchor and
this checkout take turns (anchor, then this checkout, notebook by notebook, for every run), so
a change of load hits both alike. ``--no-anchor`` skips the anchor and compares with the
seconds of the day the budget was set, with a warning that the ratio is then meaningless on
another day.

Timings are only meaningful on an otherwise idle machine: OpenBLAS threads slow down a
lot when other processes compete for the two cores. The benchmark prints the load average
before and after, and the CPU time (user + system, of all the processes it started) next
to every wall time. CPU time changes less with the load than wall time, but not nothing:
OpenBLAS threads that wait for a core spin, so on a busy machine the CPU time of a notebook
run with two BLAS threads grows too (2026-11-30, load average 11 to 15: the anchor's
Dropout.ipynb took 91 s of CPU for 10.8 s of wall time on the idle day). Hence the anchor.
"""

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile

from assignment.datasets.fetch import default_dir
from bench import checkout
from bench.pytest_timing import children_cpu_seconds, time_pytest
from tools.run_notebooks import REPO, execute_notebook

NOTEBOOKS = (
    REPO / "notebooks" / "Dropout.ipynb",
    REPO / "notebooks" / "BatchNormalization.ipynb",
)
SANITIZER = REPO / "notebooks" / "nbval_sanitize.cfg"
# The original CS231n 2024 notebooks with a reference solution, pytest --nbval on the 2-core
# machine (medians of 6 runs), measured when issue 4 was filed.
ORIGINAL_SECONDS = {"Dropout.ipynb": 19.0, "BatchNormalization.ipynb": 67.0}
ORIGINAL_TOTAL_SECONDS = 85.0
# The anchor: the repository at b3ac893, whose README recorded pytest --nbval medians of 3 on the
# idle machine on the day the 85 s held (Dropout 10.8 s, BatchNormalization 33.1 s, both 43.9 s
# = 0.52 x 85 s; bench/README.md's first notebook table).
ANCHOR_COMMIT = "b3ac893"
ANCHOR_SECONDS = {"Dropout.ipynb": 10.8, "BatchNormalization.ipynb": 33.1}
ANCHOR_TOTAL_SECONDS = 43.9
BUDGET_RATIO = 0.7  # issue 13: both notebooks in at most 0.7 x the originals' time
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


def time_nbval(path, tree=REPO, env=None):
    """Runs pytest --nbval on one notebook in a subprocess.

    Inputs:
    - path: the notebook, inside tree.
    - tree: the repository the notebook belongs to (the working directory; its sanitizer).
    - env: environment of the subprocess (None: this one's).

    Returns a tuple (wall seconds, CPU seconds, passed).
    """
    timed = time_pytest(["--nbval", path, "--nbval-sanitize-with",
                         tree / "notebooks" / "nbval_sanitize.cfg"], tree, env)
    return timed.wall, timed.cpu, timed.passed


def original_estimate(anchor_today, anchor_then, original_then):
    """Today's time of the original notebooks: their time then, scaled by how much slower (or
    faster) the anchor runs today than it ran then."""
    return original_then * anchor_today / anchor_then


def _median_line(label, results):
    """Median wall and CPU seconds of (wall, cpu, passed) results, and a printable line."""
    wall = statistics.median(w for w, _, _ in results)
    cpu = statistics.median(c for _, c, _ in results)
    verdict = "passed" if all(ok for _, _, ok in results) else "FAILED"
    return wall, f"  {label}: {wall:.1f} s (median of {len(results)}, {verdict}; CPU {cpu:.1f} s)"


def _report_budget(nbval, anchor):
    """Prints the ratio of each notebook's and both notebooks' nbval time to the originals'.

    nbval and anchor map notebook names to median wall seconds; anchor is None without it.
    """
    print()
    if anchor is None:
        print(
            f"WARNING: --no-anchor: compared with the originals' seconds of the day the budget "
            f"was set ({ORIGINAL_TOTAL_SECONDS:.0f} s for both); on another day the machine's "
            "speed differs and these ratios mean little"
        )
        originals = dict(ORIGINAL_SECONDS)
        total_original = ORIGINAL_TOTAL_SECONDS
    else:
        originals = {
            name: original_estimate(anchor[name], ANCHOR_SECONDS[name], ORIGINAL_SECONDS[name])
            for name in nbval
        }
        total_original = original_estimate(
            sum(anchor.values()), ANCHOR_TOTAL_SECONDS, ORIGINAL_TOTAL_SECONDS
        )
        for name in nbval:
            print(
                f"{name}: anchor {ANCHOR_COMMIT} {anchor[name]:.1f} s today vs "
                f"{ANCHOR_SECONDS[name]:.1f} s then -> originals today about "
                f"{originals[name]:.1f} s (then {ORIGINAL_SECONDS[name]:.0f} s)"
            )
    for name, seconds in nbval.items():
        print(
            f"{name}: pytest --nbval {seconds:.1f} s = {seconds / originals[name]:.2f} x the "
            f"originals' {originals[name]:.1f} s"
        )
    if len(nbval) == len(ORIGINAL_SECONDS):
        ratio = sum(nbval.values()) / total_original
        verdict = "within" if ratio <= BUDGET_RATIO else "NOT within"
        print(
            f"both: pytest --nbval {sum(nbval.values()):.1f} s = {ratio:.2f} x the originals' "
            f"{total_original:.1f} s ({verdict} the budget of {BUDGET_RATIO} x)"
        )


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
    parser.add_argument(
        "--no-anchor",
        action="store_true",
        help=f"do not time the anchor (the notebooks at {ANCHOR_COMMIT}); compare with fixed "
        "seconds instead (meaningless on another day)",
    )
    args = parser.parse_args(argv)

    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    present = [path for path in NOTEBOOKS if path.is_file()]
    for path in NOTEBOOKS:
        if not path.is_file():
            print(f"{path.name}: missing, skipped")

    total_execution = 0.0
    for path in present:
        cpu_start = children_cpu_seconds()
        run = execute_notebook(path)
        cpu = children_cpu_seconds() - cpu_start
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
    print(f"\ntotal: executed in {total_execution:.1f} s")

    if args.nbval_runs > 0:
        tmp = None if args.no_anchor else tempfile.mkdtemp(prefix="bench-notebooks-")
        try:
            anchor_tree = None if tmp is None else checkout.extract(ANCHOR_COMMIT, f"{tmp}/anchor")
            # the anchor reads the data this checkout reads (CIFAR10_DIR, or datasets/)
            anchor_env = None if tmp is None else checkout.environment(anchor_tree, default_dir())
            nbval, anchor = {}, ({} if tmp is not None else None)
            print(
                f"\npytest --nbval, {args.nbval_runs} run(s) per notebook"
                + ("" if tmp is None else f", taking turns with the anchor ({ANCHOR_COMMIT})")
            )
            for path in present:
                ours, theirs = [], []
                for _ in range(args.nbval_runs):
                    if anchor_tree is not None:
                        theirs.append(
                            time_nbval(
                                anchor_tree / "notebooks" / path.name, anchor_tree, anchor_env
                            )
                        )
                    ours.append(time_nbval(path))
                nbval[path.name], line = _median_line(f"{path.name}, this checkout", ours)
                print(line)
                if anchor_tree is not None:
                    anchor[path.name], line = _median_line(
                        f"{path.name}, anchor {ANCHOR_COMMIT}", theirs
                    )
                    print(line)
            _report_budget(nbval, anchor)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
