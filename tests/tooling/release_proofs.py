"""Proofs that a student release is sound, shared by the release tests (synthetic and real
source trees): no solution line leaks into it, its notebooks are cleared, putting the
regions back gives the source (round trip), and two builds are byte for byte the same."""

import hashlib
import json
from pathlib import Path

from instructor import markers, release
from instructor.release import stubs

CACHES = {"__pycache__", ".pytest_cache"}


def tree_digest(root, skip_caches=False):
    """{relative path: sha256} of every file under root. ``skip_caches``: leave out what running
    Python writes (bytecode, pytest's cache) and symbolic links, for a tree that code runs in
    (test_redteam's check that grading changed no file outside the sandbox)."""
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not (skip_caches and (p.is_symlink() or CACHES & set(p.parts)))
    }


def solution_lines(src, given=()):
    """Stripped non-blank lines of every solution region the student release replaces (not
    those of given functions), and the set of lines outside any region."""
    sol = set()
    for _, _, _, region in release.secret_regions(src, given):
        sol.update(line.strip() for line in region.body if line.strip())
    outside = set()
    for rel in release.shipped_files(src):
        path = Path(src) / rel
        if rel.endswith(".ipynb"):
            nb = release.read_notebook(path)
            for cell in nb["cells"]:
                parsed = release.parse_cell(cell, rel)
                inside = {i for r in parsed.regions for i in range(r.begin, r.end + 1)}
                outside.update(
                    ln.strip() for i, ln in enumerate(parsed.lines) if i not in inside
                )
        elif rel.endswith(".py"):
            parsed = markers.parse(path.read_text(encoding="utf-8"), rel)
            inside = {i for r in parsed.regions for i in range(r.begin, r.end + 1)}
            outside.update(ln.strip() for i, ln in enumerate(parsed.lines) if i not in inside)
    return sol, outside


def assert_no_leak(src, student_root, given=()):
    """No solution line in the student tree: code, notebook sources, outputs or metadata.

    An independent re-check of the release's own leak check (instructor/release/leaks.py), by exact
    lines: it ignores the lines that also occur outside the regions in the source."""
    sol, outside = solution_lines(src, given)
    secret = sol - outside  # lines that appear nowhere but in solutions
    assert secret, "the source has no solution-only lines: nothing would be checked"
    long_secret = {s for s in secret if len(s) >= 20}
    leaks = []
    for path in sorted(Path(student_root).rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(student_root).as_posix()
        if rel.endswith(".ipynb"):
            nb = json.loads(text)
            for i, cell in enumerate(nb["cells"]):
                for ln in release.cell_source(cell).splitlines():
                    if ln.strip() in secret:
                        leaks.append(f"{rel} cell {i} source: {ln.strip()}")
                rest = json.dumps({k: v for k, v in cell.items() if k != "source"})
                leaks += [f"{rel} cell {i} outputs/metadata: {s}" for s in long_secret
                          if json.dumps(s)[1:-1] in rest]
            meta = json.dumps(nb.get("metadata", {}))
            leaks += [f"{rel} metadata: {s}" for s in long_secret if json.dumps(s)[1:-1] in meta]
        else:
            leaks += [f"{rel}: {ln.strip()}" for ln in text.splitlines() if ln.strip() in secret]
    assert not leaks, "solution lines in the student release:\n" + "\n".join(leaks[:20])


def stub_messages(path):
    """The messages of every `raise NotImplementedError("...")` in a Python file."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                and getattr(node.exc.func, "id", None) == "NotImplementedError"
                and node.exc.args and isinstance(node.exc.args[0], ast.Constant)):
            found.add(node.exc.args[0].value)
    return found


def assert_notebooks_cleared(student_root):
    for path in sorted(Path(student_root).rglob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert set(nb["metadata"]) <= set(release.KEEP_NOTEBOOK_METADATA), path
        for cell in nb["cells"]:
            assert set(cell.get("metadata", {})) <= set(release.KEEP_CELL_METADATA), path
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path
            src = release.cell_source(cell)
            if src.startswith(release.NOTEBOOK_ANSWER):  # the student writes the answer
                assert src.split() == [*release.NOTEBOOK_ANSWER.split(),
                                       *markers.PLACEHOLDER.split()], (path, src)


def _without_given_markers(text, rel, given):
    """The source text with the marker lines of the given functions' regions dropped."""
    parsed, names = stubs.parse_python(text, rel)
    drop = {i for r, n in zip(parsed.regions, names, strict=True) if n in given
            for i in (r.begin, r.end)}
    return "".join(ln for i, ln in enumerate(parsed.lines) if i not in drop)


def assert_round_trip(src, student_root, given=()):
    """Putting the regions back into the student files gives the source files exactly (less
    the marker lines of the given functions, whose code the student files already hold)."""
    src = Path(src)
    functions = release.region_functions(src)
    for rel, items in release.source_regions(src).items():
        if rel.endswith(".py"):
            student = (Path(student_root) / rel).read_text(encoding="utf-8")
            todo = [r for r, n in zip(items, functions[rel], strict=True) if n not in given]
            restored = markers.restore(student, todo, path=rel)
            source = (src / rel).read_text(encoding="utf-8")
            assert restored == _without_given_markers(source, rel, given), rel
        else:
            source_nb = release.read_notebook(src / rel)
            student_nb = release.read_notebook(Path(student_root) / rel)
            assert len(source_nb["cells"]) == len(student_nb["cells"])
            for i, (a, b) in enumerate(zip(source_nb["cells"], student_nb["cells"], strict=True)):
                regions = [r for (c, r) in items if c == i]
                kind = "markdown" if a["cell_type"] == "markdown" else "code"
                restored = markers.restore(release.cell_source(b), regions, kind=kind)
                assert restored == release.cell_source(a), f"{rel} cell {i}"
