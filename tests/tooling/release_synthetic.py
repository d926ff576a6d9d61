"""A small synthetic source tree for the release tests (the ``synthetic`` fixture of
tests/tooling/conftest.py builds it in tmp_path): one Python module with two functions to
write, a notebook with two sections, a code TODO, a tuning TODO and a markdown answer, and one
file of each kind that ships or stays home. Plus the helpers that edit it and expect an
error from its release."""

import json
import textwrap
from pathlib import Path

import pytest

from instructor import release
from instructor.release import ReleaseError

MOD = textwrap.dedent(
    '''\
    """A module with two functions to write."""

    import numpy as np


    def double(x):
        """Return 2 * x."""
        if x is None:
            raise ValueError("x is None")
        # TODO: double x.
        ### BEGIN SOLUTION
        y = np.multiply(2, x)  # the secret doubling line
        ### END SOLUTION
        return y


    class Model:
        def loss(self, x):
            # TODO: the loss.
            ### BEGIN SOLUTION
            secret_loss_value = x * 3 + 17
            return secret_loss_value
            ### END SOLUTION
    '''
)


def _nb(cells):
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "language_info": {"name": "python", "version": "3.11.7"},
                     "widgets": {"secret": 1}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _md(i, text):
    return {"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": text}


def _code(i, text, outputs=(), count=None):
    return {"cell_type": "code", "id": f"c{i}", "metadata": {"execution": {"t": 1},
                                                                "tags": ["keep"]},
            "source": text, "outputs": list(outputs), "execution_count": count}


def make_source(root):
    """Write a small solution source tree into root; returns root."""
    root = Path(root)
    files = {
        "README.md": "# Instructor README\nsecret grading notes\n",
        "assignment/__init__.py": '"""Package."""\n',
        "assignment/mod.py": MOD,
        "assignment/secret_key.py": '"""Answer key. INSTRUCTOR ONLY."""\nKEY = 42\n',
        "instructor/tool.py": '"""Tool."""\n',
        "tests/public/test_public_thing.py": '"""Public."""\n\n\ndef test_x():\n    assert 1\n',
        "tests/hidden/test_layers.py": '"""Hidden: uses tests/fixtures/reference.npz."""\n',
        "tests/tooling/test_markers.py": '"""Tooling."""\n',
        "tests/fixtures/reference.npz": "answers",
        "datasets/README.md": "Data goes here.\n",
        "datasets/cifar-10-batches-py/data_batch_1": "pixels",
        "build/x.txt": "build product",
        "scripts/run.sh": "#!/bin/sh\necho hi\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "scripts/run.sh").chmod(0o755)
    cells = [
        _md(0, "# Demo\n## Doubling"),
        _code(1, "%matplotlib inline\nimport numpy as np"),
        _code(2, "def helper(v):\n    # TODO: write helper\n    ### BEGIN SOLUTION\n"
                 "    return v + 1000  # secret helper line\n    ### END SOLUTION\n",
              outputs=[{"output_type": "stream", "name": "stdout",
                        "text": "return v + 1000  # secret helper line\n"}], count=2),
        _md(3, "## Tuning"),
        _code(4, "# TODO: pick the best\n### BEGIN SOLUTION\nbest_rate_secret = 0.125\n"
                 "### END SOLUTION\nprint(best_rate_secret)",
              outputs=[{"output_type": "stream", "name": "stdout", "text": "0.125\n"}], count=3),
        _md(5, "**Inline question:** why?"),
        _md(6, "**Your Answer:**\n<!-- BEGIN SOLUTION -->\nBecause of the secret reason.\n"
               "<!-- END SOLUTION -->"),
        _code(7, "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.2)"),
    ]
    (root / "notebooks").mkdir()
    (root / "notebooks/Demo.ipynb").write_text(json.dumps(_nb(cells), indent=1) + "\n")
    return root


def expect_error(src, tmp_path, match, error=ReleaseError):
    with pytest.raises(error, match=match) as info:
        release.build_student(src, tmp_path / "student")
    return str(info.value)


def edit_cell(src, index, text):
    nb = release.read_notebook(src / "notebooks/Demo.ipynb")
    nb["cells"][index]["source"] = text
    (src / "notebooks/Demo.ipynb").write_text(json.dumps(nb))
