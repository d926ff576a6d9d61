"""Tests of instructor/release/: the student and solution releases.

Two kinds of source tree:

- a small synthetic tree built in tmp_path (every rule of what ships and every error case);
- the real repository (the proofs of issue 5: no leak, imports cleanly, every stub raises its
  message, the notebooks stop on NotImplementedError, round trip, identical bytes, the
  solution release passes the unit tests and nbval). These need the real notebooks and the
  CIFAR-10 data (``make data``); they fail, not skip, when those are missing.

Nothing is written into the repository: every build goes to tmp_path.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from instructor import given as given_mod
from instructor import manifest, markers, release
from instructor.markers import MarkerError
from instructor.release import ReleaseError, leaks, mentions, render, sections, stubs
from tests.cifar_fixtures import require_cifar10
from tests.tooling.real_repo import REAL_NOTEBOOKS, require_real_repo

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


# ---------------------------------------------------------------------------------------------
# Generic proofs, applied to the synthetic tree and to the real repository
# ---------------------------------------------------------------------------------------------


def tree_digest(root):
    """{relative path: sha256} of every file under root."""
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
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


# ---------------------------------------------------------------------------------------------
# A synthetic source tree
# ---------------------------------------------------------------------------------------------

MOD = textwrap.dedent(
    '''\
    """A module with two functions to write."""

    import numpy as np


    def double(x):
        """Return 2 * x."""
        if x is None:
            raise ValueError("x is None")
        # TODO: double x.
        ### BEGIN SOLUTION
        y = np.multiply(2, x)  # the secret doubling line
        ### END SOLUTION
        return y


    class Model:
        def loss(self, x):
            # TODO: the loss.
            ### BEGIN SOLUTION
            secret_loss_value = x * 3 + 17
            return secret_loss_value
            ### END SOLUTION
    '''
)


def _nb(cells):
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "language_info": {"name": "python", "version": "3.11.7"},
                     "widgets": {"secret": 1}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _md(i, text):
    return {"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": text}


def _code(i, text, outputs=(), count=None):
    return {"cell_type": "code", "id": f"c{i}", "metadata": {"execution": {"t": 1},
                                                                "tags": ["keep"]},
            "source": text, "outputs": list(outputs), "execution_count": count}


def make_source(root):
    """Write a small solution source tree into root; returns root."""
    root = Path(root)
    files = {
        "README.md": "# Instructor README\nsecret grading notes\n",
        "assignment/__init__.py": '"""Package."""\n',
        "assignment/mod.py": MOD,
        "assignment/secret_key.py": '"""Answer key. INSTRUCTOR ONLY."""\nKEY = 42\n',
        "instructor/tool.py": '"""Tool."""\n',
        "tests/public/test_public_thing.py": '"""Public."""\n\n\ndef test_x():\n    assert 1\n',
        "tests/hidden/test_layers.py": '"""Hidden: uses tests/fixtures/reference.npz."""\n',
        "tests/tooling/test_markers.py": '"""Tooling."""\n',
        "tests/fixtures/reference.npz": "answers",
        "datasets/README.md": "Data goes here.\n",
        "datasets/cifar-10-batches-py/data_batch_1": "pixels",
        "build/x.txt": "build product",
        "scripts/run.sh": "#!/bin/sh\necho hi\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "scripts/run.sh").chmod(0o755)
    cells = [
        _md(0, "# Demo\n## Doubling"),
        _code(1, "%matplotlib inline\nimport numpy as np"),
        _code(2, "def helper(v):\n    # TODO: write helper\n    ### BEGIN SOLUTION\n"
                 "    return v + 1000  # secret helper line\n    ### END SOLUTION\n",
              outputs=[{"output_type": "stream", "name": "stdout",
                        "text": "return v + 1000  # secret helper line\n"}], count=2),
        _md(3, "## Tuning"),
        _code(4, "# TODO: pick the best\n### BEGIN SOLUTION\nbest_rate_secret = 0.125\n"
                 "### END SOLUTION\nprint(best_rate_secret)",
              outputs=[{"output_type": "stream", "name": "stdout", "text": "0.125\n"}], count=3),
        _md(5, "**Inline question:** why?"),
        _md(6, "**Your Answer:**\n<!-- BEGIN SOLUTION -->\nBecause of the secret reason.\n"
               "<!-- END SOLUTION -->"),
        _code(7, "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.2)"),
    ]
    (root / "notebooks").mkdir()
    (root / "notebooks/Demo.ipynb").write_text(json.dumps(_nb(cells), indent=1) + "\n")
    return root


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    monkeypatch.setattr(sections, "SECTIONS", {
        "double": sections.Where("Demo.ipynb", "Doubling", "affine"),
        "Model.loss": sections.Where("Demo.ipynb", "Tuning", "fc_net"),
    })
    return make_source(tmp_path / "src")


def test_synthetic_student_release_ships_the_right_files(synthetic, tmp_path):
    build = release.build_student(synthetic, tmp_path / "out" / "student")
    assert build.files == [
        "README.md",
        "assignment/__init__.py",
        "assignment/mod.py",
        "datasets/README.md",
        "notebooks/Demo.ipynb",
        "scripts/run.sh",
        "tests/public/test_public_thing.py",
    ]
    assert build.stubs == 5  # 2 in mod.py, 2 notebook code cells, 1 answer
    root = build.root
    assert "Instructor README" not in (root / "README.md").read_text()
    assert "python -m assignment collect" in (root / "README.md").read_text()
    assert os.stat(root / "scripts/run.sh").st_mode & 0o777 == 0o755
    assert os.stat(root / "assignment/mod.py").st_mode & 0o777 == 0o644
    assert os.stat(root / "assignment/mod.py").st_mtime == release.DEFAULT_EPOCH
    assert_no_leak(synthetic, root)
    assert_notebooks_cleared(root)
    assert_round_trip(synthetic, root)


def test_synthetic_stubs_raise_their_messages(synthetic, tmp_path):
    root = release.build_student(synthetic, tmp_path / "student").root
    code = ("import assignment.mod as m\n"
            "for call in (lambda: m.double(1), lambda: m.Model().loss(1)):\n"
            "    try:\n        call()\n    except NotImplementedError as e:\n        print(e)\n")
    out = subprocess.run([PY, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "double: not implemented yet; see notebooks/Demo.ipynb, section 'Doubling' "
        "(check: python -m assignment check affine)",
        "Model.loss: not implemented yet; see notebooks/Demo.ipynb, section 'Tuning' "
        "(check: python -m assignment check fc_net)",
    ]
    nb = release.read_notebook(root / "notebooks/Demo.ipynb")
    assert "helper: not implemented yet; see notebooks/Demo.ipynb, section 'Doubling'" in (
        release.cell_source(nb["cells"][2]))
    assert "this cell: not implemented yet; see notebooks/Demo.ipynb, section 'Tuning'" in (
        release.cell_source(nb["cells"][4]))


def test_synthetic_solution_release(synthetic, tmp_path):
    build = release.build_solution(synthetic, tmp_path / "solution", execute=False)
    root = build.root
    mod = (root / "assignment/mod.py").read_text()
    assert mod == "".join(ln for ln in MOD.splitlines(keepends=True) if "SOLUTION" not in ln)
    nb = release.read_notebook(root / "notebooks/Demo.ipynb")
    assert release.cell_source(nb["cells"][6]) == (
        "**Your Answer:**\nBecause of the secret reason.")
    assert "".join(nb["cells"][4]["outputs"][0]["text"]) == "0.125\n"  # committed outputs kept
    assert "execution" not in nb["cells"][4]["metadata"]
    html = (root / "notebooks/Demo.html").read_text()
    assert "<html" in html and "best_rate_secret" in html
    assert build.notes


@pytest.mark.slow
def test_synthetic_generating_twice_gives_identical_bytes(synthetic, tmp_path, monkeypatch):
    a = release.build_all(synthetic, tmp_path / "a", execute=False)
    b = release.build_all(synthetic, tmp_path / "b", execute=False)
    assert set(a) == set(b) == {"student", "solution"}
    for name in ("student", "solution"):
        assert tree_digest(tmp_path / "a" / name) == tree_digest(tmp_path / "b" / name)
        za = (tmp_path / "a" / f"{name}.zip").read_bytes()
        assert za == (tmp_path / "b" / f"{name}.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a/student.zip") as zf:
        names = zf.namelist()
        assert names == sorted(names) and "student/assignment/mod.py" in names
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.slow
def test_synthetic_solution_release_executed_twice_is_identical(synthetic, tmp_path):
    a = release.build_solution(synthetic, tmp_path / "a", execute=True)
    nb = release.read_notebook(a.root / "notebooks/Demo.ipynb")
    assert nb["cells"][2]["outputs"] == []  # the committed (fake) output is gone: re-run
    assert "".join(nb["cells"][4]["outputs"][0]["text"]) == "0.125\n"
    counts = [c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == [1, 2, 3, 4]
    assert nb["cells"][7]["outputs"] == [  # the three flushed chunks coalesced into one
        {"output_type": "stream", "name": "stdout", "text": ["0\n", "1\n", "2\n"]}]
    assert not a.notes
    b = release.build_solution(synthetic, tmp_path / "b", execute=True)
    assert tree_digest(a.root) == tree_digest(b.root)


def test_instructor_command_line_registers_release():
    from instructor.__main__ import build_parser

    parser = build_parser()
    args = parser.parse_args(["release", "--out", "x", "--only", "student", "--execute"])
    assert (args.out, args.only, args.execute) == ("x", "student", True)
    assert args.func.__module__.startswith("instructor.release.")


def _expect_error(src, tmp_path, match, error=ReleaseError):
    with pytest.raises(error, match=match) as info:
        release.build_student(src, tmp_path / "student")
    return str(info.value)


def test_unclassified_test_file_stops_the_release(synthetic, tmp_path):
    (synthetic / "tests/test_new.py").write_text('"""New."""\n')
    msg = _expect_error(synthetic, tmp_path, "not classified")
    assert "tests/test_new.py" in msg


def test_missing_section_heading_stops_the_release(synthetic, tmp_path, monkeypatch):
    sections.SECTIONS["double"] = sections.Where("Demo.ipynb", "Tripling", "affine")
    _expect_error(synthetic, tmp_path, "has no such markdown heading")


def test_marker_in_a_non_code_file_stops_the_release(synthetic, tmp_path):
    (synthetic / "datasets/README.md").write_text("x\n### BEGIN SOLUTION\n")
    msg = _expect_error(synthetic, tmp_path, "never closed", MarkerError)
    assert msg.startswith("datasets/README.md:2:")


def test_malformed_marker_in_a_notebook_names_the_cell(synthetic, tmp_path):
    nb = release.read_notebook(synthetic / "notebooks/Demo.ipynb")
    nb["cells"][4]["source"] = "x = 1\n### END SOLUTION\n"
    (synthetic / "notebooks/Demo.ipynb").write_text(json.dumps(nb))
    msg = _expect_error(synthetic, tmp_path, "without a matching", MarkerError)
    assert msg.startswith("notebooks/Demo.ipynb cell 4:2:")


def _edit_cell(src, index, text):
    nb = release.read_notebook(src / "notebooks/Demo.ipynb")
    nb["cells"][index]["source"] = text
    (src / "notebooks/Demo.ipynb").write_text(json.dumps(nb))


DERIVATION = ("Show that, with $\\hat x = x / s$,\n\n**Your derivation:**\n\n"
              "<!-- BEGIN SOLUTION -->\n$$\\frac{dL}{dx} = \\frac{1}{s} \\cdot dout$$\n"
              "Because the secret derivation says so.\n<!-- END SOLUTION -->\n\nThen go on.")


def test_markdown_region_in_any_markdown_cell_becomes_the_placeholder(synthetic, tmp_path):
    _edit_cell(synthetic, 5, DERIVATION)
    build = release.build_student(synthetic, tmp_path / "student")
    nb = release.read_notebook(build.root / "notebooks/Demo.ipynb")
    assert release.cell_source(nb["cells"][5]) == (
        "Show that, with $\\hat x = x / s$,\n\n**Your derivation:**\n\n"
        "*Write your answer here.*\n\nThen go on.")
    assert release.cell_source(nb["cells"][6]) == "**Your Answer:**\n*Write your answer here.*"
    solution = release.build_solution(synthetic, tmp_path / "solution", html=False).root
    nb = release.read_notebook(solution / "notebooks/Demo.ipynb")
    assert release.cell_source(nb["cells"][5]) == DERIVATION.replace(
        "<!-- BEGIN SOLUTION -->\n", "").replace("<!-- END SOLUTION -->\n", "")
    assert_round_trip(synthetic, build.root)


@pytest.mark.parametrize("text, line, word", [
    ("Why?\n### BEGIN SOLUTION\nsecret\n### END SOLUTION\n", 2, "are for code"),
    ("Why?\n<!-- BEGIN SOLUTION -->\nsecret\n", 2, "never closed"),
    ("Why?\n<!-- BEGIN SOLUTION -->\n## 2. Next\n<!-- END SOLUTION -->\n", 3, "heading"),
    ("Why?\n<!-- BEGIN SOLUTION -->\n  \n<!-- END SOLUTION -->\n", 2, "empty"),
])
def test_malformed_markdown_region_stops_the_release_with_cell_and_line(
        synthetic, tmp_path, text, line, word):
    _edit_cell(synthetic, 5, text)
    msg = _expect_error(synthetic, tmp_path, word, MarkerError)
    assert msg.startswith(f"notebooks/Demo.ipynb cell 5:{line}:")


def test_todo_without_a_notebook_section_stops_the_release(synthetic, tmp_path):
    del sections.SECTIONS["Model.loss"]
    msg = _expect_error(synthetic, tmp_path, "which notebook section checks it")
    assert msg.startswith("assignment/mod.py:20:") and "'Model.loss' is a TODO" in msg


@pytest.mark.parametrize("notebook, section", [(None, None), ("Demo.ipynb", None), ("", "x")])
def test_a_where_without_a_notebook_section_cannot_be_built(notebook, section):
    with pytest.raises(sections.SectionError, match="must be a non-empty string"):
        sections.Where(notebook, section, "fc_net")


# ---------------------------------------------------------------------------------------------
# Given functions ([release] given)
# ---------------------------------------------------------------------------------------------


def test_given_function_ships_implemented_and_needs_no_section(synthetic, tmp_path):
    del sections.SECTIONS["Model.loss"]  # no section needed: it is given
    build = release.build_student(synthetic, tmp_path / "student", given=["Model.loss"])
    mod = (build.root / "assignment/mod.py").read_text()
    assert "secret_loss_value = x * 3 + 17" in mod and "SOLUTION" not in mod
    assert "y = np.multiply(2, x)" not in mod and mod.count("raise NotImplementedError(") == 1
    assert build.stubs == 4  # double, 2 notebook code cells, 1 answer
    assert "given (ship implemented): Model.loss" in build.notes
    assert_round_trip(synthetic, build.root, given=["Model.loss"])
    filled = tmp_path / "filled"
    shutil.copytree(build.root, filled)
    assert release.fill_in(synthetic, filled, given=["Model.loss"]) == ["assignment/mod.py"]
    solution = release.build_solution(synthetic, tmp_path / "solution", html=False).root
    assert (filled / "assignment/mod.py").read_text() == (
        solution / "assignment/mod.py").read_text()


def test_given_is_read_from_the_rubric_of_the_source(synthetic, tmp_path):
    (synthetic / "instructor/rubric.toml").write_text('[release]\ngiven = ["double"]\n')
    assert release.configured_given(synthetic) == ("double",)
    build = release.build_student(synthetic, tmp_path / "student")
    assert "y = np.multiply(2, x)" in (build.root / "assignment/mod.py").read_text()
    assert release.build_student(synthetic, tmp_path / "s2", given=[]).stubs == 5


def test_unknown_given_function_stops_the_release_naming_it(synthetic, tmp_path):
    sections.SECTIONS["helper_typo"] = sections.Where("Demo.ipynb", "Doubling", "affine")
    with pytest.raises(ReleaseError, match="'helper_typo'"):
        release.build_student(synthetic, tmp_path / "student", given=["double", "helper_typo"])
    (synthetic / "instructor/rubric.toml").write_text('[release]\ngiven = ["dubble"]\n')
    with pytest.raises(given_mod.GivenError, match="given names 'dubble', which is not a "):
        release.build_student(synthetic, tmp_path / "student")


# ---------------------------------------------------------------------------------------------
# The leak check (instructor/release/leaks.py)
# ---------------------------------------------------------------------------------------------


def test_leak_in_a_docstring_stops_the_release_with_file_and_line(synthetic, tmp_path):
    text = (synthetic / "assignment/mod.py").read_text().replace(
        '"""Return 2 * x."""', '"""Return 2 * x.\n\n    Hint:  y = np.multiply(2,   x)\n    """')
    (synthetic / "assignment/mod.py").write_text(text)
    msg = _expect_error(synthetic, tmp_path, "gives away 1 line")
    assert ("student/assignment/mod.py:9: contains 'y = np.multiply(2, x)', a line of the "
            "solution region at assignment/mod.py:15") in msg


def test_leak_in_a_markdown_cell_stops_the_release_with_cell_and_line(synthetic, tmp_path):
    _edit_cell(synthetic, 3, "## Tuning\n\nTip: we found best_rate_secret = 0.125 works.")
    msg = _expect_error(synthetic, tmp_path, "gives away")
    assert "student/notebooks/Demo.ipynb cell 3:3: contains 'best_rate_secret = 0.125'" in msg
    assert "notebooks/Demo.ipynb cell 4:3" in msg


def test_leak_of_a_markdown_answer_stops_the_release(synthetic, tmp_path):
    (synthetic / "scripts/run.sh").write_text("#!/bin/sh\n# Because of the secret reason.\n")
    msg = _expect_error(synthetic, tmp_path, "gives away")
    assert "student/scripts/run.sh:2: contains 'Because of the secret reason.'" in msg
    assert "notebooks/Demo.ipynb cell 6:3" in msg


def test_trivial_solution_lines_are_not_leaks(synthetic, tmp_path):
    text = MOD.replace("        return y\n", "        return secret_loss_value\n        pass\n"
                       "        return y\n").replace(
        "            return secret_loss_value\n", "            return secret_loss_value\n"
        "            pass\n")
    (synthetic / "assignment/mod.py").write_text(text)
    release.build_student(synthetic, tmp_path / "student")  # return/pass/names: trivial
    for line in ("return dx, dgamma, dbeta", "x = 1", "cache = (x, mask)", "N = x.shape[0]",
                 "a, fc_cache = affine_forward(x, w, b)", "else:"):
        assert leaks.is_trivial(line), line
    for line in ("out = x * mask / p", "best_rate = 0.125", 'mode = "train"', "xs[0, 1] = other",
                 "y = np.multiply(2, x)", "dx = np.where(x > 0, dout, 0)"):
        assert not leaks.is_trivial(line), line
    assert leaks.is_trivial("all words here", "code")  # names only
    assert not leaks.is_trivial("all words here", "markdown")  # prose


def test_regions_of_given_functions_are_no_secrets(synthetic, tmp_path):
    (synthetic / "scripts/run.sh").write_text("#!/bin/sh\n# secret_loss_value = x * 3 + 17\n")
    _expect_error(synthetic, tmp_path, "gives away")
    release.build_student(synthetic, tmp_path / "student", given=["Model.loss"])


def test_unstubbable_region_stops_the_release(synthetic, tmp_path):
    (synthetic / "assignment/bad.py").write_text(
        '"""Bad."""\n# TODO\n### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n')
    msg = _expect_error(synthetic, tmp_path, "outside any function", MarkerError)
    assert msg.startswith("assignment/bad.py:3:")


def test_shipped_file_pointing_at_left_out_fixture_stops_the_release(synthetic, tmp_path):
    (synthetic / "assignment/uses.py").write_text('"""Loads tests/fixtures/reference.npz."""\n')
    _expect_error(synthetic, tmp_path, "refers to")


@pytest.mark.parametrize("line", [
    "python -m bench --quick",
    "python -m instructor grade submissions/",
    "./.ci/run",
    "pytest tests/hidden/test_layers.py",
    "ls tests/fixtures/",
])
def test_shipped_file_mentioning_left_out_material_stops_the_release(synthetic, tmp_path, line):
    (synthetic / "scripts/run.sh").write_text(f"#!/bin/sh\n{line}\n")
    msg = _expect_error(synthetic, tmp_path, "refers to")
    assert "student/scripts/run.sh:2: ships but refers to" in msg
    assert "drop the reference from" in msg and "scripts/run.sh" in msg


def test_ordinary_text_in_a_shipped_file_passes(synthetic, tmp_path):
    (synthetic / "scripts/run.sh").write_text(
        "#!/bin/sh\n# ask your instructor; see tests/cifar_fixtures.py\nrm -rf build dist\n")
    release.build_student(synthetic, tmp_path / "student")


def test_student_readme_template_mentioning_left_out_material_stops_the_release(
        synthetic, tmp_path, monkeypatch):
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    with (templates / "README.student.md").open("a") as f:
        f.write("\nRelease it with `python -m instructor release`.\n")
    monkeypatch.setattr(render, "TEMPLATES", templates)
    msg = _expect_error(synthetic, tmp_path, "refers to the instructor tool")
    assert "student/README.md:" in msg and str(templates) in msg


SYNTHETIC_MAKEFILE = """\
.PHONY: test clean

