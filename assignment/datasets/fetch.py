"""CIFAR-10: where it lives, and how it gets there (verified download, offline use, safe extract).

`ensure_cifar10(root=None) -> Path` (called by the loader, `assignment.datasets.loader`, and by
the command line, `python -m assignment.datasets download`, see `__main__.py`).

Where the data lives. The data folder is the `cifar-10-batches-py` folder holding
`data_batch_1..5` and `test_batch`. Default: `<repo>/datasets/cifar-10-batches-py`, repo being the
folder that holds the `assignment` package. The environment variable `CIFAR10_DIR` replaces it and
names that folder itself (the one with the batches in it, not its parent); a download then
extracts into it. Extraction replaces the folder as a whole, so a folder holding anything else
than CIFAR-10's files is refused (ValueError) rather than replaced.

Sources, first match wins; command-line flags win over environment variables (so `--url` wins
over CIFAR10_TARBALL):
1. a local tarball, `--tarball PATH` or `CIFAR10_TARBALL` (read in place, never deleted);
2. a URL, `--url URL` or `CIFAR10_URL`, default the official
   https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz.
The expected MD5 is `--md5` or `CIFAR10_MD5`, default the official
c58f30108f718f92721af3b95e74349a (so a mirror or a home-made tarball needs its own MD5).

Guarantees:
- quiet when the data is present: nothing is printed, nothing is checked beyond six `stat`s;
- the download goes through pooch (MD5 check, then rename) with a tqdm progress bar on stderr,
  resumes an interrupted transfer with HTTP Range, retries transient errors with exponential
  backoff (see `download.py`); a partial file is named `*.part` and never used as is;
- extraction rejects hostile members and renames a complete folder into place
  (see `extract.py`);
- concurrent callers (e.g. notebooks run in parallel) serialise on a lock of the parent folder;
- when nothing works, `DatasetUnavailableError` says what was tried and the three ways out.
"""

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from assignment.datasets.download import DownloadError, download
from assignment.datasets.extract import (
    BrokenArchiveError,
    UnsafeArchiveError,
    cleanup_leftovers,
    extract_safely,
)

OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"
OFFICIAL_SIZE = 170_498_071
TARBALL_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"
BATCH_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
REPO_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds assignment/
DEFAULT_DIR = REPO_ROOT / "datasets" / FOLDER_NAME

ENV_DIR = "CIFAR10_DIR"
ENV_URL = "CIFAR10_URL"
ENV_TARBALL = "CIFAR10_TARBALL"
ENV_MD5 = "CIFAR10_MD5"
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")
# What may be in a data folder that extraction is allowed to replace.
_KNOWN_NAMES = frozenset(BATCH_FILES) | {"batches.meta", "readme.html", ".npy-cache",
                                         ".DS_Store"}


class DatasetUnavailableError(RuntimeError):
    """CIFAR-10 is missing and could not be obtained; the message lists the ways out."""


def default_dir() -> Path:
    """The data folder: `$CIFAR10_DIR` if set, else `<repo>/datasets/cifar-10-batches-py`."""
    env = os.environ.get(ENV_DIR)
    return Path(env).expanduser().absolute() if env else DEFAULT_DIR


def is_complete(folder: Path) -> bool:
    """True if `folder` holds every batch file (`data_batch_1..5`, `test_batch`)."""
    return all((Path(folder) / name).is_file() for name in BATCH_FILES)


def _check_md5(md5: str, origin: str) -> str:
    value = md5.strip().lower()
    if not _MD5_RE.match(value):
        raise ValueError(f"{origin} is {md5!r}, expected 32 hexadecimal digits (the MD5 of the "
                         f"tarball, e.g. the first field of `md5sum {TARBALL_NAME}`)")
    return value


def _ways_out(folder: Path) -> str:
    return (
        "Three ways out:\n"
        f"  1. network: make {OFFICIAL_URL} reachable (proxy: HTTPS_PROXY) and run\n"
        "       python -m assignment.datasets download\n"
        "     again (an interrupted download resumes).\n"
        "  2. a mirror URL with the MD5 of the file it serves:\n"
        "       python -m assignment.datasets download --url URL --md5 HEX\n"
        f"     (or set {ENV_URL} and {ENV_MD5}).\n"
        f"  3. a local {TARBALL_NAME} you downloaded by hand (official MD5 {OFFICIAL_MD5};\n"
        "     give --md5 for any other file):\n"
        "       python -m assignment.datasets download --tarball PATH [--md5 HEX]\n"
        f"     (or set {ENV_TARBALL} [and {ENV_MD5}]).\n"
        f"Or copy an extracted {FOLDER_NAME} folder to {folder} (or point {ENV_DIR} at one)."
    )


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (a directory) while the body runs (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; concurrent downloads are unlikely there
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _refuse_foreign(folder: Path) -> None:
    """Raise ValueError if `folder` exists and holds files that are not CIFAR-10's.

    Extraction replaces the data folder as a whole; this keeps a misdirected CIFAR10_DIR (e.g.
    the parent folder, or a home folder) from being replaced.
    """
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ValueError(f"the CIFAR-10 folder {folder} is a file; expected a folder named "
                         f"{FOLDER_NAME} (set {ENV_DIR} or --dest to one)")
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in _KNOWN_NAMES)
    if foreign:
        hint = (f" Did you mean {folder / FOLDER_NAME}?" if (folder / FOLDER_NAME).exists()
                else "")
        raise ValueError(
            f"the CIFAR-10 folder {folder} holds files that are not CIFAR-10's "
            f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); it would be "
            f"replaced as a whole, so nothing was done. {ENV_DIR} and --dest name the "
            f"{FOLDER_NAME} folder itself, not its parent.{hint}")


