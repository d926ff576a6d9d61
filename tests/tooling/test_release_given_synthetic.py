"""Tests of given functions ([release] given, instructor/given.py) in the release of the
synthetic tree (tests/tooling/release_synthetic.py): a given function ships implemented and
needs no notebook section, the list is read from the source's rubric, an unknown name stops
the release. The real repository in both configurations: test_release_given.py.
"""

import shutil

import pytest

from instructor import given as given_mod
from instructor import release
from instructor.release import ReleaseError, sections
from tests.tooling import release_proofs as proofs


def test_given_function_ships_implemented_and_needs_no_section(synthetic, tmp_path):
    del sections.SECTIONS["Model.loss"]  # no section needed: it is given
    build = release.build_student(synthetic, tmp_path / "student", given=["Model.loss"])
    mod = (build.root / "assignment/mod.py").read_text()
    assert "secret_loss_value = x * 3 + 17" in mod and "SOLUTION" not in mod
    assert "y = np.multiply(2, x)" not in mod and mod.count("raise NotImplementedError(") == 1
    assert build.stubs == 4  # double, 2 notebook code cells, 1 answer
    assert "given (ship implemented): Model.loss" in build.notes
    proofs.assert_round_trip(synthetic, build.root, given=["Model.loss"])
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
