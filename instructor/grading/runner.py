"""Grade a folder of submissions: discovery, resume, parallel workers or Dask, progress bar.

* **Submissions**: every ``*.zip`` and every folder directly in SUBMISSIONS is one submission;
  the student id is the zip's stem or the folder's name. Other files are listed as skipped.
* **Resume**: a submission whose ``results/<student>.json`` exists is skipped unless
  ``force``; results are written atomically as each submission finishes (see
  :mod:`instructor.grading.report`), so killing the grader loses at most the submissions in
  progress, and rerunning the same command finishes the rest. ``grades.csv`` and the
  inline-question tables are rebuilt from all results every ``SUMMARY_EVERY`` seconds and at
  the end (a killed run's are rebuilt by the next run).
* **Local**: ``workers`` threads (default: the number of cores), each driving one sandboxed
  submission at a time (the work happens in the sandboxes' processes, not in the threads).
* **Dask** (``scheduler="tcp://host:8786"``, needs the optional ``distributed`` package):
  the kit is packed once and scattered to the workers; each submission (its bytes) is one
  task running :func:`instructor.grading.job.grade_packed`; results come back as they
  complete (``as_completed``) and are written here. Workers need this repository's Python
  environment (same packages) and must be able to import ``instructor``.
"""

import io
import os
import sys
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading import job, report
from instructor.grading.workspace import check_scratch, pack_kit, remove_stale

SUMMARY_EVERY = 30.0   # seconds between refreshes of grades.csv during a run


@dataclass
class RunSummary:
    graded: list = field(default_factory=list)     # student ids graded in this run
    skipped: list = field(default_factory=list)    # already done (resume)
    ignored: list = field(default_factory=list)    # files that are not submissions
    errors: dict = field(default_factory=dict)     # student -> grader error (not graded)


def discover(folder):
    """``{student: path}`` for the zips and folders in ``folder``, and the ignored files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS={folder} is not a folder; pass the folder that holds "
                         "one zip or one folder per student")
    found, ignored = {}, []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir() or p.suffix.lower() == ".zip":
            student = p.stem if p.suffix.lower() == ".zip" else p.name
            if student in found:
                raise ValueError(f"two submissions for {student!r}: {found[student].name} and "
                                 f"{p.name}; keep one")
            found[student] = p
        else:
            ignored.append(p.name)
    names = {}
    for student, p in found.items():
        other = names.setdefault(report.safe_name(student), p)
        if other is not p:
            raise ValueError(f"submissions {other.name!r} and {p.name!r} would share the "
                             f"result file {report.safe_name(student)}.json; rename one")
    return found, ignored


def _as_bytes(path):
    """A submission as zip bytes (a folder is zipped in memory) for a remote worker."""
    path = Path(path)
    if path.is_file():
        return path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(path.rglob("*")):
            if p.is_file() and not p.is_symlink():
                zf.write(p, p.relative_to(path).as_posix())
    return buf.getvalue()


def _progress(total, enabled):
    try:
        from tqdm import tqdm
    except ImportError:   # tqdm is in requirements.txt; keep working without it
        return None
    return tqdm(total=total, unit="submission", disable=not enabled, file=sys.stderr)


def run(submissions, out, kit, rubric, *, workers=None, force=False, scheduler=None,
        only=None, progress=True, scratch=None):
    """Grade every pending submission of folder ``submissions`` into ``out``.

    Returns a :class:`RunSummary`. A grader error on one submission (a bug, not anything the
    submission did) is recorded in ``summary.errors`` and leaves no result, so a rerun
    retries it.
    """
    out = Path(out)
    found, ignored = discover(submissions)
    if only:
        unknown = sorted(set(only) - set(found))
        if unknown:
            raise ValueError(f"--only names unknown submissions {unknown}; known: "
                             f"{sorted(found)}")
        found = {s: p for s, p in found.items() if s in only}
    summary = RunSummary(ignored=ignored)
    if not scheduler:
        check_scratch(scratch)
    remove_stale(scratch)
    report.remove_temporaries(out)
    pending = {}
    for student, path in found.items():
        if not force and report.is_done(out, student):
            summary.skipped.append(student)
        else:
            pending[student] = path
    bar = _progress(len(pending), progress)
    last_summary = [time.monotonic()]

    def finished(student, result=None, error=None):
        if error is not None:
            summary.errors[student] = error
        else:
            try:
                report.write_result(out, result)
            except Exception as exc:   # noqa: BLE001 - this student's report only
                summary.errors[student] = f"its report could not be written: {exc!r}"
            else:
                summary.graded.append(student)
            # grades.csv reads every result: refresh it now and then, and at the end
            if time.monotonic() - last_summary[0] > SUMMARY_EVERY:
                report.write_summary(out, rubric)
                last_summary[0] = time.monotonic()
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(student)

    if scheduler:
        _run_dask(pending, kit, rubric, scheduler, finished)
    elif pending:
        workers = workers or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(job.grade, s, p, kit, rubric, scratch): s
                       for s, p in pending.items()}
            for fut in as_completed(futures):
                student = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:   # a grader bug: report it, keep grading others
                    finished(student, error=f"{type(exc).__name__}: {exc}")
                else:
                    finished(student, result)
    if bar is not None:
        bar.close()
    report.write_summary(out, rubric)
    return summary


def _run_dask(pending, kit, rubric, scheduler, finished):
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ValueError("--scheduler needs the optional 'distributed' package: "
                         "pip install distributed (see requirements.txt)") from None
    client = scheduler if hasattr(scheduler, "submit") else Client(scheduler)
    try:
        kit_future = client.scatter(pack_kit(kit), broadcast=True)
        rubric_dict = rubric.to_dict()
        futures = {}
        for student, path in pending.items():
            fut = client.submit(job.grade_packed, student, _as_bytes(path), kit_future,
                                rubric_dict, pure=False, key=f"grade-{student}-{uuid.uuid4().hex}")
            futures[fut] = student
        for fut in dask_completed(list(futures)):
            student = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:
                finished(student, error=f"{type(exc).__name__}: {exc}")
            else:
                finished(student, result)
    finally:
        if client is not scheduler:
            client.close()
