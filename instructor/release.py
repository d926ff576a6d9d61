"""Build the student release and the solution release from the one solution source.

Command line::

    python -m instructor release [--out DIR] [--only student|solution] [--execute]
                                 [--rubric RUBRIC]

writes ``DIR/student/``, ``DIR/solution/`` and the same trees zipped as ``DIR/student.zip`` and
``DIR/solution.zip`` (``DIR`` defaults to ``dist``). The output is deterministic: files are
walked in sorted order, written with fixed modes (0644, or 0755 for executables) and a fixed
mtime (``SOURCE_DATE_EPOCH``, default 1980-01-01), and the zips carry fixed entry metadata, so
generating twice gives identical bytes.

Python API (used by instructor/grading and the tests)::

    from instructor import release
    release.build_student(src, out, given=None)  # -> Build (out = the student tree's folder)
    release.build_solution(src, out, execute=False, html=True)
    release.build_all(src, out_dir)              # both trees + zips, as the command line
    release.shipped_files(src)                   # relative POSIX paths present in both releases
    release.private_files(src)                   # left-out files no shipped file may mention
    release.hidden_test_files(src)               # tests that grade student code, not shipped
    release.student_code_files(src)              # .py files holding solution regions
    release.source_regions(src)                  # {relative path: [Region or (cell, Region)]}
    release.region_functions(src)                # {relative .py path: [function per region]}
    release.render_mixed(src, rel, {"batchnorm_backward"})  # solution except those stubbed
    release.configured_given(src)                # [release] given of src/instructor/rubric.toml
    release.fill_in(src, student_root, given)    # the solution back into a student tree's .py

The student tree: each solution region of a ``.py`` file becomes the CS231n banner pair around
``raise NotImplementedError("<function>: not implemented yet; see notebooks/<X>.ipynb, section
'<S>' (check: ...)")``, with the function taken from the enclosing ``def`` and the section from
instructor/sections.py (every TODO must have one). The regions of the functions listed in
``[release] given`` (instructor/given.py) are rendered as in the solution instead: those
functions ship implemented. In notebooks, code-cell regions get the same stub (the section is
the markdown heading above the cell), markdown regions (``<!-- BEGIN SOLUTION -->``: answers,
derivations) become the line ``*Write your answer here.*``, and all outputs, execution counts
and metadata other than tags and the kernel spec are cleared. The README is the student README
from instructor/templates/. Finally the leak check (instructor/leaks.py) scans the written
tree: a line of any replaced region found anywhere in it stops the release with file:line.

In both trees the Makefile is the source Makefile without the rules that need left-out files
(``make bench``; instructor/makefile.py), and no shipped file may mention left-out instructor
material (instructor/references.py says what a mention is): the build checks every text file
it writes.

The solution tree: marker lines removed, code kept; the notebooks with their outputs, and an
HTML rendering next to each notebook. By default the outputs are the ones committed in the
source: the notebooks are committed executed top to bottom with the solution, and ``make
test`` (nbval) proves the solution code reproduces them; the release then is byte-for-byte
reproducible. ``--execute`` (``execute=True``) re-runs every notebook with nbclient inside the
solution tree instead (after a code change, say); the notebooks print wall-clock times, so
executed outputs differ from run to run in those lines (streams are coalesced, everything
else is seeded and identical).

What is left out of both trees is decided in instructor/manifest.py. Any problem stops the
build with a MarkerError or ReleaseError (both ValueError) naming file and line: malformed
markers (see instructor/markers.py), a region that cannot be stubbed, a TODO function without
a notebook section, an unknown given function, a marker left in an output file or a mention of
left-out material in one, a solution line left in the student tree, an unclassified test file.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from instructor import colab, leaks, makefile, manifest, markers, references, sections
from instructor import given as given_mod

TEMPLATES = Path(__file__).resolve().parent / "templates"
NOTEBOOK_ANSWER = "**Your Answer:**"
# Notebook metadata kept in the student release (everything else is execution metadata).
KEEP_NOTEBOOK_METADATA = ("kernelspec",)
KEEP_CELL_METADATA = ("tags", "editable", "deletable")
DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry


class ReleaseError(ValueError):
    """A release problem, with the file (and line) to fix."""


@dataclass
class Build:
    """What a build wrote.

    - root: the tree's folder (Path)
    - files: relative POSIX paths written, sorted
    - stubs: number of regions stubbed (student) or unmarked (solution)
    - notes: human-readable remarks (e.g. "notebooks not executed")
    """

    root: Path
    files: list = field(default_factory=list)
    stubs: int = 0
    notes: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Which files ship
# ---------------------------------------------------------------------------------------------


def _is_instructor_only(path):
    """True if the file's first line or (for .py) module docstring says INSTRUCTOR ONLY."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    first = text.split("\n", 1)[0]
    if manifest.INSTRUCTOR_ONLY in first:
        return True
    if path.suffix == ".py":
        try:
            doc = ast.get_docstring(ast.parse(text)) or ""
        except SyntaxError:
            return False
        return manifest.INSTRUCTOR_ONLY in doc
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
        except json.JSONDecodeError:
            return False
        if cells:
            src = cells[0].get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            return manifest.INSTRUCTOR_ONLY in src.split("\n", 1)[0]
    return False


