"""The "given" configuration ([release] given in the rubric, instructor/given.py).

Fast tests: reading and validating the list; the rubric drops the items whose functions are
all given and says so. The slow end-to-end test runs both configurations (the default list and
``given = []``) through the release, the solution copied back in, and grading with a reduced
rubric: a correct submission gets full marks and an all-stubs submission 0 under both.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from instructor import given as given_mod
from instructor import release
from instructor.grading import notebook_sections, report, scoring
from instructor.grading import rubric as rubric_mod
from instructor.release import sections
from tests.cifar_fixtures import require_cifar10

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
BLOCKS = ["affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss",
          "svm_loss", "sgd_momentum", "rmsprop", "adam"]


def _rubric(given=None, items=None):
    data = {"item": items or [
        {"id": "blocks", "points": 4, "tests": ["t::a*"], "functions": ["affine_forward",
                                                                          "relu_forward"]},
        {"id": "mixed", "points": 3, "tests": ["t::m*"], "functions": ["affine_forward",
                                                                         "dropout_forward"]},
        {"id": "nofunc", "points": 2, "tests": ["t::n*"]},
        {"id": "dropout", "points": 5, "tests": ["t::d*"], "functions": ["dropout_forward"]},
    ]}
    if given is not None:
        data["release"] = {"given": given}
    return rubric_mod.from_dict(data, "r.toml")


def test_items_whose_functions_are_all_given_are_dropped():
    full = _rubric()
    assert full.max_score == 14 and full.dropped == () and full.dropped_note is None
    rub = _rubric(given=["affine_forward", "relu_forward"])
    assert [i.id for i in rub.items] == ["mixed", "nofunc", "dropout"]
    assert [i.id for i in rub.dropped] == ["blocks"] and rub.max_score == 10
    assert rub.dropped_note == (
        "Not graded (4 points): blocks; the functions they check ship implemented in this "
        "release ([release] given).")
    again = rubric_mod.from_dict(rub.to_dict())  # what Dask workers receive
    assert again.items == rub.items and again.dropped == rub.dropped and again.given == rub.given


def test_the_grade_report_says_what_is_not_graded():
    rub = _rubric(given=["affine_forward", "relu_forward"])
    items = scoring.score(rub, {}, {})
    result = {"student": "s", "score": 0.0, "max_score": rub.max_score, "items": items,
              "notes": [], "not_graded": rub.dropped_note}
    text = report.feedback(result)
    assert "**Total: 0 / 10**" in text and "Not graded (4 points): blocks;" in text


@pytest.mark.parametrize("table, word", [
    ({"given": ["affine_forward", "affine_fwd"]}, "given names 'affine_fwd', which is not a "),
    ({"given": "affine_forward"}, "must be a list"),
    ({"gift": []}, "unknown key"),
])
def test_a_bad_given_list_is_an_error_naming_it(table, word):
    with pytest.raises(rubric_mod.RubricError, match=word):
        rubric_mod.from_dict({"item": [{"id": "a", "points": 1, "tests": ["x"]}],
                              "release": table}, "r.toml")


def test_a_rubric_with_only_given_items_is_refused():
    with pytest.raises(rubric_mod.RubricError, match="nothing is left to grade"):
        _rubric(given=["affine_forward"], items=[
            {"id": "a", "points": 1, "tests": ["x"], "functions": ["affine_forward"]}])


def test_default_configuration_gives_the_building_blocks():
    rub = rubric_mod.load()
    assert sorted(rub.given) == sorted(BLOCKS)
    assert release.configured_given(REPO) == rub.given
    assert {i.id for i in rub.dropped} == {"affine_relu", "losses", "optim",
                                           "nb_building_blocks"}
    for item in rub.items:  # every graded item checks something the student writes
        assert not item.functions or set(item.functions) - set(rub.given), item.id
    assert set(given_mod.known_functions()) == set(sections.SECTIONS)


@pytest.mark.slow
def test_release_command_line_takes_the_given_list_from_a_rubric(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[release]\ngiven = ["affine_forward", "dropout_fwd"]\n')
    out = subprocess.run([PY, "-m", "instructor", "release", "--only", "student", "--out",
                          str(tmp_path / "dist"), "--rubric", str(rubric)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "given names 'dropout_fwd', which is not a student function" in out.stderr
    rubric.write_text("[release]\ngiven = []\n")
    out = subprocess.run([PY, "-m", "instructor", "release", "--only", "student", "--out",
                          str(tmp_path / "dist"), "--rubric", str(rubric)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    layers = (tmp_path / "dist/student/assignment/layers.py").read_text()
    assert "affine_forward: not implemented yet" in layers
    out = subprocess.run([PY, "-m", "instructor", "release", "--only", "student", "--out",
                          str(tmp_path / "dist"), "--rubric", str(tmp_path / "nope.toml")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "nope.toml: no such file" in out.stderr, out.stderr


def test_every_region_function_is_a_student_function():
    """The names a given list may use (SECTIONS) cover every function with a region."""
    functions = {n for names in release.region_functions(REPO).values() for n in names}
    assert functions <= set(sections.SECTIONS)
    release.check_given(REPO, BLOCKS)


# ---------------------------------------------------------------------------------------------
# End to end: both configurations
# ---------------------------------------------------------------------------------------------

# Reduced rubric: the hidden tests of the building blocks (dropped when given) and of dropout,
# and one small reference-notebook item.
E2E_RUBRIC = """
[limits]
step_seconds = 600
cell_seconds = 300
test_seconds = 60

