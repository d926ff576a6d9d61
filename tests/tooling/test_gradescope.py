"""The Gradescope autograder bundle (``python -m instructor gradescope``).

Fast: what the zip holds (the two scripts at its root, the student release, no data, no
environment, the rubric asked for) and that it is reproducible.

Slow, end to end: the zip is unpacked into a temporary folder that stands for ``/autograder``;
``setup.sh`` runs with the offline CIFAR-10 tarball and this test's Python (its pinned
packages are installed, so pip needs no network: PIP_NO_INDEX proves it); then
``run_autograder`` grades (with the grading kit that setup built) three submissions made
from the student release with ``python -m assignment collect``, each handed in as Gradescope
may deliver it (unpacked flat, unpacked under a leading folder, the zip itself): correct, all
stubs, one bug (dropout_backward off by a factor of 2: the correct upload with lines appended
to its layers.py). Each ``results.json`` must validate against Gradescope's documented
format and give the score ``python -m instructor grade`` gives the same zip. A fourth, an
attack, is the correct upload with its code files replaced by links to the solution in the
container; a fifth, the stubs upload with code appended that reads and runs that solution at
import: both must earn nothing. A lean rubric (three hidden-test items) keeps it under two
minutes (idle machine).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assignment import collect
from instructor.gradescope import autograder, bundle
from instructor.grading import rubric as rubric_mod

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out
TARBALL = Path(os.environ.get("CIFAR10_TARBALL")
               or Path.home() / ".cache/cs231n-cifar10-mirror/cifar-10-python.tar.gz")
LEAN_ITEMS = ("dropout", "bn_backward", "layernorm")
BUG = '''
_right_dropout_backward = dropout_backward


def dropout_backward(dout, cache):
    return 0.5 * _right_dropout_backward(dout, cache)
'''
CHEAT = '''
try:
    exec(open("{solution}").read())
except OSError:
    pass
'''

# Gradescope's results.json, as documented at
# https://gradescope-autograders.readthedocs.io/en/latest/specs/ (all fields optional there;
# a score is required at the top or on every test, so this schema requires both).
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
TEST_SCHEMA = {
    "type": "object",
    "required": ["name", "score", "max_score", "status", "output", "visibility"],
    "properties": {
        "name": {"type": "string"}, "score": {"type": "number"},
        "max_score": {"type": "number"}, "status": {"enum": ["passed", "failed"]},
        "output": {"type": "string"}, "visibility": VISIBILITY,
        "number": {"type": "string"}, "tags": {"type": "array"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "extra_data": {"type": "object"},
    },
    "additionalProperties": False,
}
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "tests", "execution_time", "output"],
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"},
        "output": {"type": "string"}, "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY, "extra_data": {"type": "object"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "tests": {"type": "array", "minItems": 1, "items": TEST_SCHEMA},
    },
    "additionalProperties": False,   # in particular no "leaderboard"
}


def lean_rubric(path):
    """instructor/rubric.toml with only the LEAN_ITEMS (hidden tests: seconds, not minutes)."""
    head, *items = (REPO / "instructor" / "rubric.toml").read_text().split("[[item]]")
    keep = [i for i in items if re.search(f'^id = "({"|".join(LEAN_ITEMS)})"', i, re.M)]
    assert len(keep) == len(LEAN_ITEMS)
    path.write_text(head + "".join("[[item]]" + i for i in keep))
    return path


def unpack(zip_path, dest):
    """Unpack like Gradescope (and unzip) do: file modes kept."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = Path(zf.extract(info, dest))
            mode = info.external_attr >> 16 & 0o777
            if mode:
                target.chmod(mode)
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gradescope")
    rubric = lean_rubric(tmp / "rubric.toml")
    out = tmp / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "instructor", "gradescope", "--out", str(out),
                           "--rubric", str(rubric)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return {"tmp": tmp, "zip": out, "rubric": rubric, "message": proc.stdout}