def _matches(rel, patterns):
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def _walk(src):
    """Every file under src (relative POSIX paths, sorted), pruning excluded directory names."""
    src = Path(src)
    found = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in manifest.EXCLUDED_DIR_NAMES)
        for name in filenames:
            found.append((Path(dirpath) / name).relative_to(src).as_posix())
    return sorted(found)


def shipped_files(src):
    """The relative POSIX paths (sorted) of the source files that go into both releases.

    Raises ReleaseError for a file in tests/ that manifest.py does not classify.
    """
    src = Path(src)
    shipped, unclassified = [], []
    for rel in _walk(src):
        if rel.startswith(manifest.EXCLUDED_PREFIXES) or _matches(rel, manifest.EXCLUDED_GLOBS):
            continue
        if rel.startswith("datasets/") and rel not in manifest.DATASET_FILES:
            continue
        if rel.startswith("tests/"):
            if _matches(rel, manifest.HIDDEN_TESTS + manifest.TOOLING_TESTS):
                continue
            if not _matches(rel, manifest.PUBLIC_TESTS):
                unclassified.append(rel)
                continue
        if _is_instructor_only(src / rel):
            continue
        shipped.append(rel)
    if unclassified:
        raise ReleaseError(
            "test files not classified in instructor/manifest.py (add each to PUBLIC_TESTS, "
            "HIDDEN_TESTS or TOOLING_TESTS): " + ", ".join(unclassified)
        )
    return shipped


def private_files(src):
    """Relative paths (sorted) of the left-out files that no shipped file may mention.

    These are the hidden and tooling tests and the INSTRUCTOR ONLY files; the files under the
    private folders (manifest.PRIVATE_PREFIXES) are left out by folder and mentioned by folder.
    Build products, environments and downloaded data are not private.
    """
    src = Path(src)
    found = []
    for rel in _walk(src):
        if (rel.startswith(manifest.EXCLUDED_PREFIXES) or _matches(rel, manifest.EXCLUDED_GLOBS)
                or rel.startswith("datasets/") or rel == "README.md"):
            continue  # private folders, build products, data; the README ships (rewritten)
        if rel.startswith("tests/") and _matches(
            rel, manifest.HIDDEN_TESTS + manifest.TOOLING_TESTS
        ):
            found.append(rel)
        elif _is_instructor_only(src / rel):
            found.append(rel)
    return found


def hidden_test_files(src):
    """Relative paths of the tests that grade student code but are not shipped (HIDDEN_TESTS)."""
    return [r for r in _walk(src) if r.startswith("tests/") and _matches(r, manifest.HIDDEN_TESTS)]


# ---------------------------------------------------------------------------------------------
# Parsing the source
# ---------------------------------------------------------------------------------------------


def _ipython_to_python(text):
    """IPython cell source as plain Python with the same line numbers (magics become calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(text)


def _parse_python(text, rel):
    """Parse a .py file: (Parsed, [qualified function name per region])."""
    parsed = markers.parse(text, rel)
    if not parsed.regions:
        return parsed, []
    names = markers.enclosing_functions(text, parsed)
    markers.check_stubbable(text, parsed, names)
    return parsed, names


def _heading(line):
    s = line.strip()
    if s.startswith("#"):
        return s.lstrip("#").strip()
    return None


def _cell_source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def read_notebook(path):
    """Read a notebook as a plain dict (no validation side effects, no random cell ids)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_notebook_text(nb):
    """Serialize a notebook dict as nbformat does (indent 1, sorted keys), deterministically."""
    import nbformat

    node = nbformat.from_dict(nb)
    return nbformat.writes(node) + "\n"


