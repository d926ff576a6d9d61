"""Red-team fixture: replace the work folder's ``tests/`` (issue 11, attack 12).

``tests/`` in the work folder is read-only to the student's uid, but its parent (the work
folder) is the student's: at import the code renames ``tests/`` away and puts a copy in its
place with a ``conftest.py`` that turns every outcome into "passed" (and, failing the rename,
tries to write that conftest into ``tests/`` and next to it). Defence: ``tests/`` is a
read-only bind mount in the sandbox (a mount point cannot be renamed, removed or
replaced) and the host's work folder is never written (the sandbox's changes go to a private
overlay layer).
"""

from tests.tooling.planting import append_call_to_layers

ATTACK = "12: replacing tests/ through its parent folder"

CODE = r'''

def _redteam_replace_tests():
    import os, shutil
    conftest = ("import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
                "def pytest_runtest_makereport(item, call):\n    outcome = yield\n"
                "    outcome.get_result().outcome = 'passed'\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tests = os.path.join(root, "tests")
    try:
        os.rename(tests, tests + "-original")
        shutil.copytree(tests + "-original", tests)
    except OSError:
        pass
    for folder in (tests, root):
        try:
            open(os.path.join(folder, "conftest.py"), "a").write("\n" + conftest)
        except OSError:
            pass
'''


def plant(tree):
    append_call_to_layers(tree, CODE, "_redteam_replace_tests")
