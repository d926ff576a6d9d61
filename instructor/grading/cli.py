"""Command line: ``python -m instructor grade SUBMISSIONS --out GRADES [options]``.

Also ``python -m instructor.grading ...`` (the same arguments). Builds the grading kit from
the solution repository (the student release, the reference notebooks, the hidden tests),
checks the environment (the data is there; the reference solution earns full marks with this
kit, graded once per kit: :mod:`instructor.grading.preflight`; if not, status 2 and what to
fix), then grades every pending submission (see :mod:`instructor.grading.runner`) and prints a
summary. Exit status: 0 when every submission has a result, 1 when some could not be graded
because of a grader error (rerun to retry them), 2 for bad arguments.
"""

import argparse
import dataclasses
import sys
from pathlib import Path

from instructor.grading import launch, preflight, runner, sandbox, sandbox_view
from instructor.grading import rubric as rubric_mod
from instructor.grading.workspace import build_kit, check_kit


def add_arguments(p):
    p.add_argument("submissions", metavar="SUBMISSIONS",
                   help="folder with one zip (from `python -m assignment collect`) or one "
                        "folder per student")
    p.add_argument("--out", default="grades", metavar="GRADES",
                   help="output folder (default: grades): grades.csv, results/, feedback/, "
                        "gradescope/, inline_questions/")
    p.add_argument("--rubric", default=str(rubric_mod.DEFAULT_RUBRIC),
                   help="rubric TOML (default: instructor/rubric.toml)")
    p.add_argument("--src", default=str(sandbox_view.REPO),
                   help="the solution repository (default: this one)")
    p.add_argument("--release", default=None, metavar="DIR",
                   help="use this student release (e.g. dist/student) instead of building one")
    p.add_argument("--kit", default=None, metavar="DIR",
                   help="grade with this kit (GRADES/.kit of an earlier run from the same "
                        "source and rubric) instead of building one; e.g. the Gradescope "
                        "autograder builds it once, in setup.sh")
    g = p.add_argument_group("scheduling")
    g.add_argument("--workers", type=int, default=None,
                   help="submissions graded at once (default: number of cores)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786")
    g.add_argument("--force", action="store_true",
                   help="regrade submissions that already have a result")
    g.add_argument("--only", nargs="+", metavar="STUDENT", help="grade only these students")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument("--scratch", default=None,
                   help="folder for the work folders (default: the system temp folder)")
    g.add_argument("--unsafe-no-isolation", action="store_true",
                   help="run the submissions' code even where the sandbox cannot isolate it "
                        "(not root and no user namespaces): the code could read and change "
                        "anything the grader can; every report says so")
    t = p.add_argument_group("limits (override the rubric's [limits])")
    t.add_argument("--step-timeout", type=float, help="seconds per step (one pytest run)")
    t.add_argument("--cell-timeout", type=float, help="seconds per notebook cell")
    t.add_argument("--test-timeout", type=float,
                   help="seconds per call of the student's code in a hidden test")
    t.add_argument("--budget", type=float, metavar="SECONDS",
                   help="time budget of one submission, all steps and retries (default: the "
                        "rubric's budget_seconds, else budget_factor x the reference "
                        "solution's grading time)")


def register(subparsers):
    """Add the ``grade`` subcommand (called by ``python -m instructor``)."""
    p = subparsers.add_parser("grade", help="grade student submissions",
                              description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=main_args)


def _load_rubric(args):
    rub = rubric_mod.load(args.rubric)
    if args.step_timeout:
        rub.limits = dataclasses.replace(rub.limits, wall_seconds=args.step_timeout)
    if args.cell_timeout:
        rub.cell_seconds = args.cell_timeout
    if args.test_timeout:
        rub.test_seconds = args.test_timeout
    if args.budget:
        rub.budget_seconds = args.budget
    return rub


def main_args(args):
    """Run the command for parsed ``args``; bad input is one ``error:`` line, status 2."""
    try:
        return _run(args)
    except ValueError as exc:   # RubricError, SubmissionError, bad arguments: say what to fix
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args):
    runner.discover(args.submissions)   # fail fast, before building the kit
    rub = _load_rubric(args)
    if args.kit:
        check_kit(args.kit, rub)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)   # grades, feedback and the kit: not readable by the sandboxes' uids
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.unsafe_no_isolation:
        sandbox.allow_unsafe()
    iso = sandbox.detect_isolation()
    if not iso.safe and not iso.unsafe:
        raise ValueError("refusing to grade: the sandbox cannot isolate untrusted code here ("
                         + "; ".join(iso.notes) + "). Run as root or where user namespaces "
                         "work, or pass --unsafe-no-isolation to accept the risk")
    launch.install_signal_handlers()   # SIGTERM/SIGINT: every sandbox dies with the grader
    if args.kit:
        kit = Path(args.kit).resolve()
        print(f"grading with the kit {kit}", file=sys.stderr)
    else:
        print(f"building the grading kit from {args.src} ...", file=sys.stderr)
        kit = build_kit(args.src, out / ".kit", rub, release_dir=args.release)
    return grade_all(args.submissions, out, kit, rub, args.src, workers=args.workers,
                     force=args.force, scheduler=args.scheduler, only=args.only,
                     progress=not args.no_progress, scratch=args.scratch)


def grade_all(submissions, out, kit, rub, src, **options):
    """Check the environment (:mod:`~instructor.grading.preflight`), grade every pending
    submission, print a summary; the exit status (see the module docstring)."""
    iso = sandbox.detect_isolation()
    print("isolation: " + "; ".join(iso.describe()), file=sys.stderr)
    ref = preflight.check(kit, rub, src, out, options.get("scratch"),
                          log=lambda m: print(m, file=sys.stderr))
    if not rub.budget_seconds:
        rub = dataclasses.replace(rub, budget_seconds=preflight.budget(rub, ref["seconds"]))
    print(f"reference solution: {ref['score']:g}/{ref['max_score']:g} in {ref['seconds']:.0f} s; "
          f"time budget per submission {rub.budget_seconds:.0f} s", file=sys.stderr)
    print(f"rubric: maximum score {rub.max_score:g}. {rub.dropped_note or ''}".rstrip(),
          file=sys.stderr)
    summary = runner.run(submissions, out, kit, rub, **options)
    print(f"graded {len(summary.graded)}, already done {len(summary.skipped)}, "
          f"grader errors {len(summary.errors)} -> {out / 'grades.csv'}")
    for name in summary.ignored:
        print(f"  ignored (not a zip or folder): {name}")
    for student, err in summary.errors.items():
        print(f"  NOT graded (grader error, rerun to retry): {student}: {err}")
    return 1 if summary.errors else 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m instructor.grading",
                                description=__doc__.split("\n\n")[0])
    add_arguments(p)
    return main_args(p.parse_args(argv))
