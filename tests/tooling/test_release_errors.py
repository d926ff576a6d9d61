"""Tests of the source trees that instructor/release/ refuses to release, each with an error
that names the file (or notebook cell) and line: unclassified test files, missing notebook
sections, malformed or misplaced solution markers, a marker left in the output, an output
folder inside the source. On the synthetic tree (tests/tooling/release_synthetic.py).

The leak check's errors: test_release_leaks.py; the Makefile's: test_release_makefile.py.
"""

import json

import pytest

from instructor import release
from instructor.markers import MarkerError
from instructor.release import ReleaseError, render, sections
from tests.tooling.release_synthetic import edit_cell, expect_error


def test_unclassified_test_file_stops_the_release(synthetic, tmp_path):
    (synthetic / "tests/test_new.py").write_text('"""New."""\n')
    msg = expect_error(synthetic, tmp_path, "not classified")
    assert "tests/test_new.py" in msg


def test_missing_section_heading_stops_the_release(synthetic, tmp_path, monkeypatch):
    sections.SECTIONS["double"] = sections.Where("Demo.ipynb", "Tripling", "affine")
    expect_error(synthetic, tmp_path, "has no such markdown heading")


def test_marker_in_a_non_code_file_stops_the_release(synthetic, tmp_path):
    (synthetic / "datasets/README.md").write_text("x\n### BEGIN SOLUTION\n")
    msg = expect_error(synthetic, tmp_path, "never closed", MarkerError)
    assert msg.startswith("datasets/README.md:2:")


def test_malformed_marker_in_a_notebook_names_the_cell(synthetic, tmp_path):
    nb = release.read_notebook(synthetic / "notebooks/Demo.ipynb")
    nb["cells"][4]["source"] = "x = 1\n### END SOLUTION\n"
    (synthetic / "notebooks/Demo.ipynb").write_text(json.dumps(nb))
    msg = expect_error(synthetic, tmp_path, "without a matching", MarkerError)
    assert msg.startswith("notebooks/Demo.ipynb cell 4:2:")


@pytest.mark.parametrize("text, line, word", [
    ("Why?\n### BEGIN SOLUTION\nsecret\n### END SOLUTION\n", 2, "are for code"),
    ("Why?\n<!-- BEGIN SOLUTION -->\nsecret\n", 2, "never closed"),
    ("Why?\n<!-- BEGIN SOLUTION -->\n## 2. Next\n<!-- END SOLUTION -->\n", 3, "heading"),
    ("Why?\n<!-- BEGIN SOLUTION -->\n  \n<!-- END SOLUTION -->\n", 2, "empty"),
])
def test_malformed_markdown_region_stops_the_release_with_cell_and_line(
        synthetic, tmp_path, text, line, word):
    edit_cell(synthetic, 5, text)
    msg = expect_error(synthetic, tmp_path, word, MarkerError)
    assert msg.startswith(f"notebooks/Demo.ipynb cell 5:{line}:")


def test_todo_without_a_notebook_section_stops_the_release(synthetic, tmp_path):
    del sections.SECTIONS["Model.loss"]
    msg = expect_error(synthetic, tmp_path, "which notebook section checks it")
    assert msg.startswith("assignment/mod.py:20:") and "'Model.loss' is a TODO" in msg


@pytest.mark.parametrize("notebook, section", [(None, None), ("Demo.ipynb", None), ("", "x")])
def test_a_where_without_a_notebook_section_cannot_be_built(notebook, section):
    with pytest.raises(sections.SectionError, match="must be a non-empty string"):
        sections.Where(notebook, section, "fc_net")


def test_unstubbable_region_stops_the_release(synthetic, tmp_path):
    (synthetic / "assignment/bad.py").write_text(
        '"""Bad."""\n# TODO\n### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n')
    msg = expect_error(synthetic, tmp_path, "outside any function", MarkerError)
    assert msg.startswith("assignment/bad.py:3:")


def test_marker_left_in_an_output_file_stops_the_release(synthetic, tmp_path, monkeypatch):
    """The final scan catches a rendering that would leave a marker behind."""
    monkeypatch.setattr(render, "render_mixed", lambda src, rel, stubbed: (src / rel).read_text())
    msg = expect_error(synthetic, tmp_path, "solution marker left in the output")
    assert "assignment/mod.py:11:" in msg


def test_output_inside_the_source_tree_is_refused(synthetic):
    with pytest.raises(ReleaseError, match="inside the source tree"):
        release.build_student(synthetic, synthetic / "elsewhere")
