"""Feedback that teaches: the text of a graded submission's feedback, as pure functions.

No I/O, no grading: these functions turn what a grading run produced (the item results of
:func:`instructor.grading.rubric.score`, the public checks' results, the reference notebooks)
into lines a student can act on (issue 14):

- a failed hidden test gives the hint that ``python -m assignment check`` gives for the same
  mistake (the public checks named by :data:`instructor.fairness.TABLE` for that test, those
  that failed on the student's code), and the kind of failure -- never the test's source or
  reference values (:func:`failure_line`);
- a notebook cell is named by the notebook's own words: the section heading, ``In [k]`` as
  Jupyter shows it and the cell's first line (:func:`cell_label`), not "Cell 5";
- nbval's tally mismatch (``'checks: 77 passed, 0 failed' != 'checks: 66 passed, 11
  failed'``) becomes "11 checks of this notebook failed: ..." with their names
  (:func:`tally_text`);
- an unfinished function is one line, "`batchnorm_backward` is not implemented yet: 6 checks
  skipped", instead of a traceback per check (:func:`unfinished_lines`);
- the whole feedback of the items is capped (:func:`items_feedback`, 60 lines by default).

Where they plug in (after the grader rewrite of issue 11): ``report.item_text`` /
``report.feedback`` call :func:`items_feedback` with the item results, the public results
(run in the sandbox: ``assignment.checks.run_all()``, whose messages are public) and the reference
notebooks; ``steps`` passes nbval's cell index and message through :func:`cell_label` and
:func:`tally_text` when it records a ``ref:``/``own:`` outcome.
"""

import re

from assignment.collect import cell_name
from assignment.notebook_checks import VERDICT_RE
from instructor import fairness
from instructor.grading.rubric import code_cell_sections

MAX_LINES = 60
NOT_IMPLEMENTED = re.compile(r"([A-Za-z_][\w.]*): not implemented yet")
TALLY = re.compile(r"checks: (\d+) passed, (\d+) failed")
# The exception named on the last "E   ..." line of a pytest failure, or on a line of its own.
EXCEPTION = re.compile(r"^(?:E\s+)?([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit))\b",
                       re.MULTILINE)
KINDS = (
    ("Cell outputs differ", "the output differs from the reference"),
    ("MemoryError", "ran out of memory"),
    ("Unable to allocate", "ran out of memory"),
    ("time limit", "did not finish in time (an infinite loop?)"),
    ("Timeout", "did not finish in time (an infinite loop?)"),
    ("SIGSEGV", "crashed the Python process"),
    ("Kernel dead", "the notebook's kernel had died before this cell"),
)


def unfinished_function(message):
    """The function a failure message says is not implemented yet, or None."""
    if "NotImplementedError" not in message and "not implemented yet" not in message:
        return None
    match = NOT_IMPLEMENTED.search(message)
    return match.group(1) if match else None


def failure_kind(message):
    """What kind of failure a message reports, in a few words, without its details."""
    for needle, text in KINDS:
        if needle in message:
            return text
    names = EXCEPTION.findall(message)
    if names:
        return f"failed with {names[-1].rsplit('.', 1)[-1]}"
    return "failed"


def hints_for(check_id, public):
    """The hints of the public checks that cover ``check_id`` and failed on this code.

    ``public``: public check name -> a result with ``status`` and ``hint`` (attributes or
    keys: ``assignment.checks.Result`` or its JSON form)."""
    if not check_id.startswith("test:"):
        return []
    entry = fairness.TABLE.get(fairness.function_of(check_id[len("test:"):]))
    hints = []
    for name in getattr(entry, "checks", ()):
        result = public.get(name)
        status, hint = _field(result, "status"), _field(result, "hint")
        if status == "FAIL" and hint and hint not in hints:
            hints.append(hint)
    return hints


def _field(result, key):
    if result is None:
        return None
    return result.get(key) if isinstance(result, dict) else getattr(result, key, None)


def cell_label(nb, index):
    """Code cell ``index`` (nbval's numbering: 0-based, code cells only) of notebook ``nb``
    named as a student finds it: its section heading, ``In [k]`` and its first line."""
    sections = code_cell_sections(nb)
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if not 0 <= index < len(cells):
        return f"code cell {index + 1} (not in this notebook)"
    name = cell_name(index + 1, cells[index])
    heads = sections[index]
    return f"section '{heads[-1]}', {name}" if heads else name