def _md5_of(path: Path) -> str:
    import pooch

    return pooch.file_hash(str(path), alg="md5")


def _obtain(folder: Path, *, tarball, url: str, md5: str, keep_tarball: bool,
            progressbar: bool, retries: int, backoff: float, timeout: float,
            say: Callable[[str], None]) -> None:
    """Fetch (or take the local tarball), verify and extract into `folder`; caller holds the lock.

    Raises DatasetUnavailableError saying what was tried and the ways out.
    """
    parent = folder.parent
    cleanup_leftovers(parent)
    downloaded = None
    if tarball is not None:
        source = Path(tarball).expanduser().absolute()
        tried = f"local tarball {source} (expected MD5 {md5})"
        if not source.is_file():
            raise DatasetUnavailableError(
                f"CIFAR-10 is missing from {folder}.\nTried: {tried}: no such file.\n"
                + _ways_out(folder))
        say(f"Checking MD5 of {source} ...")
        actual = _md5_of(source)
        if actual != md5:
            raise DatasetUnavailableError(
                f"CIFAR-10 is missing from {folder}.\nTried: {tried}: its MD5 is {actual}. "
                "The file is truncated or another file, or the expected MD5 is wrong "
                "(the file was left untouched).\n" + _ways_out(folder))
    else:
        tried = f"download of {url} (expected MD5 {md5})"
        dest = parent / TARBALL_NAME
        say(f"Downloading CIFAR-10 from {url} to {dest}")
        try:
            source = downloaded = download(url, md5, dest, retries=retries,
                                           backoff=backoff, progressbar=progressbar,
                                           timeout=timeout, log=say)
        except DownloadError as exc:
            raise DatasetUnavailableError(
                f"CIFAR-10 is missing from {folder}.\nTried: {tried}: {exc}\n"
                + _ways_out(folder)) from exc
    say(f"Extracting {source} to {folder}")
    try:
        extract_safely(source, folder, FOLDER_NAME, BATCH_FILES)
    except (UnsafeArchiveError, BrokenArchiveError) as exc:
        if downloaded is not None:
            downloaded.unlink(missing_ok=True)  # verified yet bad: do not reuse it
        raise DatasetUnavailableError(
            f"CIFAR-10 is missing from {folder}.\nTried: {tried}: the archive was "
            f"rejected: {exc}\n" + _ways_out(folder)) from exc
    if downloaded is not None and not keep_tarball:
        downloaded.unlink(missing_ok=True)


def ensure_cifar10(root: str | os.PathLike | None = None, *, url: str | None = None,
                   tarball: str | os.PathLike | None = None, md5: str | None = None,
                   force: bool = False, keep_tarball: bool = False, progressbar: bool = True,
                   retries: int = 4, backoff: float = 2.0, timeout: float = 30.0,
                   log: Callable[[str], None] | None = None) -> Path:
    """Return the CIFAR-10 data folder, downloading and extracting it first if it is missing.

    Inputs:
    - root: the `cifar-10-batches-py` folder; None: `default_dir()` (env CIFAR10_DIR or
      `<repo>/datasets/cifar-10-batches-py`).
    - url, tarball, md5: sources and checksum; None: env CIFAR10_URL, CIFAR10_TARBALL,
      CIFAR10_MD5, else the official URL and MD5. A tarball wins over a URL, except that a
      `url` argument wins over CIFAR10_TARBALL (arguments win over the environment).
    - force: bool, fetch and extract again even if the data is present.
    - keep_tarball: bool, keep a downloaded tarball in the parent folder (default: delete it
      after extraction, as CS231n's get_datasets.sh does). A local tarball is never deleted.
    - progressbar: bool, tqdm bar on stderr while downloading.
    - retries, backoff, timeout: see `assignment.datasets.download.download`.
    - log: callable receiving progress messages (None: silent).

    Returns: Path of the data folder, holding `data_batch_1..5` and `test_batch`.

    Raises:
    - ValueError: an MD5 that is not 32 hex digits, or a folder that holds non-CIFAR files
      (it would be replaced as a whole; a misdirected CIFAR10_DIR is the usual cause).
    - DatasetUnavailableError: the data is missing and no source worked; nothing half-written
      is left (only a resumable `*.part` after a broken download).
    """
    folder = Path(root).expanduser().absolute() if root is not None else default_dir()
    if not force and is_complete(folder):
        return folder
    say = log or (lambda message: None)
    if tarball is None and url is None:  # an explicit URL wins over CIFAR10_TARBALL
        tarball = os.environ.get(ENV_TARBALL) or None
    if url is None:
        url = os.environ.get(ENV_URL) or OFFICIAL_URL
    if md5 is None:
        origin = ENV_MD5
        md5 = os.environ.get(ENV_MD5) or OFFICIAL_MD5
    else:
        origin = "md5"
    md5 = _check_md5(md5, origin)

    _refuse_foreign(folder)
    parent = folder.parent
    created = [p for p in (parent, *parent.parents) if not p.exists()]  # deepest first
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetUnavailableError(f"Cannot create {parent}: {exc}\n"
                                      f"Point {ENV_DIR} at a writable place.") from exc
    try:
        with _locked(parent):
            if force or not is_complete(folder):  # another process may have finished meanwhile
                _obtain(folder, tarball=tarball, url=url, md5=md5, keep_tarball=keep_tarball,
                        progressbar=progressbar, retries=retries, backoff=backoff,
                        timeout=timeout, say=say)
    except BaseException:
        for made in created:  # remove the folders this call created, if still empty
            try:
                made.rmdir()
            except OSError:
                break
        raise
    return folder
