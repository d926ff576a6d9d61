"""Tests that run the real notebooks of the releases (need the CIFAR-10 data, ``make data``):
the student release's notebooks stop on the first NotImplementedError, and the solution
notebooks reproduce their committed outputs (nbval) in the student release filled with the
solution.
"""

import os
import re
import shutil
import subprocess
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
    env = {**os.environ, "CIFAR10_DIR": str(require_cifar10())}
    out = subprocess.run(
        [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg", *REAL_NOTEBOOKS],
        cwd=root, capture_output=True, text=True, timeout=3600, env=env)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
