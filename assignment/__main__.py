"""Student commands: ``python -m assignment check [PART ...]`` and ``python -m assignment collect``.

- ``check``: run the public checks of one or more parts (default: all) and print PASS / FAIL
  (with a hint) / TODO (not implemented yet) per check; see assignment/checks/.
- ``collect``: check that everything required is there and that the notebooks were run top to
  bottom, then write submission.zip; see assignment/collect.py.
"""

import argparse
import sys

from assignment import checks, collect


def main(argv=None):
    """Parse the command line and run the command; returns the exit status."""
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
