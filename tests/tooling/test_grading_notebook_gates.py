"""Tests of the gate on notebook items (instructor/grading/scoring.py, rubric.py): a notebook item
(reference or own) earns its points only when the hidden tests of its functions passed, as the
[function_tests] table names them; given functions are not gated; the shipped rubric's gates
name hidden tests that exist."""

import json
import re
from pathlib import Path

import pytest

from instructor.grading import (
    scoring,
)

GATED = {
    "release": {"given": ["affine_forward"]},
    "item": [
        {"id": "t_drop", "points": 2, "tests": ["t.py::test_drop*"],
         "functions": ["dropout_forward"]},
        {"id": "t_net", "points": 2, "tests": ["t.py::test_net_*"],
         "functions": ["FullyConnectedNet.loss"]},
        {"id": "nb_drop", "points": 3, "notebook": "N.ipynb", "sections": ["*"],
         "functions": ["dropout_forward", "affine_forward"]},
        {"id": "nb_net", "points": 3, "notebook": "N.ipynb", "sections": ["*"],
         "functions": ["FullyConnectedNet.loss"]},
        {"id": "own", "points": 1, "own_notebook": "N.ipynb"},
    ],
    "files": {"notebooks": ["N.ipynb"]},
    "function_tests": {"FullyConnectedNet.loss": ["t.py::test_net_core"]},
}


NB = {"cells": [{"cell_type": "code", "source": "x = 1"}]}


def gated_outcomes(**passed):
    """Every notebook cell passed (as a faking kernel makes them); hidden tests as given."""
    outcomes = {"ref:N.ipynb::Cell 0": {"passed": True, "message": ""},
                "own:N.ipynb::Cell 0": {"passed": True, "message": ""}}
    for test in ("test_drop_a", "test_drop_b", "test_net_core", "test_net_float32"):
        outcomes[f"test:t.py::{test}"] = {"passed": passed.get(test, True), "message": ""}
    return outcomes


def scored(outcomes, data=GATED):
    from instructor.grading import rubric as rubric_mod

    rub = rubric_mod.from_dict(json.loads(json.dumps(data)))
    return {i["id"]: i for i in scoring.score(rub, outcomes, {"N.ipynb": NB})}


def test_notebook_items_earn_their_points_only_with_the_hidden_tests_of_their_functions():
    items = scored(gated_outcomes())
    assert {k: v["points"] for k, v in items.items()} == {
        "t_drop": 2, "t_net": 2, "nb_drop": 3, "nb_net": 3, "own": 1}
    # a stub dropout_forward whose kernel printed every expected line
    items = scored(gated_outcomes(test_drop_b=False))
    assert items["nb_drop"]["points"] == 0 and items["own"]["points"] == 0
    assert items["nb_drop"]["passed"] == items["nb_drop"]["checks"] == 1
    (gate,) = [f for f in items["nb_drop"]["failures"] if f["check"].startswith("gate:")]
    assert gate["check"] == "gate:dropout_forward" and "t.py::test_drop_b" in gate["message"]
    assert "hidden tests of dropout_forward" in items["nb_drop"]["note"]
    assert items["nb_net"]["points"] == 3   # another function's tests: not gated by them


def test_the_gate_uses_the_function_tests_table_and_not_given_functions():
    # [function_tests] narrows FullyConnectedNet.loss to its core test: a failed float32
    # test costs the hidden-test item only
    items = scored(gated_outcomes(test_net_float32=False))
    assert items["t_net"]["points"] == 1 and items["nb_net"]["points"] == 3
    items = scored(gated_outcomes(test_net_core=False))
    assert items["nb_net"]["points"] == 0 and items["own"]["points"] == 0
    # affine_forward is given: not gated, and no hidden test of it is needed
    assert not any(f["check"] == "gate:affine_forward" for f in items["nb_drop"]["failures"])


def test_an_own_notebook_item_is_gated_by_its_notebooks_functions():
    from instructor.grading import rubric as rubric_mod

    rub = rubric_mod.from_dict(json.loads(json.dumps(GATED)))
    own = next(i for i in rub.items if i.id == "own")
    assert rub.gate(own) == ("dropout_forward", "FullyConnectedNet.loss")
    assert rubric_mod.from_dict(rub.to_dict()).function_tests == rub.function_tests


def test_gating_tests_run_even_when_no_item_scores_them_and_missing_ones_fail():
    from instructor.grading import rubric as rubric_mod

    data = json.loads(json.dumps(GATED))
    data["item"] = data["item"][2:]   # notebook items only
    data["function_tests"]["dropout_forward"] = ["t.py::test_drop_a"]
    rub = rubric_mod.from_dict(data)
    assert rub.needs_tests
    ids = ["t.py::test_drop_a", "t.py::test_drop_b", "t.py::test_net_core"]
    assert scoring.selected_tests(rub, ids) == ["t.py::test_drop_a", "t.py::test_net_core"]
    outcomes = {k: v for k, v in gated_outcomes().items() if "test_drop" not in k}
    items = {i["id"]: i for i in scoring.score(rub, outcomes, {"N.ipynb": NB})}
    assert items["nb_drop"]["points"] == 0   # its hidden test did not run: no credit
    assert "no hidden test of dropout_forward ran" in items["nb_drop"]["failures"][-1]["message"]


def test_a_notebook_item_whose_function_has_no_hidden_test_is_a_rubric_error():
    from instructor.grading import rubric as rubric_mod

    data = json.loads(json.dumps(GATED))
    data["item"][3]["functions"] = ["Solver._step"]
    with pytest.raises(rubric_mod.RubricError, match=r"nb_net lists 'Solver._step', which no "
                                                      r"hidden test checks.*\[function_tests\]"):
        rubric_mod.from_dict(data)


def test_every_notebook_item_of_the_shipped_rubric_is_gated_by_hidden_tests_that_exist():
    from instructor.grading import rubric as rubric_mod

    rub = rubric_mod.load()
    root = Path(rubric_mod.__file__).resolve().parents[2]   # the repository
    for item in rub.items:
        if item.notebook or item.own_notebook:
            assert rub.gate(item), item.id
            for f in rub.gate(item):
                for pattern in rub.function_tests[f]:
                    path, name = pattern.split("::")
                    prefix = re.split(r"[\[*?]", name)[0]
                    source = (root / path).read_text()
                    assert re.search(rf"^def {re.escape(prefix)}", source, re.M), (item.id, f)
