"""Tests of instructor/grading/feedback_text.py: feedback that names the hint of the mistake,
cells by the notebook's own words, one line per unfinished function, at most 60 lines."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from assignment import checks as pc
from assignment import layers
from instructor import fairness
from instructor.grading import feedback_text as ft
from instructor.grading import notebook_sections, rubric, scoring
from tests.tooling.public_check_mistakes import dropout_forward_as_in_the_todo

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = {name: json.loads((REPO / "notebooks" / name).read_text())
             for name in ("Dropout.ipynb", "BatchNormalization.ipynb")}


def _traceback(function):
    """What a hidden test's failure looks like when the student's function is a stub."""
    return "\n".join(
        ["tests/hidden/test_layers.py:312: in test_x", "    out, cache = f(x, param)",
         *[f"assignment/layers.py:{n}: in helper\n    y = g(x)" for n in range(20)],
         "E   NotImplementedError: " + function + ": not implemented yet; see notebooks/"
         "Dropout.ipynb, section '1. Dropout forward pass' (check: python -m assignment check "
         "dropout)"])


def _all_stubs_items():
    """scoring.score of the real rubric for a submission whose every function is a stub."""
    rub = rubric.load()
    outcomes = {}
    for name in fairness.TABLE:
        for variant in ("[a]", "[batchnorm-1-0.0]", "[layernorm-0.6-1.7]", "[0.6-None]",
                        "[None-batchnorm]"):
            tid = f"test:{name}{variant}"
            items = [i for i in rub.items if any(scoring.matches(tid[5:], p) for p in i.tests)]
            function = items[0].functions[0] if items else "affine_forward"
            outcomes[tid] = {"passed": False, "message": _traceback(function)}
    for item in rub.items:
        if item.notebook:
            for n in notebook_sections.section_cells(NOTEBOOKS[item.notebook], item.sections):
                outcomes[f"ref:{item.notebook}::Cell {n}"] = {
                    "passed": False, "message": _traceback(item.functions[0])}
        if item.own_notebook:
            for n in range(30):
                outcomes[f"own:{item.own_notebook}::Cell {n}"] = {
                    "passed": False, "message": _traceback(item.functions[0] if item.functions
                                                           else "dropout_forward")}
    return scoring.score(rub, outcomes, NOTEBOOKS)


def test_all_stubs_feedback_is_short_and_names_each_function_once():
    items = _all_stubs_items()
    assert sum(len(i["failures"]) for i in items) > 200  # hundreds of failed checks ...
    lines = ft.items_feedback(items, notebooks=NOTEBOOKS)
    assert len(lines) < 60, "\n".join(lines)  # ... fit on one screen
    text = "\n".join(lines)
    assert "Traceback" not in text and "assignment/layers.py:" not in text
    for function in ("dropout_forward", "batchnorm_forward", "FullyConnectedNet.__init__"):
        assert text.count(f"`{function}` is not implemented yet") == 1, text
    assert "- `dropout_forward` is not implemented yet: " in text
    assert "no check of this item ran" not in text


def test_all_stubs_feedback_file_is_under_60_lines_with_every_stub_named_once():
    """The whole file, with the real rubric (its item table and how the code was run) and
    every function of the solution a stub."""
    from instructor import release
    from instructor.grading import report

    items = _all_stubs_items()
    stubs = [n for names in release.region_functions(REPO).values() for n in names]
    result = {"student": "s", "score": 0, "max_score": 100, "items": items, "notes": [],
              "steps": [{"name": "hidden tests", "stubs": stubs}], "limits": "wall 60 s",
              "isolation": [f"isolation line {n}" for n in range(6)]}
    text = report.feedback(result)
    assert len(text.splitlines()) < 60, text
    named = {f for i in items if i["points"] < i["max_points"] for f in i["functions"]}
    for function in named & set(stubs):
        assert len(re.findall(rf"`{re.escape(function)}`[ ,]", text.split("## What to fix")[1])
                   ) == 1, (function, text)


def _public_with(monkeypatch, name, planted):
    monkeypatch.setattr(layers, name, planted)
    return pc.run_all()


def _item_with_failed_test(test_name):
    return {"id": "x", "title": "Dropout (hidden tests)", "points": 5.0, "max_points": 6.0,
            "failures": [{"check": f"test:tests/hidden/test_layers.py::{test_name}",
                          "message": "E   assert dtype('float64') == <class 'numpy.float32'>\n"
                                     "E   AssertionError: arrays differ\nE    x: array([1.5])"}],
            "note": ""}


def test_the_dtype_mistake_gets_the_public_hint_and_no_values(monkeypatch):
    public = _public_with(monkeypatch, "dropout_forward", dropout_forward_as_in_the_todo())
    lines = ft.items_feedback([_item_with_failed_test("test_dropout_keeps_float32")], public)
    assert lines[0] == "Dropout (hidden tests): 5 / 6"
    assert lines[1].startswith("- hidden test `test_dropout_keeps_float32`: failed with "
                               "AssertionError; hint: the mask (np.random.rand(*x.shape) < p) / "
                               "p is float64")
    assert "array([1.5])" not in "\n".join(lines) and "dtype('float64')" not in lines[1]


def test_the_unscaled_mask_gets_its_hint(monkeypatch):
    public = _public_with(monkeypatch, "dropout_forward",
                          dropout_forward_as_in_the_todo(scale=False))
    line = ft.failure_line(_item_with_failed_test("test_dropout_seed_gives_cs231n_mask")
                           ["failures"][0], public)
    assert "hint: dropout mask not scaled" in line and "draw the mask" not in line


def test_the_unbiased_variance_gets_its_hint(monkeypatch):
    orig = layers.batchnorm_forward

    def unbiased(x, gamma, beta, bn_param):
        before = bn_param.get("running_var", np.zeros(x.shape[1]))
        out, cache = orig(x, gamma, beta, bn_param)
        if bn_param["mode"] == "train":
            m = bn_param.get("momentum", 0.9)
            bn_param["running_var"] = m * before + (1 - m) * x.var(axis=0, ddof=1)
        return out, cache

    public = _public_with(monkeypatch, "batchnorm_forward", unbiased)
    failure = {"check": "test:tests/hidden/test_batchnorm.py::test_batchnorm_running_averages_and_"
                        "test_mode", "message": "E   AssertionError: Not equal to tolerance"}
    assert ft.failure_line(failure, public) == (
        "- hidden test `test_batchnorm_running_averages_and_test_mode`: failed with "
        "AssertionError; hint: use the biased variance (divide by N) for running_var too")


def test_a_notebook_cell_is_named_by_heading_in_k_and_first_line():
    nb = NOTEBOOKS["Dropout.ipynb"]
    (n,) = notebook_sections.section_cells(nb, ["2. Dropout backward pass"])
    label = ft.cell_label(nb, n)
    count = [c for c in nb["cells"] if c["cell_type"] == "code"][n]["execution_count"]
    assert label == f"section '2. Dropout backward pass', In [{count}] (`np.random.seed(231)`)"
    failure = {"check": f"ref:Dropout.ipynb::Cell {n}", "message": "Cell outputs differ\n..."}
    assert ft.failure_line(failure, notebooks=NOTEBOOKS) == (
        f"- reference Dropout.ipynb, {label}: the output differs from the reference")
    assert "Cell 4" not in ft.failure_line(failure, notebooks=NOTEBOOKS)
    unknown = ft.failure_line({"check": "own:X.ipynb::Cell 4", "message": ""})
    assert unknown == "- your X.ipynb, code cell 5: failed"


def test_a_tally_mismatch_says_how_many_checks_failed_and_which():
    message = ("Cell outputs differ\nassert 'checks: 77 passed, 0 failed' == "
               "'checks: 66 passed, 11 failed'")
    outputs = ("dx relative error: 3.1e-10 (must be < 1e-08): PASS\n"
               "dropout keeps the mean: FAIL [0.5 vs 1]\n"
               "dgamma relative error: 0.75 (must be < 1e-06): FAIL\n")
    assert ft.tally_text(message, outputs) == ("11 checks of this notebook failed: dropout keeps "
                                               "the mean, dgamma relative error")
    assert ft.tally_text(message) == "11 checks of this notebook failed"
    assert ft.tally_text("Cell outputs differ: 'x = 1' != 'x = 2'") is None
    failure = {"check": "ref:Dropout.ipynb::Cell 15", "message": message}
    assert "11 checks of this notebook failed" in ft.failure_line(failure, notebooks=NOTEBOOKS)


@pytest.mark.parametrize("message, kind", [
    ("E   assert array([1., 2.]) == array([1., 3.])\nE   AssertionError", "failed with "
     "AssertionError"),
    ("Traceback...\nValueError: x has shape (3,)", "failed with ValueError"),
    ("step time limit (60 s) reached", "did not finish in time (an infinite loop?)"),
    ("", "failed"),
])
def test_failure_kind_names_the_kind_only(message, kind):
    assert ft.failure_kind(message) == kind


def test_cap_keeps_the_limit_and_says_what_it_left_out():
    assert ft.cap(["a"] * 60) == ["a"] * 60
    capped = ft.cap([str(i) for i in range(100)], 60)
    assert len(capped) == 60 and capped[-1].startswith("... and 41 more lines")


def test_a_stub_no_check_reached_is_named_from_the_code():
    """dropout_backward's checks all stop at the dropout_forward stub first: the list of stubs
    found in the submission's code still names it, once, without a count."""
    item = {"id": "d", "title": "Dropout", "points": 0.0, "max_points": 4.0,
            "functions": ["dropout_forward", "dropout_backward"], "note": "",
            "failures": [{"check": f"test:tests/hidden/test_layers.py::t{n}",
                          "message": "NotImplementedError: dropout_forward: not implemented "
                                     "yet; see notebooks/Dropout.ipynb"} for n in range(3)]}
    lines = ft.items_feedback([item], stubs=["dropout_forward", "dropout_backward", "adam"])
    assert "- `dropout_forward` is not implemented yet: 3 failed checks" in lines
    assert ("- `dropout_backward` is not implemented yet either (their checks stopped at the "
            "functions above)") in lines
    assert not any("adam" in ln for ln in lines)   # a stub no lost item checks: not this list