test:
\tpython -m pytest tests

clean:
\trm -rf build dist

-include *.mk
"""

SYNTHETIC_BENCH_MK = """\
# INSTRUCTOR ONLY: the targets that need left-out files
.PHONY: bench grade report

# benchmarks
bench:
\tpython -m bench

grade: test
\tpython -m instructor grade

report: bench
\techo done
"""


def test_synthetic_makefile_ships_without_the_targets_that_need_left_out_files(
        synthetic, tmp_path):
    """The targets that need left-out files live in an INSTRUCTOR ONLY *.mk file, which the
    Makefile includes when present: the release ships the Makefile as it is, without it."""
    (synthetic / "Makefile").write_text(SYNTHETIC_MAKEFILE)
    (synthetic / "bench.mk").write_text(SYNTHETIC_BENCH_MK)
    build = release.build_student(synthetic, tmp_path / "student")
    assert (build.root / "Makefile").read_text() == SYNTHETIC_MAKEFILE
    assert _make_targets((build.root / "Makefile").read_text()) == ["test", "clean"]
    assert "bench.mk" not in build.files and not list(build.root.glob("*.mk"))
    assert "bench.mk" in release.private_files(synthetic)


def test_makefile_rule_that_needs_left_out_files_stops_the_release(synthetic, tmp_path):
    """A rule written into the Makefile itself is not dropped: the release stops at its line."""
    (synthetic / "Makefile").write_text(SYNTHETIC_MAKEFILE.replace(
        "\n-include", "\nbench:\n\tpython -m bench\n\n-include"))
    msg = _expect_error(synthetic, tmp_path, "refers to the benchmarks")
    assert "student/Makefile:10:" in msg


def test_makefile_naming_the_instructor_makefile_stops_the_release(synthetic, tmp_path):
    (synthetic / "Makefile").write_text(SYNTHETIC_MAKEFILE.replace("*.mk", "bench.mk"))
    (synthetic / "bench.mk").write_text(SYNTHETIC_BENCH_MK)
    msg = _expect_error(synthetic, tmp_path, "bench.mk, which is left out of the release")
    assert "student/Makefile:9:" in msg


def test_makefile_variable_mentioning_left_out_material_stops_the_release(synthetic, tmp_path):
    (synthetic / "Makefile").write_text("BENCH := python -m bench\n\nrun:\n\t$(BENCH)\n")
    msg = _expect_error(synthetic, tmp_path, "refers to the benchmarks")
    assert "student/Makefile:1:" in msg


def test_marker_left_in_an_output_file_stops_the_release(synthetic, tmp_path, monkeypatch):
    """The final scan catches a rendering that would leave a marker behind."""
    monkeypatch.setattr(render, "render_mixed", lambda src, rel, stubbed: (src / rel).read_text())
    msg = _expect_error(synthetic, tmp_path, "solution marker left in the output")
    assert "assignment/mod.py:11:" in msg


def test_output_inside_the_source_tree_is_refused(synthetic):
    with pytest.raises(ReleaseError, match="inside the source tree"):
        release.build_student(synthetic, synthetic / "elsewhere")


# ---------------------------------------------------------------------------------------------
# The real repository
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_student(student_release):
    """The session's student release (tests/tooling/conftest.py)."""
    return student_release


