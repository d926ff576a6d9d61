"""Red-team suite (INSTRUCTOR ONLY): every attack of issue 11, graded like a real run.

Each module ``tests/tooling/redteam/*.py`` is one attack: ``ATTACK`` (one line), ``plant(tree)``
(turns an all-stubs submission folder -- ``assignment/<the student's files>`` and
``notebooks/<the rubric's notebooks>``, here the mini notebook of test_grading.py, not run --
into the attack), optionally ``NAMES`` (the submission ids to plant it under), ``EARNS``
(what its code earns: ``"hidden tests"`` = every hidden-test item in full; default nothing)
and ``NOTEBOOK`` (``"executed reference"``: the submission hands in the mini notebook
executed with the solution instead of the unexecuted one).

All of them are graded in one run together with a correct and an all-stubs control, through
the same path as ``python -m instructor grade`` (:func:`instructor.grading.cli.grade_all`:
the environment check and the reference solution first, then every submission, the time
budget derived from the reference), with a lean rubric (the mini notebook, a few hidden
tests). Asserted: the run's exit status is 0; the controls score full and 0; each attack
scores what its code earns; no file of the repository or the kit changed; every report
names the isolation in effect; no hidden test's source reaches any student-visible report.
"""

import csv
import hashlib
import importlib.util
import json
import shutil
import time
from pathlib import Path

import pytest

from assignment.collect import STUDENT_CODE_FILES
from instructor.grading import cli, report, sandbox
from instructor.grading import rubric as rubric_mod
from instructor.grading.workspace import build_kit

REPO = Path(__file__).resolve().parents[2]
FIXTURES = sorted((Path(__file__).parent / "redteam").glob("*.py"))
pytestmark = pytest.mark.slow

# all_or_nothing on every item, as in test_grading.py: the lean rubric scores a few tests of
# given code (fc_net's parameter set-up), which an all-stubs submission passes, so partial
# credit would pay the stubs for them (the real rubric scores no such test: instructor/fairness.py)
RUBRIC = (Path(__file__).parent / "rubrics" / "redteam.toml").read_text()


