"""``python -m assignment.datasets download``: fetch CIFAR-10 (verified) into datasets/.

Usage (also run by `datasets/get_datasets.sh` and `make data`)::

    python -m assignment.datasets download [--url URL] [--tarball PATH] [--md5 HEX]
                                           [--dest DIR] [--force] [--keep-tarball]

Sources, checksums and the data folder: see `fetch.py`. Exit status 0 when the data is ready,
1 when it is unavailable (the message says what was tried and the ways out), 2 on a usage error.
"""

import argparse
import sys

from assignment.datasets.fetch import (
    DEFAULT_DIR,
    ENV_DIR,
    ENV_MD5,
    ENV_TARBALL,
    ENV_URL,
    FOLDER_NAME,
    OFFICIAL_MD5,
    OFFICIAL_URL,
    TARBALL_NAME,
    DatasetUnavailableError,
    ensure_cifar10,
)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 1 data unavailable, 2 usage)."""
    parser = argparse.ArgumentParser(
        prog="python -m assignment.datasets",
        description="Fetch CIFAR-10 (verified) into datasets/cifar-10-batches-py.")
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser(
        "download", help="download (or extract a local tarball), verify and extract CIFAR-10",
        description="Flags win over the environment variables named in each help text.")
    get.add_argument("--url", help=f"mirror URL of {TARBALL_NAME} (env {ENV_URL}; "
                                   f"default {OFFICIAL_URL})")
    get.add_argument("--tarball", metavar="PATH",
                     help=f"local {TARBALL_NAME} to use instead of downloading (env {ENV_TARBALL})")
    get.add_argument("--md5", metavar="HEX",
                     help=f"MD5 the tarball must have (env {ENV_MD5}; default {OFFICIAL_MD5})")
    get.add_argument("--dest", metavar="DIR",
                     help=f"the {FOLDER_NAME} folder to fill (env {ENV_DIR}; "
                          f"default {DEFAULT_DIR})")
    get.add_argument("--force", action="store_true",
                     help="fetch and extract again even if the data is present")
    get.add_argument("--keep-tarball", action="store_true",
                     help="keep the downloaded tarball beside the data folder")
    get.add_argument("--retries", type=int, default=4, help="retries on transient errors (4)")
    get.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        folder = ensure_cifar10(args.dest, url=args.url, tarball=args.tarball, md5=args.md5,
                                force=args.force, keep_tarball=args.keep_tarball,
                                progressbar=not args.no_progress, retries=args.retries,
                                log=_stderr)
    except (DatasetUnavailableError, ValueError) as exc:
        _stderr(f"error: {exc}")
        return 1
    print(f"CIFAR-10 is ready in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
