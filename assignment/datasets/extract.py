"""Safe extraction of the CIFAR-10 tarball (used by `fetch.py`).

The archive is treated as hostile: every member is checked before a byte of it is written, and
only plain files and folders below one expected top folder are accepted. Rejected: absolute
paths, `..` components, symbolic and hard links, device files, FIFOs, and members outside the top
folder. Files are written by this code (never `tarfile.extract`), so archive permissions,
owners and timestamps are ignored.

Everything is written into a fresh temporary folder beside the target; only a complete, checked
extraction is renamed into place, so an interrupted or rejected extraction never leaves a folder
that looks complete (the temporary folder is removed, or removed by the next run).
"""

import gzip
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath


class UnsafeArchiveError(ValueError):
    """The archive holds a member that could write outside the target, or is not a CIFAR tarball."""


class BrokenArchiveError(ValueError):
    """The archive cannot be read (truncated or not a gzip tarball)."""


TMP_PREFIX = ".extract-tmp-"
OLD_PREFIX = ".replaced-"


def _member_relpath(member: tarfile.TarInfo, top: str) -> PurePosixPath | None:
    """Check one member; return its path below `top` (None for `top` itself).

    Raises UnsafeArchiveError naming the member when it is not a plain file or folder strictly
    inside `top`.
    """
    name = member.name
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"archive member {name!r} has an absolute path")
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        raise UnsafeArchiveError(f"archive member {name!r} contains '..'")
    if not (member.isfile() or member.isdir()):
        kind = ("symbolic link" if member.issym() else "hard link" if member.islnk()
                else "device or special file")
        raise UnsafeArchiveError(f"archive member {name!r} is a {kind}; only plain files "
                                 "and folders are accepted")
    if not parts or parts[0] != top:
        raise UnsafeArchiveError(f"archive member {name!r} is not inside {top + '/'!r}")
    rel = PurePosixPath(*parts[1:]) if len(parts) > 1 else None
    return rel


def cleanup_leftovers(parent: Path) -> None:
    """Remove temporary folders an interrupted extraction left in `parent`."""
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if entry.name.startswith((TMP_PREFIX, OLD_PREFIX)) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def extract_safely(tarball: Path, target: Path, top: str, required: Iterable[str]) -> Path:
    """Extract the folder `top` of `tarball` so that it becomes `target`, atomically.

    Inputs:
    - tarball: Path of a .tar.gz whose members all lie below `top/`.
    - target: Path the extracted `top` folder is renamed to (its parent must be writable). A new
      `target` appears in one rename; an existing one is replaced only after the new one is
      complete, by two renames (old aside, new in), so it is missing for an instant, never
      partial.
    - top: str, name of the archive's top folder (e.g. "cifar-10-batches-py").
    - required: file names that must be present below `top` (else UnsafeArchiveError).

    Returns: target.

    Raises UnsafeArchiveError or BrokenArchiveError; then nothing has changed outside the
    (removed) temporary folder.
    """
    target = Path(target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=parent))
    root = tmp / top
    try:
        root.mkdir()
        try:
            with tarfile.open(tarball, "r:gz") as tar:
                for member in tar:
                    rel = _member_relpath(member, top)
                    if rel is None:
                        continue
                    out = root.joinpath(*rel.parts)
                    # Belt and braces: the resolved path must stay inside the temporary folder.
                    if os.path.commonpath([os.path.realpath(out), os.path.realpath(root)]) != \
                            os.path.realpath(root):
                        raise UnsafeArchiveError(f"archive member {member.name!r} escapes")
                    if member.isdir():
                        out.mkdir(parents=True, exist_ok=True)
                        continue
                    out.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    with source, open(out, "xb") as sink:
                        shutil.copyfileobj(source, sink, 1 << 20)
        except FileExistsError as exc:
            raise UnsafeArchiveError(f"{tarball}: member {exc.filename} appears twice") from exc
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise BrokenArchiveError(f"{tarball} cannot be read ({type(exc).__name__}: {exc}); "
                                     "it is probably truncated or not a .tar.gz") from exc
        missing = [name for name in required if not (root / name).is_file()]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise UnsafeArchiveError(f"{tarball} lacks {top}/{missing[0]}{more}; it is not a "
                                     "complete CIFAR-10 tarball")
        if target.exists():
            # A directory cannot be renamed over a non-empty one: move the old aside first.
            old = Path(tempfile.mkdtemp(prefix=OLD_PREFIX, dir=parent))
            os.replace(target, old / "old")
            os.replace(root, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(root, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
