"""Tests of assignment/collect.py (``python -m assignment collect``, collectSubmission.sh)."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assignment import collect
from assignment.collect import CollectError
from instructor import markers

REPO = Path(__file__).resolve().parents[2]


def _notebook(counts, error_at=None):
    """A notebook whose code cells carry the given execution counts (None: not run)."""
    cells = [{"cell_type": "markdown", "id": "m0", "metadata": {},
              "source": "# Title\n**Your Answer:** my written answer"}]
    for i, count in enumerate(counts):
        outputs = [{"output_type": "stream", "name": "stdout", "text": f"out {i}\n"}]
        if i == error_at:
            outputs = [{"output_type": "error", "ename": "NotImplementedError",
                        "evalue": "dropout_forward: not implemented yet", "traceback": []}]
        cells.append({"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": f"x = {i}",
                      "execution_count": count, "outputs": outputs if count else []})
    cells.append({"cell_type": "code", "id": "empty", "metadata": {}, "source": "  \n",
                  "execution_count": None, "outputs": []})
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture
def student_root(tmp_path):
    """A submission folder: the real code files and two notebooks run top to bottom."""
    root = tmp_path / "repo"
    for rel in collect.STUDENT_CODE_FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    for rel in collect.NOTEBOOKS:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(_notebook([1, 2, 3])))
    return root


def _write_nb(root, rel, nb):
    (root / rel).write_text(json.dumps(nb))


@pytest.mark.slow
def test_collect_writes_code_notebooks_and_html(student_root, tmp_path, monkeypatch):
    monkeypatch.setattr(collect.shutil, "which", lambda name: None)
    lines = []
    out = collect.collect(student_root, tmp_path / "sub.zip", log=lines.append)
    with zipfile.ZipFile(out) as zf:
        names = sorted(zf.namelist())
        html = zf.read("notebooks/Dropout.html").decode()
    expected = sorted([*collect.STUDENT_CODE_FILES, *collect.NOTEBOOKS,
                       "notebooks/Dropout.html", "notebooks/BatchNormalization.html"])
    assert names == expected
    assert "my written answer" in html and "out 2" in html
    assert any(line.startswith("PDF: skipped") for line in lines)
    assert not (tmp_path / "sub.zip.tmp").exists()


def test_missing_files_are_all_listed(student_root, tmp_path):
    (student_root / "assignment/optim.py").unlink()
    (student_root / "notebooks/Dropout.ipynb").unlink()
    with pytest.raises(CollectError, match="missing required files") as info:
        collect.collect(student_root, tmp_path / "sub.zip", log=lambda s: None)
    assert "assignment/optim.py" in str(info.value)
    assert "notebooks/Dropout.ipynb" in str(info.value)
    assert not (tmp_path / "sub.zip").exists()


@pytest.mark.parametrize(
    "counts, error_at, expected",
    [
        ([1, 3, 2], None, "cells run out of order: In [3] (`x = 1`) is the 2nd code cell, "
                          "expected In [2]; run all cells top to bottom"),
        ([1, None, 2], None, "1 of 3 code cells not run; run all cells top to bottom"),
        ([2, 3, 4], None, "cells run out of order: In [2] (`x = 0`) is the 1st code cell, "
                          "expected In [1]"),
        ([1, 2, 3], 2, "In [3] (`x = 2`) ended in an error: NotImplementedError: "
                       "dropout_forward: not implemented yet"),
    ],
)
def test_notebooks_must_be_run_top_to_bottom(student_root, tmp_path, counts, error_at, expected):
    _write_nb(student_root, "notebooks/BatchNormalization.ipynb", _notebook(counts, error_at))
    with pytest.raises(CollectError, match="not run top to bottom") as info:
        collect.collect(student_root, tmp_path / "sub.zip", log=lambda s: None)
    assert f"notebooks/BatchNormalization.ipynb: {expected}" in str(info.value)


@pytest.mark.slow
def test_allow_incomplete_hands_in_with_warnings(student_root, tmp_path):
    _write_nb(student_root, "notebooks/Dropout.ipynb", _notebook([1, 2, None], error_at=1))
    lines = []
    out = collect.collect(student_root, tmp_path / "sub.zip", allow_incomplete=True,
                          log=lines.append)
    assert "WARNING: handing in notebooks that were not run top to bottom:" in lines
    with zipfile.ZipFile(out) as zf:
        warnings = zf.read("SUBMISSION_WARNINGS.txt").decode()
        assert "notebooks/Dropout.html" in zf.namelist()
    assert "notebooks/Dropout.ipynb: In [2] (`x = 1`) ended in an error" in warnings
    assert "notebooks/Dropout.ipynb: 1 of 3 code cells not run" in warnings


def test_a_notebook_that_was_not_run_is_one_line(student_root, tmp_path):
    counts = [*range(1, 19), *[None] * 12]
    _write_nb(student_root, "notebooks/Dropout.ipynb", _notebook(counts))
    with pytest.raises(CollectError) as info:
        collect.collect(student_root, tmp_path / "sub.zip", log=lambda s: None)
    lines = [ln for ln in str(info.value).splitlines() if "Dropout" in ln]
    assert lines == ["  - notebooks/Dropout.ipynb: 12 of 30 code cells not run; run all cells "
                     "top to bottom"]


def test_cells_are_named_as_jupyter_shows_them(tmp_path):
    """In [k] for a cell that ran; before it ran, its position among the code cells as they
    appear on screen (empty cells included) -- never an index that counts markdown cells."""
    nb = _notebook([1, 2, 3], error_at=1)
    nb["cells"].insert(1, {"cell_type": "code", "id": "e", "metadata": {}, "source": "",
                           "execution_count": None, "outputs": []})
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert collect.cell_name(3, cells[2]) == "In [2] (`x = 1`)"
    unrun = dict(cells[2], execution_count=None, source=["# " + "long " * 20, "\n", "y"])
    first = ("# " + "long " * 20)[:57]
    assert collect.cell_name(3, unrun) == f"the 3rd code cell (`{first}...`)"
    assert [collect._ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert collect.notebook_problems(path) == [
        "In [2] (`x = 1`) ended in an error: NotImplementedError: dropout_forward: not "
        "implemented yet"]


def test_notebook_problems_accepts_a_clean_run_and_ignores_empty_cells(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_notebook([1, 2])))
    assert collect.notebook_problems(path) == []
    path.write_text("{not json")
    assert collect.notebook_problems(path)[0].startswith("cannot be read as a notebook")


@pytest.mark.slow
def test_unimplemented_functions_are_a_loud_warning(student_root, tmp_path):
    stub = "".join(markers.code_stub("    ", "adam: not implemented yet; see ..."))
    path = student_root / "assignment/optim.py"
    path.write_text(path.read_text() + "\n\ndef extra():\n" + stub)
    lines = []
    collect.collect(student_root, tmp_path / "sub.zip", log=lines.append)
    assert lines[0].startswith("WARNING")
    assert "  - assignment/optim.py: adam" in lines


@pytest.mark.slow
def test_a_function_with_several_stubs_is_listed_once(student_root, tmp_path):
    stub = "".join(markers.code_stub("    ", "adam: not implemented yet; see ..."))
    other = "".join(markers.code_stub("    ", "rmsprop: not implemented yet; see ..."))
    path = student_root / "assignment/optim.py"
    path.write_text(path.read_text() + "\n\ndef extra():\n" + stub + "\n\ndef more():\n"
                    + other + stub)
    lines = []
    collect.collect(student_root, tmp_path / "sub.zip", log=lines.append)
    listed = [ln for ln in lines if ln.startswith("  - assignment/")]
    assert listed == ["  - assignment/optim.py: adam", "  - assignment/optim.py: rmsprop"]


@pytest.mark.slow
def test_pdf_without_its_tools_is_a_loud_error(student_root, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(CollectError, match="could not render notebooks/Dropout.ipynb as PDF"):
        collect.collect(student_root, tmp_path / "sub.zip", pdf=True, log=lambda s: None)
    assert not (tmp_path / "sub.zip").exists()


@pytest.mark.slow
def test_collect_submission_script(student_root, tmp_path):
    shutil.copy2(REPO / "collectSubmission.sh", student_root / "collectSubmission.sh")
    shutil.copytree(REPO / "assignment", student_root / "assignment", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", *[
                        Path(f).name for f in collect.STUDENT_CODE_FILES]))
    env = {"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(["bash", str(student_root / "collectSubmission.sh")], env=env,
                        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (student_root / "submission.zip").exists()
    _write_nb(student_root, "notebooks/Dropout.ipynb", _notebook([None, None]))
    bad = subprocess.run(["bash", str(student_root / "collectSubmission.sh"), "--out",
                          str(tmp_path / "x.zip")], env=env, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 1
    assert "ERROR: notebooks not run top to bottom" in bad.stderr
    assert "Restart Kernel and Run All Cells" in bad.stderr
    assert not (tmp_path / "x.zip").exists()
