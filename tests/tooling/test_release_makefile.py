"""Tests of instructor/makefile.py: the shipped Makefile, without the rules that need left-out
files.

The oracle for "needs a left-out file" here is a plain substring test (``LEFT_OUT``), so these
tests exercise the rule surgery alone; instructor/references.py has its own tests. Every result
is also run through ``make -n`` for each of its targets, which fails on a rule that depends on
a dropped target.
"""

import os
import shutil
import subprocess
import textwrap

import pytest

from instructor import makefile

LEFT_OUT = ("bench", "instructor")


def mentions(line):
    return any(word in line for word in LEFT_OUT)


SOURCE = textwrap.dedent(
    """\
    # The header comment stays.
    PY := python3
    NBVAL := --nbval \\
        --nbval-current-env

    .PHONY: setup test bench report lint \\
            clean

    setup:
    \techo setup

    test: setup                ## unit tests
    \t$(PY) -m pytest tests $(NBVAL)

    # Benchmarks: their comment goes with them.
    bench: setup
    \t$(PY) -m bench

    report: test bench         ## depends on a dropped target
    \techo report

    lint: setup
    \t$(PY) -m ruff check .

    clean:
    \trm -rf build dist
    """
)

EXPECTED = textwrap.dedent(
    """\
    # The header comment stays.
    PY := python3
    NBVAL := --nbval \\
        --nbval-current-env

    .PHONY: setup test lint \\
            clean

    setup:
    \techo setup

    test: setup                ## unit tests
    \t$(PY) -m pytest tests $(NBVAL)

    lint: setup
    \t$(PY) -m ruff check .

    clean:
    \trm -rf build dist
    """
)


def make_dry_run(tmp_path, text, target):
    """`make -n target` on a Makefile with this text: (returncode, stdout + stderr)."""
    if shutil.which("make") is None:
        pytest.fail("GNU make is not installed: the Makefile is the students' entry point")
    (tmp_path / "Makefile").write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    out = subprocess.run(["make", "-n", target], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=60)
    return out.returncode, out.stdout + out.stderr


def test_rules_are_parsed_with_their_comments_and_recipes():
    found = {r.targets: r for r in makefile.rules(SOURCE)}
    assert list(found) == [(".PHONY",), ("setup",), ("test",), ("bench",), ("report",),
                           ("lint",), ("clean",)]
    assert found[("report",)].prerequisites == ("test", "bench")
    bench = found[("bench",)]
    lines = SOURCE.splitlines()
    assert lines[bench.first] == "# Benchmarks: their comment goes with them."
    assert lines[bench.rule_line] == "bench: setup"
    assert lines[bench.last] == "\t$(PY) -m bench"
    assert found[(".PHONY",)].prerequisites[-1] == "clean"  # over the continuation


def test_rules_that_need_left_out_files_are_dropped_with_their_dependants():
    text, dropped = makefile.shipped_makefile(SOURCE, mentions)
    assert dropped == ["bench", "report"]
    assert text == EXPECTED


def test_nothing_to_drop_keeps_the_bytes():
    source = "a:\r\n\techo a\r\n\r\nb: a\r\n\techo b\r\n"
    assert makefile.shipped_makefile(source, mentions) == (source, [])


def test_a_variable_that_mentions_left_out_files_is_kept_for_the_final_scan():
    source = "BENCH := python -m bench\n\nrun:\n\t$(BENCH)\n"
    assert makefile.shipped_makefile(source, mentions) == (source, [])


def test_dropping_the_last_rule_leaves_no_trailing_blank_line():
    text, dropped = makefile.shipped_makefile("a:\n\techo a\n\nbench:\n\tpython -m bench\n",
                                              mentions)
    assert (text, dropped) == ("a:\n\techo a\n", ["bench"])


@pytest.mark.parametrize("target", ["setup", "test", "lint", "clean"])
def test_every_target_left_runs_under_make_dry_run(tmp_path, target):
    text, _ = makefile.shipped_makefile(SOURCE, mentions)
    code, output = make_dry_run(tmp_path, text, target)
    assert code == 0, output
    assert not any(mentions(line) for line in output.splitlines()), output


def test_a_dependant_rule_left_behind_would_fail_make_dry_run(tmp_path):
    """Why the dependants go too: `report` kept without `bench` breaks make."""
    broken = EXPECTED + "\nreport: test bench\n\techo report\n"
    code, output = make_dry_run(tmp_path, broken, "report")
    assert code != 0 and "No rule to make target 'bench'" in output
