"""Notebook parsing: cells, headings (the sections), and the solution regions of each cell.

Notebooks are read as plain dicts (no validation side effects, no random cell ids) and written
as nbformat writes them, so that a release is deterministic. A code cell's regions are stubbed
like those of a ``.py`` file (instructor/release/stubs.py), with the markdown heading above the
cell as the section of the stub's message; markdown cells hold answer regions
(``<!-- BEGIN SOLUTION -->``); a region in any other cell is an error.
"""

import json
from pathlib import Path

from instructor import markers
from instructor.release import sections, stubs
from instructor.release.errors import ReleaseError


def read_notebook(path):
    """Read a notebook as a plain dict (no validation side effects, no random cell ids)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_notebook_text(nb):
    """Serialize a notebook dict as nbformat does (indent 1, sorted keys), deterministically."""
    import nbformat

    node = nbformat.from_dict(nb)
    return nbformat.writes(node) + "\n"


def cell_source(cell):
    """A cell's source as one str (nbformat stores it as a str or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _heading(line):
    s = line.strip()
    if s.startswith("#"):
        return s.lstrip("#").strip()
    return None


def heading_cells(nb):
    """The markdown headings of a notebook dict, in order: [(cell index, level, text)], the
    level being the number of ``#``."""
    out = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "markdown":
            for line in cell_source(cell).splitlines():
                h = _heading(line)
                if h:
                    out.append((index, len(line.strip()) - len(line.strip().lstrip("#")), h))
    return out


def notebook_headings(nb):
    """The markdown heading texts of a notebook dict, in order."""
    return [text for _, _, text in heading_cells(nb)]


def cell_kind(cell):
    """The marker kind of a cell: "markdown" for markdown cells, "code" for the others."""
    return "markdown" if cell.get("cell_type") == "markdown" else "code"


def parse_cell(cell, where):
    """markers.parse of a notebook cell's source: markdown markers in markdown cells, code
    markers in the others. `where` names the cell in messages ("notebooks/X.ipynb cell 3")."""
    return markers.parse(cell_source(cell), where, kind=cell_kind(cell))


def parse_notebook(nb, rel):
    """Parse every cell of a notebook dict.

    Returns a list, one per cell, of (Parsed, messages-or-None, kind) where kind is "code",
    "markdown" or "raw"; messages holds the stub message of each code region.
    """
    result = []
    section = "(top of the notebook)"
    name_of_nb = Path(rel).name
    for index, cell in enumerate(nb.get("cells", [])):
        kind = cell.get("cell_type")
        text = cell_source(cell)
        where = f"{rel} cell {index}"
        parsed = parse_cell(cell, where)
        messages = None
        if kind == "markdown":
            for line in text.splitlines():
                h = _heading(line)
                if h:
                    section = h
        elif kind == "code":
            if parsed.regions:
                py = stubs.ipython_to_python(text)
                names = stubs.enclosing_functions(py, parsed)
                stubs.check_stubbable(
                    py, parsed, names, allow_top_level=True, to_python=stubs.ipython_to_python
                )
                messages = [
                    sections.notebook_stub_message(n, name_of_nb, section) for n in names
                ]
        elif parsed.regions:
            raise ReleaseError(
                f"{where}:{parsed.regions[0].begin + 1}: solution region in a {kind} cell; put "
                "it in a code cell or an answer (markdown) cell"
            )
        result.append((parsed, messages, kind))
    return result
