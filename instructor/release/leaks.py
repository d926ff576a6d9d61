"""The leak check: no line of a student TODO's solution may appear in the student release.

The student release is checked after it is written: every non-trivial line of every solution
region that the student release replaces (code regions in ``.py`` files and notebook code
cells, markdown regions in notebooks; not the regions of given functions, which ship) is a
*secret*. A secret found anywhere in a shipped text file (code, docstrings, comments, notebook
sources, outputs and metadata, README, Makefile...) stops the release with the shipped file and
line, and the region the secret comes from.

Matching: whitespace runs are collapsed to one space and the ends stripped, on both sides; a
secret matches a shipped line that contains it (so a formula quoted inside a docstring sentence
or a markdown bullet is found too). A code line with an inline comment gives two secrets: the
whole line and its code without the comment (``y = 2 * x  # double`` is found as ``y = 2 * x``).

Trivial lines are not secrets (they say nothing about the solution and occur everywhere):

- lines shorter than MIN_CHARS characters (``pass``, ``N, D = x.shape``, ``$$``);
- code lines without a formula: an optional keyword (``return``, ``raise``, ``else``...), then
  nothing but names, dots, commas, colons, brackets, integer subscripts (``[0]``) and at most
  one plain ``=`` -- no operator, no number or string literal. These are the plumbing lines
  (``return dx, dgamma, dbeta``, ``N = x.shape[0]``, ``a, cache = affine_forward(x, w, b)``,
  ``else:``); ``out = x * mask``, ``p = 0.5`` and ``mode = "train"`` are checked. Markdown
  lines are prose: only their length makes them trivial.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from instructor.release.errors import ReleaseError
from instructor.release.notebooks import cell_kind, cell_source, read_notebook
from instructor.release.regions import region_functions, source_regions

MIN_CHARS = 12
_PLUMBING = re.compile(
    r"(?:(?:return|raise|yield|pass|break|continue|else|try|finally|del|global|nonlocal)\b)?"
    r"[\w.,:()\[\]{} ]*(?:=[\w.,:()\[\]{} ]*)?"
)
_INDEX = re.compile(r"\[\d+\]")
_NUMBER = re.compile(r"(?<![\w])\d")


@dataclass(frozen=True)
class Leak:
    """One secret found in the student release.

    - where: the shipped place, "file:line" or "file cell N:line" (1-based lines)
    - text: the secret (normalized)
    - origin: the solution region's place in the source, "file:line"
    """

    where: str
    text: str
    origin: str

    def __str__(self):
        return (f"{self.where}: contains {self.text!r}, a line of the solution region at "
                f"{self.origin}")


def normalize(line):
    """A line with whitespace runs collapsed to one space and the ends stripped."""
    return " ".join(line.split())


def is_trivial(line, kind="code"):
    """True for a normalized line of a region of `kind` ("code" or "markdown") that is not
    checked (see the module docstring)."""
    if len(line) < MIN_CHARS:
        return True
    if kind != "code":
        return False
    line = _INDEX.sub("[]", line)
    return _PLUMBING.fullmatch(line) is not None and _NUMBER.search(line) is None


def code_part(line):
    """The code of a Python line without its inline comment (the line itself if none).

    A ``#`` starts the comment when the text before it has balanced quotes (a ``#`` inside a
    string literal does not); a whole-line comment is kept as it is.
    """
    for i, ch in enumerate(line):
        if ch == "#" and i and line[:i].strip():
            before = line[:i]
            if before.count("'") % 2 == 0 and before.count('"') % 2 == 0:
                return before.rstrip()
    return line


def secrets(regions):
    """{normalized line: origin} of the non-trivial lines of solution regions.

    Inputs:
    - regions: iterable of (label, first_line, kind, Region): label names the source ("file"
      or "file cell N"), first_line is the 1-based line of the label's text where the Region's
      line 0 is (1 for a whole file or a cell), kind is "code" or "markdown"
    """
    found = {}
    for label, first_line, kind, region in regions:
        for offset, line in enumerate(region.body, start=region.begin + 1):
            texts = {normalize(line)}
            if kind == "code":
                texts.add(normalize(code_part(line)))
            for text in texts:
                if not is_trivial(text, kind):
                    found.setdefault(text, f"{label}:{first_line + offset}")
    return found


def _lines_of(root, rel):
    """(place, text) of every line of a shipped text file; notebooks per cell, their outputs
    and metadata as JSON text. Binary files give nothing."""
    try:
        text = (Path(root) / rel).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return
    if rel.endswith(".ipynb"):
        nb = json.loads(text)
        for i, cell in enumerate(nb.get("cells", [])):
            for number, line in enumerate(cell_source(cell).splitlines(), 1):
                yield f"{rel} cell {i}:{number}", line
            rest = {k: v for k, v in cell.items() if k != "source"}
            for number, line in enumerate(_json_text(rest).splitlines(), 1):
                yield f"{rel} cell {i} outputs/metadata:{number}", line
        for number, line in enumerate(_json_text(nb.get("metadata", {})).splitlines(), 1):
            yield f"{rel} metadata:{number}", line
        return
    for number, line in enumerate(text.splitlines(), 1):
        yield f"{rel}:{number}", line


def _json_text(value):
    """Every string inside a JSON value, one after the other (the text a reader could see)."""
    if isinstance(value, str):
        return value + "\n"
    if isinstance(value, list):
        return "".join(_json_text(v) for v in value)
    if isinstance(value, dict):
        return "".join(_json_text(v) for v in value.values())
    return ""


def scan(root, files, found):
    """Every Leak of the secrets `found` ({text: origin}) in the files `files` of tree `root`.

    Returns a list of Leak, in file and line order.
    """
    by_length = sorted(found, key=len)
    leaks = []
    for rel in files:
        for where, line in _lines_of(root, rel):
            text = normalize(line)
            for secret in by_length:
                if len(secret) > len(text):
                    break
                if secret in text:
                    leaks.append(Leak(where, secret, found[secret]))
                    break
    return leaks


def secret_regions(src, given=()):
    """The regions the student release replaces, as (label, first line, kind, Region) for
    secrets(): every notebook region, and the .py regions outside given functions."""
    src = Path(src)
    found = []
    functions = region_functions(src)
    for rel, items in source_regions(src).items():
        if rel.endswith(".py"):
            names = functions[rel]
            found += [(rel, 1, "code", r)
                      for r, n in zip(items, names, strict=True) if n not in given]
        else:
            nb = read_notebook(src / rel)
            found += [(f"{rel} cell {cell}", 1, cell_kind(nb["cells"][cell]), r)
                      for cell, r in items]
    return found


def check_leaks(src, root, files, given=()):
    """Raise ReleaseError listing every line of a replaced solution region that the student
    tree `root` still contains."""
    found = scan(root, files, secrets(secret_regions(src, given)))
    if found:
        shown = "\n".join(f"  {Path(root).name}/{leak}" for leak in found[:20])
        more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
        raise ReleaseError(
            f"the student release gives away {len(found)} line(s) of the solution:\n{shown}"
            f"{more}\nrewrite the shipped line (a docstring says what, not how), or move it into "
            "the solution region"
        )
