"""Rendering one source file for a release: the student version or the solution version.

Student: each solution region of a ``.py`` file becomes the CS231n banner pair around
``raise NotImplementedError("<message>")`` (instructor/markers.py; the message from
instructor/release/regions.py), except in the functions that ship implemented ("given"), whose
regions are rendered as in the solution. In notebooks, code-cell regions get the same stub,
markdown regions become the line ``*Write your answer here.*``, and all outputs, execution
counts and metadata other than tags and the kernel spec are cleared. The README is the student
README of instructor/templates/.

Solution: marker lines removed, code kept; notebooks keep their outputs (without per-cell
timing metadata). The README is the student README under the solution header.

Every other file is copied byte for byte; a marker in one is an error.
"""

import json
from pathlib import Path

from instructor import markers
from instructor.release.notebooks import parse_notebook, read_notebook, write_notebook_text
from instructor.release.regions import py_messages
from instructor.release.stubs import parse_python

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
NOTEBOOK_ANSWER = "**Your Answer:**"
# Notebook metadata kept in the student release (everything else is execution metadata).
KEEP_NOTEBOOK_METADATA = ("kernelspec",)
KEEP_CELL_METADATA = ("tags", "editable", "deletable")


def _student_notebook(nb, rel):
    cells = parse_notebook(nb, rel)
    nb = json.loads(json.dumps(nb))  # a deep copy
    count = 0
    for cell, (parsed, messages, kind) in zip(nb["cells"], cells, strict=True):
        if parsed.regions:
            cell["source"] = markers.render_student(parsed, messages, kind=kind)
            count += len(parsed.regions)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell["metadata"] = {
            k: v for k, v in cell.get("metadata", {}).items() if k in KEEP_CELL_METADATA
        }
    nb["metadata"] = {
        k: v for k, v in nb.get("metadata", {}).items() if k in KEEP_NOTEBOOK_METADATA
    }
    return nb, count


def _solution_notebook(nb, rel):
    cells = parse_notebook(nb, rel)
    nb = json.loads(json.dumps(nb))
    count = 0
    for cell, (parsed, _, _) in zip(nb["cells"], cells, strict=True):
        if parsed.regions:
            cell["source"] = markers.render_solution(parsed)
            count += len(parsed.regions)
        meta = cell.get("metadata", {})
        meta.pop("execution", None)
    return nb, count


def render_mixed(src, rel, stub_names):
    """A .py file of `src` with only the regions of the functions in `stub_names` stubbed.

    The other regions are rendered as in the solution. The stubs are those of the student
    release (same messages). Used to prove that each stub is reached with valid inputs, and by
    graders to build fixture submissions. Returns str.
    """
    text = (Path(src) / rel).read_text(encoding="utf-8")
    parsed, names = parse_python(text, rel)
    messages = py_messages(rel, parsed, names, src, stub_names)
    out, pos = [], 0
    for region, name, message in zip(parsed.regions, names, messages, strict=True):
        out.extend(parsed.lines[pos : region.begin])
        if name in stub_names:
            eol = markers.line_ending(region.lines[-1])
            out.extend(markers.code_stub(region.indent, message, eol))
        else:
            out.extend(region.body)
        pos = region.end + 1
    out.extend(parsed.lines[pos:])
    return "".join(out)


def render_file(src, rel, mode, given=()):
    """(bytes, number of regions) of one file in `mode` ('student' or 'solution').

    `given`: functions whose regions the student mode renders like the solution (not counted).
    """
    path = Path(src) / rel
    if rel.endswith(".py"):
        text = path.read_text(encoding="utf-8")
        parsed, names = parse_python(text, rel)
        if not parsed.regions:
            return path.read_bytes(), 0
        if mode == "student":
            stubbed = set(names) - set(given)
            out = render_mixed(src, rel, stubbed)
            count = sum(name in stubbed for name in names)
        else:
            out, count = markers.render_solution(parsed), len(parsed.regions)
        return out.encode("utf-8"), count
    if rel.endswith(".ipynb"):
        fn = _student_notebook if mode == "student" else _solution_notebook
        nb, count = fn(read_notebook(path), rel)
        return write_notebook_text(nb).encode("utf-8"), count
    if rel == "README.md":
        return readme(mode).encode("utf-8"), 0
    data = path.read_bytes()
    try:
        markers.parse(data.decode("utf-8"), rel)  # a marker in any other file is an error
    except UnicodeDecodeError:
        pass
    return data, 0


def readme(mode):
    """The README of a release: the student README, under the solution header for 'solution'."""
    text = (TEMPLATES / "README.student.md").read_text(encoding="utf-8")
    if mode == "solution":
        text = (TEMPLATES / "README.solution-header.md").read_text(encoding="utf-8") + "\n" + text
    return text
