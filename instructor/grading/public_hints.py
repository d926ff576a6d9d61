"""The public checks' results on a student's code, for the hints of the feedback (issue 14).

TRUSTED SIDE. Called by :mod:`instructor.grading.verdicts` after the hidden tests, while the
student's modules are still proxies of the sandboxed worker: for the hidden tests that failed,
the public checks that cover the same properties (:data:`instructor.fairness.TABLE`) are run
exactly as ``python -m assignment check`` runs them (the release's
``assignment/checks/``), so the feedback can give the hint a student gets for the
same mistake (:func:`instructor.grading.feedback_text.hints_for`). Nothing here decides a
verdict: the results only choose hints, and they are public (the student can run the same
checks). Each call into the student's code has the per-test time limit; a check that stopped
on an error of the student's code (or of the proxy: an object the worker cannot receive)
gives no hint -- the hidden test's own message already says what was raised.
"""

import time

from instructor import fairness

NOT_IMPLEMENTED = "NotImplementedError"
MAX_SECONDS = 30.0   # for all the checks of one submission: hints never hold up grading


def needed(failed):
    """The public check names covering the failed hidden tests ``failed`` (node id ->
    message); tests that failed because a function is not implemented need none."""
    names = []
    for nodeid, message in failed.items():
        if message.startswith(NOT_IMPLEMENTED):
            continue
        entry = fairness.TABLE.get(fairness.function_of(nodeid))
        for name in getattr(entry, "checks", ()):
            if name not in names:
                names.append(name)
    return names


def run(names, remote, seconds, max_seconds=MAX_SECONDS):
    """Run the public checks ``names``; returns name -> {status, what, detail, hint}.

    ``remote``: the verdict process's :class:`~instructor.grading.remote.Remote` (its
    ``call_seconds`` is set to ``seconds`` while the checks run); no check starts after
    ``max_seconds`` (the checks not run give no hint)."""
    stop = time.monotonic() + max_seconds
    from assignment import checks as pc  # the release's copy, in the trusted folder

    checks = {check.__name__: (part, check) for part, group in pc.PARTS.items()
              for check in group}
    results = {}
    for name in names:
        if name not in checks or time.monotonic() > stop:
            continue
        remote.call_seconds = seconds
        try:
            r = pc.run_check(*checks[name])
        finally:
            remote.call_seconds = None
        hint = r.hint
        if r.status == "FAIL" and r.detail.startswith("raised "):
            hint = ""   # an exception, not a mistake a check recognises: no hint
        results[name] = {"status": r.status, "what": r.what, "detail": r.detail[:300],
                         "hint": hint}
    return results
