"""A past commit's tree beside this checkout, to measure both in one run.

``bench.grading`` runs the grader of a baseline commit and ``bench.notebooks`` the notebooks of
an anchor commit on the same machine, data and Python environment as this checkout, so that
their ratio is measured in one run. :func:`extract` writes the commit's tree (``git archive``)
into a folder, with a ``.venv`` link to this checkout's Python environment; :func:`environment`
is the environment for a process started in that tree: it imports the tree's ``assignment``
(``PYTHONPATH``) and reads the given CIFAR-10 folder (``CIFAR10_DIR``, which every version
of the data code honours).

Public API: :func:`extract`, :func:`environment`.
"""

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def extract(rev, folder):
    """Write the tree of commit ``rev`` of this repository into ``folder`` (created; must not
    exist) with a ``.venv`` link to the running Python environment; returns ``folder``."""
    archived = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev], capture_output=True, check=False
    )
    if archived.returncode != 0:
        raise RuntimeError(
            f"git archive {rev} failed: {archived.stderr.decode(errors='replace').strip()}; "
            "the benchmark needs a clone of the repository that holds that commit"
        )
    folder = Path(folder)
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archived.stdout)) as tar:
        tar.extractall(folder, filter="data")
    (folder / ".venv").symlink_to(Path(sys.prefix))
    return folder


def environment(tree, data_dir):
    """``os.environ`` plus PYTHONPATH = tree and CIFAR10_DIR = data_dir (None: left empty, the
    tree's own default folder)."""
    return {**os.environ, "PYTHONPATH": str(tree), "CIFAR10_DIR": str(data_dir or "")}
