"""Fixtures the tooling tests share, each built once per test session.

A release of the real repository takes a while to build (notebook parsing, stubbing, the leak
scan, HTML export); the release, grading and Gradescope tests read the same ones. They live
here, not in tests/conftest.py, because that file ships to students and must not name the
instructor tool.

Treat them as read-only: a test that changes files copies the tree first (``shutil.copytree``),
as ``build_kit(..., release_dir=...)`` does.

- ``student_release``: ``release.build_student`` of this repository with the configured given
  list (instructor/rubric.toml) -- a ``Build`` (``.root``, ``.files``, ``.stubs``);
- ``solution_release``: ``release.build_solution`` with the committed notebook outputs (not
  re-executed) and their HTML.
"""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_NOTEBOOKS = ("notebooks/Dropout.ipynb", "notebooks/BatchNormalization.ipynb")


def _require_real_repo():
    missing = [n for n in REAL_NOTEBOOKS if not (REPO / n).exists()]
    if missing:
        pytest.fail(f"the real notebooks are missing: {missing}")


@pytest.fixture(scope="session")
def student_release(tmp_path_factory):
    from instructor import release

    _require_real_repo()
    return release.build_student(REPO, tmp_path_factory.mktemp("shared-release") / "student")


@pytest.fixture(scope="session")
def solution_release(tmp_path_factory):
    from instructor import release

    _require_real_repo()
    return release.build_solution(REPO, tmp_path_factory.mktemp("shared-release") / "solution",
                                  execute=False)
