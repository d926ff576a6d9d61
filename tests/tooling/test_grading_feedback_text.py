"""Tests of instructor/grading/feedback_text.py: feedback that names the hint of the mistake,
cells by the notebook's own words, one line per unfinished function, at most 60 lines."""

import json
from pathlib import Path

import numpy as np
import pytest

from assignment import layers
from assignment import public_checks as pc
from instructor import fairness
from instructor.grading import feedback_text as ft
from instructor.grading import rubric

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
    """rubric.score of the real rubric for a submission whose every function is a stub."""
    rub = rubric.load()
    outcomes = {}
    for name in fairness.TABLE:
        for variant in ("[a]", "[batchnorm-1-0.0]", "[layernorm-0.6-1.7]", "[0.6-None]",
                        "[None-batchnorm]"):
            tid = f"test:{name}{variant}"
            items = [i for i in rub.items if any(rubric.matches(tid[5:], p) for p in i.tests)]
            function = items[0].functions[0] if items else "affine_forward"
            outcomes[tid] = {"passed": False, "message": _traceback(function)}
    for item in rub.items:
        if item.notebook:
            for n in rubric.section_cells(NOTEBOOKS[item.notebook], item.sections):
                outcomes[f"ref:{item.notebook}::Cell {n}"] = {
                    "passed": False, "message": _traceback(item.functions[0])}
        if item.own_notebook:
            for n in range(30):
                outcomes[f"own:{item.own_notebook}::Cell {n}"] = {
                    "passed": False, "message": _traceback(item.functions[0] if item.functions
                                                           else "dropout_forward")}
    return rubric.score(rub, outcomes, NOTEBOOKS)


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
    def literal_todo(x, dropout_param):
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = None
        if dropout_param["mode"] == "train":
            mask = (np.random.rand(*x.shape) < dropout_param["p"]) / dropout_param["p"]
        out = x * mask if mask is not None else x
        return out.astype(x.dtype, copy=False), (dropout_param["mode"], mask)

    public = _public_with(monkeypatch, "dropout_forward", literal_todo)
    lines = ft.items_feedback([_item_with_failed_test("test_dropout_keeps_float32")], public)
    assert lines[0] == "Dropout (hidden tests): 5 / 6"
    assert lines[1].startswith("- hidden test `test_dropout_keeps_float32`: failed with "
                               "AssertionError; hint: the mask (np.random.rand(*x.shape) < p) / "
                               "p is float64")
    assert "array([1.5])" not in "\n".join(lines) and "dtype('float64')" not in lines[1]


def test_the_unscaled_mask_gets_its_hint(monkeypatch):
    def unscaled(x, dropout_param):
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = None
        if dropout_param["mode"] == "train":
            mask = (np.random.rand(*x.shape) < dropout_param["p"]).astype(x.dtype)
        return (x * mask if mask is not None else x), (dropout_param["mode"], mask)

    public = _public_with(monkeypatch, "dropout_forward", unscaled)
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
    failure = {"check": "test:tests/hidden/test_layers.py::test_batchnorm_running_averages_and_"
                        "test_mode", "message": "E   AssertionError: Not equal to tolerance"}
    assert ft.failure_line(failure, public) == (
        "- hidden test `test_batchnorm_running_averages_and_test_mode`: failed with "
        "AssertionError; hint: use the biased variance (divide by N) for running_var too")


def test_a_notebook_cell_is_named_by_heading_in_k_and_first_line():
    nb = NOTEBOOKS["Dropout.ipynb"]
    (n,) = rubric.section_cells(nb, ["2. Dropout backward pass"])
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
