"""Tests for assignment/notebook_checks.py: printed formats, verdicts, tally, parsing."""

import re
from pathlib import Path

import numpy as np
import pytest

from assignment import notebook_checks as nc

SANITIZE_CFG = Path(__file__).resolve().parents[2] / "notebooks" / "nbval_sanitize.cfg"


@pytest.fixture(autouse=True)
def _fresh_tally():
    nc.reset()
    yield
    nc.reset()


def test_check_below_pass_line_format(capsys):
    nc.check_below("dx relative error", 3.14e-10, 1e-8)
    assert capsys.readouterr().out == "dx relative error: 3.1e-10 (must be < 1e-08): PASS\n"


def test_check_below_fail_does_not_raise_and_is_recorded(capsys):
    nc.check_below("dx relative error", 2e-3, 1e-8)
    assert capsys.readouterr().out.endswith("(must be < 1e-08): FAIL\n")
    assert [r.ok for r in nc.results()] == [False]


def test_check_below_is_strict():
    nc.check_below("q", 0.5, 0.5)
    assert nc.results()[0].ok is False


def test_check_above_and_note(capsys):
    nc.check_above("accuracy", 0.3, 0.25, note="chance is 0.1")
    assert capsys.readouterr().out == (
        "accuracy: 3.0e-01 (must be > 0.25): PASS  -- note: chance is 0.1\n"
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_value_fails(value, capsys):
    nc.check_below("loss", value, 1e9)
    nc.check_above("loss", value, -1e9)
    assert [r.ok for r in nc.results()] == [False, False]
    assert capsys.readouterr().out.count("FAIL") == 2


def test_numpy_scalars_and_size_one_arrays_are_accepted(capsys):
    nc.check_below("q", np.float32(1e-9), np.array([1e-8]))
    assert capsys.readouterr().out.endswith("PASS\n")


def test_bad_arguments_raise_with_explanations():
    with pytest.raises(TypeError, match="value must be a single number"):
        nc.check_below("q", np.zeros(3), 1.0)
    with pytest.raises(TypeError, match="name must be a non-empty one-line str"):
        nc.check_below("two\nlines", 1.0, 2.0)
    with pytest.raises(ValueError, match="bound must be finite"):
        nc.check_below("q", 1.0, float("nan"))
    with pytest.raises(TypeError, match="ok must be a bool"):
        nc.check_claim("claim", 1)
    assert nc.results() == []


def test_check_claim_with_and_without_detail(capsys):
    nc.check_claim("dropout lowers training accuracy", np.bool_(True), detail="0.99 vs 0.87")
    nc.check_claim("test mode is the identity", False)
    assert capsys.readouterr().out == (
        "dropout lowers training accuracy: PASS [0.99 vs 0.87]\ntest mode is the identity: FAIL\n"
    )


def test_checks_return_none_so_notebooks_show_no_repr():
    assert nc.check_below("q", 0.0, 1.0) is None
    assert nc.check_claim("c", True) is None


def test_summary_counts_recorded_checks(capsys):
    nc.check_below("a", 0.0, 1.0)
    nc.check_below("b", 2.0, 1.0)
    nc.check_claim("c", True)
    nc.summary()
    assert capsys.readouterr().out.splitlines()[-1] == "checks: 2 passed, 1 failed"


def test_count_verdicts_parses_every_printed_form(capsys):
    nc.check_below("db1 relative error: layer 1", 1e-3, 1e-2, note="bias before a norm: 0")
    nc.check_above("val acc", 0.1, 0.2)
    nc.check_claim("claim with: colon", True, detail="x: 1 [y]")
    nc.check_claim("plain claim", False)
    nc.summary()
    text = "noise line: PASSED\n" + capsys.readouterr().out + "PASS\n"
    assert nc.count_verdicts(text) == (2, 2)


def test_rel_error_matches_definition_and_checks_shapes():
    x = np.array([1.0, 0.0, -2.0])
    y = np.array([1.1, 0.0, -2.0])
    assert nc.rel_error(x, y) == pytest.approx(0.1 / 2.1)
    assert nc.rel_error(0.0, 0.0) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        nc.rel_error(np.zeros(2), np.zeros(3))


def _sanitize(text):
    """Applies notebooks/nbval_sanitize.cfg exactly as nbval 0.11 does."""
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(SANITIZE_CFG.read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_sanitizer_masks_values_and_details_but_keeps_verdicts(capsys):
    nc.check_below("dx relative error", 3.1e-10, 1e-8)
    nc.check_claim("dropout helps", True, detail="0.31 vs 0.29")
    first = capsys.readouterr().out
    nc.check_below("dx relative error", 7.7e-12, 1e-8)
    nc.check_claim("dropout helps", True, detail="0.33 vs 0.28")
    second = capsys.readouterr().out
    nc.check_below("dx relative error", 3.1e-6, 1e-8)
    nc.check_claim("dropout helps", False, detail="0.31 vs 0.29")
    failing = capsys.readouterr().out
    assert first != second and _sanitize(first) == _sanitize(second)
    assert _sanitize(first) != _sanitize(failing)
    assert "(must be < 1e-08): PASS" in _sanitize(first)


def test_sanitizer_masks_addresses_and_timings():
    a = "<Foo object at 0x7f3a2b1c0d90>\ntook 1.23 s\n12.5 ms per call\n"
    b = "<Foo object at 0x55d0e1a2b3c4>\ntook 10.01 s\n0.7 ms per call\n"
    assert a != b and _sanitize(a) == _sanitize(b)
