"""Tests of the solution release of the real repository: it is the source without the marker
lines (so the source's own nbval and unit-test runs carry over), and the source's unit tests,
public and hidden, pass against its code (needs the CIFAR-10 data, ``make data``).

The release is the session's (``real_solution``, tests/tooling/conftest.py). Its notebooks
under nbval: test_release_notebooks.py.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from instructor import markers, release
from tests.cifar_fixtures import require_cifar10

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


def _without_markers(text):
    keep = [ln for ln in text.splitlines(keepends=True)
            if ln.strip() not in (markers.BEGIN, markers.END, markers.MD_BEGIN, markers.MD_END)]
    return "".join(keep)


@pytest.mark.slow
def test_real_solution_release_is_the_source_without_marker_lines(real_solution):
    """So the source's own nbval and unit-test runs carry over to the solution release."""
    checked = 0
    for rel in real_solution.files:
        if rel == "README.md" or rel.endswith(".html"):
            continue
        ours = real_solution.root / rel
        if rel.endswith(".ipynb"):
            a, b = release.read_notebook(REPO / rel), release.read_notebook(ours)
            assert len(a["cells"]) == len(b["cells"]), rel
            for ca, cb in zip(a["cells"], b["cells"], strict=True):
                sa, sb = release.cell_source(ca), release.cell_source(cb)
                assert _without_markers(sa).rstrip("\n") == sb.rstrip("\n"), rel
                assert ca.get("outputs") == cb.get("outputs"), rel
            checked += 1
        elif rel.endswith(".py"):
            assert ours.read_text() == _without_markers((REPO / rel).read_text()), rel
            checked += 1
        else:
            assert ours.read_bytes() == (REPO / rel).read_bytes(), rel
    assert checked > 10
    assert (real_solution.root / "notebooks/Dropout.html").stat().st_size > 1000


@pytest.mark.slow
def test_real_solution_release_passes_the_unit_tests(real_solution, tmp_path):
    """The source's unit tests (public and hidden) pass against the solution release's code."""
    root = tmp_path / "solution"
    shutil.copytree(real_solution.root, root)
    hidden = release.hidden_test_files(REPO)
    for rel in [*hidden, *[p.relative_to(REPO).as_posix()
                           for p in (REPO / "tests/fixtures").rglob("*") if p.is_file()]]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    shipped_tests = [f for f in real_solution.files if f.startswith("tests/public/test_")]
    tests = sorted({*hidden, *shipped_tests})
    env = {**os.environ, "CIFAR10_DIR": str(require_cifar10())}
    out = subprocess.run([PY, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                         cwd=root, capture_output=True, text=True, timeout=1800, env=env)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
