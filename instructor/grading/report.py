"""Everything written into the output folder GRADES.

Per submission, as soon as it is graded (each file written to a temporary name and renamed,
so an interrupted grader never leaves a half-written file; ``results/<student>.json`` is
written last and is what marks the submission as done):

* ``gradescope/<student>/results.json`` -- Gradescope's autograder format: ``score``,
  ``execution_time``, ``output``, ``tests`` [{``name``, ``score``, ``max_score``, ``status``,
  ``output``, ``visibility``}], one test per rubric item;
* ``feedback/<student>.md`` -- for the student (:func:`feedback`, the text of
  :mod:`instructor.grading.feedback_text`): points per item; one line per function not
  implemented yet; per failed check what it is (a hidden test by name, a notebook cell by its
  section, ``In [k]`` and first line), the kind of failure and the hint that ``python -m
  assignment check`` gives for the same mistake -- no tracebacks, at most 60 lines; the
  isolation and limits the code ran under;
* ``details/<student>.md`` -- for the grader only (:func:`grader_report`): every failed check
  with the last lines of its message (tracebacks, nbval's diffs);
* ``results/<student>.json`` -- the full result of :func:`instructor.grading.job.grade`.

For the run (:func:`write_summary`, after every completed submission and at the end):
``grades.csv`` (``student``, one column per rubric item id, ``total``), and
``inline_questions/<question>.csv`` + ``.html`` (every student's answer, for manual grading).
"""

import csv
import json
import os
import re
import tempfile
from pathlib import Path

from instructor.grading import feedback_text, inline

FIRST_LINES = 8
HINTS = (
    ("NotImplementedError", "not implemented yet (the stub still raises NotImplementedError)"),
    ("MemoryError", "ran out of memory: the code asked for more than the memory limit"),
    ("Unable to allocate", "ran out of memory: the code asked for more than the memory limit"),
    ("time limit", "did not finish in time (an infinite loop?)"),
    ("Timeout", "did not finish in time (an infinite loop?)"),
    ("SIGSEGV", "crashed the Python process (segmentation fault)"),
    ("Kernel dead", "the notebook's kernel had died (crash or limit) before this cell"),
    ("Cell outputs differ", "the output differs from the expected one"),
)


def atomic_write(path, text):
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_temporaries(out):
    """Delete the temporary files of writes a killed grader left unfinished."""
    for p in Path(out).rglob(".*.tmp"):
        p.unlink(missing_ok=True)


def safe_name(student):
    """A file name for a student id: letters, digits, ``._-@+`` as they are, every other
    character (and a leading dot) as ``%XX`` per UTF-8 byte. Two ids never share a name
    (``coll x`` is ``coll%20x``, ``coll_x`` stays), and no name leaves its folder."""
    data = encodable(student).encode("utf-8", "backslashreplace")
    out = "".join(chr(b) if (chr(b).isascii() and (chr(b).isalnum() or chr(b) in "._@+-"))
                  else f"%{b:02X}" for b in data)
    return ("%2E" + out[1:] if out.startswith(".") else out) or "%"


