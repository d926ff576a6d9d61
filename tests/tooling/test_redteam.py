"""Red-team suite (INSTRUCTOR ONLY): every attack of issue 11, graded like a real run.

Each module ``tests/tooling/redteam/*.py`` is one attack: ``ATTACK`` (one line), ``plant(tree)``
(turns an all-stubs submission folder -- ``assignment/<the student's files>`` and
``notebooks/<the rubric's notebooks>``, here the mini notebook of mini_grading.py, not run --
into the attack), optionally ``NAMES`` (the submission ids to plant it under), ``EARNS``
(what its code earns: ``"hidden tests"`` = every hidden-test item in full; default nothing)
and ``NOTEBOOK`` (``"executed reference"``: the submission hands in the mini notebook
executed with the solution instead of the unexecuted one).

All of them are graded in one run together with a correct and an all-stubs control, through
the same path as ``python -m instructor grade`` (:func:`instructor.grading.cli.grade_all`:
the environment check and the reference solution first, then every submission, the time
budget derived from the reference), with a lean rubric (the mini notebook, a few hidden
tests). Asserted: the run's exit status is 0; the controls score full and 0; each attack
scores what its code earns; no file of the repository, the kit or the submissions changed;
every report names the isolation in effect, the one the grader found; no hidden test's source
reaches any student-visible report.

The run happens once per grader mode: as root, in this process, and as an unprivileged grader
(user ``nobody`` in a child process, tests/tooling/unprivileged.py), which isolates with user
namespaces and has no cgroup here; the unprivileged run leaves out the sandbox-layer attacks
that the sandbox tests already run against such a grader (``COVERED_UNPRIVILEGED``).
"""

import csv
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from assignment.collect import STUDENT_CODE_FILES
from instructor.grading import cli, report, sandbox
from instructor.grading import rubric as rubric_mod
from tests.tooling import unprivileged
from tests.tooling.release_proofs import tree_digest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = sorted((Path(__file__).parent / "redteam").glob("*.py"))
pytestmark = pytest.mark.slow

# all_or_nothing on every item, as in test_grading.py: the lean rubric scores a few tests of
# given code (fc_net's parameter set-up), which an all-stubs submission passes, so partial
# credit would pay the stubs for them (the real rubric scores no such test: instructor/fairness.py)
RUBRIC = (Path(__file__).parent / "rubrics" / "redteam.toml").read_text()

# The grading run happens twice: in this process as root (the sandboxes get uids of their
# own, cgroups) and in a child process that is an unprivileged grader (user namespaces; no
# cgroup is delegated to it here, so its limits are per process). Not root, the tests are the
# unprivileged grader themselves and the root run is skipped.
MODES = ["root", "unprivileged"]
CHILD_SECONDS = 1800   # the unprivileged grader's whole run, at most

# Sandbox-layer attacks that the sandbox tests already run against an unprivileged grader (a
# real sandbox; what the attack could see or do asserted directly): the unprivileged run
# leaves them out to stay lean (the fixture -> the test function covering it, in
# tests/tooling/test_sandbox*.py, parametrized with mode "unprivileged"). Every verdict-layer
# attack and attack 5 (what the sandbox of a grader without root could tamper with: that
# grader's own GRADES/.kit and results/) run in both modes.
COVERED_UNPRIVILEGED = {
    "forged_notebook_verdicts": "test_kernel_cannot_forge_or_stop_the_notebook_verdicts",
    "read_solution_from_disk": "test_sandbox_sees_only_its_allow_list",
    "replace_tests_folder": "test_tests_folder_cannot_be_replaced_and_host_folder_is_never_written",
    "outlive_the_grader": "test_stopping_the_grader_kills_every_sandbox_process",
    # its disk part; its memory part is only meaningful with a cgroup, which an unprivileged
    # grader does not get here: six processes would really hold 4.8 GiB of the machine, and
    # the reports say the limits are per process (test_grading_verdicts.py:
    # test_an_unprivileged_grader_without_cgroups_reports_limits_per_process)
    "limits_per_process": "test_disk_is_limited_per_sandbox_and_nothing_outlives_it",
}


