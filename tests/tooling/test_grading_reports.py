"""Tests of the grading reports (instructor/grading/report.py, runner.py): student ids never share
a file name, a lone surrogate does not stop the reports, colliding names are an error naming
both, and an unprivileged grader's reports say that its limits are per process."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from instructor.grading import (
    report,
    runner,
    sandbox,
)


def test_student_ids_never_share_a_file_name():
    names = ["coll x", "coll_x", "coll%20x", ".hidden", "../x", "\ud800"]
    files = [report.safe_name(n) for n in names]
    assert len(set(files)) == len(files), files
    assert all("/" not in f and not f.startswith(".") for f in files)


def test_a_lone_surrogate_does_not_stop_the_reports(tmp_path):
    from instructor.grading import rubric as rubric_mod

    rub = rubric_mod.from_dict({"item": [{"id": "a", "points": 1, "tests": ["t::*"]}]})
    bad = "\ud800"
    result = {"student": "s" + bad, "score": 0, "max_score": 1, "notes": [bad],
              "items": [{"id": "a", "title": "A", "points": 0, "max_points": 1, "passed": 0,
                         "checks": 1, "failures": [{"check": "test:t::x", "message": bad}],
                         "functions": [], "note": ""}],
              "inline": {"Q": {"question": "why?", "answer": bad}}, "steps": [],
              "isolation": [], "seconds": 0}
    report.write_result(tmp_path, result)
    report.write_summary(tmp_path, rub)
    assert "\\ud800" in (tmp_path / "feedback" / f"{report.safe_name('s' + bad)}.md").read_text()
    assert report.is_done(tmp_path, "s" + bad)


def test_colliding_result_names_are_an_error_naming_both(tmp_path, monkeypatch):
    (tmp_path / "a b").mkdir()
    (tmp_path / "a_b").mkdir()
    runner.discover(tmp_path)   # distinct names: fine
    monkeypatch.setattr(report, "safe_name", lambda s: s.replace(" ", "_"))
    with pytest.raises(ValueError, match=r"'a b' and 'a_b'|'a_b' and 'a b'"):
        runner.discover(tmp_path)


ISOLATION_PROBE = ("import json; from instructor.grading import sandbox; "
                   "print('ISOLATION ' + json.dumps([sandbox.cgroups.detect().version, "
                   "sandbox.detect_isolation().describe()]))")


def test_an_unprivileged_grader_without_cgroups_reports_limits_per_process():
    """Without a cgroup it may create, an unprivileged grader limits each process on its own
    (setrlimit); every report must say so, not promise limits per submission."""
    from tests.tooling.sandbox_harness import PY, grader_env, unprivileged_prefix

    prefix = unprivileged_prefix() if os.geteuid() == 0 else []
    repo = Path(sandbox.__file__).resolve().parents[2]
    proc = subprocess.run([*prefix, PY, "-c", ISOLATION_PROBE], cwd=repo,
                          env=grader_env(), capture_output=True, text=True, timeout=300)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("ISOLATION "))
    version, isolation = json.loads(line[len("ISOLATION "):])
    if version is not None:
        pytest.skip(f"this unprivileged grader may create cgroups ({version}): limits are per "
                    "sandbox")
    (limits,) = [ln for ln in isolation if ln.startswith("limits: ")]
    assert "per process only" in limits and "no cgroup" in limits, isolation
    result = {"student": "s", "score": 0, "max_score": 1, "items": [], "notes": [],
              "isolation": isolation, "limits": "memory 4 GiB"}
    assert f"- {limits}" in report.feedback(result)
