"""Grading throughput: submissions per minute per core, local workers and a 2-worker Dask
LocalCluster, measured in one run on the same copies of the correct submission.

    python -m bench.grading [--copies N] [--workers W] [--quick] [--rubric PATH]

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
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from instructor.grading import report, runner, sandbox
from instructor.grading import rubric as rubric_mod
from instructor.grading.workspace import build_kit, kit_meta

REPO = Path(__file__).resolve().parents[1]


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
    args = p.parse_args(argv)
    rub = rubric_mod.load(args.rubric)
    if args.quick:
        rub = quick(rub)
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        kit = build_kit(REPO, tmp / "kit", rub)
        subs = make_copies(kit, tmp / "subs", args.copies)
        cores = os.cpu_count() or 1
        print(f"{args.copies} copies of the correct submission, rubric {len(rub.items)} items "
              f"({'quick' if args.quick else 'full'}), {cores} cores")
        print("isolation: " + "; ".join(sandbox.detect_isolation().describe()))
        local = measure(f"local, {args.workers} workers", min(args.workers, cores),
                        lambda: runner.run(subs, tmp / "out-local", kit, rub,
                                           workers=args.workers, progress=False),
                        args.copies)
        scores = {r["score"] for r in report.load_results(tmp / "out-local")}
        if scores != {rub.max_score}:
            raise RuntimeError(f"the correct copies scored {scores}, not {rub.max_score}")
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address=None, processes=True) as cluster:
            dask = measure("Dask LocalCluster, 2 workers", min(2, cores),
                           lambda: runner.run(subs, tmp / "out-dask", kit, rub,
                                              scheduler=cluster.scheduler_address,
                                              progress=False),
                           args.copies)
        print(f"Dask / local throughput per core: {dask / local:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
