"""Tests of the student release of the real repository (the proofs of issue 5): no leak and
cleared notebooks, the round trip to the source, identical bytes on a second build, every
module imports and every part's public check says TODO (given parts pass), every stub is
reached by its part's checks and raises its message; the command line builds it.

The release is the session's (``real_student``, tests/tooling/conftest.py); these need the
real notebooks and fail, not skip, when they are missing. Its notebooks run:
test_release_notebooks.py; ruff on it: test_release_lint.py.
"""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from instructor import release
from instructor.release import sections
from tests.tooling import release_proofs as proofs
from tests.tooling.real_repo import REAL_NOTEBOOKS, require_real_repo

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


@pytest.mark.slow
def test_real_student_release_has_no_leak_and_cleared_notebooks(real_student):
    assert real_student.stubs > 20
    proofs.assert_no_leak(REPO, real_student.root, release.configured_given(REPO))
    proofs.assert_notebooks_cleared(real_student.root)
    shipped = set(real_student.files)
    for left_out in ("instructor/__init__.py", "tests/tooling/test_release_real_student.py",
                     "tests/hidden/test_layers.py", ".git"):
        assert left_out not in shipped
    assert not any(f.startswith(("tests/fixtures/", "instructor/")) for f in shipped)
    for needed in ("assignment/collect.py", "assignment/checks/__init__.py",
                   "collectSubmission.sh", *REAL_NOTEBOOKS):
        assert needed in shipped


@pytest.mark.slow
def test_real_round_trip_reproduces_the_source(real_student):
    proofs.assert_round_trip(REPO, real_student.root, release.configured_given(REPO))


@pytest.mark.slow
def test_real_generating_twice_gives_identical_bytes(real_student, real_solution, tmp_path):
    again = release.build_student(REPO, tmp_path / "student")
    assert proofs.tree_digest(again.root) == proofs.tree_digest(real_student.root)
    again = release.build_solution(REPO, tmp_path / "solution", execute=False)
    assert proofs.tree_digest(again.root) == proofs.tree_digest(real_solution.root)
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
            shipped = proofs.stub_messages(real_student.root / rel)
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
