"""Tests of the grading preflight (instructor/grading/preflight.py): it refuses to grade without
the data, grades the reference solution once per kit, and refuses a kit on which the reference
scores less than full marks."""

import io
import json
import zipfile
from pathlib import Path

import pytest

from instructor.grading import (
    sandbox_view,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_kit(tmp_path):
    from instructor.grading import rubric as rubric_mod

    kit = tmp_path / "kit"
    (kit / "reference").mkdir(parents=True)
    (kit / "reference" / "Mini.ipynb").write_text("{}")
    (kit / "kit.json").write_text(json.dumps({"student_files": ["assignment/layers.py"],
                                              "notebooks": ["Mini.ipynb"], "hidden": [],
                                              "test_ids": []}))
    rub = rubric_mod.from_dict({"item": [{"id": "a", "points": 2, "tests": ["t::*"]},
                                         {"id": "b", "points": 1, "own_notebook": "Mini.ipynb"}],
                                "files": {"notebooks": ["Mini.ipynb"]}})
    return kit, rub


def test_preflight_refuses_without_the_data(tiny_kit, monkeypatch):
    from instructor.grading import preflight

    kit, rub = tiny_kit
    monkeypatch.setattr(sandbox_view, "data_dir", lambda: None)
    with pytest.raises(preflight.PreflightError, match=r"CIFAR-10 is not complete.*make data"):
        preflight.check(kit, rub, REPO, kit.parent / "out", log=lambda m: None)


def test_preflight_grades_the_reference_once_per_kit_and_refuses_a_partial_score(
        tiny_kit, monkeypatch):
    from instructor.grading import preflight

    kit, rub = tiny_kit
    monkeypatch.setattr(preflight, "check_data", lambda rubric: None)
    calls = []

    def fake_grade(name, source, kit_, rubric, scratch=None):
        calls.append(name)
        files = zipfile.ZipFile(io.BytesIO(source)).namelist()
        assert files == ["assignment/layers.py", "notebooks/Mini.ipynb"]
        score = 3.0 if len(calls) == 1 else 2.0
        return {"student": name, "score": score, "max_score": 3.0, "seconds": 40.0,
                "notes": ["no CIFAR-10"] if score < 3 else [],
                "items": [{"id": "b", "points": score - 2, "max_points": 1.0,
                           "failures": [{"check": "own:Mini.ipynb::Cell 3",
                                         "message": "DatasetUnavailableError: no data"}]}]}
    monkeypatch.setattr(preflight.job, "grade", fake_grade)
    out = kit.parent / "out"
    assert preflight.check(kit, rub, REPO, out, log=lambda m: None)["score"] == 3
    assert preflight.check(kit, rub, REPO, out, log=lambda m: None)["score"] == 3
    assert calls == ["reference-solution"]                    # cached by the kit's hash
    (kit / "reference" / "Mini.ipynb").write_text('{"changed": 1}')   # another kit
    with pytest.raises(preflight.PreflightError, match=r"scores 2/3(.|\n)*b: 0/1(.|\n)*"
                                                       r"DatasetUnavailableError"):
        preflight.check(kit, rub, REPO, out, log=lambda m: None)
    assert preflight.budget(rub, 40.0) == 120.0
