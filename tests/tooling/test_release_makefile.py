"""Tests of how the Makefile ships: the repository's Makefile as it is, its instructor targets
in ``bench.mk``, an INSTRUCTOR ONLY file that the Makefile includes only when present.

On a small source tree holding the real Makefile and bench.mk: the student release's Makefile
works (``make -n`` of every target), has no ``bench`` target, and names nothing that is not
shipped; the source keeps ``make bench``. (The same on the whole repository's release, and the
errors for a Makefile that names left-out material: tests/test_release.py.)
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from instructor import release
from instructor.release import mentions

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
