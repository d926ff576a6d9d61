"""End-to-end tests of instructor/grading with fixture submissions made from the solution.

Speed (the whole file must stay within ~2 minutes on 2 cores): real reference notebooks take
about a minute each under nbval, so these cases are graded against a *mini* reference
notebook (four code cells calling the real solution's dropout and batchnorm, executed once
with the solution by the module fixture) and a mini rubric with the real hidden tests
(tests/hidden/test_layers.py, a handful of them), tiny timeouts for the infinite loop, and one
grading run (2 workers) for all cases. tests/tooling/test_grading_real.py grades the correct, the
wrong-batchnorm and the hand-edited submission against the real notebooks and rubric.

Cases (issue 6): correct; wrong batchnorm backward; every function a stub; an infinite loop
in dropout_forward; a 50 GB allocation; a segfault via ctypes; reading hidden files and
opening a socket; hand-edited notebook outputs; a corrupt zip; an empty folder. Then: the
grader killed mid-run and restarted loses nothing; the same jobs on a Dask LocalCluster.
"""

import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from instructor.grading import report, runner, sandbox
from instructor.grading import rubric as rubric_mod
from tests.tooling.counting_server import counting_server
from tests.tooling.mini_grading import (
    WRONG_BN,
    execute,
    make_zip,
    mini_kit,
    mini_notebook,
    solution_files,
    stub_regions,
)

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out

MINI_RUBRIC = (Path(__file__).parent / "rubrics" / "mini.toml").read_text()

LOOP = '''
_solution_dropout_forward = dropout_forward


def dropout_forward(x, dropout_param):
    if dropout_param["mode"] == "train":
        while True:
            pass
    return _solution_dropout_forward(x, dropout_param)
'''
ALLOC = '''
_solution_affine_forward = affine_forward


def affine_forward(x, w, b):
    hog = np.ones(50 * 2**30 // 8)   # 50 GB
    return _solution_affine_forward(x, w, b) + hog[:0].sum()
'''
SEGFAULT = '''
def dropout_backward(dout, cache):
    import ctypes
    ctypes.string_at(0)
'''
CHEAT = '''
_solution_dropout_forward = dropout_forward


def dropout_forward(x, dropout_param):
    import socket
    for path in {secrets!r}:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        if text:
            raise RuntimeError("LEAKED " + path)
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
    except OSError:
        pass
    else:
        raise RuntimeError("NETWORK REACHED")
    return _solution_dropout_forward(x, dropout_param)
'''


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the host's 127.0.0.1 counting the connections it gets."""
    with counting_server(socket.AF_INET, ("127.0.0.1", 0)) as (address, hits):
        yield address[1], hits


