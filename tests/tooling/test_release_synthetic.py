"""Tests of instructor/release/ on the synthetic source tree (tests/tooling/release_synthetic.py):
what the student and solution releases hold, the stubs' messages, markdown answers, identical
bytes on a second build, and what grading reads back from a released answer cell.

The errors the release stops with: test_release_errors.py; its leak check:
test_release_leaks.py; the real repository: test_release_real_student.py and
test_release_real_solution.py. Nothing is written into the repository: every build goes to
tmp_path.
"""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from instructor import markers, release
from tests.tooling import release_proofs as proofs
from tests.tooling.release_synthetic import MOD, edit_cell

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


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
    proofs.assert_no_leak(synthetic, root)
    proofs.assert_notebooks_cleared(root)
    proofs.assert_round_trip(synthetic, root)


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
        assert proofs.tree_digest(tmp_path / "a" / name) == proofs.tree_digest(
            tmp_path / "b" / name)
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
    assert proofs.tree_digest(a.root) == proofs.tree_digest(b.root)


DERIVATION = ("Show that, with $\\hat x = x / s$,\n\n**Your derivation:**\n\n"
              "<!-- BEGIN SOLUTION -->\n$$\\frac{dL}{dx} = \\frac{1}{s} \\cdot dout$$\n"
              "Because the secret derivation says so.\n<!-- END SOLUTION -->\n\nThen go on.")


def test_markdown_region_in_any_markdown_cell_becomes_the_placeholder(synthetic, tmp_path):
    edit_cell(synthetic, 5, DERIVATION)
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
    proofs.assert_round_trip(synthetic, build.root)


def test_instructor_command_line_registers_release():
    from instructor.__main__ import build_parser

    parser = build_parser()
    args = parser.parse_args(["release", "--out", "x", "--only", "student", "--execute"])
    assert (args.out, args.only, args.execute) == ("x", "student", True)
    assert args.func.__module__.startswith("instructor.release.")


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