def _graded_result():
    """A result as job.grade returns it: a failed hidden test with the public checks' results
    recorded by the hidden-tests step, a failed reference cell with its label."""
    traceback = ("Traceback (most recent call last):\n  File \"x.py\", line 3, in f\n"
                 "E   AssertionError: arrays differ\nCell outputs differ")
    items = [
        {"id": "t", "title": "Batch norm (hidden tests)", "points": 1.0, "max_points": 2.0,
         "passed": 1, "checks": 2, "functions": ["batchnorm_forward"], "note": "",
         "failures": [{"check": "test:tests/hidden/test_batchnorm.py::test_batchnorm_running_"
                                "averages_and_test_mode", "message": "wrong result: a check of "
                                "this test failed"}]},
        {"id": "n", "title": "Notebook", "points": 0.0, "max_points": 1.0, "passed": 0,
         "checks": 1, "functions": [], "note": "",
         "failures": [{"check": "ref:BatchNormalization.ipynb::Cell 7", "message": traceback}]},
    ]
    steps = [{"name": "hidden tests", "public": {"batchnorm_running_stats": {
                  "status": "FAIL", "what": "w", "detail": "d",
                  "hint": "use the biased variance (divide by N) for running_var too"}}},
             {"name": "ref BatchNormalization.ipynb", "labels": {
                  "ref:BatchNormalization.ipynb::Cell 7": "section 'Batch norm', In [8] "
                                                          "(`x = 1`)"}}]
    return {"student": "s", "score": 1.0, "max_score": 3.0, "items": items, "steps": steps,
            "notes": ["ref:BatchNormalization.ipynb::Cell 7 failed (no rubric item scores it)"],
            "isolation": [], "limits": ""}


