"""Tests of how the Makefile ships: the repository's Makefile as it is, its instructor targets
in ``bench.mk``, an INSTRUCTOR ONLY file that the Makefile includes only when present.

On a small source tree holding the real Makefile and bench.mk: the student release's Makefile
works (``make -n`` of every target), has no ``bench`` target, and names nothing that is not
shipped; the source keeps ``make bench``. The same on the whole repository's releases
(``real_student``, ``real_solution``: tests/tooling/conftest.py), and on the synthetic tree
(``synthetic``) the Makefile rules and variables that name left-out material, which stop the
release.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from instructor import manifest, release
from instructor.release import mentions
from tests.tooling.release_synthetic import expect_error

REPO = Path(__file__).resolve().parents[2]
COPIED = ("Makefile", "bench.mk", "requirements.txt", "pyproject.toml")
# A rule line: targets (not special like .PHONY, not a variable like $(STAMP)), then ":".
RULE_LINE = re.compile(r"^([^\s#=:$.][^#=:]*?)\s*::?(?!=)", re.MULTILINE)


def targets(text):
    """The targets a user can type, in a Makefile text."""
    return [t for match in RULE_LINE.finditer(text) for t in match.group(1).split()]


def make_dry_run(root, target):
    """`make -n target` in root: (returncode, stdout, stderr)."""
    if shutil.which("make") is None:
        pytest.fail("GNU make is not installed: the Makefile is the students' entry point")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    out = subprocess.run(["make", "-n", target], cwd=root, capture_output=True, text=True,
                         env=env, timeout=60)
    return out.returncode, out.stdout, out.stderr


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """(source tree, its student release) for a tree of the real Makefile and bench.mk."""
    src = tmp_path_factory.mktemp("src")
    for rel in COPIED:
        shutil.copy2(REPO / rel, src / rel)
    student = release.build_student(src, tmp_path_factory.mktemp("out") / "student")
    return src, student


def test_the_makefile_ships_as_it_is_and_bench_mk_stays_home(trees):
    src, student = trees
    assert "bench.mk" not in student.files and not list(student.root.glob("*.mk"))
    assert (student.root / "Makefile").read_bytes() == (src / "Makefile").read_bytes()
    assert "bench.mk" in release.private_files(src)  # a shipped file naming it stops a release


def test_the_student_makefile_has_no_bench_target(trees):
    src, student = trees
    assert "bench" in targets((src / "bench.mk").read_text())
    assert "bench" not in targets((student.root / "Makefile").read_text())
    code, _, err = make_dry_run(student.root, "bench")
    assert code != 0 and "No rule to make target 'bench'" in err


def test_the_source_keeps_make_bench(trees):
    src, _ = trees
    code, out, err = make_dry_run(src, "bench")
    assert code == 0, err
    assert "-m bench" in out


@pytest.mark.parametrize("target", targets((REPO / "Makefile").read_text()))
def test_every_student_target_runs_and_names_nothing_left_out(trees, target):
    src, student = trees
    code, out, err = make_dry_run(student.root, target)
    assert code == 0, out + err
    patterns = mentions.patterns(release.private_files(src))
    said = [line for line in out.splitlines() if mentions.find(line, patterns)]
    assert not said, said
    text = (student.root / "Makefile").read_text()
    assert not [line for line in text.splitlines() if mentions.find(line, patterns)]


# ---------------------------------------------------------------------------------------------
# The synthetic tree (tests/tooling/release_synthetic.py) and the whole repository's releases
# ---------------------------------------------------------------------------------------------

SYNTHETIC_MAKEFILE = """\
.PHONY: test clean

test:
\tpython -m pytest tests

clean:
\trm -rf build dist

-include *.mk
"""


SYNTHETIC_BENCH_MK = """\
# INSTRUCTOR ONLY: the targets that need left-out files
.PHONY: bench grade report

# benchmarks
bench:
\tpython -m bench

grade: test
\tpython -m instructor grade

report: bench
\techo done
"""


def test_synthetic_makefile_ships_without_the_targets_that_need_left_out_files(
        synthetic, tmp_path):
    """The targets that need left-out files live in an INSTRUCTOR ONLY *.mk file, which the
    Makefile includes when present: the release ships the Makefile as it is, without it."""
    (synthetic / "Makefile").write_text(SYNTHETIC_MAKEFILE)
    (synthetic / "bench.mk").write_text(SYNTHETIC_BENCH_MK)
    build = release.build_student(synthetic, tmp_path / "student")
    assert (build.root / "Makefile").read_text() == SYNTHETIC_MAKEFILE
    assert targets((build.root / "Makefile").read_text()) == ["test", "clean"]
    assert "bench.mk" not in build.files and not list(build.root.glob("*.mk"))
    assert "bench.mk" in release.private_files(synthetic)


def test_makefile_rule_that_needs_left_out_files_stops_the_release(synthetic, tmp_path):
    """A rule written into the Makefile itself is not dropped: the release stops at its line."""
    (synthetic / "Makefile").write_text(SYNTHETIC_MAKEFILE.replace(
        "\n-include", "\nbench:\n\tpython -m bench\n\n-include"))
    msg = expect_error(synthetic, tmp_path, "refers to the benchmarks")
    assert "student/Makefile:10:" in msg


def test_makefile_naming_the_instructor_makefile_stops_the_release(synthetic, tmp_path):
    (synthetic / "Makefile").write_text(SYNTHETIC_MAKEFILE.replace("*.mk", "bench.mk"))
    (synthetic / "bench.mk").write_text(SYNTHETIC_BENCH_MK)
    msg = expect_error(synthetic, tmp_path, "bench.mk, which is left out of the release")
    assert "student/Makefile:9:" in msg


def test_makefile_variable_mentioning_left_out_material_stops_the_release(synthetic, tmp_path):
    (synthetic / "Makefile").write_text("BENCH := python -m bench\n\nrun:\n\t$(BENCH)\n")
    msg = expect_error(synthetic, tmp_path, "refers to the benchmarks")
    assert "student/Makefile:1:" in msg


def _mentions_left_out(line):
    return mentions.find(line, mentions.patterns(release.private_files(REPO))) is not None


@pytest.mark.slow
def test_real_makefile_ships_unchanged_without_the_instructor_targets(real_student,
                                                                      real_solution):
    text = (real_student.root / "Makefile").read_text()
    assert (real_solution.root / "Makefile").read_text() == text == (REPO / "Makefile").read_text()
    typed = set(targets(text))
    assert {"setup", "data", "test", "lint", "clean"} <= typed
    assert "bench" not in typed and "bench" in targets((REPO / "bench.mk").read_text())
    assert not list(real_student.root.glob("*.mk")) and not list(real_solution.root.glob("*.mk"))
    for line in text.splitlines():
        assert not _mentions_left_out(line), line
        for prefix in manifest.PRIVATE_PREFIXES:  # the same, without mentions.py
            module = prefix.rstrip("/").replace("/", ".")
            assert prefix not in line and f"-m {module}" not in line, line


@pytest.mark.slow
def test_real_student_make_dry_run_of_every_target_mentions_nothing_left_out(real_student):
    for target in targets((real_student.root / "Makefile").read_text()):
        code, out, err = make_dry_run(real_student.root, target)
        assert code == 0, (target, out + err)
        said = [ln for ln in out.splitlines() if _mentions_left_out(ln)]
        assert not said, (target, said)
    code, _, err = make_dry_run(real_student.root, "bench")
    assert code != 0 and "No rule to make target 'bench'" in err
