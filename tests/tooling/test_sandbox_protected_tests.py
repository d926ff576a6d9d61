"""Attack 12 on the sandbox (issue 11), as root and as an unprivileged grader: what the trusted
side reads stays as it was -- the sandbox cannot replace the tests folder, and the host's work
folder is never written. Harness: tests/tooling/sandbox_harness.py."""

import shutil

import pytest

from tests.tooling import sandbox_harness as harness

pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out


TESTS_PROBE = r'''
import json, os
seen = {}
for what, fn in (("rename tests", lambda: os.rename("tests", "tests-old")),
                 ("write tests/test_x.py", lambda: open("tests/test_x.py", "w").write("x")),
                 ("add tests/conftest.py", lambda: open("tests/conftest.py", "w").write("x")),
                 ("remove tests/test_x.py", lambda: os.unlink("tests/test_x.py")),
                 ("chmod tests", lambda: os.chmod("tests", 0o777))):
    try:
        fn()
        seen[what] = "done"
    except OSError as exc:
        seen[what] = type(exc).__name__
open("assignment.py", "w").write("changed")   # its own files: allowed, in the sandbox only
print("SEEN " + json.dumps(seen))
'''


def scenario_protected_tests():
    scratch = harness.scratch_dir()
    try:
        work, uid = harness.work_folder(scratch, {"tests/test_x.py": "def test(): pass\n",
                                    "assignment.py": "original\n"}, protected=["tests"])
        before = harness.tree_state(work)
        out = harness.hostile(work, uid, TESTS_PROBE)
        out["unchanged"] = harness.tree_state(work) == before
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


@pytest.mark.parametrize("mode", harness.MODES)
def test_tests_folder_cannot_be_replaced_and_host_folder_is_never_written(mode):
    out = harness.as_grader(mode, scenario_protected_tests)
    assert out["seen"] is not None, out["output"]
    assert [k for k, v in out["seen"].items() if v == "done"] == []
    assert out["unchanged"]
