"""Feedback that teaches: the text of a graded submission's feedback, as pure functions.

No I/O, no grading: these functions turn what a grading run produced (the item results of
:func:`instructor.grading.scoring.score`, the public checks' results, the reference notebooks)
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
- an unfinished function is one line, "`batchnorm_backward` is not implemented yet: 6 failed
  checks", instead of a traceback per check (:func:`unfinished_lines`); a stub that no check
  reached (its checks stopped at another stub first) is named too, from the list of stubs
  found in the submission's code;
- the whole feedback of the items is capped (:func:`items_feedback`, 60 lines by default).

Where they plug in: :func:`instructor.grading.report.feedback` (the student's
``feedback/<student>.md``) and ``report.gradescope`` (each item's output) call
:func:`items_feedback` with the item results and what the steps recorded in their
:class:`~instructor.grading.steps.StepLog`: the public checks' results on the student's code
(run by the verdict process, :mod:`instructor.grading.public_hints`), each failed cell's name
(:func:`cell_label`, taken by ``steps.notebook`` from the notebook it ran) and the functions
left as stubs (read from the submission's code).
"""

import re

from assignment.collect import cell_name
from assignment.notebook_checks import VERDICT_RE
from instructor import fairness
from instructor.grading.notebook_sections import code_cell_sections

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


def check_text(check, message):
    """What went wrong in a few words. A hidden test's message comes from the verdict process
    (:func:`instructor.grading.verdicts.classify`: the kind of failure and the student's own
    exception, never the test's source or values) and is kept, its first line, as is a
    one-line message the grader wrote for a cell ("no outputs: ...", "not run: ..."); anything
    that looks like a traceback, an output diff or an assertion's values is reduced to its
    kind."""
    tally = tally_text(message)
    if tally:
        return tally
    first = (message.strip().splitlines() or [""])[0].strip()
    raw = "Traceback" in message or re.search(r"^E\s", message, re.MULTILINE)
    if "NotImplementedError" in message:   # a stub whose message names no function
        return "not implemented yet (the function still raises NotImplementedError)"
    said_by_grader = "\n" not in message.strip() and "Cell outputs differ" not in message
    if first and not raw and (check.startswith("test:") or said_by_grader):
        first = first if len(first) <= 200 else first[:197] + "..."
        memory = "MemoryError" in message or "Unable to allocate" in message
        return f"ran out of memory: {first}" if memory and "memory" not in first else first
    return failure_kind(message)


def failure_line(failure, public=None, notebooks=None, labels=None):
    """One line for one failed check: what it is, the kind of failure, and the hints.

    ``labels``: check id -> the cell's name (recorded by the notebook steps); ``notebooks``
    (notebook name -> notebook dict) names the cells of checks without a label."""
    check, message = failure["check"], failure.get("message", "")
    kind, _, rest = check.partition(":")
    label = check
    if kind == "test":
        label = "hidden test `" + fairness.function_of(rest).split("::")[-1] + "`"
    elif kind in ("ref", "own"):
        label = notebook_label(check, labels, notebooks)
    line = f"- {label}: {check_text(check, message)}"
    hints = hints_for(check, public or {})
    if hints:
        line += "; hint: " + "; ".join(hints)
    return line


def notebook_label(check, labels=None, notebooks=None):
    """``reference Dropout.ipynb, section '...', In [k] (`first line`)`` for a ``ref:``/
    ``own:`` check id; ``your ...`` for the student's own notebook."""
    kind, _, rest = check.partition(":")
    nb_name, _, cell = rest.partition("::Cell ")
    where = "reference" if kind == "ref" else "your"
    if (labels or {}).get(check):
        return f"{where} {nb_name}, {labels[check]}"
    nb = (notebooks or {}).get(nb_name)
    if nb is not None and cell.isdigit():
        return f"{where} {nb_name}, {cell_label(nb, int(cell))}"
    return f"{where} {nb_name}" + (f", code cell {int(cell) + 1}" if cell.isdigit() else "")


def grouped(lines):
    """Identical lines once, in order; a line said n > 1 times says so (a parametrized
    hidden test fails once per case with the same words)."""
    counts = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    out = []
    for line, n in counts.items():
        if n > 1:
            head, sep, tail = line.partition("`: ")
            line = f"{head}` ({n} cases): {tail}" if sep else f"{line} ({n} times)"
        out.append(line)
    return out


def unfinished_lines(items, stubs=()):
    """One line per function that is not implemented yet, with how many checks failed on it,
    and the failures left once those are taken out (item id -> list of failures).

    ``stubs``: the functions the submission's code leaves as stubs (found in its source,
    ``assignment.collect``'s way); those among the functions of an item that lost points
    are named even when no check reached them, together on one line."""
    counts, rest = {}, {}
    for item in items:
        rest[item["id"]] = []
        for failure in item["failures"]:
            name = unfinished_function(failure.get("message", ""))
            if name:
                counts[name] = counts.get(name, 0) + 1
            else:
                rest[item["id"]].append(failure)
    lines = [f"- `{name}` is not implemented yet: {n} failed check{'s' if n != 1 else ''}"
             for name, n in counts.items()]
    unreached = list(dict.fromkeys(
        name for item in items if item["points"] < item["max_points"]
        for name in item.get("functions", ()) if name in stubs and name not in counts))
    if unreached:   # one line for all: the feedback stays short however many there are
        lines.append("- " + ", ".join(f"`{name}`" for name in unreached)
                     + (" is" if len(unreached) == 1 else " are") + " not implemented yet "
                     "either (their checks stopped at the functions above)")
    return lines, rest


def cap(lines, max_lines=MAX_LINES):
    """At most ``max_lines`` lines; the last one then says how many were left out."""
    if len(lines) <= max_lines:
        return list(lines)
    kept = lines[:max_lines - 1]
    return kept + [f"... and {len(lines) - len(kept)} more lines (fix the problems above first)"]


def items_feedback(items, public=None, notebooks=None, max_lines=MAX_LINES, per_item=5,
                   labels=None, stubs=()):
    """The feedback lines of the items that lost points (see the module docstring).

    Inputs:
    - items: item results of scoring.score (id, title, points, max_points, failures, note,
      functions)
    - public: public check name -> result (status, hint), from the student's code
    - notebooks: notebook name -> notebook dict (the reference notebooks), to name cells
    - max_lines: cap on the number of lines returned; per_item: failures shown per item
    - labels: check id -> cell name, as the notebook steps recorded them
    - stubs: the functions the submission's code leaves as stubs
    """
    unfinished, rest = unfinished_lines(items, stubs)
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
        if failures and item.get("functions"):
            lines.append("- functions checked: " + ", ".join(f"`{f}`" for f in item["functions"]))
        said = grouped(failure_line(f, public, notebooks, labels) for f in failures)
        lines += said[:per_item]
        if len(said) > per_item:
            lines.append(f"- ... and {len(said) - per_item} more (fix the ones above first)")
        lines.append("")
    return cap(lines, max_lines)
