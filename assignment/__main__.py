"""Student commands: ``python -m assignment check [PART ...]`` and ``python -m assignment collect``.

- ``check``: run the public checks of one or more parts (default: all) and print PASS / FAIL
  (with a hint) / TODO (not implemented yet) per check; see assignment/checks/.
- ``collect``: check that everything required is there and that the notebooks were run top to
  bottom, then write submission.zip; see assignment/collect.py.

Both act on the copy of the assignment that the current folder is in (the nearest folder, from
here up, with an ``assignment/`` package), even when another copy is installed: a JupyterHub
image, say, installs the release with pip and each student works in a copy of their own.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from assignment import checks, collect

THIS_COPY = Path(__file__).resolve().parent.parent
REDIRECTED = "ASSIGNMENT_COPY"  # set for the command rerun in the copy (no second rerun)


def copy_here(folder=None):
    """The copy of the assignment that ``folder`` (default: the current one) is in: the nearest
    folder, from it up, that holds ``assignment/__init__.py``; None if there is none."""
    folder = Path(folder or Path.cwd()).resolve()
    return next(
        (d for d in (folder, *folder.parents) if (d / "assignment" / "__init__.py").is_file()), None
    )


def _run_in_own_copy():
    """Rerun this command with the copy the current folder is in, if that is not this one;
    returns its exit status, or None when this copy is the one to run."""
    own = copy_here()
    if own is None or own == THIS_COPY or os.environ.get(REDIRECTED):
        return None
    path = os.pathsep.join(p for p in (str(own), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, REDIRECTED: str(own)}
    return subprocess.run([sys.executable, "-m", "assignment", *sys.argv[1:]], env=env).returncode


def main(argv=None):
    """Parse the command line (``argv``, default: this process's arguments, run in the copy
    the current folder is in) and run the command; returns the exit status."""
    if argv is None:
        status = _run_in_own_copy()
        if status is not None:
            return status
    parser = argparse.ArgumentParser(prog="python -m assignment", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p_check = sub.add_parser("check", help="run the public checks of one or more parts")
    p_check.add_argument(
        "parts",
        nargs="*",
        metavar="PART",
        help=f"one of: {', '.join(checks.PARTS)} (default: all)",
    )
    p_collect = sub.add_parser("collect", help="check and zip your submission")
    collect.add_arguments(p_collect)
    args = parser.parse_args(argv)
    if args.command == "check":
        unknown = [p for p in args.parts if p not in checks.PARTS]
        if unknown:
            names = ", ".join(checks.PARTS)
            parser.error(f"unknown part(s) {unknown}; choose from: {names}")
        return checks.main(args.parts or None)
    return collect.run(args)


if __name__ == "__main__":
    sys.exit(main())