def encodable(value):
    """``value`` with every string made writable as UTF-8 (a lone surrogate such as
    ``'\\ud800'`` from a student's exception message or answer becomes ``\\ud800``)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encodable(v) for v in value]
    return value


def result_path(out, student):
    return Path(out) / "results" / f"{safe_name(student)}.json"


def is_done(out, student):
    """True when a complete result for ``student`` is in ``out`` (written by this module)."""
    try:
        stored = json.loads(result_path(out, student).read_text(encoding="utf-8"))["student"]
        return stored == encodable(student)
    except (OSError, ValueError, KeyError):
        return False


def first_lines(message, n=FIRST_LINES):
    lines = [ln.rstrip() for ln in message.splitlines() if ln.strip()]
    # the end of a traceback says what went wrong; keep the last lines when it is long
    if len(lines) > n:
        lines = ["..."] + lines[-n:]
    return "\n".join(lines)


def hint(message):
    for needle, text in HINTS:
        if needle in message:
            return text
    return None


def check_label(cid):
    kind, _, rest = cid.partition(":")
    return {"test": "hidden test ", "ref": "reference notebook ",
            "own": "your notebook "}.get(kind, "") + rest


def item_text(item, max_failures=3):
    """The feedback for one item: failures with their first lines and a hint."""
    lines = []
    if item["note"]:
        lines.append(item["note"])
    for f in item["failures"][:max_failures]:
        h = hint(f["message"])
        lines.append(f"- {check_label(f['check'])}: " + (h or "failed"))
        if f["message"]:
            lines.append("\n".join("    " + ln for ln in first_lines(f["message"]).splitlines()))
    if len(item["failures"]) > max_failures:
        lines.append(f"- ... and {len(item['failures']) - max_failures} more failed checks")
    if item["failures"] and item["functions"]:
        lines.append("Functions this item checks: " + ", ".join(item["functions"]))
    return "\n".join(lines)


def hint_sources(result):
    """``(public, labels, stubs)`` recorded by the steps
    (:class:`~instructor.grading.steps.StepLog`): the public checks' results on the student's
    code, each failed cell's name, the functions left as stubs. A cell of
    the own notebook whose outcomes were reused from the reference run has the reference's
    name (the two notebooks have the same code cells)."""
    public, labels, stubs = {}, {}, []
    for step in result.get("steps", []):
        public.update(step.get("public") or {})
        labels.update(step.get("labels") or {})
        stubs += step.get("stubs") or []
    for step in result.get("steps", []):
        name = step.get("name", "")
        if name.startswith("own ") and "reused" in step.get("output", ""):
            nb = name[len("own "):]
            for cid, label in list(labels.items()):
                if cid.startswith(f"ref:{nb}::"):
                    labels.setdefault("own:" + cid[len("ref:"):], label)
    return public, labels, stubs


CHECK_ID = re.compile(r"\b(?:ref|own):[^\s:]+\.ipynb::Cell \d+")


def student_note(note, labels):
    """A note with the check ids it names (``ref:X.ipynb::Cell 3``) said as the student
    finds the cell."""
    return CHECK_ID.sub(lambda m: feedback_text.notebook_label(m.group(0), labels), note)


def student_item_text(item, public, labels, stubs):
    """The student's feedback for one item (Gradescope's per-test output)."""
    lines = feedback_text.items_feedback([item], public, labels=labels, stubs=stubs)
    return "\n".join(lines[1:] if lines and lines[0].startswith(item["title"]) else lines
                     ).strip()


def gradescope(result, visibility="after_published"):
    public, labels, stubs = hint_sources(result)
    tests = []
    for item in result["items"]:
        ok = item["points"] >= item["max_points"]
        tests.append({
            "name": item["title"], "score": item["points"], "max_score": item["max_points"],
            "status": "passed" if ok else "failed",
            "output": student_item_text(item, public, labels, stubs), "visibility": visibility})
    return {"score": result["score"], "execution_time": round(result.get("seconds", 0)),
            "output": "\n".join(student_note(n, labels) for n in result["notes"]),
            "visibility": visibility, "stdout_visibility": "hidden", "tests": tests}


def _head(r, notes):
    lines = [f"**Total: {r['score']:g} / {r['max_score']:g}**", ""]
    if r.get("not_graded"):
        lines += [r["not_graded"], ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += ["## Items", "", "| item | points |", "|---|---|"]
    lines += [f"| {i['title']} | {i['points']:g} / {i['max_points']:g} |" for i in r["items"]]
    return lines + [""]


def _tail(r):
    lines = ["## How your code was run", ""]
    lines += [f"- {x}" for x in r.get("isolation", [])]
    if r.get("limits"):
        lines.append(f"- limits: {r['limits']}")
    return lines


def feedback(result, max_lines=feedback_text.MAX_LINES):
    """The student's feedback file: what :mod:`feedback_text` says about the items that lost
    points, between the totals and how the code was run; at most ``max_lines`` lines when the
    head and tail leave room (the item part keeps at least 20)."""
    r = result
    public, labels, stubs = hint_sources(r)
    head = [f"# Grading feedback: {r['student']}", "",
            *_head(r, [student_note(n, labels) for n in r["notes"]])]
    tail = _tail(r)
    lost = [i for i in r["items"] if i["points"] < i["max_points"]
            and (i["failures"] or i.get("note") != "not graded")]   # the notes say why
    body = []
    if lost:
        room = max(20, max_lines - len(head) - len(tail) - 3)
        body = ["## What to fix", "",
                *feedback_text.items_feedback(lost, public, labels=labels, max_lines=room,
                                              stubs=stubs)]
        if body[-1] != "":
            body.append("")
    return "\n".join(head + body + tail) + "\n"


def grader_report(result):
    """For the grader only: every failed check with the last lines of its message."""
    r = result
    lines = [f"# Grading details: {r['student']}", "", *_head(r, r["notes"])]
    for item in r["items"]:
        if item["points"] < item["max_points"]:
            lines += [f"### {item['title']} ({item['points']:g} / {item['max_points']:g})", "",
                      item_text(item, max_failures=10), ""]
    for step in r.get("steps", []):
        for name, res in sorted((step.get("public") or {}).items()):
            if res.get("status") != "PASS":
                lines.append(f"- public check {name}: {res.get('status')} {res.get('detail')}"
                             + (f" (hint: {res['hint']})" if res.get("hint") else ""))
    return "\n".join(lines + ["", *_tail(r)]) + "\n"


def write_result(out, result):
    """Write the per-submission files; the result JSON last (it marks the submission done)."""
    result = encodable(result)
    out, name = Path(out), safe_name(result["student"])
    atomic_write(out / "gradescope" / name / "results.json",
                 json.dumps(gradescope(result), indent=1))
    atomic_write(out / "feedback" / f"{name}.md", feedback(result))
    atomic_write(out / "details" / f"{name}.md", grader_report(result))
    atomic_write(result_path(out, result["student"]), json.dumps(result, indent=1))


def load_results(out):
    results = []
    for p in sorted((Path(out) / "results").glob("*.json")):
        try:
            results.append(encodable(json.loads(p.read_text(encoding="utf-8"))))
        except (ValueError, OSError):
            continue
    return results


def write_summary(out, rubric):
    """grades.csv and the inline-question tables from every result in ``out``."""
    out = Path(out)
    results = sorted(load_results(out), key=lambda r: r["student"])
    ids = [i.id for i in rubric.items]
    rows = [["student", *ids, "total"]]
    for r in results:
        pts = {i["id"]: i["points"] for i in r["items"]}
        rows.append([r["student"], *[f"{pts.get(i, 0):g}" for i in ids], f"{r['score']:g}"])
    with tempfile.SpooledTemporaryFile(mode="w+", newline="") as f:
        csv.writer(f).writerows(rows)
        f.seek(0)
        atomic_write(out / "grades.csv", f.read())
    inline.write_tables(results, out / "inline_questions")
    return results
