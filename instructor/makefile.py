"""The shipped Makefile: the source Makefile without the rules that need left-out files.

The repository's Makefile also serves the instructor (``make bench`` runs bench/, which does
not ship). Rather than keep a second, hand-written Makefile for students that would drift from
the tested one, the release derives it: from the source Makefile it drops

- every rule whose rule line or recipe mentions left-out material (``mentions(line)`` is true;
  release.py passes instructor/references.py's test), together with the comment lines directly
  above it;
- every rule that depends on a dropped target (make would stop with "No rule to make target"),
  repeatedly, until no such rule is left;
- the dropped targets from ``.PHONY``.

Everything else is kept byte for byte. A variable assignment that mentions left-out material
is kept (a kept rule may use it): the release's final scan then stops with its file and line.

Only the Makefile syntax this repository uses is understood: rule lines ``targets: prereqs``
(``::`` too), recipe lines starting with a tab, ``#`` comment lines, variable assignments
(``=``, ``:=``, ``::=``, ``?=``, ``+=``, ``!=``) and backslash continuations.
"""

import re
from dataclasses import dataclass

_ASSIGNMENT = re.compile(r"^\s*[^\s:#=]+\s*(?:::?=|:::=|\?=|\+=|!=|=)")
_RULE = re.compile(r"^(?P<targets>[^\s:#=][^:#=]*?)\s*::?(?!=)(?P<prereqs>[^;#]*)")


@dataclass(frozen=True)
class Rule:
    """One rule of a Makefile.

    - targets, prerequisites: tuples of names as written (``$(STAMP)`` unexpanded; order-only
      prerequisites after ``|`` included)
    - first, last: 0-based indices of its first line (the first comment line directly above
      the rule line, else the rule line) and of its last recipe line
    - rule_line: index of the rule line itself
    """

    targets: tuple
    prerequisites: tuple
    first: int
    rule_line: int
    last: int


def _logical_lines(lines):
    """[(first, last)] physical line indices of each logical line (backslash continuations)."""
    spans, i = [], 0
    while i < len(lines):
        j = i
        while lines[j].rstrip("\r\n").endswith("\\") and j + 1 < len(lines):
            j += 1
        spans.append((i, j))
        i = j + 1
    return spans


def rules(text):
    """Every rule of a Makefile text, in order (a list of Rule)."""
    lines = text.splitlines(keepends=True)
    spans = _logical_lines(lines)
    found = []
    for k, (first, last) in enumerate(spans):
        joined = " ".join(ln.rstrip("\r\n").rstrip("\\") for ln in lines[first : last + 1])
        if joined.startswith("\t") or _ASSIGNMENT.match(joined):
            continue
        match = _RULE.match(joined)
        if not match:
            continue
        end = last
        for r_first, r_last in spans[k + 1 :]:
            if not lines[r_first].startswith("\t"):
                break
            end = r_last
        start = first
        while start > 0 and lines[start - 1].startswith("#"):
            start -= 1
        prereqs = tuple(p for p in match["prereqs"].split() if p != "|")
        found.append(Rule(tuple(match["targets"].split()), prereqs, start, first, end))
    return found


def _without_phony(line, dropped):
    """A .PHONY line (or its continuation) with the dropped targets removed."""
    head, sep, tail = line.partition(":") if line.startswith(".PHONY") else ("", "", line)
    for target in dropped:
        tail = re.sub(rf"[ \t]+{re.escape(target)}(?=[ \t\\\r\n]|$)", "", tail)
    return head + sep + tail


def shipped_makefile(text, mentions):
    """The Makefile text without the rules that need left-out files (see the module docstring).

    Inputs:
    - text: the source Makefile
    - mentions: function(line) -> bool, true if the line mentions left-out material

    Returns (text, dropped targets as a sorted list).
    """
    lines = text.splitlines(keepends=True)
    every_rule = rules(text)
    found = [r for r in every_rule if not r.targets[0].startswith(".")]
    dropped_rules = [
        r for r in found if any(mentions(ln) for ln in lines[r.rule_line : r.last + 1])
    ]
    dropped = {t for r in dropped_rules for t in r.targets}
    changed = True
    while changed:  # rules that need a dropped target go too
        changed = False
        for r in found:
            if r not in dropped_rules and dropped.intersection(r.prerequisites):
                dropped_rules.append(r)
                dropped.update(r.targets)
                changed = True
    if not dropped_rules:
        return text, []
    removed = set()
    for r in dropped_rules:
        removed.update(range(r.first, r.last + 1))
        # and one blank line next to it, so that no run of blank lines is left behind
        after, before = r.last + 1, r.first - 1
        if after < len(lines) and not lines[after].strip():
            removed.add(after)
        elif before >= 0 and not lines[before].strip():
            removed.add(before)
    phony = {
        i
        for r in every_rule
        if r.targets == (".PHONY",)
        for i in range(r.rule_line, r.last + 1)
    }
    out = []
    for i, line in enumerate(lines):
        if i in removed:
            continue
        out.append(_without_phony(line, dropped) if i in phony else line)
    return "".join(out), sorted(dropped)
