"""Instructor tools (INSTRUCTOR ONLY: never shipped to students).

- ``python -m instructor release``: the student and solution releases (instructor/release.py;
  markers in instructor/markers.py, what ships in instructor/manifest.py, stub messages in
  instructor/sections.py, what counts as a mention of left-out material in
  instructor/references.py, the shipped Makefile in instructor/makefile.py).
- ``python -m instructor grade``: grading many submissions (instructor/grading/).

Subcommands register themselves: every module listed in ``instructor.__main__.COMMAND_MODULES``
provides ``register(subparsers)``, which adds its argparse parser and sets ``func`` (called
with the parsed arguments; its return value is the exit status).
"""
