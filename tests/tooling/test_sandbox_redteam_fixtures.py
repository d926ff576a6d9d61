"""The sandbox layer's red-team fixtures (tests/tooling/redteam/, the attacks 2, 3, 5, 11, 12,
13 that are not attackNN_* files), each planted in a stub and imported in a sandbox: the stub is
still a stub, the host's work folder is unchanged, no process of it survives. The verdict
layer's fixtures (attackNN_*) plant code that only means something to the grader:
tests/tooling/test_redteam.py grades them all. Harness: tests/tooling/sandbox_harness.py."""

import os
import shutil
from pathlib import Path

import pytest

from instructor.grading import launch, sandbox
from instructor.grading.limits import GiB, Limits, MiB
from tests.tooling import sandbox_harness as harness
from tests.tooling.sandbox_harness import PY

pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out


# The sandbox layer's attacks (2, 3, 5, 11, 12, 13); the verdict layer's fixtures (attackNN_*)
# plant code that only means something to the grader: tests/tooling/test_redteam.py grades
# them all.
REDTEAM = sorted(p.stem for p in (Path(__file__).parent / "redteam").glob("*.py")
                 if not p.stem.startswith("attack"))


STUB = "def affine_forward(x, w, b):\n    raise NotImplementedError('affine_forward: stub')\n"


@pytest.mark.parametrize("name", REDTEAM)
def test_redteam_fixture_runs_and_is_contained(name):
    """Each attack of tests/tooling/redteam, planted in a stub, imported in a sandbox: the stub
    is still a stub, the host's work folder is unchanged, no process of it survives."""
    harness.in_mode("root")
    import importlib
    fixture = importlib.import_module(f"tests.tooling.redteam.{name}")
    assert fixture.ATTACK.split(":")[0].isdigit() and fixture.__doc__
    scratch, uid = harness.scratch_dir(), None
    try:
        tree = scratch / "tree"
        (tree / "assignment").mkdir(parents=True)
        (tree / "assignment" / "__init__.py").write_text("")
        (tree / "assignment" / "layers.py").write_text(STUB)
        fixture.plant(tree)
        planted = (tree / "assignment" / "layers.py").read_text()
        assert planted.startswith(STUB) and len(planted) > len(STUB)
        token = f"redteam-{name}-{os.getpid()}"
        work, uid = harness.work_folder(
            scratch, {"assignment/__init__.py": "", "assignment/layers.py": planted,
                      "tests/test_x.py": "x = 1\n"}, protected=["tests"])
        before = harness.tree_state(work)
        code = (f"# {token}\nimport sys; sys.path.insert(0, '.')\n"
                "import assignment.layers as L\nL.affine_forward(1, 2, 3)\n")
        res = sandbox.run([PY, "-c", code], work, Limits(
            wall_seconds=120, memory_bytes=1 * GiB, scratch_bytes=256 * MiB),
            uid=uid)
        assert "NotImplementedError: affine_forward: stub" in res.output, res.output[-2000:]
        assert harness.tree_state(work) == before
        assert harness.processes_with(token) == []
    finally:
        if uid is not None:
            launch.UIDS.release(uid)
        shutil.rmtree(scratch, ignore_errors=True)