def load(path):
    spec = importlib.util.spec_from_file_location(f"redteam_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree_digest(root):
    """Path -> sha256 of every file under ``root`` (caches and bytecode aside)."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts \
                and ".pytest_cache" not in p.parts:
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory, mini_reference):
    from test_grading import fake_release, mini_notebook, stub_regions

    tmp = tmp_path_factory.mktemp("redteam")
    (tmp / "rubric.toml").write_text(RUBRIC)
    rub = rubric_mod.load(tmp / "rubric.toml")
    reference = mini_reference   # tests/tooling/conftest.py
    (tmp / "refs").mkdir()
    (tmp / "refs" / "Mini.ipynb").write_text(json.dumps(reference))
    shutil.copy2(REPO / "notebooks" / "nbval_sanitize.cfg", tmp / "refs")
    out = tmp / "GRADES"
    out.mkdir()
    kit = build_kit(REPO, out / ".kit", rub, release_dir=fake_release(tmp / "release"),
                    reference_dir=tmp / "refs")

    subs = tmp / "submissions"
    subs.mkdir()

    def folder(name, code, notebook):
        root = subs / name
        for rel, text in code.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        (root / "notebooks").mkdir(parents=True, exist_ok=True)
        (root / "notebooks" / "Mini.ipynb").write_text(json.dumps(notebook))
        return root

    solution = {rel: (REPO / rel).read_text() for rel in STUDENT_CODE_FILES}
    stubs = {rel: stub_regions(text) for rel, text in solution.items()}
    folder("control_correct", solution, reference)
    folder("control_stubs", stubs, mini_notebook())
    attacks = {}
    for path in FIXTURES:
        module = load(path)
        notebook = (reference if getattr(module, "NOTEBOOK", None) == "executed reference"
                    else mini_notebook())
        for name in getattr(module, "NAMES", (path.stem,)):
            module.plant(folder(name, stubs, notebook))
            attacks[name] = module

    before = {"repo": tree_digest(REPO / "assignment") | tree_digest(REPO / "tests"),
              "kit": tree_digest(kit)}
    start = time.monotonic()
    status = cli.grade_all(subs, out, kit, rub, REPO, workers=2, progress=False)
    seconds = time.monotonic() - start
    after = {"repo": tree_digest(REPO / "assignment") | tree_digest(REPO / "tests"),
             "kit": tree_digest(kit)}
    results = {r["student"]: r for r in report.load_results(out)}
    return {"status": status, "results": results, "attacks": attacks, "out": out,
            "rubric": rub, "before": before, "after": after, "seconds": seconds, "kit": kit}


def test_the_run_completes_with_status_0(graded):
    assert graded["status"] == 0
    expected = {"control_correct", "control_stubs", *graded["attacks"]}
    assert set(graded["results"]) == expected
    rows = list(csv.DictReader((graded["out"] / "grades.csv").open(encoding="utf-8")))
    assert sorted(r["student"] for r in rows) == sorted(expected)


def test_controls_score_full_and_zero(graded):
    r = graded["results"]
    assert r["control_correct"]["score"] == graded["rubric"].max_score, r["control_correct"]
    assert r["control_stubs"]["score"] == 0


@pytest.mark.parametrize("fixture", [p.stem for p in FIXTURES])
def test_each_attack_scores_what_its_code_earns(graded, fixture):
    for name, module in graded["attacks"].items():
        if Path(module.__file__).stem != fixture:
            continue
        result = graded["results"][name]
        items = {i["id"]: i for i in result["items"]}
        if getattr(module, "EARNS", None) == "hidden tests":
            tested = [i.id for i in graded["rubric"].items if i.tests]
            assert all(items[i]["points"] == items[i]["max_points"] for i in tested), (
                module.ATTACK, {i: items[i]["failures"][:1] for i in tested})
        else:
            assert result["score"] == 0, (module.ATTACK, {
                i: (v["points"], v["failures"][:1]) for i, v in items.items() if v["points"]})


def test_no_file_outside_the_sandbox_changed(graded):
    assert graded["before"] == graded["after"]


def test_every_report_names_the_isolation_and_the_budget(graded):
    for name in graded["results"]:
        fb = (graded["out"] / "feedback" / f"{report.safe_name(name)}.md").read_text(
            encoding="utf-8")
        assert "## How your code was run" in fb
        assert sandbox.detect_isolation().describe()[0] in fb
        assert "time budget" in fb


def test_no_hidden_test_source_reaches_a_student_visible_report(graded):
    hidden = (REPO / "tests" / "hidden" / "test_layers.py").read_text()
    snippets = [ln.strip() for ln in hidden.splitlines()
                if len(ln.strip()) > 30 and not ln.strip().startswith(("#", '"', "from", "import"))]
    for p in [*(graded["out"] / "feedback").glob("*.md"),
              *(graded["out"] / "gradescope").rglob("results.json")]:
        text = p.read_text(encoding="utf-8")
        leaked = [s for s in snippets if s in text]
        assert not leaked, (p.name, leaked[:3])


def test_a_hang_ends_within_the_submission_budget(graded):
    hang = graded["results"]["attack09_hang"]
    budget = float(hang["limits"].split("time budget ")[1].split(" s")[0])
    assert hang["seconds"] < budget + 30


def test_faked_notebook_outputs_earn_nothing_without_the_hidden_tests(graded):
    """The faking kernel did print what the solution printed (every notebook check passed);
    the notebook items still earn nothing, because the hidden tests of their functions,
    judged outside the sandbox, failed."""
    result = graded["results"]["attack15_fake_notebook_outputs"]
    notebook_items = [i for i in result["items"] if i["id"] in ("nb_dropout", "nb_bn", "own")]
    for item in notebook_items:
        assert item["checks"] and item["passed"] == item["checks"], item
        assert item["points"] == 0, item
        gates = [f["check"] for f in item["failures"] if f["check"].startswith("gate:")]
        assert gates, item
