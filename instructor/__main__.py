"""Command line of the instructor tools: ``python -m instructor <command> [options]``.

Each command's package provides ``register(subparsers)``, which adds its argparse subparser and
sets ``func`` (called with the parsed arguments; its return value is the exit status).
"""

import argparse
import sys

from instructor import gradescope, grading, release
from instructor.markers import MarkerError
from instructor.release import ReleaseError


def build_parser():
    """The argparse parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="python -m instructor",
        description="Instructor tools: release the assignment, grade submissions.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (release, grading, gradescope):
        command.register(subparsers)
    return parser


def main(argv=None):
    """Parse argv, run the command, return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (MarkerError, ReleaseError) as e:  # the message carries file:line
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