@pytest.fixture(scope="module")
def setup(tmp_path_factory, listener, mini_reference):
    """Kit, rubric and the fixture submissions (one folder of zips and folders)."""
    tmp = tmp_path_factory.mktemp("grading")
    rub_path = tmp / "rubric.toml"
    rub_path.write_text(MINI_RUBRIC)
    rub = rubric_mod.load(rub_path)
    sol = solution_files()
    reference = mini_reference   # tests/tooling/conftest.py
    kit = mini_kit(tmp, tmp / "kit", rub, reference)

    subs = tmp / "submissions"
    subs.mkdir()
    ref_text = json.dumps(reference)

    def submit(name, layers_extra="", notebook=ref_text, files=None):
        files = dict(files or sol)
        files["assignment/layers.py"] = files["assignment/layers.py"] + layers_extra
        files["notebooks/Mini.ipynb"] = notebook
        return make_zip(subs / f"{name}.zip", files)

    submit("correct")
    wrong = dict(sol, **{"assignment/layers.py": sol["assignment/layers.py"] + WRONG_BN})
    own_wrong = execute(mini_notebook(), wrong, tmp / "exec-wrong")   # what the student saw
    submit("wrong_bn", WRONG_BN, notebook=json.dumps(own_wrong))
    stubs = {rel: stub_regions(text) for rel, text in sol.items()}
    submit("stubs", files=stubs, notebook=json.dumps(mini_notebook()))
    submit("loop", LOOP)
    submit("alloc", ALLOC)
    submit("segfault", SEGFAULT)
    secrets = [str(REPO / "tests" / "hidden" / "test_layers.py"),
               str(REPO / "assignment" / "layers.py"),
               str(kit / "hidden" / "tests" / "hidden" / "test_layers.py")]
    submit("cheat", CHEAT.format(secrets=secrets, port=listener[0]))
    edited = json.loads(ref_text)
    cell = [c for c in edited["cells"] if c["cell_type"] == "code"][1]
    cell["outputs"][0]["text"] = ["kept fraction: 0.5\n"]
    submit("hand_edited", notebook=json.dumps(edited))
    (subs / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip file" * 10)
    (subs / "empty").mkdir()
    (subs / "notes.txt").write_text("not a submission")
    return {"tmp": tmp, "kit": kit, "rubric": rub, "subs": subs}


@pytest.fixture(scope="module")
def graded(setup):
    out = setup["tmp"] / "GRADES"
    start = time.monotonic()
    summary = runner.run(setup["subs"], out, setup["kit"], setup["rubric"], workers=2,
                         progress=False)
    seconds = time.monotonic() - start
    results = {r["student"]: r for r in report.load_results(out)}
    return {"out": out, "summary": summary, "results": results, "seconds": seconds}


def points(result):
    return {i["id"]: i["points"] for i in result["items"]}


FULL = {"t_affine": 2, "t_bn": 3, "t_dropout": 2, "nb_dropout": 1, "nb_bn": 1, "own": 1}


def test_run_completes_for_every_case(graded):
    s = graded["summary"]
    assert sorted(graded["results"]) == sorted(
        ["correct", "wrong_bn", "stubs", "loop", "alloc", "segfault", "cheat", "hand_edited",
         "corrupt", "empty"])
    assert s.errors == {}
    assert s.ignored == ["notes.txt"]


def test_correct_submission_gets_full_marks(graded):
    r = graded["results"]["correct"]
    assert points(r) == FULL
    assert r["score"] == r["max_score"] == 10
    assert r["notes"] == []
    # own notebook identical to the reference: its outcomes were reused, not re-run
    assert any("reused" in s["output"] for s in r["steps"])


def test_wrong_batchnorm_backward_loses_exactly_its_points(graded):
    r = graded["results"]["wrong_bn"]
    assert points(r) == dict(FULL, t_bn=0, nb_bn=0)
    bn = next(i for i in r["items"] if i["id"] == "t_bn")
    assert bn["failures"] and bn["functions"] == ["batchnorm_backward"]


def test_all_stubs_get_zero_with_not_implemented_note(graded):
    r = graded["results"]["stubs"]
    assert r["score"] == 0
    fb = (graded["out"] / "feedback" / "stubs.md").read_text()
    assert "not implemented yet" in fb


def test_infinite_loop_costs_only_dropout(graded):
    r = graded["results"]["loop"]
    assert points(r) == dict(FULL, t_dropout=0, nb_dropout=0, own=0)
    msgs = [f["message"] for i in r["items"] for f in i["failures"]]
    assert any("time limit" in m or "Timeout" in m for m in msgs)


def test_50gb_allocation_hits_the_memory_limit(graded):
    r = graded["results"]["alloc"]
    assert points(r) == dict(FULL, t_affine=0)
    fb = (graded["out"] / "feedback" / "alloc.md").read_text()
    assert "ran out of memory" in fb


def test_segfault_costs_only_the_crashing_function(graded):
    r = graded["results"]["segfault"]
    assert points(r) == dict(FULL, t_dropout=0)
    assert any("SIGSEGV" in n for n in r["notes"])


def test_cheat_reads_nothing_hidden_and_reaches_no_network(graded, listener):
    r = graded["results"]["cheat"]
    iso = sandbox.detect_isolation()
    if not (iso.mount and iso.network):
        pytest.skip("no mount/network namespaces here: " + "; ".join(iso.describe()))
    assert points(r) == FULL, json.dumps(r["items"], indent=1)[:3000]
    assert listener[1] == []
    assert any("network: none" in line for line in r["isolation"])


def test_hand_edited_outputs_lose_the_own_notebook_points(graded):
    r = graded["results"]["hand_edited"]
    assert points(r) == dict(FULL, own=0)
    own = next(i for i in r["items"] if i["id"] == "own")
    assert [f["check"] for f in own["failures"]] == ["own:Mini.ipynb::Cell 1"]
    assert "differs" in (graded["out"] / "feedback" / "hand_edited.md").read_text()


def test_corrupt_zip_and_empty_folder_get_zero_and_a_note(graded):
    corrupt, empty = graded["results"]["corrupt"], graded["results"]["empty"]
    assert corrupt["score"] == empty["score"] == 0
    assert "not a readable zip file" in corrupt["notes"][0]
    assert "none of the files that are graded" in empty["notes"][0]


def test_reports_grades_csv_gradescope_and_inline(graded):
    out = graded["out"]
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert list(rows[0]) == ["student", *FULL, "total"]
    by = {r["student"]: r for r in rows}
    assert by["correct"]["total"] == "10" and by["wrong_bn"]["t_bn"] == "0"
    gs = json.loads((out / "gradescope" / "wrong_bn" / "results.json").read_text())
    assert gs["score"] == 6
    assert {t["name"]: t["score"] for t in gs["tests"]}["Batchnorm backward (hidden tests)"] == 0
    assert all({"name", "score", "max_score", "output", "visibility"} <= set(t)
               for t in gs["tests"])
    table = list(csv.DictReader((out / "inline_questions" /
                                 "Mini_Inline_Question_1.csv").open()))
    assert {r["student"] for r in table} >= {"correct", "wrong_bn", "hand_edited"}
    assert "expected activation" in table[0]["answer"]
    assert (out / "inline_questions" / "Mini_Inline_Question_1.html").exists()


def test_rerun_skips_done_and_force_regrades(graded, setup):
    summary = runner.run(setup["subs"], graded["out"], setup["kit"], setup["rubric"],
                         workers=2, progress=False, only=["corrupt", "empty"])
    assert summary.graded == [] and sorted(summary.skipped) == ["corrupt", "empty"]
    summary = runner.run(setup["subs"], graded["out"], setup["kit"], setup["rubric"],
                         workers=2, progress=False, only=["corrupt"], force=True)
    assert summary.graded == ["corrupt"]


def _processes_mentioning(text):
    found = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and text.encode() in (p / "cmdline").read_bytes():
                found.append(p.name)
        except OSError:
            continue
    return found


def test_grader_killed_mid_run_and_restarted_loses_nothing(setup, graded):
    """SIGKILL the grader (a separate process) while it grades, after it wrote results;
    rerun: everything is graded, results written before the kill are kept as they are, no
    temporary file, work folder or sandbox process of the killed grader is left."""
    out, subs = setup["tmp"] / "GRADES-killed", setup["tmp"] / "subs-killed"
    scratch = Path(tempfile.mkdtemp(prefix="cs231n-grade-test-"))
    scratch.chmod(0o711)   # enterable by the sandbox's uid
    subs.mkdir()
    for name in ["correct", "corrupt", "stubs"]:
        shutil.copy2(setup["subs"] / f"{name}.zip", subs)
    shutil.copytree(setup["subs"] / "empty", subs / "empty")
    # "correct" was graded by an earlier run (kept), corrupt and empty are instant, stubs slow
    report.write_result(out, graded["results"]["correct"])
    code = ("import sys; from pathlib import Path; from instructor.grading import runner, "
            "rubric; runner.run(sys.argv[1], sys.argv[2], Path(sys.argv[3]), "
            "rubric.load(sys.argv[4]), workers=1, progress=False, scratch=sys.argv[5])")
    cmd = [sys.executable, "-c", code, str(subs), str(out), str(setup["kit"]),
           str(setup["tmp"] / "rubric.toml"), str(scratch)]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
            len(list((out / "results").glob("*.json"))) == 3
            and _processes_mentioning(str(scratch))):
        time.sleep(0.05)   # until corrupt and empty are done and a sandbox runs for stubs
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    assert _processes_mentioning(str(scratch)) == []   # the sandbox died with the grader
    before = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert sorted(before) == ["correct.json", "corrupt.json", "empty.json"]
    assert list(scratch.glob("cs231n-grade-*"))   # the killed grader's work folder
    assert subprocess.run(cmd, cwd=REPO).returncode == 0
    after = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert sorted(after) == ["correct.json", "corrupt.json", "empty.json", "stubs.json"]
    assert all(after[n] == t for n, t in before.items())
    assert not list(out.rglob("*.tmp")) and not list(scratch.glob("cs231n-grade-*"))
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["student"] for r in rows] == ["correct", "corrupt", "empty", "stubs"]
    assert rows[0]["total"] == "10"
    stubs = json.loads((out / "results" / "stubs.json").read_text())
    assert stubs["score"] == 0 and stubs["steps"][0]["problem"] is None   # really graded
    shutil.rmtree(scratch)


