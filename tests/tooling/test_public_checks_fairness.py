"""Tests of the fairness table (instructor/fairness.py): every scored hidden test has its public
counterpart, and the table's check fails for a hidden test added without a public check, a
missing check, a stale entry and a scored exemption."""

import subprocess
import sys
from pathlib import Path

import pytest

from assignment import checks as pc
from instructor import fairness, manifest
from instructor.grading import rubric, scoring

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hidden_ids():
    """Node ids of every hidden test, as pytest collects them."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "-p", "no:cacheprovider", manifest.HIDDEN_TEST_DIR], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    ids = [line for line in run.stdout.splitlines() if "::" in line]
    assert len(ids) > 100, run.stdout
    return ids


def _check_names():
    return {check.__name__ for checks in pc.PARTS.values() for check in checks}


def _is_scored(test_id, rub=None):
    return bool(scoring.selected_tests(rub or rubric.load(), [test_id]))


@pytest.mark.slow
def test_every_scored_hidden_test_has_a_public_counterpart(hidden_ids):
    rub = rubric.load()
    assert fairness.problems(hidden_ids, _check_names(), lambda t: _is_scored(t, rub)) == []


@pytest.mark.slow
def test_the_table_fails_for_a_hidden_test_added_without_a_public_check(hidden_ids):
    new = "tests/hidden/test_layers.py::test_dropout_new_property[0.5]"
    found = fairness.problems([*hidden_ids, new], _check_names(), _is_scored)
    assert found == [f"{new.split('[')[0]}: a hidden test with no entry; add the public "
                     "check that covers its property to assignment/checks/ and name "
                     "it in instructor/fairness.py (or say why it is Given or NotScored)"]


@pytest.mark.slow
def test_the_table_fails_for_a_missing_check_a_stale_entry_and_a_scored_exemption(hidden_ids):
    table = dict(fairness.TABLE)
    table["tests/hidden/test_layers.py::test_dropout_keeps_float32"] = fairness.Public(
        "no_such_check")
    table["tests/hidden/test_layers.py::test_gone"] = fairness.Public("dropout_keeps_float32")
    table["tests/hidden/test_layers.py::test_dropout_gradients"] = fairness.NotScored("wrongly")
    found = fairness.problems(hidden_ids, _check_names(), _is_scored, table)
    assert len(found) == 3, found
    assert found[0].startswith("tests/hidden/test_layers.py::test_gone: in the fairness table but")
    assert found[1].startswith("tests/hidden/test_layers.py::test_dropout_gradients: marked "
                               "NotScored but the rubric scores "
                               "tests/hidden/test_layers.py::test_dropout_grad")
    assert found[2] == ("tests/hidden/test_layers.py::test_dropout_keeps_float32: public check "
                        "'no_such_check' does not exist in assignment/checks/")
