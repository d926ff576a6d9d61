"""The Gradescope autograder zip: ``python -m instructor gradescope --out autograder.zip``.

The zip holds, at its root, ``setup.sh`` and ``run_autograder`` (this folder's templates) and
the files of the solution repository the grader needs (Gradescope unpacks it all into
``/autograder/source``; see instructor/gradescope/autograder.py for what the scripts do), plus
the student release, built here by ``python -m instructor release --only student`` (so that
the container grades against the very release the students have), under
``build/gradescope/release/student/``. Left out: what instructor/manifest.py leaves out of
every release as environment, cache or build product (``.git``, ``.venv``, ``build/``,
``dist/``, ``*.pyc`` ...), and the downloaded data (``setup.sh`` fetches and verifies CIFAR-10
in the container). ``--rubric`` grades with another rubric file (it replaces
instructor/rubric.toml in the zip).

The zip is deterministic (sorted entries, fixed times and modes), so building twice from the
same source gives the same bytes.
"""

import fnmatch
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from instructor import manifest

HERE = Path(__file__).resolve().parent
SCRIPTS = ("setup.sh", "run_autograder")
RUBRIC = "instructor/rubric.toml"
RELEASE = "build/gradescope/release/student"   # autograder.py finds it there
REPO = HERE.parents[1]


def _left_out(rel):
    """True for an environment, cache or build product (instructor/manifest.py) or data."""
    parts = rel.split("/")
    return (rel.startswith(manifest.PRODUCT_PREFIXES)
            or any(p in manifest.EXCLUDED_DIR_NAMES for p in parts)   # also a worktree's .git
            or any(fnmatch.fnmatchcase(rel, g) for g in manifest.EXCLUDED_GLOBS)
            or (rel.startswith("datasets/") and rel not in manifest.DATASET_FILES))


def _files_under(root):
    """``{relative POSIX path: file}`` of the regular files under ``root``, minus left-outs."""
    root = Path(root)
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in manifest.EXCLUDED_DIR_NAMES)
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if not path.is_symlink() and not _left_out(rel):
                found[rel] = path
    return found


def bundled_files(src):
    """``{path in the zip: file on disk}`` for the solution repository ``src`` (without the
    student release, which :func:`build` adds)."""
    src = Path(src).resolve()
    files = _files_under(src)
    for name in SCRIPTS:
        if name in files:
            raise ValueError(f"{src / name} exists, but the bundle's own {name} goes there; "
                             "rename the repository's file")
        files[name] = HERE / name
    return dict(sorted(files.items()))


def student_release(src, tmp):
    """Build the student release of ``src`` in the folder ``tmp`` with the release command;
    returns its folder."""
    cmd = [sys.executable, "-m", "instructor", "release", "--src", str(src), "--only",
           "student", "--out", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise ValueError("building the student release failed:\n" + proc.stderr[-3000:])
    return Path(tmp) / "student"


def build(src, out, rubric=None):
    """Write the autograder zip ``out`` from the repository ``src``; returns (Path, entries).

    ``rubric``: a rubric TOML to grade with instead of the repository's instructor/rubric.toml.
    """
    if rubric is not None and not Path(rubric).is_file():
        raise ValueError(f"--rubric {rubric}: no such file")
    files = bundled_files(src)
    if rubric is not None:
        files[RUBRIC] = Path(rubric)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gradescope-release-") as release_tmp:
        release = student_release(src, release_tmp)
        for rel, path in _files_under(release).items():
            files[f"{RELEASE}/{rel}"] = path
        _write_zip(out, dict(sorted(files.items())))
    return out, len(files)


def _write_zip(out, files):
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel, path in files.items():
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3   # Unix, so that unzip restores the modes
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    os.replace(tmp, out)


def register(subparsers):
    """Add the ``gradescope`` subcommand (called by instructor/gradescope/__init__.py)."""
    p = subparsers.add_parser("gradescope", help="build the Gradescope autograder zip",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="dist/autograder.zip",
                   help="zip to write (default: dist/autograder.zip)")
    p.add_argument("--src", default=str(REPO), help="the solution repository (default: this one)")
    p.add_argument("--rubric", default=None, help="grade with this rubric TOML instead of "
                   f"the repository's {RUBRIC}")
    p.set_defaults(func=_main)


def _main(args):
    try:
        out, count = build(args.src, args.out, args.rubric)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({count} files, {out.stat().st_size / 1024:.0f} KiB): upload it as "
          "the autograder of a Gradescope programming assignment")
    return 0