def test_dask_local_cluster_gives_the_same_results(setup, graded, monkeypatch, request):
    distributed = pytest.importorskip("distributed")
    out = setup["tmp"] / "GRADES-dask"
    subs = setup["tmp"] / "subs-dask"
    subs.mkdir()
    for name in ["wrong_bn", "corrupt"]:
        shutil.copy2(setup["subs"] / f"{name}.zip", subs)
    shutil.copytree(setup["subs"] / "empty", subs / "empty")
    # the workers unpack the kit once per machine into their temporary folder
    # (workspace.unpack_kit), and grade there: here one that the test removes, so that no
    # run leaves a kit in /tmp (open to the sandbox's uid, as /tmp is)
    worker_tmp = Path(tempfile.mkdtemp(prefix="cs231n-dask-test-"))
    worker_tmp.chmod(0o1777)
    request.addfinalizer(lambda: shutil.rmtree(worker_tmp, ignore_errors=True))
    monkeypatch.setenv("TMPDIR", str(worker_tmp))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        summary = runner.run(subs, out, setup["kit"], setup["rubric"],
                             scheduler=cluster.scheduler_address, progress=False)
    assert summary.errors == {}
    got = {r["student"]: points(r) for r in report.load_results(out)}
    assert got == {s: points(graded["results"][s]) for s in ["wrong_bn", "corrupt", "empty"]}
    assert len(list(worker_tmp.glob("cs231n-grade-kit-*"))) == 1


def test_cli_grade_subcommand_is_registered():
    proc = subprocess.run([sys.executable, "-m", "instructor", "grade", "--help"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0
    assert re.search(r"--scheduler ADDRESS", proc.stdout)
