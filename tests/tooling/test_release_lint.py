"""Tests that the released code is ruff clean (``make lint`` passes on the starting code) and
that the source's student files use every import without the exemption pyproject.toml gives
the student release."""

import subprocess
import sys
from pathlib import Path

import pytest

from instructor import release

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


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
