"""Grade one submission: the unit of work that runs locally or on a Dask worker.

:func:`grade` reads the submission, runs the steps the rubric needs (see
:mod:`instructor.grading.steps`) in a fresh private folder, scores the rubric, collects the
inline answers, and returns the result as a plain JSON-able dict (see :func:`grade` for the
keys). It never raises for anything a submission does: an unreadable or empty submission
gets zero points and a note; a step that times out, crashes or hits a limit costs the checks
that did not complete, and the note says what happened. :func:`grade_packed` is the same for
a kit shipped as bytes (Dask workers on other machines).
"""

import dataclasses
import datetime
import json
import re
import time
from pathlib import Path

from instructor.grading import inline, launch, own, sandbox, scoring, steps
from instructor.grading import rubric as rubric_mod
from instructor.grading.workspace import (
    SubmissionError,
    Workspace,
    kit_meta,
    read_submission,
    unpack_kit,
    wanted_files,
)

VERSION = 1
WARNINGS = "SUBMISSION_WARNINGS.txt"   # written by `assignment collect --allow-incomplete`


def _reference_notebooks(kit):
    ref = Path(kit) / "reference"
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in ref.glob("*.ipynb")}


def _release_notebook(kit, nb):
    """The release's copy of notebook ``nb`` (its blank cells mark the solution cells), or
    None when the release does not ship it."""
    path = Path(kit) / "release" / "notebooks" / nb
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _within(rubric, deadline):
    """``rubric`` with the step time limit cut to what is left of the budget; None when
    the budget is spent."""
    if deadline is None:
        return rubric
    left = deadline - time.time()
    if left <= 1.0:
        return None
    limits = dataclasses.replace(rubric.limits,
                                 wall_seconds=min(rubric.limits.wall_seconds, left))
    return dataclasses.replace(rubric, limits=limits)


def _spent(name, budget):
    return steps.StepLog(name, 0.0, f"not run: the submission's time budget of {budget:g} s "
                                    "was spent by the steps before it")


def _empty_result(name, rubric, note, seconds=0.0):
    items = [{"id": i.id, "title": i.title, "points": 0.0, "max_points": i.points,
              "passed": 0, "checks": 0, "failures": [], "functions": list(i.functions),
              "note": "not graded"} for i in rubric.items]
    return {"student": name, "score": 0.0, "max_score": rubric.max_score, "items": items,
            "notes": [note], "inline": {}, "steps": [], "seconds": seconds}


def _unscored_failures(rubric, outcomes, refs):
    """Failed checks that no item scores (e.g. a notebook's set-up cell, whose failure makes
    every later cell fail): one note per notebook or test run, with the first lines."""
    scored = {c for item in rubric.items for c in scoring.item_checks(item, outcomes, refs)}
    notes, seen = [], set()
    for cid in sorted(outcomes, key=_check_order):
        out = outcomes[cid]
        group = cid.split("::")[0]
        if out["passed"] or out.get("skipped") or cid in scored or group in seen:
            continue
        seen.add(group)
        notes.append(f"{cid} failed (no rubric item scores it, but later checks may depend "
                     f"on it): {_telling_line(out.get('message', ''))[:300]}")
    return notes


