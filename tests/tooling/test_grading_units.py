"""Unit tests of instructor/grading's parts: sandbox, rubric, submissions, reports (fast)."""

import csv
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from instructor.grading import (
    inline,
    launch,
    notebook_sections,
    report,
    sandbox,
    sandbox_view,
    scoring,
    steps,
)
from instructor.grading import rubric as rubric_mod
from instructor.grading.limits import GiB, Limits, MiB
from instructor.grading.workspace import SubmissionError, check_kit, read_submission

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


@pytest.fixture
def scratch():
    """A folder in the system temp folder: pytest's tmp_path (under a 0700 folder) cannot be
    entered by the sandbox's unprivileged uid."""
    path = Path(tempfile.mkdtemp(prefix="cs231n-grade-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def workdir(scratch):
    """A folder the sandbox may use, handed to a sandbox uid when running as root."""
    work = scratch / "work"
    work.mkdir()
    sandbox_view.make_home(work)
    uid = launch.UIDS.acquire() if sandbox.detect_isolation().switch_uid else None
    if uid is not None:
        for dirpath, dirnames, filenames in os.walk(work):
            for name in dirnames + filenames:
                os.lchown(os.path.join(dirpath, name), uid, uid)
        os.chown(work, uid, uid)
        work.chmod(0o700)
    yield work, uid
    if uid is not None:
        launch.UIDS.release(uid)


def run(code, workdir, **limits):
    work, uid = workdir
    return sandbox.run([PY, "-c", code], work, Limits(**limits), uid=uid)


# ------------------------------------------------------------------------------ sandbox

def test_sandbox_runs_and_reports_exit_code_and_output(workdir):
    res = run("import sys; print('hello'); sys.exit(3)", workdir)
    assert res.returncode == 3 and res.output.strip() == "hello"
    assert not res.timed_out and res.signal is None and res.setup_error is None
    assert res.isolation and res.isolation[0].startswith("processes:")


@pytest.mark.slow
def test_wall_timeout_kills_every_process_even_after_setsid(workdir):
    marker = workdir[0] / "still-alive"
    code = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(3)\n"
            f"    open({str(marker)!r}, 'w').write('x')\n    os._exit(0)\ntime.sleep(100)")
    res = run(code, workdir, wall_seconds=1)
    assert res.timed_out and res.returncode is None
    assert 0.9 < res.seconds < 10
    if sandbox.detect_isolation().pid:
        import time
        time.sleep(3.5)
        assert not marker.exists()   # the escaped grandchild died with the namespace


@pytest.mark.slow
def test_cpu_limit_gives_sigxcpu(workdir):
    res = run("while True: pass", workdir, cpu_seconds=1)
    assert res.signal == "SIGXCPU"
    assert "CPU time limit" in res.problem(Limits(cpu_seconds=1))


def test_memory_limit_makes_big_allocations_fail(workdir):
    res = run("b = bytearray(1_500_000_000)", workdir, memory_bytes=1 * GiB)
    assert res.returncode == 1 and "MemoryError" in res.output


def test_file_size_limit(workdir):
    res = run("open('big', 'wb').write(b'0' * 3_000_000)", workdir,
              file_bytes=1 * MiB)
    assert res.returncode == 1 and "File too large" in res.output


def test_segfault_is_reported_as_a_crash(workdir):
    res = run("import ctypes; ctypes.string_at(0)", workdir)
    assert res.signal == "SIGSEGV"
    assert res.problem(Limits()) == "crashed (SIGSEGV)"


def test_output_is_truncated_keeping_head_and_tail(workdir):
    res = run("print('START' + 'x' * 100000 + 'END')", workdir, output_bytes=1000)
    assert res.output.startswith("START") and res.output.rstrip().endswith("END")
    assert "bytes of output cut" in res.output and len(res.output) < 1200
    assert res.output_total_bytes > 100000


def test_no_network_and_grader_repo_hidden(workdir):
    iso = sandbox.detect_isolation()
    if not (iso.network and iso.mount):
        pytest.skip("no network/mount namespaces here")
    code = ("import os, socket, sys\n"
            f"print(os.path.exists({str(REPO / 'tests' / 'test_layers.py')!r}))\n"
            f"print(os.path.exists({str(REPO / 'pyproject.toml')!r}))\n"
            "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
            "except OSError as e:\n    print('no network:', type(e).__name__)\n"
            "import numpy; print('venv ok')")
    res = run(code, workdir)
    assert res.returncode == 0, res.output
    # the grader's repository does not exist in the sandbox's root
    assert res.output.splitlines()[:2] == ["False", "False"]
    assert "no network" in res.output and "venv ok" in res.output


def test_switched_uid_cannot_read_root_only_files(workdir, scratch):
    if not sandbox.detect_isolation().switch_uid:
        pytest.skip("not root: no uid switch")
    secret = workdir[0] / "secret.txt"   # inside the sandbox's root, but root's
    secret.write_text("answers")
    secret.chmod(0o600)
    res = run(f"open({str(secret)!r}).read()", workdir)
    assert res.returncode == 1 and "PermissionError" in res.output


def test_report_pipe_carries_lines_the_output_does_not(workdir):
    work, uid = workdir
    code = "import os, sys; os.write(int(sys.argv[1]), b'{\"a\": 1}\\n'); print('out')"
    res = sandbox.run([PY, "-c", code, launch.REPORT_FD], work, uid=uid)
    assert res.report == '{"a": 1}\n' and res.output.strip() == "out"


# ------------------------------------------------------------------------------- rubric

GOOD = {"item": [{"id": "a", "points": 2, "tests": ["t.py::test_a*"], "all_or_nothing": True},
                 {"id": "b", "points": 1, "notebook": "N.ipynb", "sections": ["Two"],
                  "partial": True},
                 {"id": "c", "points": 1, "own_notebook": "N.ipynb"}],
        "files": {"notebooks": ["N.ipynb"]}}


@pytest.mark.parametrize("built, message", [
    ({}, None),
    ({"notebooks": ["M.ipynb"]}, "notebooks: kit ['M.ipynb'], rubric ['N.ipynb']"),
    ({"given": ["relu_forward"]}, "given: kit ['relu_forward'], rubric []"),
    ({"given": None}, "given: kit None, rubric []"),   # a kit from before the given list
    ({"test_ids": []}, "hidden tests: kit False, rubric True"),
])
def test_a_kit_of_an_earlier_run_must_be_built_for_the_rubric(tmp_path, built, message):
    meta = {"notebooks": ["N.ipynb"], "given": [], "test_ids": ["t.py::test_a"], **built}
    (tmp_path / "kit.json").write_text(json.dumps(meta))
    rub = rubric_mod.from_dict(GOOD)
    if message is None:
        check_kit(tmp_path, rub)
        return
    with pytest.raises(ValueError, match="was built for another rubric") as info:
        check_kit(tmp_path, rub)
    assert message in str(info.value) and "grade without --kit" in str(info.value)


@pytest.mark.parametrize("change, message", [
    ({"item": []}, "at least one item"),
    ({"item": [{"id": "a", "points": 1}]}, "selects no check"),
    ({"item": [{"id": "a b", "points": 1, "tests": ["x"]}]}, "id must be"),
    ({"item": [{"id": "total", "points": 1, "tests": ["x"]}]}, "reserved"),
    ({"item": [{"id": "a", "points": -1, "tests": ["x"]}]}, "points must be"),
    ({"item": [{"id": "a", "points": 1, "test": ["x"]}]}, "unknown key"),
    ({"item": [{"id": "a", "points": 1, "notebook": "N.ipynb"}]}, "go together"),
    ({"item": [{"id": "a", "points": 1, "own_notebook": "X.ipynb"}]}, "not in [files]"),
    ({"limits": {"wall": 3}}, "unknown key"),
])
def test_bad_rubrics_are_rejected_with_the_reason(change, message):
    data = {**GOOD, **change}
    with pytest.raises(rubric_mod.RubricError, match=message.replace("[", r"\[")):
        rubric_mod.from_dict(data)


def test_real_rubric_loads_and_totals_100():
    rub = rubric_mod.load()
    # the items of the functions that ship implemented ([release] given) are not graded
    assert rub.max_score + sum(i.points for i in rub.dropped) == 100
    assert rub.reference_notebooks == ["BatchNormalization.ipynb", "Dropout.ipynb"]


def _nb(*cells):
    return {"cells": [{"cell_type": t, "source": s} for t, s in cells]}


def test_sections_follow_heading_levels_and_skip_markers_and_questions():
    nb = _nb(("markdown", "# Top"), ("code", "0"), ("markdown", "## One"), ("code", "1"),
             ("markdown", "### One.a"), ("code", "2"), ("markdown", "## Inline Question 1"),
             ("markdown", "**Your Answer:**\n### BEGIN SOLUTION\nx\n### END SOLUTION"),
             ("code", "3"), ("markdown", "## Two"), ("code", "4"), ("code", "summary()\n"))
    assert notebook_sections.section_cells(nb, ["One"]) == [1, 2, 3]
    assert notebook_sections.section_cells(nb, ["Two"], exclude=["summary()"]) == [4]
    assert notebook_sections.section_cells(nb, ["two"]) == [4, 5]
    assert notebook_sections.section_cells(nb, ["*"]) == [0, 1, 2, 3, 4, 5]


def test_scoring_all_or_nothing_partial_and_unrun_checks():
    rub = rubric_mod.from_dict(GOOD)
    nb = _nb(("markdown", "## One"), ("code", "a"), ("markdown", "## Two"), ("code", "b"),
             ("code", "c"))
    outcomes = {"test:t.py::test_a1": {"passed": True}, "test:t.py::test_a2":
                {"passed": False, "message": "boom"},
                "ref:N.ipynb::Cell 1": {"passed": True},
                "ref:N.ipynb::Cell 2": {"passed": False, "message": "differs"}}
    items = {i["id"]: i for i in scoring.score(rub, outcomes, {"N.ipynb": nb})}
    assert items["a"]["points"] == 0 and items["a"]["failures"][0]["message"] == "boom"
    assert items["b"]["points"] == 0.5 and (items["b"]["passed"], items["b"]["checks"]) == (1, 2)
    assert items["c"]["points"] == 0 and "no check" in items["c"]["note"]


# -------------------------------------------------------------------------- submissions

def test_read_submission_finds_files_under_a_folder_and_ignores_the_rest(tmp_path):
    z = tmp_path / "s.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("alice_hw2/assignment/layers.py", "code")
        zf.writestr("alice_hw2/Dropout.ipynb", "{}")
        zf.writestr("../../etc/evil.py", "x")
    got = read_submission(z, ["assignment/layers.py", "notebooks/Dropout.ipynb",
                              "assignment/optim.py"])
    assert got == {"assignment/layers.py": b"code", "notebooks/Dropout.ipynb": b"{}"}


def test_read_submission_skips_symlinks_in_folders(tmp_path):
    (tmp_path / "sub" / "assignment").mkdir(parents=True)
    (tmp_path / "sub" / "assignment" / "layers.py").symlink_to(REPO / "assignment" / "layers.py")
    (tmp_path / "sub" / "assignment" / "optim.py").write_text("mine")
    got = read_submission(tmp_path / "sub", ["assignment/layers.py", "assignment/optim.py"])
    assert got == {"assignment/optim.py": b"mine"}


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"garbage"), "not a readable zip"),
    (lambda p: p.mkdir(), "none of the files"),
])
def test_unreadable_or_empty_submissions(tmp_path, make, message):
    p = tmp_path / "s.zip" if "zip" in message else tmp_path / "s"
    make(p)
    with pytest.raises(SubmissionError, match=message):
        read_submission(p, ["assignment/layers.py"])