@pytest.fixture(scope="module")
def real_solution(solution_release):
    """The session's solution release (tests/tooling/conftest.py)."""
    return solution_release


@pytest.mark.slow
def test_real_student_release_has_no_leak_and_cleared_notebooks(real_student):
    assert real_student.stubs > 20
    assert_no_leak(REPO, real_student.root, release.configured_given(REPO))
    assert_notebooks_cleared(real_student.root)
    shipped = set(real_student.files)
    for left_out in ("instructor/__init__.py", "tests/tooling/test_release.py",
                     "tests/hidden/test_layers.py", ".git"):
        assert left_out not in shipped
    assert not any(f.startswith(("tests/fixtures/", "instructor/")) for f in shipped)
    for needed in ("assignment/collect.py", "assignment/checks/__init__.py",
                   "collectSubmission.sh", *REAL_NOTEBOOKS):
        assert needed in shipped


def _without_markers(text):
    keep = [ln for ln in text.splitlines(keepends=True)
            if ln.strip() not in (markers.BEGIN, markers.END, markers.MD_BEGIN, markers.MD_END)]
    return "".join(keep)


@pytest.mark.slow
def test_real_solution_release_is_the_source_without_marker_lines(real_solution):
    """So the source's own nbval and unit-test runs carry over to the solution release."""
    checked = 0
    for rel in real_solution.files:
        if rel == "README.md" or rel.endswith(".html"):
            continue
        ours = real_solution.root / rel
        if rel.endswith(".ipynb"):
            a, b = release.read_notebook(REPO / rel), release.read_notebook(ours)
            assert len(a["cells"]) == len(b["cells"]), rel
            for ca, cb in zip(a["cells"], b["cells"], strict=True):
                sa, sb = release.cell_source(ca), release.cell_source(cb)
                assert _without_markers(sa).rstrip("\n") == sb.rstrip("\n"), rel
                assert ca.get("outputs") == cb.get("outputs"), rel
            checked += 1
        elif rel.endswith(".py"):
            assert ours.read_text() == _without_markers((REPO / rel).read_text()), rel
            checked += 1
        else:
            assert ours.read_bytes() == (REPO / rel).read_bytes(), rel
    assert checked > 10
    assert (real_solution.root / "notebooks/Dropout.html").stat().st_size > 1000


