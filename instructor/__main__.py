"""Command line of the instructor tools: ``python -m instructor <command> [options]``.

Each command lives in its own module, listed in COMMAND_MODULES; the module provides
``register(subparsers)`` that adds an argparse subparser and sets ``func`` via
``set_defaults(func=...)``. A listed module that does not exist yet is skipped, so a new
command is one line here plus its module.
"""

import argparse
import importlib
import sys

COMMAND_MODULES = ("instructor.release", "instructor.grading", "instructor.gradescope")


def build_parser():
    """The argparse parser with every available command registered."""
    parser = argparse.ArgumentParser(
        prog="python -m instructor",
        description="Instructor tools: release the assignment, grade submissions.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue  # a command that is not written yet
            raise
        register = getattr(module, "register", None)
        if register is not None:  # e.g. a package whose __init__ is not written yet
            register(subparsers)
    return parser


def main(argv=None):
    """Parse argv, run the command, return its exit status."""
    args = build_parser().parse_args(argv)
    from instructor.markers import MarkerError
    from instructor.release import ReleaseError

    try:
        return args.func(args) or 0
    except (MarkerError, ReleaseError) as e:  # the message carries file:line
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
