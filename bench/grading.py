"""Grading throughput: submissions per minute per core, before and after the integrity layer
(issue 11), local workers and a 2-worker Dask LocalCluster, measured in one run on the same
copies of the correct submission.

    python -m bench.grading [--copies N] [--workers W] [--quick] [--rubric PATH]
                            [--baseline REV] [--no-dask]

*Before* is the grader of commit ``--baseline`` (default :data:`BASELINE`, the last commit
before the verdict layer: hidden tests inside the sandbox's pytest), taken with ``git
archive`` into a temporary folder and run there in a subprocess on the same machine, data and
number of copies; *after* is this checkout's. Printed: core-minutes per submission, after /
before, as CPU time (user + system of the grader and every process it started) and as wall
time x cores used (the same on an idle machine; on a loaded one the verdict layer's many
small round trips between two processes wait for the scheduler, and this figure grows).

The notebooks and hidden tests themselves changed between the two commits (issue 13 added
experiments), so the raw CPU ratio mixes the grader's cost with the work it grades. The figure
to hold against the budget (at most 1.10) normalizes each side by the same work done without
a grader, in the same run: pytest on the hidden-test files its rubric selects from plus nbval
of its notebooks, once, unsandboxed (grading CPU per submission / plain CPU, after divided by
before).

Each copy is the solution's code files and executed notebooks, zipped as ``assignment
collect`` would; the grading is the real one (sandbox, hidden tests, nbval of the reference
notebooks; the own notebooks are identical to the reference ones, so their outcomes are
reused, as for any student who hands in the solution's outputs). ``--quick`` keeps the rubric
items that use the hidden tests and the Dropout notebook only (minutes instead of tens of
minutes on 2 cores); the figure to quote is the full one.

Prints, for each mode, wall time, submissions per minute, and submissions per minute per core
(cores = workers used, at most the machine's), and the Dask/local ratio (1.0 = no overhead).
"""

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench import checkout, pytest_timing
from instructor.grading import report, runner, sandbox, sandbox_view
from instructor.grading import rubric as rubric_mod
from instructor.grading.workspace import build_kit, kit_meta

REPO = Path(__file__).resolve().parents[1]
BASELINE = "8de707b"   # main before the verdict layer (issue 11)

# Run inside the baseline's tree: its own kit, copies and runner; prints the wall seconds.
BEFORE = """
import json, os, sys, time
from pathlib import Path
from bench import grading as g
from instructor.grading import report, runner
from instructor.grading import rubric as rubric_mod
from instructor.grading.workspace import build_kit
copies, workers = int(sys.argv[1]), int(sys.argv[2])
quick, tmp = sys.argv[3] == "1", Path(sys.argv[4])
rub = rubric_mod.load()
rub = g.quick(rub) if quick else rub
kit = build_kit(g.REPO, tmp / "kit", rub)
subs = g.make_copies(kit, tmp / "subs", copies)
start, t0 = time.perf_counter(), os.times()
summary = runner.run(subs, tmp / "out", kit, rub, workers=workers, progress=False)
seconds, t1 = time.perf_counter() - start, os.times()
cpu = sum(t1[:4]) - sum(t0[:4])
scores = sorted({r["score"] for r in report.load_results(tmp / "out")})
print(json.dumps({"seconds": seconds, "cpu": cpu, "scores": scores, "max": rub.max_score,
                  "errors": summary.errors}))
"""


# Run inside a tree (this checkout or the baseline's): what its grader runs, by its own rubric
# -- the hidden-test files the rubric selects from and the graded notebooks; prints them.
GRADED_FILES = """
import json, sys
from instructor.grading import rubric as rubric_mod
rub = rubric_mod.load()
quick = sys.argv[1] == "1"
files = sorted({t.split("::")[0] for i in rub.items for t in i.tests})
notebooks = [f"notebooks/{nb}" for nb in rub.notebooks if not quick or nb == "Dropout.ipynb"]
print(json.dumps(files + notebooks))
"""


def plain_cpu(tree, quick_rubric, env=None):
    """CPU seconds of the grader's work done without the grader in ``tree``: pytest on the
    hidden-test files its rubric selects from and nbval of its graded notebooks, once,
    unsandboxed (:data:`GRADED_FILES`)."""
    listed = subprocess.run([sys.executable, "-c", GRADED_FILES, "1" if quick_rubric else "0"],
                            cwd=tree, env=env, capture_output=True, text=True)
    if listed.returncode != 0:
        raise RuntimeError(f"reading the rubric in {tree} failed:\n{listed.stderr[-3000:]}")
    files = json.loads(listed.stdout.strip().splitlines()[-1])
    timed = pytest_timing.time_pytest(["--nbval", "--nbval-current-env", "--nbval-sanitize-with",
                                       "notebooks/nbval_sanitize.cfg", *files], tree, env)
    if not timed.passed:
        raise RuntimeError(f"the plain run in {tree} failed:\n{timed.output}")
    return timed.cpu


