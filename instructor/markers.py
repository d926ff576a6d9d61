"""Solution-region markers: a small explicit state machine (after nbgrader's clearsolutions).

A solution region is the text between a line ``### BEGIN SOLUTION`` and a line
``### END SOLUTION`` (code: ``.py`` files and notebook code cells), or between a line
``<!-- BEGIN SOLUTION -->`` and a line ``<!-- END SOLUTION -->`` (notebook markdown cells: an
HTML comment, invisible when the notebook is rendered). Both marker lines carry the same
indentation as the body between them; regions are balanced and never nested. In code the
region is directly preceded by a ``# TODO`` comment block (which stays in the student version);
in markdown the text before the region (the question, ``**Your Answer:**``, the notation)
stays, and a markdown region may not contain a heading (headings are the notebook's sections,
which the student release must keep).

The machine reads one line at a time in one of two states:

    OUTSIDE --BEGIN--> INSIDE --END--> OUTSIDE

and every other transition is an error carrying ``file:line``: an ``END`` while OUTSIDE
(unbalanced), a ``BEGIN`` while INSIDE (nested), end of text while INSIDE (unclosed), an
``END`` at another indentation than its ``BEGIN``, a body line indented less than the markers
(the stub would break the enclosing block), an empty region, and a line that looks like a
marker but is not exactly one of its kind (``## BEGIN SOLUTION``, ``### BEGIN SOLUTION # x``,
a code marker in markdown...).

Three renderings of a parsed text, all keeping every byte outside the regions:

- :func:`render_student` replaces each region with a stub: for code, the CS231n banner pair
  around ``raise NotImplementedError(<message>)`` at the region's indentation; for markdown,
  the one line ``*Write your answer here.*`` (PLACEHOLDER) at the region's indentation.
- :func:`render_solution` drops the two marker lines and keeps the body.
- :func:`restore` puts the regions back into a student rendering; ``restore(render_student(p))``
  is the original text, byte for byte (the round-trip proof in tests/tooling/release_proofs.py).

The Python-specific checks (the function enclosing each region, the places a stub cannot go)
are the release's: instructor/release/stubs.py.
"""

from __future__ import annotations

from dataclasses import dataclass

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
MD_BEGIN = "<!-- BEGIN SOLUTION -->"
MD_END = "<!-- END SOLUTION -->"
PLACEHOLDER = "*Write your answer here.*"
KINDS = ("code", "markdown")
BANNER_START = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
BANNER_END = "# *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"

# Substrings that make a line a (possibly malformed) marker or banner.
_MARKER_WORDS = ("BEGIN SOLUTION", "END SOLUTION")
_BANNER_WORDS = ("START OF YOUR CODE", "END OF YOUR CODE (DO NOT")


class MarkerError(ValueError):
    """A problem with the solution markers, located at ``path:line`` (1-based)."""

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


@dataclass(frozen=True)
class Region:
    """One solution region.

    - begin, end: 0-based indices of the BEGIN and END marker lines in the parsed text
    - indent: the whitespace before the markers
    - lines: every line from BEGIN to END inclusive, with their line endings (as in the source)
    """

    begin: int
    end: int
    indent: str
    lines: tuple[str, ...]

    @property
    def body(self):
        """The lines strictly between the markers, with their line endings."""
        return self.lines[1:-1]


@dataclass(frozen=True)
class Parsed:
    """A text split into lines (line endings kept) and its solution regions, in order.

    kind is "code" (``###`` markers) or "markdown" (HTML-comment markers).
    """

    path: str
    lines: tuple[str, ...]
    regions: tuple[Region, ...]
    kind: str = "code"


def marker_pair(kind):
    """The (BEGIN, END) marker lines of a kind of text ("code" or "markdown")."""
    if kind not in KINDS:
        raise ValueError(f"kind is {kind!r}, expected one of {KINDS}")
    return (BEGIN, END) if kind == "code" else (MD_BEGIN, MD_END)


def _indent_of(line):
    return line[: len(line) - len(line.lstrip(" \t"))]


def line_ending(line):
    """The line ending of `line` ('' for a last line without one)."""
    stripped = line.rstrip("\r\n")
    return line[len(stripped) :]