def names(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        return {i.filename: i for i in zf.infolist()}


def test_bundle_holds_scripts_source_and_release_but_no_data(built):
    entries = names(built["zip"])
    for script in bundle.SCRIPTS:
        assert entries[script].external_attr >> 16 & 0o111, f"{script} is not executable"
    assert "instructor/grading/cli.py" in entries and "tests/hidden/test_layers.py" in entries
    assert not [n for n in entries if n.startswith("datasets/") and n not in
                ("datasets/README.md", "datasets/get_datasets.sh")]
    assert not [n for n in entries if re.search(r"(^|/)(\.git|\.venv|__pycache__)(/|$)", n)]
    release = bundle.RELEASE + "/assignment/layers.py"
    with zipfile.ZipFile(built["zip"]) as zf:
        assert "not implemented yet" in zf.read(release).decode()
        assert "BEGIN SOLUTION" not in zf.read(release).decode()
        assert zf.read(bundle.RUBRIC) == built["rubric"].read_bytes()
    assert f"{len(entries)} files" in built["message"]


def test_bundle_is_reproducible(built):
    again = built["tmp"] / "again.zip"
    bundle.build(REPO, again, built["rubric"])
    assert again.read_bytes() == built["zip"].read_bytes()


def test_bad_rubric_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "instructor", "gradescope", "--out",
                           str(tmp_path / "x.zip"), "--rubric", str(tmp_path / "none.toml")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "none.toml: no such file" in proc.stderr
    assert not (tmp_path / "x.zip").exists()


def test_grading_with_a_kit_that_is_none_is_a_clear_error(tmp_path):
    (tmp_path / "submissions").mkdir()
    proc = subprocess.run([sys.executable, "-m", "instructor", "grade",
                           str(tmp_path / "submissions"), "--out", str(tmp_path / "grades"),
                           "--kit", str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"--kit {tmp_path}: not a grading kit (no kit.json)" in proc.stderr


def test_submitted_is_the_folder_or_the_one_zip_in_it(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "submission.zip").write_bytes(b"PK")
    assert autograder.submitted(tmp_path / "a") == tmp_path / "a" / "submission.zip"
    (tmp_path / "a" / "notes.txt").write_text("x")
    assert autograder.submitted(tmp_path / "a") == tmp_path / "a"


# ------------------------------------------------------------------------------------ slow

def run(cmd, cwd, env=None, timeout=900):
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def collected(release, tmp, name, solution=True):
    """A submission zip made by ``python -m assignment collect`` in a copy of the release."""
    work = tmp / f"work-{name}"
    shutil.copytree(release, work)
    if solution:
        for rel in (*collect.STUDENT_CODE_FILES, *collect.NOTEBOOKS):
            shutil.copy(REPO / rel, work / rel)
    out = tmp / f"{name}.zip"
    run([sys.executable, "-m", "assignment", "collect", "--root", str(work), "--out", str(out),
         *([] if solution else ["--allow-incomplete"])], cwd=work)
    return out


def edited(zip_path, tmp, name, extra):
    """The upload ``zip_path`` with ``extra`` appended to its assignment/layers.py: what
    collect gives after that one change (it zips the files as they are; the notebooks and
    their HTML do not depend on layers.py's text), without a second HTML export. The work
    folder ``work-NAME`` gets the changed layers.py too, for the tests that import it."""
    layers = "assignment/layers.py"
    out = tmp / f"{name}.zip"
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == layers:
                data += extra.encode()
            dst.writestr(info, data)
    work = tmp / f"work-{name}"
    shutil.copytree(tmp / f"work-{Path(zip_path).stem}", work)
    with open(work / layers, "a") as f:
        f.write(extra)
    return out


@pytest.fixture(scope="module")
def container(built):
    if not TARBALL.is_file():
        pytest.skip(f"no offline CIFAR-10 tarball at {TARBALL}")
    md5 = (Path(str(TARBALL) + ".md5").read_text().split() or [""])[0]
    root = built["tmp"] / "autograder"
    unpack(built["zip"], root / "source")
    env = {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
           "CIFAR10_TARBALL": str(TARBALL), "CIFAR10_MD5": md5, "PIP_NO_INDEX": "1"}
    setup = run(["bash", "./setup.sh"], cwd=root / "source", env=env)
    return {"root": root, "env": env, "setup": setup}


@pytest.fixture(scope="module")
def graded(built, container):
    tmp, root = built["tmp"], container["root"]
    release = root / "source" / bundle.RELEASE
    zips = {"correct": collected(release, tmp, "correct"),
            "stubs": collected(release, tmp, "stubs", solution=False)}
    zips["bug"] = edited(zips["correct"], tmp, "bug", BUG)
    # an attack: the stubs, then the container's solution read and run at import
    zips["cheat"] = edited(zips["stubs"], tmp, "cheat", CHEAT.format(
        solution=root / "source" / "assignment" / "layers.py"))
    results, logs = {}, {}
    zips["links"] = zips["correct"]
    for name, zip_path in zips.items():
        submission = root / "submission"
        shutil.rmtree(submission, ignore_errors=True)
        submission.mkdir()
        if name == "correct":       # unpacked flat
            unpack(zip_path, submission)
        elif name == "stubs":       # unpacked under a leading folder
            unpack(zip_path, submission / "my-assignment")
        elif name in ("bug", "cheat"):   # kept whole
            shutil.copy(zip_path, submission / "submission.zip")
        else:                       # an attack: the code files link to the container's solution
            unpack(zip_path, submission)
            for path in (submission / "assignment").glob("*.py"):
                path.unlink()
                path.symlink_to(root / "source" / "assignment" / path.name)
        (root / "results" / "results.json").unlink(missing_ok=True)
        proc = run([str(root / "source" / "run_autograder")], cwd=root, env=container["env"])
        logs[name] = proc.stdout + proc.stderr
        results[name] = json.loads((root / "results" / "results.json").read_text())
    # the same zips, graded on the instructor's machine
    subs = tmp / "subs"
    subs.mkdir()
    for name in ("correct", "stubs", "bug"):
        shutil.copy(zips[name], subs / f"{name}.zip")
    # the container already graded the reference solution with this release and rubric: its
    # cached check (keyed by the kit's hash) spares the local run a second one
    checked = root / "source" / "build" / "gradescope" / "grades" / ".reference"
    if checked.is_dir():
        shutil.copytree(checked, tmp / "grades" / ".reference")
    run([sys.executable, "-m", "instructor", "grade", str(subs), "--out", str(tmp / "grades"),
         "--rubric", str(built["rubric"]), "--release", str(release), "--no-progress"], cwd=REPO)
    local = {n: json.loads((tmp / "grades" / "gradescope" / n / "results.json").read_text())
             for n in ("correct", "stubs", "bug")}
    return {"gradescope": results, "local": local, "tmp": tmp, "logs": logs}


@pytest.mark.slow
def test_setup_checks_the_container_and_installs_no_solution(built, container, tmp_path):
    top = rubric_mod.load(built["rubric"]).max_score
    assert f"the reference solution scored {top:g}/{top:g}" in container["setup"].stdout
    data = container["root"] / "source" / "datasets" / "cifar-10-batches-py"
    assert (data / "test_batch").is_file()
    # setup.sh puts the container's solution on no sys.path of the Python that runs the
    # student's code (this test's Python may have the developer's checkout installed
    # editable, by `make setup`: that one is not the container's)
    proc = subprocess.run([container["env"]["AUTOGRADER_PYTHON"], "-c",
                           "import assignment; print(assignment.__path__[0])"],
                          cwd=tmp_path, capture_output=True, text=True)
    if proc.returncode == 0:
        found = Path(proc.stdout.strip()).resolve()
        assert not found.is_relative_to(container["root"].resolve()), found
    else:
        assert "ModuleNotFoundError" in proc.stderr


@pytest.mark.slow
def test_setup_builds_the_kit_once_and_every_run_grades_with_it(container, graded):
    setup = container["setup"].stdout + container["setup"].stderr
    assert "building the grading kit" in setup
    assert "grading the reference solution once for this kit" in setup
    kit = container["root"].resolve() / "source" / autograder.STATE / "grades" / autograder.KIT
    for name, log in graded["logs"].items():
        assert f"grading with the kit {kit}" in log, name
        assert "building the grading kit" not in log, name
        assert "grading the reference solution" not in log, name   # its check is cached


@pytest.mark.slow
def test_results_validate_against_gradescopes_format(graded):
    jsonschema = pytest.importorskip("jsonschema")
    for result in graded["gradescope"].values():
        jsonschema.validate(result, RESULTS_SCHEMA)
        assert result["score"] == pytest.approx(sum(t["score"] for t in result["tests"]))


@pytest.mark.slow
def test_scores_are_those_of_instructor_grade(graded):
    got = {n: graded["gradescope"][n]["score"] for n in ("correct", "stubs", "bug")}
    assert got == {n: r["score"] for n, r in graded["local"].items()}
    top = sum(t["max_score"] for t in graded["local"]["correct"]["tests"])
    bug = graded["local"]["bug"]["tests"]
    dropout = next(t for t in bug if "Dropout" in t["name"])
    # the bug is in dropout: only that item loses points (partial credit: not all of them)
    assert all(t["score"] == t["max_score"] for t in bug if t is not dropout)
    assert dropout["score"] < dropout["max_score"]
    assert got == {"correct": top, "stubs": 0, "bug": top - dropout["max_score"] + dropout["score"]}


@pytest.mark.slow
def test_links_to_the_containers_solution_earn_nothing(graded):
    """Gradescope unpacks an upload with its symbolic links; the grader reads none of them,
    so code files that link to /autograder/source count as not handed in (the stubs)."""
    result = graded["gradescope"]["links"]
    assert result["score"] == 0
    assert "not handed in: assignment/layers.py" in result["output"]


@pytest.mark.slow
def test_student_code_cannot_read_the_containers_solution(graded):
    """The stubs plus code that runs /autograder/source/assignment/layers.py at import: the
    sandbox hides the source, so the stubs are what is graded."""
    assert graded["gradescope"]["cheat"]["score"] == 0
    # outside the sandbox the same code does get the solution: the attack itself works
    proc = subprocess.run([sys.executable, "-c", "import numpy as np; from assignment.layers "
                           "import dropout_forward as f; f(np.ones(3), {'mode': 'test', "
                           "'p': 0.5})"], cwd=graded["tmp"] / "work-cheat",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
