"""Tests for tools/run_notebooks.py (the main job) on tiny notebooks generated in tmp_path."""

import json
import re
from pathlib import Path

import nbformat
import nbformat.v4 as v4
import pytest

from tools import run_notebooks

REPO = Path(__file__).resolve().parents[2]


def _write_notebook(path, *sources):
    """Writes a notebook with a markdown title and one code cell per source."""
    notebook = v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [v4.new_markdown_cell("# Tiny")]
    notebook.cells += [v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


# The checks come from the real helper, imported from the repository the way the
# notebooks do it (repository root on sys.path).
SETUP = (
    f"import os, sys\nsys.path.insert(0, {str(REPO)!r})\n"
    "from assignment import notebook_checks as nc"
)
FIGURE = (
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(2, 2))\n"
    "ax.plot([0, 1], [1, 0])\n"
    "ax.set_title('line');\n"
    "plt.show()"
)


@pytest.mark.slow
def test_main_runs_a_notebook_and_writes_notebook_html_and_figures(tmp_path, capsys):
    source = _write_notebook(
        tmp_path / "tiny.ipynb",
        SETUP,
        "nc.check_below('error', 1e-10, 1e-8)\nnc.check_claim('a claim', True)\nprint(os.getcwd())",
        FIGURE,
        FIGURE,
    )
    out = tmp_path / "out"

    status = run_notebooks.main([str(source), "--out", str(out)])

    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"tiny\.ipynb: 2 checks passed, 0 failed, \d+\.\d s", lines[0])
    assert sorted(p.name for p in out.iterdir()) == [
        "tiny-fig01.png",
        "tiny-fig02.png",
        "tiny.html",
        "tiny.ipynb",
    ]
    for png in ("tiny-fig01.png", "tiny-fig02.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    executed = json.loads((out / "tiny.ipynb").read_text())
    printed = "".join(executed["cells"][2]["outputs"][0]["text"])
    # The kernel's working directory is the notebook's folder (as under nbval and Jupyter).
    assert printed.splitlines()[-1] == str(tmp_path)
    assert "a claim: PASS" in (out / "tiny.html").read_text()
    # The source notebook is left untouched (no outputs written back).
    assert all(not cell.get("outputs") for cell in nbformat.read(source, 4).cells[1:])


@pytest.mark.slow
def test_failed_check_and_cell_error_give_status_1_and_partial_outputs(tmp_path, capsys):
    # Also covers --in-place: a notebook that passed replaces its source; one that did not
    # leaves its source (the committed outputs) untouched.
    good = _write_notebook(tmp_path / "good.ipynb", SETUP, "nc.check_claim('fine', True)")
    failing = _write_notebook(
        tmp_path / "failing.ipynb",
        SETUP,
        "nc.check_below('error', 1e-3, 1e-8)\nnc.check_below('other', 0.0, 1.0)",
    )
    broken = _write_notebook(
        tmp_path / "broken.ipynb",
        SETUP,
        "nc.check_claim('before the error', True)",
        "raise ValueError('boom')",
        "print('never runs')",
    )
    out = tmp_path / "out"

    before = broken.read_bytes(), failing.read_bytes()
    status = run_notebooks.main([str(failing), str(broken), str(good), "--out", str(out),
                                 "--in-place"])

    assert status == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert re.fullmatch(r"failing\.ipynb: 1 checks passed, 1 failed, \d+\.\d s", lines[0])
    assert re.fullmatch(
        r"broken\.ipynb: 1 checks passed, 0 failed, \d+\.\d s; ERROR in cell 3: ValueError: boom",
        lines[1],
    )
    executed = nbformat.read(out / "broken.ipynb", 4)
    assert executed.cells[3].outputs[0].output_type == "error"
    assert executed.cells[4].get("outputs") == []
    assert (out / "broken.html").is_file()
    assert (broken.read_bytes(), failing.read_bytes()) == before
    assert f"{broken}: not overwritten (the run did not pass" in captured.err
    assert f"{failing}: not overwritten" in captured.err
    in_place = nbformat.read(good, 4)
    assert in_place.cells[2].outputs[0].text == "fine: PASS\n"
    assert all("execution" not in cell.metadata for cell in in_place.cells)
    assert "execution" in executed.cells[2].metadata  # build/ keeps nbclient's timings


def test_missing_notebook_is_a_clear_error_and_nothing_runs(tmp_path, capsys):
    present = _write_notebook(tmp_path / "present.ipynb", "print('should not run')")
    out = tmp_path / "out"

    status = run_notebooks.main([str(present), str(tmp_path / "absent.ipynb"), "--out", str(out)])

    assert status == 2
    captured = capsys.readouterr()
    assert "notebook not found" in captured.err and "absent.ipynb" in captured.err
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize(
    ("error", "stderr_outputs", "expected_tail"),
    [
        (None, 0, "3.0 s"),
        (None, 2, "3.0 s, 2 stderr outputs"),
        ("cell 4: KeyError: 'x'", 0, "3.0 s; ERROR in cell 4: KeyError: 'x'"),
    ],
)
def test_summary_line(error, stderr_outputs, expected_tail):
    run = run_notebooks.NotebookRun(
        path=Path("nb/X.ipynb"),
        notebook=v4.new_notebook(),
        passed=5,
        failed=1,
        error=error,
        stderr_outputs=stderr_outputs,
        seconds=2.96,
    )
    assert run_notebooks.summary_line(run) == f"X.ipynb: 5 checks passed, 1 failed, {expected_tail}"
    assert run.ok is False
