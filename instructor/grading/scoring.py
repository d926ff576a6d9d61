"""Scoring: which checks belong to a rubric item, and the points it earns from their outcomes.

The rubric (its items, ``[function_tests]``, the gate of notebook items) is described in
:mod:`instructor.grading.rubric`; this module turns the outcomes of a grading run (check id ->
``{"passed", "message"}``) into one result per item.

Partial credit is the default: an item earns its points times the fraction of its checks that
passed, so one failed check of six costs a sixth of the item, not all of it (issue 14). An
item with ``all_or_nothing = true`` earns its points only when every check passed. (The older
key ``partial`` is still read: ``partial = false`` means ``all_or_nothing = true``.) A check
that was skipped (pytest's skip, from whatever code) counts as not passed: a skip must not
shrink the denominator. An item that selects no check at all earns nothing and says so: a
rubric typo must not give free points (grading the solution with the rubric shows such typos
as lost points).

A notebook item also has to pass its gate (the hidden tests of its functions, see
:mod:`instructor.grading.rubric`): :func:`gate_failures`.
"""

import re

from instructor.grading.notebook_sections import section_cells


def item_checks(item, outcomes, reference_nbs):
    """The check ids of ``item`` (sorted). ``outcomes``: check id -> outcome (for tests and
    own-notebook cells, whose ids are known only after a run); ``reference_nbs``: notebook
    name -> notebook dict (the reference notebooks, to resolve sections)."""
    ids = set()
    for pattern in item.tests:
        ids |= {c for c in outcomes if c.startswith("test:")
                and matches(c[len("test:"):], pattern)}
    if item.notebook:
        nb = reference_nbs.get(item.notebook)
        if nb is not None:
            ids |= {f"ref:{item.notebook}::Cell {n}"
                    for n in section_cells(nb, item.sections, item.exclude)}
    if item.own_notebook:
        prefix = f"own:{item.own_notebook}::"
        ids |= {c for c in outcomes if c.startswith(prefix)}
        ids.add(f"own:{item.own_notebook}")   # the notebook as a whole (present, readable)
    return sorted(ids)


def _glob(pattern):
    """A node-id pattern: ``*`` any text, ``?`` one character, everything else literal
    (so ``test_x[batchnorm-*]`` matches parametrized ids; fnmatch would read ``[...]`` as a
    character class)."""
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts) + r"\Z")


def matches(test_id, pattern):
    return _glob(pattern).match(test_id) is not None


def selected_tests(rubric, test_ids):
    """The hidden test ids some item uses (only those are run: the others earn nothing)."""
    patterns = [p for item in rubric.items for p in item.tests]
    patterns += [p for item in rubric.items for f in rubric.gate(item)
                 for p in rubric.function_tests[f]]
    return [t for t in test_ids if any(matches(t, p) for p in patterns)]


def item_points(item, passed, counted):
    """Points earned by ``item`` with ``passed`` of its ``counted`` checks passed: a share in
    proportion (the default), or all-or-nothing when the item asks for it."""
    if counted == 0:
        return 0.0
    if item.all_or_nothing:
        return item.points if passed == counted else 0.0
    return item.points * passed / counted


def gate_failures(rubric, item, outcomes):
    """One ``gate:<function>`` failure per function of notebook ``item`` whose hidden tests
    (trusted verdicts: ``test:`` outcomes) did not all pass or did not run."""
    failures = []
    for f in rubric.gate(item):
        patterns = rubric.function_tests.get(f, ())
        ids = sorted(c for c in outcomes if c.startswith("test:")
                     and any(matches(c[len("test:"):], p) for p in patterns))
        bad = [c[len("test:"):] for c in ids
               if not outcomes[c]["passed"] or outcomes[c].get("skipped")]
        if not ids:
            message = f"no hidden test of {f} ran"
        elif bad:
            message = (f"{len(bad)} of the {len(ids)} hidden tests of {f} failed: "
                       + ", ".join(bad[:3]) + (" ..." if len(bad) > 3 else ""))
        else:
            continue
        failures.append({"check": f"gate:{f}", "message": message})
    return failures


def score(rubric, outcomes, reference_nbs):
    """Score every item. ``outcomes``: check id -> {"passed": bool, "message": str} (a
    ``"skipped": True`` outcome counts as not passed). Returns a list of item result dicts."""
    results = []
    for item in rubric.items:
        checks = item_checks(item, outcomes, reference_nbs)
        counted, failures = 0, []
        passed = 0
        for cid in checks:
            out = outcomes.get(cid)
            if out is None:
                if cid.startswith("own:") and "::" not in cid:
                    continue   # the whole-notebook check is only recorded when it fails
                out = {"passed": False, "message": "not run (an earlier problem stopped the "
                       "run before this check)"}
            counted += 1
            if out["passed"] and not out.get("skipped"):
                passed += 1
            else:
                message = out.get("message", "")
                failures.append({"check": cid, "message": ("skipped: " + message)
                                 if out.get("skipped") else message})
        earned = item_points(item, passed, counted)
        note = "" if counted else "no check of this item ran (see the notes)"
        # only where the gate is what costs the points: an item whose own checks failed
        # already says why (a stub's notebook cells fail too)
        closed = gate_failures(rubric, item, outcomes) if earned else []
        if closed:
            earned = 0.0
            failures += closed
            note = note or ("no points: the hidden tests of " + ", ".join(
                f["check"][len("gate:"):] for f in closed) + " did not all pass, and "
                "this item counts only with them (your notebook's outputs alone cannot show "
                "that your code computed them)")
        results.append({
            "id": item.id, "title": item.title, "points": round(earned, 4),
            "max_points": item.points, "passed": passed, "checks": counted,
            "failures": failures, "functions": list(item.functions), "note": note,
        })
    return results
