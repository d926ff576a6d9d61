"""Tests that run the real notebooks of the releases (need the CIFAR-10 data, ``make data``):
the student release's notebooks stop on the first NotImplementedError, and the student
release filled with the solution holds what the solution notebooks run.
"""

import re
import shutil
import sys
from pathlib import Path

import pytest

from instructor import release
from instructor.release import ReleaseError
from tests.cifar_fixtures import require_cifar10
from tests.tooling.real_repo import REAL_NOTEBOOKS

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


@pytest.mark.slow
@pytest.mark.parametrize("notebook", REAL_NOTEBOOKS)
def test_real_student_notebook_stops_on_not_implemented(real_student, notebook, tmp_path):
    root = tmp_path / "student"
    shutil.copytree(real_student.root, root)
    with pytest.raises(ReleaseError) as info:
        release.execute_notebook(root / notebook, timeout=600,
                                 env={"CIFAR10_DIR": str(require_cifar10())})
    assert re.search(r": cell \d+: NotImplementedError: [^\n]*not implemented yet",
                     str(info.value)), str(info.value)[-2000:]


@pytest.mark.slow
def test_real_filled_student_release_holds_what_the_solution_notebooks_run(
        real_solution, student_release_none_given, tmp_path):
    """The student release with every function a TODO (given = []) and the solution copied
    back in (release.fill_in) holds, in every file the solution notebooks read, the solution
    release's bytes. With test_release_real_solution.py (the solution release is the source
    without marker lines) and `make test`'s nbval of the source notebooks, the filled release
    runs the solution notebooks to their committed outputs, without running them a second
    time. (The filled code is the same in both configurations: test_release_given.py.)"""
    root = tmp_path / "student"
    shutil.copytree(student_release_none_given.root, root)
    release.fill_in(REPO, root, given=[])

    def package(base):
        return {p.relative_to(base).as_posix(): p.read_bytes()
                for p in (base / "assignment").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}

    filled, solution = package(root), package(real_solution.root)
    assert sorted(filled) == sorted(solution)
    assert [rel for rel in filled if filled[rel] != solution[rel]] == []
    cfg = "notebooks/nbval_sanitize.cfg"
    assert (root / cfg).read_bytes() == (real_solution.root / cfg).read_bytes()
    for rel in REAL_NOTEBOOKS:   # the set-up cell imports the package of the tree it sits in
        ours = release.read_notebook(root / rel)["cells"]
        theirs = release.read_notebook(real_solution.root / rel)["cells"]
        assert release.cell_source(ours[1]) == release.cell_source(theirs[1]), rel
        assert "sys.path[:0] = [str(Path.cwd().parent)]" in release.cell_source(ours[1]), rel