# ------------------------------------------------------------------------ steps/reports

def test_parse_report_keeps_the_worst_phase_of_each_test():
    lines = [{"event": "collected", "nodeids": ["a", "b", "c"]},
             {"event": "start", "nodeid": "a"},
             {"event": "report", "nodeid": "a", "when": "call", "outcome": "passed"},
             {"event": "report", "nodeid": "a", "when": "teardown", "outcome": "failed",
              "message": "teardown broke"},
             {"event": "start", "nodeid": "b"},
             {"event": "report", "nodeid": "b", "when": "setup", "outcome": "skipped"}]
    text = "\n".join(json.dumps(x) for x in lines) + "\n{truncated"
    collected, started, out = steps.parse_report(text)
    assert collected == ["a", "b", "c"] and started == ["a", "b"]
    assert out["a"] == {"passed": False, "message": "teardown broke"}
    assert out["b"]["skipped"] and "c" not in out


def test_inline_answers_and_tables(tmp_path):
    nb = _nb(("markdown", "## Inline Question 2:\nWhy?"), ("markdown", "**Your Answer:** because"),
             ("markdown", "## Inline Question 3\nHow?"), ("markdown", "**Your Answer:**"))
    got = inline.answers(json.dumps(nb).encode(), "Dropout.ipynb")
    assert got == {"Dropout / Inline Question 2": {"question": "## Inline Question 2:\nWhy?",
                                                   "answer": "because"},
                   "Dropout / Inline Question 3": {"question": "## Inline Question 3\nHow?",
                                                   "answer": ""}}
    keys = inline.write_tables([{"student": "bob", "inline": got},
                                {"student": "al", "inline": got}], tmp_path)
    assert keys == sorted(got)
    rows = list(csv.reader((tmp_path / "Dropout_Inline_Question_2.csv").open()))
    assert rows == [["student", "answer"], ["al", "because"], ["bob", "because"]]
    assert "<script" not in (tmp_path / "Dropout_Inline_Question_2.html").read_text()


