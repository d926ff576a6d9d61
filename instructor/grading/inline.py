"""Inline questions: take each answer out of a student's notebook, and gather them per question.

In the notebooks an inline question is a markdown cell mentioning "Inline Question", and the
answer is the next markdown cell starting with ``**Your Answer:**``; a cell starting with
``**Your derivation:**`` is collected too, as ``Derivation <n>``, with the markdown cell before
it as its question (the release replaces the
instructor's answer, a markdown solution region, by the line ``*Write your answer here.*``,
which the student replaces or writes under; the placeholder and marker lines are not text).
:func:`answers` reads them from a notebook (JSON only: nothing is executed);
:func:`write_tables` writes, for each question, ``<out>/<question>.csv`` (student, answer) and
``<out>/<question>.html`` (the question once, then every student's answer) for manual grading.
"""

import csv
import html
import json
import re

from instructor import markers

ANSWER = "**Your Answer:**"
DERIVATION = "**Your derivation:**"
NOT_TEXT = {markers.BEGIN, markers.END, markers.MD_BEGIN, markers.MD_END, markers.PLACEHOLDER}
QUESTION = re.compile(r"inline\s+question\s*([0-9]+[a-z]?)?", re.IGNORECASE)


def _text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def answers(nb_bytes, nb_name):
    """``{question key: {"question": text, "answer": text}}`` of one notebook.

    The key is ``<notebook stem> / Inline Question <n>`` (numbered in order when the cell
    gives no number). An answer that is still the empty template is ``""``.
    """
    try:
        nb = json.loads(nb_bytes)
        cells = [c for c in nb.get("cells", []) if isinstance(c, dict)]
    except (ValueError, AttributeError, TypeError):
        return {}
    stem = nb_name.rsplit(".", 1)[0]
    out, question, count, derivations, previous = {}, None, 0, 0, ""
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        text = _text(cell)
        if text.lstrip().startswith(DERIVATION):
            derivations += 1
            question = (f"{stem} / Derivation {derivations}", previous.strip())
        if text.lstrip().startswith((ANSWER, DERIVATION)):
            if question is not None:
                key, qtext = question
                body = text.lstrip().split(":**", 1)[1]
                body = "\n".join(ln for ln in body.splitlines() if ln.strip() not in NOT_TEXT)
                out[key] = {"question": qtext, "answer": body.strip()}
                question = None
            continue
        previous = text
        m = QUESTION.search(text)
        if m:
            count += 1
            number = m.group(1) or str(count)
            question = (f"{stem} / Inline Question {number}", text.strip())
    return out


def _slug(key):
    return re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")


def write_tables(results, out):
    """Write one CSV and one HTML per question from the per-submission results."""
    out.mkdir(parents=True, exist_ok=True)
    questions = {}
    for res in results:
        for key, qa in res.get("inline", {}).items():
            entry = questions.setdefault(key, {"question": qa["question"], "rows": []})
            entry["rows"].append((res["student"], qa["answer"]))
    for key, entry in sorted(questions.items()):
        rows = sorted(entry["rows"])
        with open(out / f"{_slug(key)}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["student", "answer"])
            w.writerows(rows)
        parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(key)}</title>",
                 "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
                 "pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em}</style>",
                 f"<h1>{html.escape(key)}</h1><pre>{html.escape(entry['question'])}</pre>"]
        for student, answer in rows:
            parts.append(f"<h2>{html.escape(student)}</h2><pre>"
                         f"{html.escape(answer) or '<i>(no answer)</i>'}</pre>")
        (out / f"{_slug(key)}.html").write_text("\n".join(parts) + "\n", encoding="utf-8")
    return sorted(questions)
