"""Tests of assignment/checks/ (``python -m assignment check``): every part passes on the
solution; a stub is reported as not implemented yet (its message once); other exceptions, an
output left at None, NaN and outputs of the wrong shape are failures, not crashes; the command
line. The planted mistakes: test_public_checks_mistakes.py; the fairness table:
test_public_checks_fairness.py.
"""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assignment import checks as pc
from assignment import layers
from assignment.checks import common
from tests.tooling.public_check_mistakes import by_status

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("part", sorted(pc.PARTS))
def test_every_part_passes_on_the_solution(part):
    results = pc.run_part(part)
    assert [r.status for r in results] == ["PASS"] * len(pc.PARTS[part]), results


def test_stub_is_reported_as_not_implemented(monkeypatch):
    def stub(*args, **kwargs):
        raise NotImplementedError("batchnorm_forward: not implemented yet; see notebooks/X")

    monkeypatch.setattr(layers, "batchnorm_forward", stub)
    results = by_status(pc.run_part("batchnorm"))
    n = len(pc.PARTS["batchnorm"])
    assert len(results["TODO"]) == n  # every batchnorm check needs the forward pass
    details = [r.detail for r in results["TODO"]]
    assert all(d.startswith("batchnorm_forward: not implemented yet") for d in details)
    out = io.StringIO()
    assert pc.main(["batchnorm"], out=out) == 1
    text = out.getvalue()
    # the stub's message once; the other checks it stops name it in one line
    assert text.count("batchnorm_forward: not implemented yet; see notebooks/X") == 1
    assert "\n      batchnorm_forward: not implemented yet; see notebooks/X\n" in text
    assert text.count("(batchnorm_forward: not implemented yet, as above)") == n - 1
    assert len(text.strip().splitlines()) == n + 1 + 2  # one line per check, message, total
    assert f"0 passed, 0 failed, {n} not implemented yet" in text


def test_other_exceptions_are_failures_not_crashes(monkeypatch):
    def broken(x, w, b):
        raise IndexError("index 7 is out of bounds")

    monkeypatch.setattr(layers, "affine_forward", broken)
    failed = by_status(pc.run_part("affine"))["FAIL"]
    assert len(failed) == len(pc.PARTS["affine"])
    assert failed[0].detail == "raised IndexError: index 7 is out of bounds"


def test_output_left_at_its_initial_none_fails(monkeypatch):
    """The starting code sets each output to None (as CS231n's); code that never assigns it
    must not pass (a None compares as NaN, and NaN > tolerance is False)."""
    monkeypatch.setattr(layers, "relu_forward", lambda x: (None, x))
    failed = {r.what: r for r in by_status(pc.run_part("relu"))["FAIL"]}
    values = failed["relu_forward keeps positive inputs and zeroes the others."]
    assert values.detail == "an output is None"
    assert "the variable the function returns" in values.hint


def test_nan_output_fails():
    assert common.rel_error(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == float("inf")
    assert common.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_gradient_factor_hint_is_silent_for_unrelated_errors():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=10), rng.normal(size=10)
    assert common.factor_hint("dx", a, b, 4) == ""
    assert "wrong sign" in common.factor_hint("dx", -b, b, 4)


def test_is_vs_expected_shows_enough_digits_to_differ():
    text = common.is_vs_expected("v", [1.0, 2.0000001], [1.0, 2.0])
    assert text == "v is [1.       , 2.0000001], expected [1., 2.]"


def test_an_output_of_the_wrong_shape_fails_with_the_shapes(monkeypatch):
    monkeypatch.setattr(layers, "relu_forward", lambda x: (np.maximum(x, 0)[:, :2], x))
    failed = {r.what: r for r in by_status(pc.run_part("relu"))["FAIL"]}
    values = failed[pc.relu_forward_values.__doc__]
    assert values.detail == "an output has shape (3, 2), expected (3, 4)"


def test_unknown_part_is_a_value_error():
    with pytest.raises(ValueError, match="expected one of: affine"):
        pc.run_part("convnet")


def test_command_line():
    run = [sys.executable, "-m", "assignment", "check"]
    ok = subprocess.run([*run, "relu", "optim"], cwd=REPO, capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    n = len(pc.PARTS["relu"]) + len(pc.PARTS["optim"])
    assert ok.stdout.count("PASS") == n and f"{n} passed, 0 failed" in ok.stdout
    bad = subprocess.run([*run, "convnet"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "unknown part" in bad.stderr
