"""End to end: the feedback a student receives for the typical mistakes of issue 14.

Fixture submissions (tests/fixtures/mistakes.py: a float64 dropout mask, the unbiased
variance in batch norm's running_var, a dropout mask not scaled by 1/p, one function left a
stub, every function a stub) are graded by ``runner.run`` with a lean rubric (hidden tests of
dropout and batch norm only: no notebook step; two at a time), and the files
written for the students are read: each names the function that failed and the hint that
``python -m assignment check`` prints for the same mistake (the public check's hint, run on
the student's code by the grader), holds no traceback, and the all-stubs feedback is under
60 lines with each unfinished function named once. The grader-only details keep the failed
checks' messages.
"""

import json
import re
import sys
from pathlib import Path

import pytest

from instructor.grading import report, runner
from instructor.grading import rubric as rubric_mod
from instructor.grading.workspace import build_kit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import mistakes  # noqa: E402  (tests/fixtures is no package)

from tests.tooling.mini_grading import fake_release, make_zip  # noqa: E402

pytestmark = pytest.mark.slow

LEAN_RUBRIC = (Path(__file__).parent / "rubrics" / "feedback_mistakes.toml").read_text()

# The public checks' own hints (assignment/checks/), as a student sees them.
HINTS = {
    "float64_mask": ("dropout", "the mask (np.random.rand(*x.shape) < p) / p is float64; give "
                                "it x's dtype"),
    "unbiased_running_var": ("batchnorm", "use the biased variance (divide by N) for "
                                          "running_var too"),
    "unscaled_mask": ("dropout", "dropout mask not scaled: divide the kept units by p"),
}
TRACEBACK = re.compile(r"Traceback|File \"|\.py:\d+|^E\s", re.MULTILINE)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mistakes")
    (tmp / "rubric.toml").write_text(LEAN_RUBRIC)
    rub = rubric_mod.load(tmp / "rubric.toml")
    kit = build_kit(REPO, tmp / "GRADES" / ".kit", rub,
                    release_dir=fake_release(tmp / "release"))
    subs = tmp / "submissions"
    subs.mkdir()
    given = rubric_mod.load().given
    builders = {"float64_mask": mistakes.float64_mask, "unscaled_mask": mistakes.unscaled_mask,
                "unbiased_running_var": mistakes.unbiased_running_var,
                "unfinished": mistakes.unfinished,
                "all_stubs": lambda repo: mistakes.all_stubs(repo, given)}
    for name, build in builders.items():
        make_zip(subs / f"{name}.zip", build(REPO))
    out = tmp / "GRADES"
    runner.run(subs, out, kit, rub, workers=2, progress=False)   # both cores
    results = {r["student"]: r for r in report.load_results(out)}
    assert sorted(results) == sorted(builders)
    return {"out": out, "results": results}


def _feedback(graded, name):
    return (graded["out"] / "feedback" / f"{name}.md").read_text()


def _points(result):
    return {i["id"]: i["points"] for i in result["items"]}


@pytest.mark.parametrize("name", sorted(HINTS))
def test_a_mistake_gets_the_public_checks_hint_and_no_traceback(graded, name):
    item, hint = HINTS[name]
    points = _points(graded["results"][name])
    assert 0 < points[item] < 4, points          # partial credit, on the right item only
    assert all(p == 4 for i, p in points.items() if i != item), points
    text = _feedback(graded, name)
    assert hint in text, text
    functions = {"dropout": "`dropout_forward`", "batchnorm": "`batchnorm_forward`"}[item]
    assert functions in text, text
    assert not TRACEBACK.search(text), text
    assert "not implemented" not in text
    details = (graded["out"] / "details" / f"{name}.md").read_text()
    assert "hidden test" in details and hint in details   # the grader's report is complete


def test_the_dtype_hint_is_the_one_check_prints_before_submission(graded):
    """The mistake is caught by `python -m assignment check` (the same hint, same words)."""
    result = graded["results"]["float64_mask"]
    public, _, _ = report.hint_sources(result)
    assert public["dropout_keeps_float32"]["status"] == "FAIL"
    assert public["dropout_keeps_float32"]["hint"].startswith(HINTS["float64_mask"][1])
    line = next(ln for ln in _feedback(graded, "float64_mask").splitlines()
                if "test_dropout_keeps_float32" in ln)
    assert line.startswith("- hidden test `test_dropout_keeps_float32`: wrong result")
    assert "hint: " + public["dropout_keeps_float32"]["hint"] in line


def test_an_unfinished_function_is_one_line(graded):
    text = _feedback(graded, "unfinished")
    assert _points(graded["results"]["unfinished"])["dropout"] == 4
    lines = [ln for ln in text.splitlines() if "batchnorm_backward_alt" in ln]
    assert len(lines) == 1, text     # one line, not one per failed check
    assert "- `batchnorm_backward_alt` is not implemented yet: " in text
    assert not TRACEBACK.search(text), text


def test_all_stubs_feedback_is_short_and_names_each_function_once(graded):
    text = _feedback(graded, "all_stubs")
    assert graded["results"]["all_stubs"]["score"] == 0
    assert len(text.splitlines()) < 60, text
    fix = text.split("## What to fix")[1].split("## How your code was run")[0]
    for function in ("dropout_forward", "dropout_backward", "batchnorm_forward",
                     "batchnorm_backward_alt"):
        lines = [ln for ln in fix.splitlines() if f"`{function}`" in ln]
        assert len(lines) == 1 and "not implemented yet" in lines[0], text
    assert not TRACEBACK.search(text), text
    gradescope = json.loads((graded["out"] / "gradescope" / "all_stubs" /
                             "results.json").read_text())
    assert not any(TRACEBACK.search(t["output"]) for t in gradescope["tests"])