def tally_text(message, outputs=""):
    """nbval's mismatch on a ``summary()`` line, said as how many checks failed and which.

    ``message``: the mismatch (it holds the expected and the obtained tally, in either
    order); ``outputs``: the student's cell outputs (their FAIL lines name the checks).
    Returns None when the message is no tally mismatch."""
    tallies = [(int(p), int(f)) for p, f in TALLY.findall(message)]
    if len(tallies) < 2:
        return None
    failed = max(f for _, f in tallies)
    if failed == 0:
        return None
    names = [m["name"] for m in VERDICT_RE.finditer(outputs) if m["verdict"] == "FAIL"]
    text = f"{failed} check{'s' if failed != 1 else ''} of this notebook failed"
    if names:
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        text += f": {shown}"
    return text


def failure_line(failure, public=None, notebooks=None):
    """One line for one failed check: what it is, the kind of failure, and the hints."""
    check, message = failure["check"], failure.get("message", "")
    kind, _, rest = check.partition(":")
    label = check
    if kind == "test":
        label = "hidden test `" + fairness.function_of(rest).split("::")[-1] + "`"
    elif kind in ("ref", "own"):
        nb_name, _, cell = rest.partition("::Cell ")
        nb = (notebooks or {}).get(nb_name)
        where = "reference" if kind == "ref" else "your"
        if nb is not None and cell.isdigit():
            label = f"{where} {nb_name}, {cell_label(nb, int(cell))}"
        else:
            label = f"{where} {nb_name}" + (f", code cell {int(cell) + 1}" if cell.isdigit()
                                            else "")
    text = tally_text(message) or failure_kind(message)
    hints = hints_for(check, public or {})
    line = f"- {label}: {text}"
    if hints:
        line += "; hint: " + "; ".join(hints)
    return line


def unfinished_lines(items):
    """One line per function that is not implemented yet, with how many checks it cost, and
    the failures left once those are taken out (item id -> list of failures)."""
    counts, rest = {}, {}
    for item in items:
        rest[item["id"]] = []
        for failure in item["failures"]:
            name = unfinished_function(failure.get("message", ""))
            if name:
                counts[name] = counts.get(name, 0) + 1
            else:
                rest[item["id"]].append(failure)
    lines = [f"- `{name}` is not implemented yet: {n} check{'s' if n != 1 else ''} skipped"
             for name, n in counts.items()]
    return lines, rest


def cap(lines, max_lines=MAX_LINES):
    """At most ``max_lines`` lines; the last one then says how many were left out."""
    if len(lines) <= max_lines:
        return list(lines)
    kept = lines[:max_lines - 1]
    return kept + [f"... and {len(lines) - len(kept)} more lines (fix the problems above first)"]


def items_feedback(items, public=None, notebooks=None, max_lines=MAX_LINES, per_item=5):
    """The feedback lines of the items that lost points (see the module docstring).

    Inputs:
    - items: item results of rubric.score (id, title, points, max_points, failures, note)
    - public: public check name -> result (status, hint), from the student's code
    - notebooks: notebook name -> notebook dict (the reference notebooks), to name cells
    - max_lines: cap on the number of lines returned; per_item: failures shown per item
    """
    unfinished, rest = unfinished_lines(items)
    lines = []
    if unfinished:
        lines += ["Not implemented yet (`python -m assignment check` lists the same):", "",
                  *unfinished, ""]
    for item in items:
        if item["points"] >= item["max_points"]:
            continue
        failures = rest[item["id"]]
        if not failures and not item.get("note"):
            continue  # lost to unfinished functions only: said above
        lines.append(f"{item['title']}: {item['points']:g} / {item['max_points']:g}")
        if item.get("note"):
            lines.append(f"- {item['note']}")
        lines += [failure_line(f, public, notebooks) for f in failures[:per_item]]
        if len(failures) > per_item:
            lines.append(f"- ... and {len(failures) - per_item} more failed checks")
        lines.append("")
    return cap(lines, max_lines)