def before(tree, env, rev, copies, workers, quick_rubric, tmp):
    """Wall and CPU seconds of the baseline grader (in ``tree``) on ``copies`` copies."""
    proc = subprocess.run([sys.executable, "-c", BEFORE, str(copies), str(workers),
                           "1" if quick_rubric else "0", str(tmp / "before")], cwd=tree,
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the baseline grader ({rev}) failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["errors"] or out["scores"] != [out["max"]]:
        raise RuntimeError(f"the baseline grader ({rev}) scored {out}")
    return out["seconds"], out["cpu"]


def make_copies(kit, folder, copies):
    """``copies`` zips of the solution's graded files (code and executed notebooks)."""
    meta = kit_meta(kit)
    files = [*meta["student_files"], *(f"notebooks/{nb}" for nb in meta["notebooks"])]
    folder.mkdir(parents=True)
    for i in range(copies):
        with zipfile.ZipFile(folder / f"copy{i:03d}.zip", "w") as zf:
            for rel in files:
                zf.write(REPO / rel, rel)
    return folder


def quick(rub):
    items = [i for i in rub.items if i.tests or i.notebook == "Dropout.ipynb"
             or i.own_notebook == "Dropout.ipynb"]
    return dataclasses.replace(rub, items=items)


def measure(label, cores, fn, copies):
    start = time.perf_counter()
    summary = fn()
    seconds = time.perf_counter() - start
    if summary.errors or len(summary.graded) != copies:
        raise RuntimeError(f"{label}: graded {len(summary.graded)} of {copies}, errors "
                           f"{summary.errors}")
    per_min = copies / seconds * 60
    print(f"{label:<28} {seconds:8.1f} s  {per_min:7.2f} subs/min  "
          f"{per_min / cores:7.2f} subs/min/core")
    return per_min / cores


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.grading", description=__doc__)
    p.add_argument("--copies", type=int, default=4, help="submissions to grade (default 4)")
    p.add_argument("--workers", type=int, default=2, help="local workers (default 2)")
    p.add_argument("--quick", action="store_true", help="hidden tests + Dropout notebook only")
    p.add_argument("--rubric", default=str(rubric_mod.DEFAULT_RUBRIC))
    p.add_argument("--baseline", default=BASELINE, metavar="REV",
                   help=f"the grader to compare with (default {BASELINE})")
    p.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster run")
    args = p.parse_args(argv)
    rub = rubric_mod.load(args.rubric)
    if args.quick:
        rub = quick(rub)
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        kit = build_kit(REPO, tmp / "kit", rub)
        subs = make_copies(kit, tmp / "subs", args.copies)
        cores = os.cpu_count() or 1
        used = min(args.workers, cores)
        print(f"{args.copies} copies of the correct submission, rubric {len(rub.items)} items "
              f"({'quick' if args.quick else 'full'}), {cores} cores, load average "
              + " ".join(f"{x:.1f}" for x in os.getloadavg()))
        print("isolation: " + "; ".join(sandbox.detect_isolation().describe()))
        tree = checkout.extract(args.baseline, tmp / "baseline")
        env = checkout.environment(tree, sandbox_view.data_dir())
        seconds, cpu_before = before(tree, env, args.baseline, args.copies, args.workers,
                                     args.quick, tmp)
        base = args.copies / seconds * 60 / used
        print(f"{'before (' + args.baseline + '), local':<28} {seconds:8.1f} s  "
              f"{args.copies / seconds * 60:7.2f} subs/min  {base:7.2f} subs/min/core  "
              f"{seconds * used / args.copies / 60:5.2f} core-min/sub")
        t0 = os.times()
        local = measure(f"after, local, {args.workers} workers", used,
                        lambda: runner.run(subs, tmp / "out-local", kit, rub,
                                           workers=args.workers, progress=False),
                        args.copies)
        cpu_after = sum(os.times()[:4]) - sum(t0[:4])
        print(f"CPU core-minutes per submission (user+sys, all processes): before "
              f"{cpu_before / args.copies / 60:.2f}, after {cpu_after / args.copies / 60:.2f}, "
              f"after / before {cpu_after / cpu_before:.2f}")
        plain_before = plain_cpu(tree, args.quick, env)
        plain_after = plain_cpu(REPO, args.quick)
        print(f"the same work without a grader (hidden-test files + nbval, once): CPU "
              f"core-minutes before {plain_before / 60:.2f}, after {plain_after / 60:.2f}")
        overhead_before = cpu_before / args.copies / plain_before
        overhead_after = cpu_after / args.copies / plain_after
        print(f"grading CPU / plain CPU: before {overhead_before:.2f}, after "
              f"{overhead_after:.2f}; the integrity layer's cost, after / before "
              f"{overhead_after / overhead_before:.2f} (budget 1.10)")
        print(f"wall-clock core-minutes per submission, after / before: {base / local:.2f} "
              "(inflated when the machine is oversubscribed); load average now "
              + " ".join(f"{x:.1f}" for x in os.getloadavg()))
        scores = {r["score"] for r in report.load_results(tmp / "out-local")}
        if scores != {rub.max_score}:
            raise RuntimeError(f"the correct copies scored {scores}, not {rub.max_score}")
        if args.no_dask:
            return
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address=None, processes=True) as cluster:
            dask = measure("after, Dask LocalCluster, 2", min(2, cores),
                           lambda: runner.run(subs, tmp / "out-dask", kit, rub,
                                              scheduler=cluster.scheduler_address,
                                              progress=False),
                           args.copies)
        print(f"Dask / local throughput per core: {dask / local:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
