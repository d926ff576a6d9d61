"""Before grading anyone: is this environment able to grade? (data, reference solution)

A broken environment grades everyone wrong, quietly (no CIFAR-10: every notebook experiment
fails for every student, the correct solution included). :func:`check` refuses to start,
with an error that says what is wrong and how to fix it, unless

1. **the data is there**: the CIFAR-10 folder the sandbox will read (``$CIFAR10_DIR`` or the
   repository's ``datasets/cifar-10-batches-py``) holds every batch file, when the rubric
   runs notebooks;
2. **the reference solution earns full marks**: the solution's code files and the reference
   notebooks, zipped as a student would hand them in, graded with this kit and rubric like
   any submission. The result is cached in ``GRADES/.reference/<kit hash>.json`` (the hash
   covers the kit's files and the rubric), so the check runs once per kit.

The reference's grading time also sets the default time budget of every submission
(``budget_factor`` x that time, see :func:`budget`).
"""

import hashlib
import io
import json
import zipfile
from pathlib import Path

from instructor.grading import job, report, sandbox_view
from instructor.grading.workspace import kit_meta

REFERENCE_ID = "reference-solution"


class PreflightError(ValueError):
    """The environment cannot grade; the message says what to fix."""


def kit_hash(kit, rubric):
    """SHA-256 of the kit's files (paths and bytes) and the rubric."""
    h = hashlib.sha256(json.dumps(rubric.to_dict(), sort_keys=True).encode())
    for p in sorted(Path(kit).rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(p.relative_to(kit).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def check_data(rubric):
    """Raise :class:`PreflightError` unless the data the notebooks need is complete."""
    if not (rubric.reference_notebooks or rubric.own_notebooks):
        return None
    from assignment.datasets import fetch  # the grader's copy (the solution's; trusted)

    folder = sandbox_view.data_dir()
    if folder is None or not fetch.is_complete(folder):
        where = folder or fetch.default_dir()
        raise PreflightError(
            f"CIFAR-10 is not complete in {where}: every notebook item would fail for every "
            "student. Run `make data` (or `python -m assignment.datasets download`), or "
            "point CIFAR10_DIR at a complete copy, then grade again")
    return folder


def reference_zip(src, kit):
    """The solution's graded files (code from ``src``, notebooks from the kit) as zip bytes."""
    meta = kit_meta(kit)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel in meta["student_files"]:
            zf.writestr(rel, (Path(src) / rel).read_bytes())
        for nb in meta["notebooks"]:
            path = Path(kit) / "reference" / nb
            if path.exists():
                zf.writestr(f"notebooks/{nb}", path.read_bytes())
    return buf.getvalue()


def check(kit, rubric, src, out, scratch=None, log=print):
    """Check the data, then grade the reference solution once per kit; returns its result
    (a dict, see :func:`instructor.grading.job.grade`). Raises :class:`PreflightError`."""
    check_data(rubric)
    cache = Path(out) / ".reference" / f"{kit_hash(kit, rubric)}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    log("grading the reference solution once for this kit (a check of the environment) ...")
    result = job.grade(REFERENCE_ID, reference_zip(src, kit), kit, rubric, scratch)
    if result["score"] < result["max_score"]:
        lost = [f"  {i['id']}: {i['points']:g}/{i['max_points']:g}"
                + (f" -- {i['failures'][0]['check']}: "
                   + report.first_lines(i["failures"][0]["message"], 2).replace("\n", " ")
                   if i["failures"] else "")
                for i in result["items"] if i["points"] < i["max_points"]]
        notes = [f"  note: {n}" for n in result["notes"]]
        raise PreflightError(
            f"the reference solution scores {result['score']:g}/{result['max_score']:g} "
            "with this kit and rubric, so students would lose points the solution loses; "
            "fix the environment (data, limits, rubric) before grading:\n"
            + "\n".join([*lost[:12], *notes[:6]]))
    report.atomic_write(cache, json.dumps(report.encodable(result), indent=1))
    return result


def budget(rubric, reference_seconds):
    """The time budget of one submission: the rubric's ``budget_seconds`` if set, else
    ``budget_factor`` x the reference's grading time (at least ``MIN_BUDGET`` s)."""
    if rubric.budget_seconds:
        return rubric.budget_seconds
    return max(MIN_BUDGET, rubric.budget_factor * reference_seconds)


MIN_BUDGET = 60.0
