"""Fixtures the tooling tests share, each built once per test session.

A release of the real repository takes a while to build (notebook parsing, stubbing, the leak
scan, HTML export); the release, grading and Gradescope tests read the same ones. They live
here, not in tests/conftest.py, because that file ships to students and must not name the
instructor tool.

Treat them as read-only: a test that changes files copies the tree first (``shutil.copytree``),
as ``build_kit(..., release_dir=...)`` does.

- ``student_release``: ``release.build_student`` of this repository with the configured given
  list (instructor/rubric.toml) -- a ``Build`` (``.root``, ``.files``, ``.stubs``);
- ``student_release_none_given``: the same with ``given = []`` (every function a TODO), as
  a release with that list is built (test_release_given; a test that fills the solution back
  in, ``release.fill_in``, works on a copy);
- ``solution_release``: ``release.build_solution`` with the committed notebook outputs (not
  re-executed) and their HTML;
- ``real_student``, ``real_solution``: the same two, by the names the release tests use;
- ``synthetic``: a small synthetic source tree in tmp_path (tests/tooling/release_synthetic.py),
  with the notebook sections of its two functions set in ``sections.SECTIONS`` (monkeypatched):
  the release tests' tree for every rule of what ships and every error case;
- ``mini_reference``: the mini notebook of the end-to-end grading tests (mini_grading's
  ``mini_notebook``) executed with the solution, as a dict: the reference notebook of their
  kits (test_grading, test_redteam). A new lean end-to-end grading test can build its kit from
  it and ``fake_release`` in the same way.
"""

from pathlib import Path

import pytest

from tests.tooling.real_repo import require_real_repo

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def student_release(tmp_path_factory):
    from instructor import release

    require_real_repo()
    return release.build_student(REPO, tmp_path_factory.mktemp("shared-release") / "student")


@pytest.fixture(scope="session")
def student_release_none_given(tmp_path_factory):
    from instructor import release

    require_real_repo()
    return release.build_student(REPO, tmp_path_factory.mktemp("shared-release") / "student",
                                 given=())


@pytest.fixture(scope="session")
def solution_release(tmp_path_factory):
    from instructor import release

    require_real_repo()
    return release.build_solution(REPO, tmp_path_factory.mktemp("shared-release") / "solution",
                                  execute=False)


@pytest.fixture(scope="session")
def real_student(student_release):
    return student_release


@pytest.fixture(scope="session")
def real_solution(solution_release):
    return solution_release


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    from instructor.release import sections
    from tests.tooling.release_synthetic import make_source

    monkeypatch.setattr(sections, "SECTIONS", {
        "double": sections.Where("Demo.ipynb", "Doubling", "affine"),
        "Model.loss": sections.Where("Demo.ipynb", "Tuning", "fc_net"),
    })
    return make_source(tmp_path / "src")


@pytest.fixture(scope="session")
def mini_reference(tmp_path_factory):
    from tests.tooling.mini_grading import execute, mini_notebook

    return execute(mini_notebook(), {}, tmp_path_factory.mktemp("mini-reference"))
