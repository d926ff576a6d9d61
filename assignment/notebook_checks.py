"""Checks with printed verdicts, for the notebooks (Dropout, BatchNormalization).

Every check prints exactly one line, and never raises on a failed check:

    <quantity>: <value> (must be < <bound>): PASS|FAIL[  -- note: <note>]
    <quantity>: <value> (must be > <bound>): PASS|FAIL[  -- note: <note>]
    <claim>: PASS|FAIL[ [<detail>]]

for example

    dx relative error: 3.1e-10 (must be < 1e-08): PASS
    without dropout the final training accuracy is higher: PASS [0.99 vs 0.87]

Design, with graders in mind:

* The value is printed with ``%.1e`` and the bound with ``%g`` (so ``1e-08``,
  ``0.05``). The sanitizer ``notebooks/nbval_sanitize.cfg`` masks the value and a
  claim's ``[<detail>]`` (they change with the BLAS, the data copy, the run) but keeps
  the quantity, the bound, the note and the verdict word, so ``pytest --nbval``
  compares exactly what a grader cares about. Put data-dependent numbers of a claim
  into ``detail``, never into the claim text.
* A failed check prints ``FAIL`` and does not raise: a student sees every result of
  a cell, not just the first failure. nbval still fails on it, because the committed
  notebook says ``PASS`` in that place. The tally (:func:`summary`,
  :func:`count_verdicts`) lets the main job report passed/failed counts.
* A value that is not finite (NaN, inf) always fails.
* The functions return ``None`` on purpose: a check that is the last line of a cell
  then prints its line and leaves no stray ``True``/``False`` repr. Use
  :func:`results` to get the verdicts as data.

Public API: :func:`rel_error` (imported from ``gradient_check``, here so that one import
line gives a notebook what it checks with), :func:`check_below`, :func:`check_above`,
:func:`check_claim`, :func:`results`, :func:`reset`, :func:`summary`,
:func:`count_verdicts`, :data:`VERDICT_RE`.
"""

import math
import re
from typing import NamedTuple

import numpy as np

from assignment.gradient_check import rel_error

__all__ = [
    "VERDICT_RE",
    "CheckResult",
    "check_above",
    "check_below",
    "check_claim",
    "count_verdicts",
    "rel_error",
    "reset",
    "results",
    "summary",
]

PASS = "PASS"
FAIL = "FAIL"

# One printed verdict line (both the numeric and the claim form). The verdict is the
# first " PASS"/" FAIL" that follows ": " and ends the line or is followed by a note
# ("  -- note: ...") or a claim detail (" [...]").
VERDICT_RE = re.compile(
    r"^(?P<name>.+?): (?:(?P<value>\S+) \(must be (?P<op>[<>]) (?P<bound>\S+)\): )?"
    r"(?P<verdict>PASS|FAIL)(?:  -- note: .*| \[.*\])?$",
    re.MULTILINE,
)


class CheckResult(NamedTuple):
    """One check as recorded by this module.

    name: the quantity or claim (str); ok: the verdict (bool); line: the printed line.
    """

    name: str
    ok: bool
    line: str


_RESULTS: list[CheckResult] = []


def _as_float(value, argument):
    """Converts a number (Python or NumPy scalar, 0-d or size-1 array) to float."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.size != 1:
        raise TypeError(
            f"{argument} must be a single number, got {type(value).__name__} {value!r}; "
            "reduce arrays first, e.g. with rel_error(a, b) or np.max(...)"
        )
    return float(array.reshape(()))


def _check_name(name, argument):
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise TypeError(f"{argument} must be a non-empty one-line str, got {name!r}")


def _record(name, ok, line):
    _RESULTS.append(CheckResult(name, ok, line))
    print(line)


def _compare(name, value, bound, op, note):
    _check_name(name, "name")
    value = _as_float(value, "value")
    bound = _as_float(bound, "bound")
    if not math.isfinite(bound):
        raise ValueError(f"bound must be finite, got {bound}")
    if note is not None:
        _check_name(note, "note")
    ok = math.isfinite(value) and (value < bound if op == "<" else value > bound)
    line = f"{name}: {value:.1e} (must be {op} {bound:g}): {PASS if ok else FAIL}"
    if note is not None:
        line += f"  -- note: {note}"
    _record(name, ok, line)


def check_below(name, value, bound, note=None):
    """Prints ``<name>: <value> (must be < <bound>): PASS|FAIL``.

    Inputs:
    - name: the quantity, one line (str), e.g. "dx relative error".
    - value: the measured number (float, NumPy scalar or size-1 array).
    - bound: the strict upper bound (finite float); write it as a constant in the
      notebook so graders can read it (e.g. 1e-8 for layer gradients).
    - note: optional one-line str printed after the verdict, e.g. why a bound is
      looser than usual. It is compared by nbval, so keep it free of data.

    Returns None (see the module docstring); the verdict is recorded for summary().
    """
    _compare(name, value, bound, "<", note)


def check_above(name, value, bound, note=None):
    """Prints ``<name>: <value> (must be > <bound>): PASS|FAIL``.

    Same inputs as check_below, with bound a strict lower bound (e.g. an accuracy).
    """
    _compare(name, value, bound, ">", note)


def check_claim(claim, ok, detail=None):
    """Prints ``<claim>: PASS|FAIL`` with an optional ``[<detail>]``.

    Inputs:
    - claim: the statement the notebook makes, one line (str), e.g. "without dropout
      the final training accuracy is higher". It is compared by nbval: no numbers that
      depend on the data or the run.
    - ok: whether the claim holds (bool or NumPy bool).
    - detail: optional one-line str with the evidence (e.g. "0.99 vs 0.87"); masked by
      the sanitizer, so it may hold data-dependent numbers.

    Returns None; the verdict is recorded for summary().
    """
    _check_name(claim, "claim")
    if not isinstance(ok, (bool, np.bool_)):
        raise TypeError(
            f"ok must be a bool, got {type(ok).__name__} {ok!r}; "
            "pass a comparison such as train_acc > val_acc"
        )
    line = f"{claim}: {PASS if ok else FAIL}"
    if detail is not None:
        _check_name(detail, "detail")
        line += f" [{detail}]"
    _record(claim, bool(ok), line)


def results():
    """Returns the checks recorded since import or reset(): a list of CheckResult."""
    return list(_RESULTS)


def reset():
    """Forgets the recorded checks (e.g. at the top of a notebook)."""
    _RESULTS.clear()


def summary():
    """Prints ``checks: <P> passed, <F> failed`` for the checks recorded so far."""
    passed = sum(result.ok for result in _RESULTS)
    print(f"checks: {passed} passed, {len(_RESULTS) - passed} failed")


def count_verdicts(text):
    """Counts verdict lines in text (e.g. the outputs of an executed notebook).

    Inputs:
    - text: str, any number of lines; lines that are not verdict lines are ignored,
      and so is the summary() line.

    Returns a tuple (passed, failed) of ints.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    passed = failed = 0
    for match in VERDICT_RE.finditer(text):
        if match["verdict"] == PASS:
            passed += 1
        else:
            failed += 1
    return passed, failed
