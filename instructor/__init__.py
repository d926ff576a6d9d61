"""Instructor tools (INSTRUCTOR ONLY: never shipped to students).

- ``python -m instructor release``: the student and solution releases (instructor/release/;
  markers in instructor/markers.py, what ships in instructor/manifest.py, the functions that
  ship implemented in instructor/given.py).
- ``python -m instructor grade``: grading many submissions (instructor/grading/).
- ``python -m instructor gradescope``: the Gradescope autograder (instructor/gradescope/).

Commands are listed in instructor/__main__.py: each package provides ``register(subparsers)``,
which adds its argparse parser and sets ``func`` (called with the parsed arguments; its return
value is the exit status).
"""
