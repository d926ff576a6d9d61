"""The mini assignment of the end-to-end grading tests (test_grading, test_grading_real,
test_grading_feedback_mistakes, test_redteam and the ``mini_reference`` fixture): a notebook
of four code cells that calls the real solution's dropout and batchnorm, the stand-in release
and the submissions made from the solution.

Real reference notebooks take about a minute each under nbval; a kit built from
:func:`mini_notebook` (executed with the solution: :func:`execute`) and :func:`fake_release`
grades in seconds.
"""

import json
import shutil
import zipfile
from pathlib import Path

from assignment.collect import STUDENT_CODE_FILES

REPO = Path(__file__).resolve().parents[2]

SETUP = ("import os, sys\nsys.path.insert(0, os.path.abspath('..'))\nimport numpy as np\n"
         "from assignment.layers import dropout_forward, batchnorm_forward, "
         "batchnorm_backward\nfrom assignment.gradient_check import "
         "eval_numerical_gradient_array\nfrom assignment.notebook_checks import check_below, "
         "rel_error")
DROPOUT_1 = ("x = np.random.RandomState(0).randn(50, 40)\n"
             "out, _ = dropout_forward(x, {'mode': 'train', 'p': 0.5, 'seed': 1})\n"
             "print('kept fraction:', (out != 0).mean())")
DROPOUT_2 = ("out_test, _ = dropout_forward(x, {'mode': 'test', 'p': 0.5})\n"
             "check_below('test-mode change', np.abs(out_test - x).max(), 1e-12)")
BN = ("rs = np.random.RandomState(1)\nx = rs.randn(4, 5); gamma = rs.randn(5); "
      "beta = rs.randn(5); dout = rs.randn(4, 5)\nbn = {'mode': 'train'}\n"
      "dx_num = eval_numerical_gradient_array(lambda a: batchnorm_forward(a, gamma, beta, bn)"
      "[0], x, dout)\n_, cache = batchnorm_forward(x, gamma, beta, bn)\n"
      "dx, dgamma, dbeta = batchnorm_backward(dout, cache)\n"
      "check_below('dx relative error', rel_error(dx, dx_num), 1e-6)")

# Appended to the solution's layers.py: later definitions replace the earlier ones.
WRONG_BN = '''
_solution_batchnorm_backward = batchnorm_backward


def batchnorm_backward(dout, cache):
    """Wrong on purpose: dx off by a factor of 2."""
    dx, dgamma, dbeta = _solution_batchnorm_backward(dout, cache)
    return 2 * dx, dgamma, dbeta
'''

def code_cell(src):
    return {"cell_type": "code", "execution_count": None, "id": f"c{abs(hash(src)) % 10**8}",
            "metadata": {}, "outputs": [], "source": src}


def md_cell(src):
    return {"cell_type": "markdown", "id": f"m{abs(hash(src)) % 10**8}", "metadata": {},
            "source": src}


def mini_notebook():
    return {"cells": [md_cell("# Mini assignment"), code_cell(SETUP),
                      md_cell("## Dropout forward"), code_cell(DROPOUT_1),
                      code_cell(DROPOUT_2), md_cell("## Batchnorm backward"), code_cell(BN),
                      md_cell("### Inline Question 1\n\nWhy divide by p?"),
                      md_cell("**Your Answer:** to keep the expected activation.")],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                        "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def fake_release(dst):
    """A stand-in for dist/student: what grading needs from the release (the solution's
    code is there, but every graded code file is replaced by the submission's)."""
    for rel in ["pyproject.toml", "notebooks/nbval_sanitize.cfg", "tests/conftest.py",
                "tests/cifar_fixtures.py"]:
        if (REPO / rel).exists():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dst / rel)
    shutil.copytree(REPO / "assignment", dst / "assignment",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def execute(nb, code_files, where):
    """Run notebook dict ``nb`` against ``code_files`` ({rel: text}); return it executed."""
    import nbclient
    import nbformat

    root = fake_release(where)
    for rel, text in code_files.items():
        (root / rel).write_text(text)
    (root / "notebooks").mkdir(exist_ok=True)
    node = nbformat.from_dict(json.loads(json.dumps(nb)))
    nbclient.NotebookClient(node, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(root / "notebooks")}}).execute()
    return json.loads(nbformat.writes(node))


def stub_regions(text):
    """The solution with every region body replaced by a NotImplementedError stub."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == "### BEGIN SOLUTION":
            inside = True
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError('stub')\n")
        elif stripped == "### END SOLUTION":
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def make_zip(path, files):
    with zipfile.ZipFile(path, "w") as zf:
        for rel, data in files.items():
            zf.writestr(f"submission/{rel}", data)
    return path


def solution_files():
    return {rel: (REPO / rel).read_text() for rel in STUDENT_CODE_FILES}


def mini_kit(tmp, kit_dir, rubric, reference):
    """A grading kit in ``kit_dir`` for ``rubric``: the stand-in release (in ``tmp/release``)
    and ``reference`` (the executed :func:`mini_notebook`, as a dict; in ``tmp/refs``) as the
    reference notebook Mini.ipynb."""
    from instructor.grading.workspace import build_kit

    refs = Path(tmp) / "refs"
    refs.mkdir()
    (refs / "Mini.ipynb").write_text(json.dumps(reference))
    shutil.copy2(REPO / "notebooks" / "nbval_sanitize.cfg", refs)
    return build_kit(REPO, kit_dir, rubric, release_dir=fake_release(Path(tmp) / "release"),
                     reference_dir=refs)
