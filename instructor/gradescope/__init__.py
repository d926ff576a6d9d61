"""Grading on Gradescope (INSTRUCTOR ONLY): ``python -m instructor gradescope --out FILE.zip``.

Gradescope builds a container image from an autograder zip (it unpacks the zip into
``/autograder/source`` and runs ``setup.sh`` there, as root, once), then runs
``/autograder/run_autograder`` for every submission with the student's files in
``/autograder/submission`` and expects ``/autograder/results/results.json``. One concept per
module:

- ``bundle``: the zip: this repository (the solution source the grader needs; no data, no
  environments, no build products) with ``setup.sh`` and ``run_autograder`` at its root;
- ``autograder``: what those two scripts run inside the container: ``setup`` (build the student
  release once, then grade the reference solution and refuse unless it earns full marks) and
  ``run`` (grade the submission with ``python -m instructor grade``, the same command as on
  the instructor's machine, and copy its Gradescope ``results.json`` into place);
- ``setup.sh`` and ``run_autograder``: the two scripts (templates shipped as they are).

The solution travels in ``/autograder/source`` only: it is never installed into the Python
environment (so it is on no student's ``sys.path``), and the grader's sandbox hides the
repository from the student's code (see instructor/grading/sandbox.py).
"""


def register(subparsers):
    """Add the ``gradescope`` subcommand to ``python -m instructor``."""
    from instructor.gradescope.bundle import register as _register

    _register(subparsers)