[files]
notebooks = ["Dropout.ipynb"]
hidden_support = ["tests/fixtures"]

[release]
given = {given}

[[item]]
id = "affine_relu"
points = 4
tests = ["tests/hidden/test_layers.py::test_affine_*", "tests/hidden/test_layers.py::test_relu_*"]
functions = ["affine_forward", "affine_backward", "relu_forward", "relu_backward"]

[[item]]
id = "dropout"
points = 6
tests = ["tests/hidden/test_layers.py::test_dropout_*"]
functions = ["dropout_forward", "dropout_backward"]

[[item]]
id = "nb_dropout_forward"
points = 3
notebook = "Dropout.ipynb"
sections = ["1. Dropout forward pass"]
functions = ["dropout_forward"]
"""


def _small_source(dst):
    """A copy of the repository (without data) whose Dropout notebook keeps only the code cells
    the reduced rubric needs: the set-up cells at its top (not the data load) and section 1,
    committed outputs and all (section 1's cell seeds its own random state, so its outputs do
    not depend on the cells left out). The markdown, headings included, stays."""
    shutil.copytree(REPO, dst, ignore=shutil.ignore_patterns(
        ".git", ".venv", "cifar-10-batches-py", "__pycache__", "dist", "build", "*.tar.gz"))
    path = dst / "notebooks/Dropout.ipynb"
    nb = release.read_notebook(path)
    heads = iter(notebook_sections.code_cell_sections(nb))
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            under = next(heads)
            setup = len(under) <= 1 and "get_CIFAR10_data()" not in release.cell_source(cell)
            if not (setup or "1. Dropout forward pass" in under):
                continue
        cells.append(cell)
    nb["cells"] = cells
    assert sum(c["cell_type"] == "code" for c in cells) == 3, "set-up (2) and section 1 (1)"
    path.write_text(release.write_notebook_text(nb))
    return dst


@pytest.fixture(scope="module")
def small_source(tmp_path_factory):
    """One :func:`_small_source` for both configurations (read only: zipped, and the grader's
    ``--src``)."""
    return _small_source(tmp_path_factory.mktemp("small") / "src")


def _zip(path, root, files):
    with zipfile.ZipFile(path, "w") as zf:
        for rel in files:
            zf.write(Path(root) / rel, rel)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("config", ["default", "none_given"])
def test_both_configurations_end_to_end(config, tmp_path, request, solution_release,
                                        small_source):
    data = require_cifar10()
    given = release.configured_given(REPO) if config == "default" else ()
    # the session's releases (tests/tooling/conftest.py), built with these given lists
    student = request.getfixturevalue("student_release" if config == "default" else
                                      "student_release_none_given").root
    solution = solution_release.root   # the code files do not depend on the given list
    code_files = release.student_code_files(REPO)

    # given functions ship implemented, the others are stubs
    layers = (student / "assignment/layers.py").read_text()
    assert ("def affine_forward" in layers) and (
        ("affine_forward: not implemented yet" in layers) == (config == "none_given"))
    assert "dropout_forward: not implemented yet" in layers

    # the solution copied back in gives the solution release's code, byte for byte
    filled = tmp_path / "filled"
    shutil.copytree(student, filled)
    assert sorted(release.fill_in(REPO, filled, given=given)) == sorted(code_files)
    for rel in code_files:
        assert (filled / rel).read_bytes() == (solution / rel).read_bytes(), rel

    # grading with a reduced rubric: correct -> full marks, all stubs -> 0
    src = small_source
    rubric_path = tmp_path / "rubric.toml"
    rubric_path.write_text(E2E_RUBRIC.format(given=json.dumps(list(given))))
    subs = tmp_path / "submissions"
    subs.mkdir()
    nb = ["notebooks/Dropout.ipynb"]
    _zip(subs / "correct.zip", src, [*code_files, *nb])
    _zip(subs / "stubs.zip", student, [*code_files, *nb])
    out = tmp_path / "grades"
    env = {**os.environ, "CIFAR10_DIR": str(data)}
    proc = subprocess.run(
        [PY, "-m", "instructor", "grade", str(subs), "--out", str(out), "--rubric",
         str(rubric_path), "--src", str(src), "--workers", "2", "--no-progress"],
        cwd=REPO, capture_output=True, text=True, timeout=1800, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = {r["student"]: r for r in report.load_results(out)}
    expected_max = 9 if config == "default" else 13
    for name, score in (("correct", expected_max), ("stubs", 0)):
        r = results[name]
        assert (r["score"], r["max_score"]) == (score, expected_max), json.dumps(r)[:3000]
    ids = {i["id"] for i in results["correct"]["items"]}
    assert ("affine_relu" in ids) == (config == "none_given")
    feedback = (out / "feedback" / "correct.md").read_text()
    assert ("Not graded (4 points): affine_relu;" in feedback) == (config == "default")
    assert f"maximum score {expected_max}" in proc.stderr