def notebook_headings(nb):
    """The markdown heading texts of a notebook dict, in order."""
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in _cell_source(cell).splitlines():
                h = _heading(line)
                if h:
                    out.append(h)
    return out


def _cell_kind(cell):
    return "markdown" if cell.get("cell_type") == "markdown" else "code"


def parse_cell(cell, where):
    """markers.parse of a notebook cell's source: markdown markers in markdown cells, code
    markers in the others. `where` names the cell in messages ("notebooks/X.ipynb cell 3")."""
    return markers.parse(_cell_source(cell), where, kind=_cell_kind(cell))


def _parse_notebook(nb, rel):
    """Parse every cell of a notebook dict.

    Returns a list, one per cell, of (Parsed, messages-or-None, kind) where kind is "code",
    "markdown" or "raw"; messages holds the stub message of each code region.
    """
    result = []
    section = "(top of the notebook)"
    name_of_nb = Path(rel).name
    for index, cell in enumerate(nb.get("cells", [])):
        kind = cell.get("cell_type")
        text = _cell_source(cell)
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
                py = _ipython_to_python(text)
                names = markers.enclosing_functions(py, parsed)
                markers.check_stubbable(
                    py, parsed, names, allow_top_level=True, to_python=_ipython_to_python
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


def _py_messages(rel, parsed, names, src, stubbed):
    """The stub message of each region of a .py file whose function is in `stubbed` (None for
    the others). Raises ReleaseError (file:line, the function) if a stubbed function has no
    notebook section in instructor/sections.py or its section is not a heading there."""
    messages = []
    headings_cache = {}
    for region, name in zip(parsed.regions, names, strict=True):
        if name not in stubbed:
            messages.append(None)
            continue
        try:
            where = sections.lookup(name)
        except sections.SectionError as e:
            raise ReleaseError(f"{rel}:{region.begin + 1}: {e}") from None
        nb_path = Path(src) / "notebooks" / where.notebook
        if where.notebook not in headings_cache:
            if not nb_path.exists():
                raise ReleaseError(
                    f"{rel}:{region.begin + 1}: instructor/sections.py sends {name!r} to "
                    f"notebooks/{where.notebook}, which does not exist"
                )
            headings_cache[where.notebook] = notebook_headings(read_notebook(nb_path))
        if where.section not in headings_cache[where.notebook]:
            raise ReleaseError(
                f"{rel}:{region.begin + 1}: instructor/sections.py sends {name!r} to section "
                f"{where.section!r} of notebooks/{where.notebook}, which has no such markdown "
                f"heading; its headings: {headings_cache[where.notebook]}"
            )
        messages.append(sections.stub_message(name, where))
    return messages


def source_regions(src):
    """Every solution region of the shipped source files.

    Returns {relative path: list of Region} for .py files and {relative path: list of
    (cell index, Region)} for notebooks; files without regions are left out.
    """
    src = Path(src)
    out = {}
    for rel in shipped_files(src):
        path = src / rel
        if rel.endswith(".py"):
            parsed, _ = _parse_python(path.read_text(encoding="utf-8"), rel)
            if parsed.regions:
                out[rel] = list(parsed.regions)
        elif rel.endswith(".ipynb"):
            cells = _parse_notebook(read_notebook(path), rel)
            found = [(i, r) for i, (p, _, _) in enumerate(cells) for r in p.regions]
            if found:
                out[rel] = found
    return out


def student_code_files(src):
    """The .py files (relative POSIX paths, sorted) that hold solution regions."""
    return sorted(r for r in source_regions(src) if r.endswith(".py"))


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def _student_notebook(nb, rel):
    cells = _parse_notebook(nb, rel)
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
    cells = _parse_notebook(nb, rel)
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
    parsed, names = _parse_python(text, rel)
    messages = _py_messages(rel, parsed, names, src, stub_names)
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


def region_functions(src):
    """{relative .py path: [qualified function name of each region]} of the source tree."""
    out = {}
    for rel in student_code_files(src):
        _, names = _parse_python((Path(src) / rel).read_text(encoding="utf-8"), rel)
        out[rel] = names
    return out


def _render_file(src, rel, mode, mentions, given=()):
    """(bytes, number of regions, notes) of one file in the given mode ('student' or 'solution').

    `mentions` is references.patterns() for the source (the Makefile's rules are dropped by it).
    `given`: functions whose regions the student mode renders like the solution (not counted).
    """
    path = Path(src) / rel
    if rel == "Makefile":
        text = path.read_bytes().decode("utf-8")
        markers.parse(text, rel)  # a marker in any file but code and notebooks is an error
        text, dropped = makefile.shipped_makefile(
            text, lambda line: references.find(line, mentions) is not None
        )
        notes = []
        if dropped:
            notes.append(f"Makefile: targets left out (they need left-out files): "
                         f"{', '.join(dropped)}")
        return text.encode("utf-8"), 0, notes
    if rel.endswith(".py"):
        text = path.read_text(encoding="utf-8")
        parsed, names = _parse_python(text, rel)
        if not parsed.regions:
            return path.read_bytes(), 0, []
        if mode == "student":
            stubbed = set(names) - set(given)
            out = render_mixed(src, rel, stubbed)
            count = sum(name in stubbed for name in names)
        else:
            out, count = markers.render_solution(parsed), len(parsed.regions)
        return out.encode("utf-8"), count, []
    if rel.endswith(".ipynb"):
        nb = read_notebook(path)
        fn = _student_notebook if mode == "student" else _solution_notebook
        nb, count = fn(nb, rel)
        return write_notebook_text(nb).encode("utf-8"), count, []
    if rel == "README.md":
        return _readme(mode).encode("utf-8"), 0, []
    data = path.read_bytes()
    try:
        markers.parse(data.decode("utf-8"), rel)  # a marker in any other file is an error
    except UnicodeDecodeError:
        pass
    return data, 0, []


def _readme(mode):
    text = (TEMPLATES / "README.student.md").read_text(encoding="utf-8")
    if mode == "solution":
        text = (TEMPLATES / "README.solution-header.md").read_text(encoding="utf-8") + "\n" + text
    return text


def _epoch():
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return DEFAULT_EPOCH
    try:
        return max(int(value), DEFAULT_EPOCH)
    except ValueError as e:
        raise ReleaseError(
            f"SOURCE_DATE_EPOCH is {value!r}, expected an integer number of seconds"
        ) from e


def _write(root, rel, data, executable):
    target = Path(root) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    os.chmod(target, 0o755 if executable else 0o644)


def _fix_times(root):
    t = _epoch()
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            os.utime(Path(dirpath) / name, (t, t))
        os.utime(dirpath, (t, t))


def _fresh_dir(out):
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


def _check_output(root, files, src, mentions):
    """Scan the written tree: no marker, no mention of left-out material (see references.py).

    `mentions` is references.patterns() for the source. The error names the written file and
    line (the source file's line may differ: stubs, the Makefile's dropped rules).
    """
    for rel in files:
        try:
            text = (Path(root) / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        origin = TEMPLATES if rel == "README.md" else Path(src) / rel  # README: _readme()
        for number, line in enumerate(text.splitlines(), 1):
            upper = line.upper()
            if "BEGIN SOLUTION" in upper or "END SOLUTION" in upper:
                raise ReleaseError(f"{root}/{rel}:{number}: solution marker left in the output")
            found = references.find(line, mentions)
            if found:
                raise ReleaseError(
                    f"{root}/{rel}:{number}: ships but refers to {found[1]} ({found[0]!r}); "
                    f"drop the reference from {origin} or leave the file out "
                    "(instructor/manifest.py)"
                )


def _build(src, out, mode, given=()):
    src = Path(src).resolve()
    out = Path(out).resolve()
    if out.is_relative_to(src):
        rel = out.relative_to(src).as_posix() + "/"
        if not rel.startswith(manifest.EXCLUDED_PREFIXES):
            raise ReleaseError(
                f"out={out} is inside the source tree but not under one of "
                f"{manifest.EXCLUDED_PREFIXES}: the next release would ship it; write to dist/"
            )
    out = _fresh_dir(out)
    build = Build(root=out)
    files = shipped_files(src)
    if "README.md" not in files:
        files = sorted([*files, "README.md"])
    mentions = references.patterns(private_files(src))
    for rel in files:
        data, count, notes = _render_file(src, rel, mode, mentions, given)
        path = src / rel
        executable = path.exists() and bool(path.stat().st_mode & stat.S_IXUSR)
        _write(out, rel, data, executable)
        build.stubs += count
        build.notes += notes
    build.files = files
    _check_output(out, files, src, mentions)
    return build


def configured_given(src):
    """The functions given in the source's rubric (`src`/instructor/rubric.toml, [release])."""
    return given_mod.read(Path(src) / "instructor" / "rubric.toml")


def check_given(src, given):
    """Raise ReleaseError naming each function of `given` that has no solution region in the
    source's .py files (a typo, or a function that is not the student's)."""
    functions = {n for names in region_functions(src).values() for n in names}
    unknown = sorted(set(given) - functions)
    if unknown:
        raise ReleaseError(
            f"[release] given names {', '.join(map(repr, unknown))}: no solution region of the "
            f"source is in such a function; the functions with regions: "
            f"{', '.join(sorted(functions))}"
        )


def secret_regions(src, given=()):
    """The regions the student release replaces, as (label, first line, kind, Region) for
    instructor/leaks.py: every notebook region, and the .py regions outside given functions."""
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
            found += [(f"{rel} cell {cell}", 1, _cell_kind(nb["cells"][cell]), r)
                      for cell, r in items]
    return found


def check_leaks(src, root, files, given=()):
    """Raise ReleaseError listing every line of a replaced solution region that the student
    tree `root` still contains (instructor/leaks.py: what counts, and what is trivial)."""
    found = leaks.scan(root, files, leaks.secrets(secret_regions(src, given)))
    if found:
        shown = "\n".join(f"  {Path(root).name}/{leak}" for leak in found[:20])
        more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
        raise ReleaseError(
            f"the student release gives away {len(found)} line(s) of the solution:\n{shown}"
            f"{more}\nrewrite the shipped line (a docstring says what, not how), or move it into "
            "the solution region"
        )


def build_student(src, out, *, given=None):
    """Write the student release of the source tree `src` into the folder `out` (replaced).

    Inputs:
    - given: the functions that ship implemented (instructor/given.py); default: the
      [release] table of `src`/instructor/rubric.toml

    Returns a Build. Raises ReleaseError with file:line on any problem, including a line of a
    replaced solution region found anywhere in the written tree (check_leaks).
    """
    given = configured_given(src) if given is None else tuple(given)
    check_given(src, given)
    build = _build(src, out, "student", given)
    check_leaks(src, build.root, build.files, given)
    if given:
        build.notes.append(f"given (ship implemented): {', '.join(sorted(given))}")
    _fix_times(build.root)
    return build


def fill_in(src, student_root, given=None):
    """Put the solution back into the .py files of a student tree (in place): each stub gets
    its region back (markers.restore) and the markers are dropped. The result is the solution
    release's code when the student tree is the release of `src` with the same `given`.

    Returns the relative paths rewritten.
    """
    given = configured_given(src) if given is None else tuple(given)
    src, student_root = Path(src), Path(student_root)
    functions = region_functions(src)
    written = []
    for rel, regions in source_regions(src).items():
        if not rel.endswith(".py"):
            continue
        todo = [r for r, n in zip(regions, functions[rel], strict=True) if n not in given]
        path = student_root / rel
        restored = markers.restore(path.read_text(encoding="utf-8"), todo, path=rel)
        path.write_text(markers.render_solution(markers.parse(restored, rel)), encoding="utf-8")
        written.append(rel)
    return written


def build_solution(src, out, *, execute=False, html=True, timeout=1800):
    """Write the solution release of `src` into the folder `out` (replaced).

    Inputs:
    - execute: run every notebook top to bottom with nbclient inside the solution tree (the
      CIFAR-10 data of `src`/datasets is used through CIFAR10_DIR); False (default) keeps the
      outputs committed in the source
    - html: write notebooks/<name>.html next to each notebook
    - timeout: seconds per cell

    Returns a Build.
    """
    build = _build(src, out, "solution")
    notebooks = [r for r in build.files if r.endswith(".ipynb")]
    if execute:
        data = Path(src).resolve() / "datasets" / "cifar-10-batches-py"
        env = {"CIFAR10_DIR": str(data)} if data.is_dir() else {}
        for rel in notebooks:
            execute_notebook(build.root / rel, timeout=timeout, env=env)
    else:
        build.notes.append("notebook outputs are those committed in the source (--execute to "
                           "re-run them)")
    if html:
        for rel in notebooks:
            html_rel = rel[: -len(".ipynb")] + ".html"
            _write(build.root, html_rel, notebook_html(build.root / rel).encode("utf-8"), False)
            build.files.append(html_rel)
        build.files.sort()
    _fix_times(build.root)
    return build


def execute_notebook(path, *, timeout=1800, env=None, allow_errors=False):
    """Run a notebook file top to bottom in its own folder and save it with its outputs.

    Raises nbclient's CellExecutionError on the first failing cell (unless allow_errors).
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    # Merge the stream chunks a print loop leaves behind (their split depends on timing).
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return nb


def notebook_html(path):
    """The HTML rendering (nbconvert's HTMLExporter) of a notebook file, as str."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(Path(path), as_version=4)
    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


def write_zip(root, zip_path):
    """Zip the tree `root` deterministically (sorted entries, fixed times and modes)."""
    root = Path(root)
    zip_path = Path(zip_path)
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            entries.append(Path(dirpath) / name)
    tmp = zip_path.with_suffix(zip_path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(entries, key=lambda p: p.relative_to(root).as_posix()):
            info = zipfile.ZipInfo(f"{root.name}/{path.relative_to(root).as_posix()}",
                                   date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    os.replace(tmp, zip_path)
    return zip_path


def build_all(src, out_dir, *, only=None, execute=False, given=None):
    """The command line's work: out_dir/student, out_dir/solution and their zips.

    `given` as for build_student. Returns {"student": Build, "solution": Build} (only the ones
    built).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    builds = {}
    if only in (None, "student"):
        builds["student"] = build_student(src, out_dir / "student", given=given)
        write_zip(out_dir / "student", out_dir / "student.zip")
    if only in (None, "solution"):
        builds["solution"] = build_solution(src, out_dir / "solution", execute=execute)
        write_zip(out_dir / "solution", out_dir / "solution.zip")
    return builds


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def register(subparsers):
    """Add the `release` subcommand to instructor's argparse subparsers."""
    p = subparsers.add_parser(
        "release",
        help="write the student and solution releases",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--src", default=".", help="the solution source tree (default: .)")
    p.add_argument("--out", default="dist", help="output folder (default: dist)")
    p.add_argument("--only", choices=("student", "solution"), help="build one release only")
    p.add_argument("--rubric", default=None,
                   help="the rubric whose [release] given list says which functions ship "
                   "implemented (default: SRC/instructor/rubric.toml)")
    p.add_argument(
        "--execute",
        action="store_true",
        help="re-run the notebooks of the solution release with nbclient (default: keep the "
        "outputs committed in the source, which nbval checks; byte-for-byte reproducible)",
    )
    p.set_defaults(func=_main)
    colab.add_option(p)  # --colab-url URL: Open-in-Colab badges in the student notebooks


def _main(args):
    src = Path(args.src).resolve()
    out = Path(args.out)
    if not out.is_absolute():
        out = src / out
    try:
        if args.rubric and not Path(args.rubric).is_file():
            raise ReleaseError(f"--rubric {args.rubric}: no such file")
        given = given_mod.read(args.rubric) if args.rubric else None
        builds = build_all(src, out, only=args.only, execute=args.execute, given=given)
    except given_mod.GivenError as e:  # the message names the file and the bad name
        raise ReleaseError(str(e)) from None
    colab.badge_release(builds.get("student"), args.colab_url)
    for name, b in builds.items():
        print(f"{name}: {len(b.files)} files, {b.stubs} regions -> {b.root} (+ {b.root}.zip)")
        for note in b.notes:
            print(f"  note: {note}")
    return 0
