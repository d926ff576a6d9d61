"""Which source files ship: the rules of instructor/manifest.py applied to a source tree.

Both releases hold the same files (:func:`shipped_files`). Of the files left out, the hidden
and tooling tests and the INSTRUCTOR ONLY files are *private* (:func:`private_files`): no
shipped file may mention them (instructor/release/mentions.py).
"""

import ast
import fnmatch
import json
import os
from pathlib import Path

from instructor import manifest
from instructor.release.errors import ReleaseError


def _is_instructor_only(path):
    """True if the file's first line or (for .py) module docstring says INSTRUCTOR ONLY."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    first = text.split("\n", 1)[0]
    if manifest.INSTRUCTOR_ONLY in first:
        return True
    if path.suffix == ".py":
        try:
            doc = ast.get_docstring(ast.parse(text)) or ""
        except SyntaxError:
            return False
        return manifest.INSTRUCTOR_ONLY in doc
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
        except json.JSONDecodeError:
            return False
        if cells:
            src = cells[0].get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            return manifest.INSTRUCTOR_ONLY in src.split("\n", 1)[0]
    return False


def _matches(rel, patterns):
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def _walk(src):
    """Every file under src (relative POSIX paths, sorted), pruning excluded directory names."""
    src = Path(src)
    found = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in manifest.EXCLUDED_DIR_NAMES)
        for name in filenames:
            found.append((Path(dirpath) / name).relative_to(src).as_posix())
    return sorted(found)


def shipped_files(src):
    """The relative POSIX paths (sorted) of the source files that go into both releases.

    Raises ReleaseError for a file in tests/ that manifest.py does not classify.
    """
    src = Path(src)
    shipped, unclassified = [], []
    for rel in _walk(src):
        if rel.startswith(manifest.EXCLUDED_PREFIXES) or _matches(rel, manifest.EXCLUDED_GLOBS):
            continue
        if rel.startswith("datasets/") and rel not in manifest.DATASET_FILES:
            continue
        if rel.startswith("tests/"):
            if _matches(rel, manifest.HIDDEN_TESTS + manifest.TOOLING_TESTS):
                continue
            if not _matches(rel, manifest.PUBLIC_TESTS):
                unclassified.append(rel)
                continue
        if _is_instructor_only(src / rel):
            continue
        shipped.append(rel)
    if unclassified:
        raise ReleaseError(
            "test files not classified in instructor/manifest.py (add each to PUBLIC_TESTS, "
            "HIDDEN_TESTS or TOOLING_TESTS): " + ", ".join(unclassified)
        )
    return shipped


def private_files(src):
    """Relative paths (sorted) of the left-out files that no shipped file may mention.

    These are the hidden and tooling tests and the INSTRUCTOR ONLY files; the files under the
    private folders (manifest.PRIVATE_PREFIXES) are left out by folder and mentioned by folder.
    Build products, environments and downloaded data are not private.
    """
    src = Path(src)
    found = []
    for rel in _walk(src):
        if (rel.startswith(manifest.EXCLUDED_PREFIXES) or _matches(rel, manifest.EXCLUDED_GLOBS)
                or rel.startswith("datasets/") or rel == "README.md"):
            continue  # private folders, build products, data; the README ships (rewritten)
        if rel.startswith("tests/") and _matches(
            rel, manifest.HIDDEN_TESTS + manifest.TOOLING_TESTS
        ):
            found.append(rel)
        elif _is_instructor_only(src / rel):
            found.append(rel)
    return found


def hidden_test_files(src):
    """Relative paths of the tests that grade student code but are not shipped (HIDDEN_TESTS)."""
    return [r for r in _walk(src) if r.startswith("tests/") and _matches(r, manifest.HIDDEN_TESTS)]
