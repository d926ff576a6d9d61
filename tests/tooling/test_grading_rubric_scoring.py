"""Tests of the rubric's scoring (instructor/grading/scoring.py): partial credit by default,
all-or-nothing on request, skipped checks counted as not passed."""

import pytest

from instructor.grading import rubric, scoring

TESTS = [f"t.py::test_dropout_{i}" for i in range(6)]


def _rubric(**item):
    return rubric.from_dict({"item": [{"id": "dropout", "points": 6,
                                       "tests": ["t.py::test_dropout_*"], **item}]})


def _outcomes(failed=(), skipped=()):
    out = {}
    for i, t in enumerate(TESTS):
        out[f"test:{t}"] = {"passed": i not in failed, "message": "" if i not in failed
                            else "float64"}
        if i in skipped:
            out[f"test:{t}"] = {"passed": False, "skipped": True, "message": "Skipped: no"}
    return out


def _points(rub, outcomes):
    (item,) = scoring.score(rub, outcomes, {})
    return item


def test_partial_credit_is_the_default():
    # the dtype case of issue 14: one hidden test of six failed -> 5 of 6 points, not 0
    item = _points(_rubric(), _outcomes(failed=[5]))
    assert item["points"] == 5.0 and (item["passed"], item["checks"]) == (5, 6)
    assert item["failures"] == [{"check": f"test:{TESTS[5]}", "message": "float64"}]
    assert _points(_rubric(), _outcomes())["points"] == 6.0
    assert _points(_rubric(), _outcomes(failed=range(6)))["points"] == 0.0


@pytest.mark.parametrize("item", [{"all_or_nothing": True}, {"partial": False}])
def test_an_item_may_ask_for_all_or_nothing(item):
    rub = _rubric(**item)
    assert rub.items[0].all_or_nothing
    assert _points(rub, _outcomes(failed=[5]))["points"] == 0.0
    assert _points(rub, _outcomes())["points"] == 6.0


def test_a_skipped_check_counts_as_not_passed():
    """A submission must not gain by skipping the checks it would fail (pytest.skip from
    student code): the skipped checks stay in the denominator."""
    item = _points(_rubric(), _outcomes(skipped=[1, 2, 3, 4, 5]))
    assert item["points"] == 1.0 and (item["passed"], item["checks"]) == (1, 6)
    assert item["failures"][0]["message"] == "skipped: Skipped: no"
    assert _points(_rubric(all_or_nothing=True), _outcomes(skipped=[5]))["points"] == 0.0


@pytest.mark.parametrize("item, message", [
    ({"all_or_nothing": "yes"}, "all_or_nothing must be true or false, got 'yes'"),
    ({"all_or_nothing": True, "partial": True}, "contradict each other"),
])
def test_bad_scoring_modes_are_rejected(item, message):
    with pytest.raises(rubric.RubricError, match=message):
        _rubric(**item)


def test_scoring_mode_survives_the_round_trip_to_dask_workers():
    for mode in (True, False):
        again = rubric.from_dict(_rubric(all_or_nothing=mode).to_dict())
        assert again.items[0].all_or_nothing is mode


def test_the_shipped_rubric_gives_partial_credit_for_hidden_tests_only():
    """Hidden-test items share their points; notebook items are all or nothing (a reference
    section's setup cells pass for any submission, a hand-edited own notebook loses all)."""
    for item in rubric.load().items:
        assert item.all_or_nothing == (not item.tests), item.id