def test_derivation_cells_are_collected_with_the_cell_before_as_question():
    nb = _nb(("markdown", "### A simpler backward pass\nDerive dx."),
             ("markdown", "**Your derivation:**\n*Write your answer here.*\n$dx = ...$"),
             ("markdown", "## Inline Question 1\nWhy?"), ("markdown", "**Your Answer:** so"))
    got = inline.answers(json.dumps(nb).encode(), "BatchNormalization.ipynb")
    assert got == {
        "BatchNormalization / Derivation 1": {
            "question": "### A simpler backward pass\nDerive dx.", "answer": "$dx = ...$"},
        "BatchNormalization / Inline Question 1": {
            "question": "## Inline Question 1\nWhy?", "answer": "so"}}


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    p = tmp_path / "r.json"
    report.atomic_write(p, "old")
    with pytest.raises(TypeError):
        report.atomic_write(p, 42)
    assert p.read_text() == "old" and not list(tmp_path.glob(".*.tmp"))


def test_safe_names_cannot_escape_the_output_folder(tmp_path):
    assert report.safe_name("../../etc/passwd") == "%2E.%2F..%2Fetc%2Fpasswd"
    assert report.result_path(tmp_path, "../x").parent == tmp_path / "results"


def test_cli_bad_input_is_one_error_line_and_status_2(tmp_path):
    import subprocess

    proc = subprocess.run([PY, "-m", "instructor", "grade", str(tmp_path / "missing"), "--out",
                           str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: SUBMISSIONS=") and "Traceback" not in proc.stderr
    bad = tmp_path / "rubric.toml"
    bad.write_text("[[item]]\nid = 'a'\npoints = 1\n")
    (tmp_path / "subs").mkdir()
    proc = subprocess.run([PY, "-m", "instructor", "grade", str(tmp_path / "subs"), "--rubric",
                           str(bad), "--out", str(tmp_path / "out")], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "selects no check" in proc.stderr


def test_unscored_failure_note_quotes_the_telling_line():
    from instructor.grading.job import _telling_line

    crash = "Notebook cell execution failed\nNameError: name 'x' is not defined\n?   ^^\n"
    assert _telling_line(crash) == "NameError: name 'x' is not defined"
    diff = "  - dx relative error: <value> (must be < 1e-08): PASS\n" \
           "  + dx relative error: <value> (must be < 1e-08): FAIL\n  ?      ^^\n"
    assert _telling_line(diff).endswith("FAIL")
