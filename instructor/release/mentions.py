"""Mentions of left-out instructor material in the text of a shipped file.

A shipped file that names something the release leaves out points the student at a file they
do not have: a Makefile recipe that runs ``python -m bench``, a docstring that sends them to
``tests/fixtures/``, a command ``python -m instructor ...``. After writing a release,
:func:`check_output` scans every text file it wrote and stops the release on such a mention
(and on a solution marker left behind), naming the written file and line. (The Makefile's
instructor targets live in an INSTRUCTOR ONLY ``*.mk`` file that the Makefile includes when
present, so the Makefile itself ships unchanged.)

What counts as a mention:

- of a private folder of instructor/manifest.py (``bench/``, ``tests/fixtures/``, ...): its
  path, ``bench/`` or ``./bench/x.py`` (a one-part name needs the slash: ``bench`` alone is a
  word; ``tests/fixtures`` needs none); and, if the folder is a Python package name, its module
  used as one: ``-m bench``, ``import bench``, ``from bench... import``, ``bench.sub``
  (``tests.fixtures`` alone);
- of a left-out file (the hidden and tooling tests, INSTRUCTOR ONLY files): its relative path,
  ``tests/hidden/test_layers.py``;
- the literal strings of manifest.FORBIDDEN_REFERENCES (``reference.npz``).

Not mentions, so that ordinary text passes: a name inside a longer name or path
(``workbench/``, ``tests/cifar_fixtures.py``), a word in prose ("ask your instructor", "from
bench results"), and the build products ``build/`` and ``dist/``, which are left out too but
which the shipped Makefile and .gitignore name on purpose.
"""

import re
from pathlib import Path

from instructor import manifest
from instructor.release import render
from instructor.release.errors import ReleaseError

# A name starts here unless it continues a longer name or path (workbench/, a.ci/); a "/"
# before it is fine: ./bench/ and /abs/path/bench/ still name the folder.
_START = r"(?<![\w.-])"


def _folder_patterns(prefix, what):
    """[(regex, what)] for one private folder, e.g. "bench/" or "tests/fixtures/"."""
    name = prefix.rstrip("/")
    found = []
    if "/" in name:
        found.append(rf"{_START}{re.escape(name)}(?![\w.-])")
    else:
        found.append(rf"{_START}{re.escape(name)}/")
    module = name.replace("/", ".")
    if all(part.isidentifier() for part in module.split(".")):
        mod = re.escape(module)
        found += [
            rf"(?<!\S)-m\s+{mod}(?![\w-])",
            rf"\bimport\s+{mod}(?!\w)",
            rf"\bfrom\s+{mod}(?:\.\w+)*\s+import\b",
            rf"(?<![\w.]){mod}\.[A-Za-z_]",
        ]
        if "." in module:
            found.append(rf"(?<![\w.]){mod}(?!\w)")
    return [(re.compile(p), f"{what} ({prefix})") for p in found]


def patterns(left_out_files=()):
    """The compiled mention patterns, each with what it points at.

    Inputs:
    - left_out_files: relative POSIX paths of left-out files that no shipped file may name
      (files.private_files gives them), besides the private folders of manifest.py

    Returns a list of (re.Pattern, str), the files first (``bench.mk`` is the file, not the
    module ``bench``).
    """
    found = []
    for rel in left_out_files:
        regex = re.compile(rf"{_START}{re.escape(rel)}(?![\w-])")
        found.append((regex, f"{rel}, which is left out of the release"))
    for prefix, what in manifest.PRIVATE_PREFIXES.items():
        found += _folder_patterns(prefix, what)
    for needle, what in manifest.FORBIDDEN_REFERENCES:
        found.append((re.compile(re.escape(needle)), what))
    return found


def find(line, compiled):
    """The first mention in `line`: (the text that matched, what it points at), or None.

    `compiled` is what patterns() returns.
    """
    for regex, what in compiled:
        match = regex.search(line)
        if match:
            return match.group(0), what
    return None


def check_output(root, files, src, mentions):
    """Scan the written tree `root`: no marker, no mention of left-out material.

    `mentions` is patterns() for the source. The error names the written file and line (the
    source file's line may differ: stubs) and the file to fix (the README: its template).
    """
    for rel in files:
        try:
            text = (Path(root) / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        origin = render.TEMPLATES if rel == "README.md" else Path(src) / rel
        for number, line in enumerate(text.splitlines(), 1):
            upper = line.upper()
            if "BEGIN SOLUTION" in upper or "END SOLUTION" in upper:
                raise ReleaseError(f"{root}/{rel}:{number}: solution marker left in the output")
            found = find(line, mentions)
            if found:
                raise ReleaseError(
                    f"{root}/{rel}:{number}: ships but refers to {found[1]} ({found[0]!r}); "
                    f"drop the reference from {origin} or leave the file out "
                    "(instructor/manifest.py)"
                )