def _telling_line(message):
    """The line of a failure message that says most: the last exception line if there is one,
    else the last line that is not a difflib marker ('?', '+', '-') of an nbval output diff,
    else the last '+' line of that diff (what the student's code printed)."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    errors = [ln for ln in lines if _EXCEPTION_LINE.match(ln)]
    plain = [ln for ln in lines if ln[0] not in "?+-"]
    added = [ln for ln in lines if ln.startswith("+")]
    return (errors or plain or added or lines or [""])[-1]


_EXCEPTION_LINE = re.compile(r"^(\S+\.)?\w*(Error|Exception|Interrupt|Exit)\b")


def _check_order(cid):
    head, _, cell = cid.rpartition("::Cell ")
    return (head, int(cell)) if cell.isdigit() else (cid, -1)


def grade(name, source, kit, rubric, scratch=None):
    """Grade submission ``name`` (``source``: zip path, folder path or zip bytes).

    Returns a dict: ``student``, ``score``, ``max_score``, ``items`` (one per rubric item:
    ``id``, ``title``, ``points``, ``max_points``, ``passed``/``checks`` counts, ``failures``
    [{``check``, ``message``}], ``functions``, ``note``), ``notes`` (sentences about the
    submission as a whole), ``inline`` (question -> question/answer), ``steps`` (one
    :class:`~instructor.grading.steps.StepLog` dict per step), ``isolation`` and ``limits``
    (what was in effect), ``not_graded`` (the rubric's dropped items, or None), ``seconds``,
    ``graded_at``, ``version``.
    """
    start = time.monotonic()
    if isinstance(rubric, dict):
        rubric = rubric_mod.from_dict(rubric)
    iso = sandbox.detect_isolation()
    budget = rubric.budget_seconds or None
    deadline = time.time() + budget if budget else None
    context = {"isolation": iso.describe(), "limits": rubric.limits.describe() + (
                   f", time budget {budget:g} s for the whole submission" if budget else ""),
               "not_graded": rubric.dropped_note,
               "graded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
                   timespec="seconds"), "version": VERSION}
    wanted = wanted_files(kit)
    try:
        files = read_submission(source, [*wanted, WARNINGS])
        if set(files) == {WARNINGS}:
            raise SubmissionError("the submission holds none of the files that are graded ("
                                  + ", ".join(wanted) + ")")
    except SubmissionError as exc:
        res = _empty_result(name, rubric, f"the submission could not be graded: {exc}",
                            time.monotonic() - start)
        return {**res, **context}
    notes = [f"not handed in: {rel}" + ("" if rel.endswith(".ipynb") else
                                          " (the release's unchanged file was used)")
             for rel in wanted if rel not in files]
    if WARNINGS in files:
        first = files.pop(WARNINGS).decode(errors="replace").strip().splitlines()[:3]
        notes.append("handed in with warnings (collect --allow-incomplete): "
                     + " / ".join(first))
    ws = Workspace(kit, files, scratch)
    uid = launch.UIDS.acquire() if iso.switch_uid else None
    outcomes, logs = {}, []
    try:
        if rubric.needs_tests:
            selected = scoring.selected_tests(rubric, kit_meta(kit)["test_ids"])
            got, log = steps.hidden_tests(ws, selected, rubric, uid, deadline)
            outcomes.update(got)
            logs.append(log)
        refs = _reference_notebooks(kit)
        ref_bytes = {nb: (Path(kit) / "reference" / nb).read_bytes()
                     for nb in rubric.reference_notebooks}
        for nb in rubric.reference_notebooks:
            step_rubric = _within(rubric, deadline)
            if step_rubric is None:
                logs.append(_spent(f"ref {nb}", budget))
                continue
            got, log = steps.notebook(ws, nb, ref_bytes[nb], "ref", step_rubric, uid)
            outcomes.update(got)
            logs.append(log)
        for nb in rubric.own_notebooks:
            data = ws.student_notebook(nb)
            if data is None:
                outcomes[f"own:{nb}"] = {"passed": False, "message": "notebook not handed in"}
                continue
            data, problem, unrun = own.prepare(data, refs[nb], _release_notebook(kit, nb))
            if problem:
                outcomes[f"own:{nb}"] = {"passed": False, "message": problem}
                continue
            outcomes.update({f"own:{nb}::Cell {n}": {"passed": False, "message": msg}
                             for n, msg in unrun.items()})
            if nb in ref_bytes and steps.same_as_reference(data, refs[nb]):
                outcomes.update(steps.reuse(outcomes, nb))
                logs.append(steps.StepLog(f"own {nb}", 0.0, None,
                                          "identical to the reference notebook: outcomes "
                                          "of the reference run reused"))
                continue
            step_rubric = _within(rubric, deadline)
            if step_rubric is None:
                outcomes[f"own:{nb}"] = {"passed": False, "message": _spent(nb, budget).problem}
                logs.append(_spent(f"own {nb}", budget))
                continue
            got, log = steps.notebook(ws, nb, data, "own", step_rubric, uid)
            outcomes.update({k: v for k, v in got.items() if k not in outcomes})
            logs.append(log)
    finally:
        if uid is not None:
            launch.UIDS.release(uid)
        ws.remove()
    refs = _reference_notebooks(kit)
    items = scoring.score(rubric, outcomes, refs)
    notes += [f"{log.name}: {log.problem}" for log in logs if log.problem]
    notes += _unscored_failures(rubric, outcomes, refs)
    answers = {}
    for nb in kit_meta(kit)["notebooks"]:
        data = files.get(f"notebooks/{nb}")
        if data is not None:
            answers.update(inline.answers(data, nb))
    return {
        "student": name,
        "score": round(sum(i["points"] for i in items), 4),
        "max_score": rubric.max_score,
        "items": items,
        "notes": notes,
        "inline": answers,
        "steps": [log.to_dict() for log in logs],
        "seconds": round(time.monotonic() - start, 2),
        **context,
    }


def grade_packed(name, source, kit_bytes, rubric_dict):
    """:func:`grade` with the kit as :func:`~instructor.grading.workspace.pack_kit` bytes."""
    return grade(name, source, unpack_kit(kit_bytes), rubric_dict)