def load(path):
    spec = importlib.util.spec_from_file_location(f"redteam_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grading_run(subs, out, kit, rubric_path):
    """The suite's grading run, in the grader's process: what ``python -m instructor grade``
    does once the kit is built. Prints the isolation this grader found (``ISOLATION`` and a
    JSON list of lines), then returns the exit status of
    :func:`instructor.grading.cli.grade_all`."""
    print("ISOLATION " + json.dumps(sandbox.detect_isolation().describe()), flush=True)
    return cli.grade_all(Path(subs), Path(out), Path(kit), rubric_mod.load(rubric_path), REPO,
                         workers=2, progress=False)


def run_as_child(tmp):
    """:func:`grading_run` in an unprivileged grader (``nobody``, see
    tests/tooling/unprivileged.py), which owns everything in ``tmp``; its status, the
    isolation it reported and the end of what it printed."""
    unprivileged.give_to_nobody(tmp)
    code = ("import sys; from tests.tooling import test_redteam as t; "
            "sys.exit(t.grading_run(*sys.argv[1:]))")
    cmd = [*unprivileged.unprivileged_prefix(), sys.executable, "-c", code,
           str(tmp / "submissions"), str(tmp / "GRADES"), str(tmp / "GRADES" / ".kit"),
           str(tmp / "rubric.toml")]
    proc = subprocess.Popen(cmd, cwd=REPO, env=unprivileged.grader_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=CHILD_SECONDS)
    finally:
        if proc.poll() is None:   # a grader that hangs: it and its sandboxes end here
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = [ln for ln in stdout.splitlines() if ln.startswith("ISOLATION ")]
    assert lines, f"the unprivileged grader did not start:\n{stdout[-3000:]}{stderr[-3000:]}"
    return proc.returncode, json.loads(lines[0][len("ISOLATION "):]), (stdout + stderr)[-5000:]


@pytest.fixture(scope="module", params=MODES)
def graded(request, tmp_path_factory, mini_reference):
    from tests.tooling.mini_grading import mini_kit, mini_notebook, stub_regions

    mode = request.param
    unprivileged.in_mode(mode)
    child = unprivileged.needs_child(mode)
    if child:   # the grader's files must be reachable by nobody: not under pytest-of-root
        tmp = Path(tempfile.mkdtemp(prefix="cs231n-redteam-"))
        request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    else:
        tmp = tmp_path_factory.mktemp(f"redteam-{mode}")
    (tmp / "rubric.toml").write_text(RUBRIC)
    rub = rubric_mod.load(tmp / "rubric.toml")
    reference = mini_reference   # tests/tooling/conftest.py
    out = tmp / "GRADES"
    out.mkdir(mode=0o700)   # as `python -m instructor grade` makes it
    kit = mini_kit(tmp, out / ".kit", rub, reference)

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
        if mode == "unprivileged" and path.stem in COVERED_UNPRIVILEGED:
            continue
        module = load(path)
        notebook = (reference if getattr(module, "NOTEBOOK", None) == "executed reference"
                    else mini_notebook())
        for name in getattr(module, "NAMES", (path.stem,)):
            module.plant(folder(name, stubs, notebook))
            attacks[name] = module

    def outside():
        return {"repo": tree_digest(REPO / "assignment", skip_caches=True)
                | tree_digest(REPO / "tests", skip_caches=True),
                "kit": tree_digest(kit, skip_caches=True),
                "submissions": tree_digest(subs, skip_caches=True)}

    before = outside()
    start = time.monotonic()
    if child:
        status, isolation, log = run_as_child(tmp)
    else:
        isolation, log = sandbox.detect_isolation().describe(), "(printed above)"
        status = grading_run(subs, out, kit, tmp / "rubric.toml")
    seconds = time.monotonic() - start
    results = {r["student"]: r for r in report.load_results(out)}
    return {"mode": mode, "status": status, "results": results, "attacks": attacks,
            "out": out, "rubric": rub, "before": before, "after": outside(),
            "seconds": seconds, "kit": kit, "isolation": isolation, "log": log}


def test_the_run_completes_with_status_0(graded):
    assert graded["status"] == 0, graded["log"]
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
    if graded["mode"] == "unprivileged" and fixture in COVERED_UNPRIVILEGED:
        pytest.skip(f"proven against an unprivileged grader by {COVERED_UNPRIVILEGED[fixture]}"
                    "[unprivileged] (tests/tooling/test_sandbox*.py)")
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


# What each mode's grader runs the sandboxes as (instructor/grading/sandbox.py, describe()).
RUNS_AS = {"root": "runs as an unprivileged uid of its own",
           "unprivileged": "runs as the grader's uid in a user namespace of its own"}


def test_every_report_names_the_isolation_and_the_budget(graded):
    """Every report carries the isolation lines the grader found when it started (processes,
    network, files, uid, notebooks, the level of the limits: cgroup per sandbox or per
    process only), and they are those of the grader of this mode."""
    isolation = graded["isolation"]
    assert any(line.startswith(RUNS_AS[graded["mode"]]) for line in isolation), isolation
    assert any(line.startswith("files: allow-listed root") for line in isolation), isolation
    assert any(line.startswith("limits: ") for line in isolation), isolation
    for name, result in graded["results"].items():
        assert result["isolation"] == isolation, name
        fb = (graded["out"] / "feedback" / f"{report.safe_name(name)}.md").read_text(
            encoding="utf-8")
        assert "## How your code was run" in fb
        missing = [line for line in isolation if f"- {line}" not in fb]
        assert not missing, (name, missing)
        assert "time budget" in fb


def test_no_hidden_test_source_reaches_a_student_visible_report(graded):
    hidden = "\n".join(p.read_text() for p in sorted((REPO / "tests" / "hidden").glob("*.py")))
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


def test_the_attacks_left_out_unprivileged_are_covered_by_a_sandbox_test():
    """Each fixture the unprivileged run leaves out names a sandbox test run in both modes."""
    sources = "".join(p.read_text() for p in Path(__file__).parent.glob("test_sandbox*.py"))
    assert set(COVERED_UNPRIVILEGED) <= {p.stem for p in FIXTURES}
    for fixture, test in COVERED_UNPRIVILEGED.items():
        assert f"\ndef {test}(" in sources, (fixture, test)
        decorated = sources[:sources.index(f"\ndef {test}(")].rsplit("\n\n\n", 1)[-1]
        assert re.search(r'@pytest\.mark\.parametrize\("mode", (harness\.)?MODES\)', decorated), \
            (fixture, test)