@pytest.mark.slow
def test_real_round_trip_reproduces_the_source(real_student):
    assert_round_trip(REPO, real_student.root, release.configured_given(REPO))


def _mentions_left_out(line):
    return mentions.find(line, mentions.patterns(release.private_files(REPO))) is not None


def _ruff(root, *args):
    """`ruff check` in root with the configuration found there (no cache written)."""
    return subprocess.run([PY, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           *args], cwd=root, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("tree", ["real_student", "real_solution"])
def test_real_release_is_ruff_clean(tree, request):
    """`make lint` passes on the starting code: the stubs leave no undefined name, unused local
    or unused import behind (checked with the pyproject.toml that ships)."""
    out = _ruff(request.getfixturevalue(tree).root, ".")
    assert out.returncode == 0, out.stdout + out.stderr


def test_source_code_files_use_every_import_without_the_student_exemption():
    """pyproject.toml lets the files students complete import helpers that only the students'
    code calls (unused in the student release); the solution itself must use them all."""
    files = release.student_code_files(REPO)
    out = _ruff(REPO, "--config", "lint.per-file-ignores = {}", "--select", "F401", *files)
    assert out.returncode == 0, out.stdout + out.stderr


# A rule line: targets (not special like .PHONY, not a variable like $(STAMP)), then ":" or "::"
# (not ":=").
_RULE_LINE = re.compile(r"^([^\s#=:$.][^#=:]*?)\s*::?(?!=)", re.MULTILINE)


def _make_targets(text):
    """The targets of a Makefile text that a user can type (no special or variable targets)."""
    return [t for match in _RULE_LINE.finditer(text) for t in match.group(1).split()]


@pytest.mark.slow
def test_real_makefile_ships_unchanged_without_the_instructor_targets(real_student,
                                                                      real_solution):
    text = (real_student.root / "Makefile").read_text()
    assert (real_solution.root / "Makefile").read_text() == text == (REPO / "Makefile").read_text()
    targets = set(_make_targets(text))
    assert {"setup", "data", "test", "lint", "clean"} <= targets
    assert "bench" not in targets and "bench" in _make_targets((REPO / "bench.mk").read_text())
    assert not list(real_student.root.glob("*.mk")) and not list(real_solution.root.glob("*.mk"))
    for line in text.splitlines():
        assert not _mentions_left_out(line), line
        for prefix in manifest.PRIVATE_PREFIXES:  # the same, without mentions.py
            module = prefix.rstrip("/").replace("/", ".")
            assert prefix not in line and f"-m {module}" not in line, line


@pytest.mark.slow
def test_real_student_make_dry_run_of_every_target_mentions_nothing_left_out(real_student):
    if shutil.which("make") is None:
        pytest.fail("GNU make is not installed: the Makefile is the students' entry point")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    targets = _make_targets((real_student.root / "Makefile").read_text())
    for target in targets:
        out = subprocess.run(["make", "-n", target], cwd=real_student.root, capture_output=True,
                             text=True, env=env, timeout=60)
        assert out.returncode == 0, (target, out.stdout + out.stderr)
        said = [ln for ln in out.stdout.splitlines() if _mentions_left_out(ln)]
        assert not said, (target, said)
    out = subprocess.run(["make", "-n", "bench"], cwd=real_student.root, capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode != 0 and "No rule to make target 'bench'" in out.stderr


@pytest.mark.slow
def test_real_generating_twice_gives_identical_bytes(real_student, real_solution, tmp_path):
    again = release.build_student(REPO, tmp_path / "student")
    assert tree_digest(again.root) == tree_digest(real_student.root)
    again = release.build_solution(REPO, tmp_path / "solution", execute=False)
    assert tree_digest(again.root) == tree_digest(real_solution.root)
    release.write_zip(real_student.root, tmp_path / "a.zip")
    release.write_zip(again.root.parent / "student", tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_collect_lists_the_files_with_regions():
    from assignment import collect

    assert set(release.student_code_files(REPO)) == set(collect.STUDENT_CODE_FILES)
    assert set(collect.NOTEBOOKS) == set(REAL_NOTEBOOKS)


@pytest.mark.slow
def test_real_student_release_imports_and_reports_every_part_not_implemented(real_student):
    """Every check of a part with a TODO says TODO; the parts whose functions are all given
    (they ship implemented) pass."""
    code = ("import importlib, pkgutil, assignment\n"
            "for m in pkgutil.iter_modules(assignment.__path__):\n"
            "    if m.name != '__main__':\n"
            "        importlib.import_module('assignment.' + m.name)\n"
            "print('imported')\n")
    out = subprocess.run([PY, "-c", code], cwd=real_student.root, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "imported" in out.stdout, out.stderr
    out = subprocess.run([PY, "-m", "assignment", "check"], cwd=real_student.root,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    lines = [ln.split()[:2] for ln in out.stdout.splitlines() if ln[:4] in ("PASS", "FAIL", "TODO")]
    given = release.configured_given(REPO)
    todo_parts = {w.part for name, w in sections.SECTIONS.items() if name not in given}
    given_parts = {w.part for w in sections.SECTIONS.values()} - todo_parts
    assert given_parts and todo_parts
    assert {part for _, part in lines} == given_parts | todo_parts, out.stdout
    for status, part in lines:
        assert status == ("TODO" if part in todo_parts else "PASS"), out.stdout


@pytest.mark.slow
def test_real_every_stub_raises_its_message_when_reached(real_student, real_solution, tmp_path):
    """For each stubbed function F: a tree that is the solution except F is stubbed (with the
    student release's exact stub) reaches F's stub from F's public checks."""
    functions = release.region_functions(REPO)
    given = release.configured_given(REPO)
    jobs = []
    for rel, names in functions.items():
        for name in sorted(set(names)):
            root = tmp_path / name.replace(".", "_")
            shutil.copytree(real_solution.root / "assignment", root / "assignment")
            (root / rel).write_text(release.render_mixed(REPO, rel, {name}))
            message = sections.stub_message(name, sections.SECTIONS[name])
            shipped = stub_messages(real_student.root / rel)
            assert (message in shipped) == (name not in given), (rel, message)
            jobs.append((str(root), name, sections.SECTIONS[name].part, message))
    script = textwrap.dedent(
        """\
        import importlib, json, sys
        jobs = json.loads(sys.argv[1])
        seen = {}
        for root, name, part, message in jobs:
            for mod in [m for m in sys.modules if m == "assignment" or m.startswith("assignment.")]:
                del sys.modules[mod]
            sys.path.insert(0, root)
            pc = importlib.import_module("assignment.checks")
            results = pc.run_part(part)
            sys.path.remove(root)
            seen[name] = [r.detail for r in results if r.status == "TODO"]
        print(json.dumps(seen))
        """
    )
    out = subprocess.run([PY, "-c", script, json.dumps(jobs)], capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    missing = [name for _, name, _, message in jobs if message not in seen[name]]
    assert not missing, f"stubs never reached by their part's checks: {missing}\n{seen}"


def _data_env():
    return {"CIFAR10_DIR": str(require_cifar10())}


@pytest.mark.slow
@pytest.mark.parametrize("notebook", REAL_NOTEBOOKS)
def test_real_student_notebook_stops_on_not_implemented(real_student, notebook, tmp_path):
    root = tmp_path / "student"
    shutil.copytree(real_student.root, root)
    with pytest.raises(ReleaseError) as info:
        release.execute_notebook(root / notebook, timeout=600, env=_data_env())
    assert re.search(r": cell \d+: NotImplementedError: [^\n]*not implemented yet",
                     str(info.value)), str(info.value)[-2000:]


@pytest.mark.slow
def test_real_solution_release_passes_the_unit_tests(real_solution, tmp_path):
    """The source's unit tests (public and hidden) pass against the solution release's code."""
    root = tmp_path / "solution"
    shutil.copytree(real_solution.root, root)
    hidden = release.hidden_test_files(REPO)
    for rel in [*hidden, *[p.relative_to(REPO).as_posix()
                           for p in (REPO / "tests/fixtures").rglob("*") if p.is_file()]]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    shipped_tests = [f for f in real_solution.files if f.startswith("tests/public/test_")]
    tests = sorted({*hidden, *shipped_tests})
    env = {**os.environ, **_data_env()}
    out = subprocess.run([PY, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                         cwd=root, capture_output=True, text=True, timeout=1800, env=env)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


@pytest.mark.slow
def test_real_solution_notebooks_pass_nbval_in_the_filled_student_release(real_solution,
                                                                          tmp_path):
    """The student release with every function a TODO (given = []) and the solution copied
    back in (release.fill_in) runs the solution notebooks to their committed outputs. (The
    filled code is the solution release's, byte for byte, in both configurations:
    tests/tooling/test_release_given.py; so this one run covers both.)"""
    root = release.build_student(REPO, tmp_path / "student", given=[]).root
    release.fill_in(REPO, root, given=[])
    for rel in REAL_NOTEBOOKS:
        shutil.copy2(real_solution.root / rel, root / rel)
    env = {**os.environ, **_data_env()}
    out = subprocess.run(
        [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg", *REAL_NOTEBOOKS],
        cwd=root, capture_output=True, text=True, timeout=3600, env=env)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


@pytest.mark.slow
def test_cli_release_student_only(tmp_path):
    require_real_repo()
    out = subprocess.run([PY, "-m", "instructor", "release", "--out", str(tmp_path / "dist"),
                          "--only", "student"], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "dist/student/assignment/layers.py").exists()
    assert (tmp_path / "dist/student.zip").exists()
    assert not (tmp_path / "dist/solution").exists()


def test_grading_collects_inline_answers_from_the_released_answer_cells(synthetic, tmp_path):
    """instructor/grading/inline.py reads what a student writes into a released answer cell:
    nothing while the placeholder is there, the student's text once written (in place of the
    placeholder or under it)."""
    from instructor.grading import inline

    root = release.build_student(synthetic, tmp_path / "student").root
    nb = release.read_notebook(root / "notebooks/Demo.ipynb")

    def answer():
        got = inline.answers(json.dumps(nb).encode(), "Demo.ipynb")
        return got["Demo / Inline Question 1"]["answer"]

    assert answer() == ""
    cell = nb["cells"][6]
    released = release.cell_source(cell)
    cell["source"] = released.replace(markers.PLACEHOLDER, "Mine, in place.")
    assert answer() == "Mine, in place."
    cell["source"] = released + "\n\nMine, below."
    assert answer() == "Mine, below."