def parse(text, path="<text>", *, first_line=1, kind="code"):
    """Split `text` into lines and find its solution regions with the marker state machine.

    Inputs:
    - text: str, a whole file or one notebook cell's source
    - path: used in error messages (e.g. "assignment/layers.py" or "notebooks/X.ipynb cell 7")
    - first_line: the 1-based line number of text's first line in `path` (for messages)
    - kind: "code" (``### BEGIN SOLUTION``) or "markdown" (``<!-- BEGIN SOLUTION -->``)

    Returns a Parsed. Raises MarkerError (file:line) for every malformed-marker case listed in
    the module docstring, for a heading inside a markdown region, and for a CS231n banner line
    in the source (banners are what the student version is made of; in the source they would
    make the round trip ambiguous).
    """
    begin_marker, end_marker = marker_pair(kind)
    other = "code" if kind == "markdown" else "markdown"
    lines = tuple(text.splitlines(keepends=True))
    regions = []
    state = "OUTSIDE"
    begin = None
    indent = ""

    def where(i):
        return first_line + i

    for i, line in enumerate(lines):
        stripped = line.strip()
        upper = stripped.upper()
        is_begin = stripped == begin_marker
        is_end = stripped == end_marker
        if not (is_begin or is_end) and any(w in upper for w in _MARKER_WORDS):
            raise MarkerError(
                path,
                where(i),
                f"malformed marker {stripped!r}: a marker line in {kind} must be exactly "
                f"{begin_marker!r} or {end_marker!r} (plus indentation); "
                f"{' / '.join(marker_pair(other))} are for {other}",
            )
        if any(w in upper for w in _BANNER_WORDS):
            raise MarkerError(
                path,
                where(i),
                f"student banner {stripped!r} in the source: mark solutions with "
                f"{begin_marker!r} / {end_marker!r} only; the release tool writes the banners",
            )
        if state == "OUTSIDE":
            if is_begin:
                state, begin, indent = "INSIDE", i, _indent_of(line)
            elif is_end:
                raise MarkerError(
                    path,
                    where(i),
                    f"{end_marker!r} without a matching {begin_marker!r} (unbalanced markers)",
                )
        else:  # INSIDE
            if is_begin:
                raise MarkerError(
                    path,
                    where(i),
                    f"nested {begin_marker!r}: the region opened at line {where(begin)} is not "
                    "closed yet (regions cannot be nested)",
                )
            if kind == "markdown" and stripped.startswith("#"):
                raise MarkerError(
                    path,
                    where(i),
                    f"heading {stripped!r} inside the markdown solution region opened at line "
                    f"{where(begin)}: headings are the notebook's sections and must stay in "
                    "the student release; close the region before the heading",
                )
            if is_end:
                if _indent_of(line) != indent:
                    raise MarkerError(
                        path,
                        where(i),
                        f"{end_marker!r} is indented {len(_indent_of(line))} columns but its "
                        f"{begin_marker!r} at line {where(begin)} is indented {len(indent)}: give "
                        "both markers the indentation of the code between them",
                    )
                body = lines[begin + 1 : i]
                if not any(b.strip() for b in body):
                    raise MarkerError(
                        path, where(begin), "empty solution region: put the solution between "
                        "the markers or delete them"
                    )
                regions.append(Region(begin, i, indent, lines[begin : i + 1]))
                state = "OUTSIDE"
            elif stripped and not line.startswith(indent):
                raise MarkerError(
                    path,
                    where(i),
                    f"line is indented less than the {begin_marker!r} marker at line "
                    f"{where(begin)}: the region would not be replaceable by a stub at the "
                    "marker's indentation; indent the markers like the code between them",
                )
    if state == "INSIDE":
        raise MarkerError(
            path,
            where(begin),
            f"{begin_marker!r} is never closed by {end_marker!r} (unbalanced markers)",
        )
    return Parsed(str(path), lines, tuple(regions), kind)


# ---------------------------------------------------------------------------------------------
# Renderings
# ---------------------------------------------------------------------------------------------


def _chunks(message, width):
    """Split message into pieces of at most ~width characters at spaces (spaces kept)."""
    pieces, current = [], ""
    for word in message.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(candidate) > width:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    return [*pieces, current]


def code_stub(indent, message, eol="\n", width=100):
    """The student stub for a code region: banner pair around raise NotImplementedError.

    The message is one string literal, split over lines (implicit concatenation) to keep the
    lines within `width` columns where its words allow. Returns a list of lines (the last one
    ending with `eol`, which may be '').
    """
    literals = [f"{indent}    {piece!r}\n" for piece in _chunks(message, width - len(indent) - 8)]
    return [
        f"{indent}{BANNER_START}\n",
        f"{indent}raise NotImplementedError(\n",
        *literals,
        f"{indent})\n",
        f"{indent}{BANNER_END}{eol}",
    ]


