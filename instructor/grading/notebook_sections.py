"""Which code cells of a notebook sit under which headings (nbval's numbering of code cells).

A rubric item's ``sections`` (:mod:`instructor.grading.rubric`) select the code cells under
those headings. A heading section includes the cells under it up to the next heading of the
same or a higher level; a ``## Dropout`` section thus includes its ``### Forward``
subsection. ``### END SOLUTION`` is no heading, and an ``## Inline Question`` heading (markdown
only) does not end the section it sits in.
"""

import re

MARKERS = ("BEGIN SOLUTION", "END SOLUTION")
INLINE = re.compile(r"inline\s+question", re.IGNORECASE)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def code_cell_sections(nb):
    """For each code cell (nbval's numbering), the headings it sits under, outermost first."""
    stack, out = [], []   # stack of (level, text)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                m = HEADING.match(line)
                # "### END SOLUTION" is no heading; an "## Inline Question" heading holds
                # markdown only and does not end the section it sits in
                if m and m.group(2) not in MARKERS and not INLINE.search(m.group(2)):
                    level = len(m.group(1))
                    while stack and stack[-1][0] >= level:
                        stack.pop()
                    stack.append((level, m.group(2)))
        elif cell.get("cell_type") == "code":
            out.append([text for _, text in stack])
    return out


def _norm(text):
    return re.sub(r"\s+", " ", re.sub(r"[*_`]", "", text)).strip().lower()


def section_cells(nb, sections, exclude=()):
    """Code-cell numbers under any of the headings ``sections`` (``"*"``: all), except the
    cells whose whole source (stripped) is one of ``exclude``."""
    wanted = {_norm(s) for s in sections}
    skip = {e.strip() for e in exclude}
    sources = [_source(c).strip() for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    return [n for n, heads in enumerate(code_cell_sections(nb))
            if ("*" in sections or wanted & {_norm(h) for h in heads})
            and sources[n] not in skip]
