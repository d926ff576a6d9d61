"""Tests of the release's leak check (instructor/release/leaks.py, mentions.py): a solution line
given away anywhere in the student release (docstring, markdown cell, another file), or a
shipped file that refers to left-out instructor material, stops the release with the file and
line; trivial lines and the regions of given functions are no secrets. On the synthetic tree
(tests/tooling/release_synthetic.py); the real repository: test_release_real_student.py.
"""

import shutil

import pytest

from instructor import release
from instructor.release import leaks, render
from tests.tooling.release_synthetic import MOD, edit_cell, expect_error


def test_leak_in_a_docstring_stops_the_release_with_file_and_line(synthetic, tmp_path):
    text = (synthetic / "assignment/mod.py").read_text().replace(
        '"""Return 2 * x."""', '"""Return 2 * x.\n\n    Hint:  y = np.multiply(2,   x)\n    """')
    (synthetic / "assignment/mod.py").write_text(text)
    msg = expect_error(synthetic, tmp_path, "gives away 1 line")
    assert ("student/assignment/mod.py:9: contains 'y = np.multiply(2, x)', a line of the "
            "solution region at assignment/mod.py:15") in msg


def test_leak_in_a_markdown_cell_stops_the_release_with_cell_and_line(synthetic, tmp_path):
    edit_cell(synthetic, 3, "## Tuning\n\nTip: we found best_rate_secret = 0.125 works.")
    msg = expect_error(synthetic, tmp_path, "gives away")
    assert "student/notebooks/Demo.ipynb cell 3:3: contains 'best_rate_secret = 0.125'" in msg
    assert "notebooks/Demo.ipynb cell 4:3" in msg


def test_leak_of_a_markdown_answer_stops_the_release(synthetic, tmp_path):
    (synthetic / "scripts/run.sh").write_text("#!/bin/sh\n# Because of the secret reason.\n")
    msg = expect_error(synthetic, tmp_path, "gives away")
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
    expect_error(synthetic, tmp_path, "gives away")
    release.build_student(synthetic, tmp_path / "student", given=["Model.loss"])


def test_shipped_file_pointing_at_left_out_fixture_stops_the_release(synthetic, tmp_path):
    (synthetic / "assignment/uses.py").write_text('"""Loads tests/fixtures/reference.npz."""\n')
    expect_error(synthetic, tmp_path, "refers to")


@pytest.mark.parametrize("line", [
    "python -m bench --quick",
    "python -m instructor grade submissions/",
    "./.ci/run",
    "pytest tests/hidden/test_layers.py",
    "ls tests/fixtures/",
])
def test_shipped_file_mentioning_left_out_material_stops_the_release(synthetic, tmp_path, line):
    (synthetic / "scripts/run.sh").write_text(f"#!/bin/sh\n{line}\n")
    msg = expect_error(synthetic, tmp_path, "refers to")
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
    msg = expect_error(synthetic, tmp_path, "refers to the instructor tool")
    assert "student/README.md:" in msg and str(templates) in msg