def render_student(parsed, messages=None, *, kind=None):
    """The student version of a parsed text.

    Inputs:
    - parsed: Parsed
    - messages: for code, one NotImplementedError message per region (a sequence of the
      length of parsed.regions)
    - kind: "code" (regions become stubs) or "markdown" (each region becomes the line
      PLACEHOLDER); default: parsed.kind

    Returns the student text (str).
    """
    kind = parsed.kind if kind is None else kind
    marker_pair(kind)  # validates kind
    if kind == "code" and (messages is None or len(messages) != len(parsed.regions)):
        raise ValueError(
            f"messages: expected one message per region ({len(parsed.regions)}), got "
            f"{None if messages is None else len(messages)}"
        )
    out = []
    pos = 0
    for k, region in enumerate(parsed.regions):
        out.extend(parsed.lines[pos : region.begin])
        eol = line_ending(region.lines[-1])
        if kind == "code":
            out.extend(code_stub(region.indent, messages[k], eol))
        else:
            out.append(f"{region.indent}{PLACEHOLDER}{eol}")
        pos = region.end + 1
    out.extend(parsed.lines[pos:])
    return "".join(out)


def render_solution(parsed):
    """The solution version: the marker lines removed, everything else kept."""
    out = []
    pos = 0
    for region in parsed.regions:
        out.extend(parsed.lines[pos : region.begin])
        out.extend(region.body)
        if region.end == len(parsed.lines) - 1 and not line_ending(region.lines[-1]) and out:
            out[-1] = out[-1].rstrip("\r\n")
        pos = region.end + 1
    out.extend(parsed.lines[pos:])
    return "".join(out)


def find_stubs(text, path="<student>"):
    """Locate the banner-pair stubs in a student code text.

    Returns a list of (start, end) 0-based line indices of each START and END banner line.
    Raises MarkerError on an unbalanced banner.
    """
    lines = text.splitlines(keepends=True)
    stubs = []
    start = None
    for i, line in enumerate(lines):
        s = line.strip()
        if s == BANNER_START:
            if start is not None:
                raise MarkerError(path, i + 1, "nested START OF YOUR CODE banner")
            start = i
        elif s == BANNER_END:
            if start is None:
                raise MarkerError(path, i + 1, "END OF YOUR CODE banner without a START")
            stubs.append((start, i))
            start = None
    if start is not None:
        raise MarkerError(path, start + 1, "START OF YOUR CODE banner is never closed")
    return stubs


def find_placeholders(text, regions, path="<student>"):
    """Locate the PLACEHOLDER line left by each markdown region in a student text.

    Each region's placeholder sits where its BEGIN line was, shifted up by the lines the
    earlier regions took. Returns a list of (line, line) 0-based spans; raises MarkerError if
    a placeholder is not where it should be (the student text was edited there).
    """
    lines = text.splitlines(keepends=True)
    spans, removed = [], 0
    for region in regions:
        at = region.begin - removed
        if at >= len(lines) or lines[at].strip() != PLACEHOLDER:
            raise MarkerError(path, at + 1, f"expected the answer placeholder {PLACEHOLDER!r} "
                              "here (where a solution region was)")
        spans.append((at, at))
        removed += len(region.lines) - 1
    return spans


def restore(student_text, regions, *, kind="code", path="<student>"):
    """Put solution regions back into a student text (the inverse of render_student).

    For code the stubs are found independently, by their banners; for markdown each
    region's placeholder line is found where the region was (find_placeholders).

    Returns the restored text (str).
    """
    lines = student_text.splitlines(keepends=True)
    if kind == "code":
        stubs = find_stubs(student_text, path)
    else:
        stubs = find_placeholders(student_text, regions, path)
    if len(stubs) != len(regions):
        raise ValueError(
            f"{path}: {len(stubs)} stubs in the student text but {len(regions)} regions given"
        )
    out = []
    pos = 0
    for (start, end), region in zip(stubs, regions, strict=True):
        out.extend(lines[pos:start])
        out.extend(region.lines)
        pos = end + 1
    out.extend(lines[pos:])
    return "".join(out)
