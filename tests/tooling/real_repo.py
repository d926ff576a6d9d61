"""The real repository's notebooks, which the release tests build from (conftest.py's shared
releases and test_release.py's own runs)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_NOTEBOOKS = ("notebooks/Dropout.ipynb", "notebooks/BatchNormalization.ipynb")


def require_real_repo():
    """Fail the test, naming them, when the real notebooks are missing."""
    missing = [n for n in REAL_NOTEBOOKS if not (REPO / n).exists()]
    if missing:
        pytest.fail(f"the real notebooks are missing: {missing}")
