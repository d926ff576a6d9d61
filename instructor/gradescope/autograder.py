"""Inside the Gradescope container: ``python -m instructor.gradescope.autograder setup|run``.

``setup.sh`` and ``run_autograder`` call this with ``--root`` (the folder that stands for
``/autograder``); the current folder is ``ROOT/source``, the solution repository. Everything
this writes stays in ``ROOT/source/build/gradescope/`` (STATE), inside the repository that the
grader's sandbox hides from the student's code:

    STATE/release/student/   the student release (the bundle brings it, see bundle.py)
    STATE/submissions/       the submission to grade, staged as the grader wants it
    STATE/grades/            the output folder of ``python -m instructor grade``
    STATE/grades/.kit/       the grading kit, built once by ``setup``

- ``setup`` grades the reference solution (the repository's student files and executed
  notebooks, as a student would hand them in) with the same command as ``run``, which builds
  the grading kit; it fails, and so fails the image build, unless that earns full marks: a
  container without its data, packages or sandbox would otherwise grade every student wrong.
- ``run`` stages ``ROOT/submission`` (what the student uploaded: the zip from ``python -m
  assignment collect`` as Gradescope unpacks it, flat or under one leading folder, or the zip
  itself), grades it with ``python -m instructor grade --kit STATE/grades/.kit`` (the same
  command and code path as on the instructor's machine, with the kit of ``setup``, whose
  check of the reference solution is cached with it) and copies the grader's Gradescope
  ``results.json`` to ``ROOT/results/results.json``. When the grader produces no result,
  nothing is written and the exit status is not 0, so Gradescope reports a failed autograder
  run rather than a score.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

STATE = Path("build") / "gradescope"
STUDENT = "submission"          # the student id the grader reports under
REFERENCE = "reference-solution"
KIT = ".kit"                    # in the grades folder, where ``python -m instructor grade`` puts it


def _state(root):
    return Path(root).resolve() / "source" / STATE


def _release(root):
    return _state(root) / "release" / "student"


def _command(*args):
    """Run ``python -m instructor ARGS`` in the current folder (the repository); its output
    goes to ours (Gradescope shows it to the instructor)."""
    cmd = [sys.executable, "-m", "instructor", *map(str, args)]
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd).returncode


def grade(root, name, source, kit=False):
    """Grade one submission (a folder or a zip) under the id ``name`` with ``python -m
    instructor grade``; returns its Gradescope result (dict), or None if there is none.
    ``kit``: grade with the kit that ``setup`` built (STATE/grades/.kit) instead of building
    one."""
    state = _state(root)
    staged = state / "submissions"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    source = Path(source)
    # a link, not a copy: the grader reads only the graded files, and never follows links
    # inside a submission (instructor/grading/workspace.py)
    os.symlink(source, staged / (name + (".zip" if source.is_file() else "")))
    grades = state / "grades"
    _command("grade", staged, "--out", grades, "--workers", "1", "--force", "--no-progress",
             *(["--kit", grades / KIT] if kit else ["--release", _release(root)]))
    result = grades / "gradescope" / name / "results.json"
    return json.loads(result.read_text(encoding="utf-8")) if result.is_file() else None


def submitted(folder):
    """What to grade in ``folder`` (Gradescope's /autograder/submission): the folder, or the
    one zip in it when the student uploaded the zip itself and Gradescope kept it whole."""
    folder = Path(folder)
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    zips = [p for p in entries if p.is_file() and p.suffix.lower() == ".zip"]
    if len(zips) == 1 and len(entries) == 1:
        return zips[0]
    return folder


def setup(root):
    """Prove that this container grades the reference solution 100%."""
    if not (_release(root) / "assignment").is_dir():
        raise SystemExit(f"{_release(root)}: no student release; rebuild the bundle with "
                         "python -m instructor gradescope")
    reference = _state(root) / REFERENCE
    shutil.rmtree(reference, ignore_errors=True)
    for folder in ("assignment", "notebooks"):
        shutil.copytree(folder, reference / folder, ignore=shutil.ignore_patterns("__pycache__"))
    result = grade(root, REFERENCE, reference)
    if result is None:
        raise SystemExit("grading the reference solution gave no result (see the output above)")
    top = sum(t["max_score"] for t in result["tests"])
    if result["score"] < top:
        lost = [f"{t['name']}: {t['score']:g}/{t['max_score']:g}" for t in result["tests"]
                if t["score"] < t["max_score"]]
        raise SystemExit(f"the reference solution scored {result['score']:g}/{top:g} in this "
                         "container, so its set-up is broken (data, packages, sandbox?); "
                         "items it lost:\n  " + "\n  ".join(lost))
    print(f"the reference solution scored {result['score']:g}/{top:g}: the autograder is ready")


def run(root):
    """Grade ``ROOT/submission``; write ``ROOT/results/results.json``."""
    root = Path(root).resolve()
    result = grade(root, STUDENT, submitted(root / "submission"), kit=True)
    if result is None:
        raise SystemExit("the grader gave no result for this submission (a grader error, not "
                         "the student's: see the output above); results.json not written")
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1), encoding="utf-8")
    os.replace(tmp, out)
    print(f"score {result['score']:g} -> {out}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m instructor.gradescope.autograder",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("setup", "run"))
    parser.add_argument("--root", default="/autograder",
                        help="the folder that stands for /autograder (default: /autograder)")
    args = parser.parse_args(argv)
    (setup if args.command == "setup" else run)(args.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