def test_the_students_file_is_the_feedback_text_and_the_graders_keeps_the_messages():
    from instructor.grading import report

    result = _graded_result()
    text = report.feedback(result)
    assert ("- hidden test `test_batchnorm_running_averages_and_test_mode`: wrong result: a "
            "check of this test failed; hint: use the biased variance (divide by N) for "
            "running_var too") in text
    assert ("- reference BatchNormalization.ipynb, section 'Batch norm', In [8] (`x = 1`): "
            "the output differs from the reference") in text
    assert "- reference BatchNormalization.ipynb, section 'Batch norm', In [8] (`x = 1`) " \
           "failed (no rubric item scores it)" in text       # notes name the cell the same way
    assert "Traceback" not in text and "Cell 7" not in text and "x.py" not in text
    details = report.grader_report(result)
    assert "Traceback" in details and "arrays differ" in details
    gs = report.gradescope(result)
    assert "hint: use the biased variance" in gs["tests"][0]["output"]
    assert "Traceback" not in json.dumps(gs)


@pytest.mark.parametrize("check, message, text", [
    ("test:t.py::a", "your code raised ValueError: x has shape (3,)",
     "your code raised ValueError: x has shape (3,)"),          # the verdict's line, as is
    ("test:t.py::a", "your code raised MemoryError: Unable to allocate 50.0 GiB",
     "ran out of memory: your code raised MemoryError: Unable to allocate 50.0 GiB"),
    ("test:t.py::a", "NotImplementedError: stub",
     "not implemented yet (the function still raises NotImplementedError)"),
    ("test:t.py::a", "E   assert array([1.]) == array([2.])\nE   AssertionError",
     "failed with AssertionError"),                             # values never shown
    ("ref:X.ipynb::Cell 1", "Traceback (most recent call last):\nValueError: bad",
     "failed with ValueError"),
])
def test_check_text_keeps_the_verdicts_words_and_drops_tracebacks(check, message, text):
    assert ft.check_text(check, message) == text


def test_the_cases_of_a_parametrized_test_are_one_line():
    failure = {"check": "test:tests/hidden/test_layers.py::test_affine_gradients[x]",
               "message": "your code raised ValueError: bad shape"}
    item = {"id": "a", "title": "Affine", "points": 0.0, "max_points": 2.0, "note": "",
            "functions": [], "failures": [failure] * 3}
    assert ft.items_feedback([item]) == [
        "Affine: 0 / 2",
        "- hidden test `test_affine_gradients` (3 cases): your code raised ValueError: bad shape",
        ""]


def test_the_graders_own_words_for_a_cell_are_kept():
    said = ("no outputs: this cell was not run before the notebook was saved; run all cells, "
            "save, and hand in the notebook")
    assert ft.check_text("own:X.ipynb::Cell 2", said) == said
    assert ft.check_text("ref:X.ipynb::Cell 2", "Cell outputs differ: 0.5 != 0.25") == (
        "the output differs from the reference")


def test_the_notebook_step_records_each_failed_cells_name():
    from instructor.grading import steps

    nb = NOTEBOOKS["Dropout.ipynb"]
    (n,) = notebook_sections.section_cells(nb, ["2. Dropout backward pass"])
    outcomes = {f"ref:Dropout.ipynb::Cell {n}": {"passed": False, "message": "x"},
                "ref:Dropout.ipynb::Cell 0": {"passed": True, "message": ""},
                "ref:Dropout.ipynb": {"passed": False, "message": "could not be collected"}}
    assert steps._labels(nb, outcomes) == {f"ref:Dropout.ipynb::Cell {n}": ft.cell_label(nb, n)}
    odd = {"cells": [{"cell_type": "code", "source": 5}]}   # a student's broken notebook
    assert steps._labels(odd, {"own:X.ipynb::Cell 0": {"passed": False}}) == {}
    assert steps.StepLog("s", 1.0).to_dict() == {"name": "s", "seconds": 1.0, "problem": None,
                                                 "output": "", "attempts": 1}
