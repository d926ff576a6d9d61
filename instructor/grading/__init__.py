"""Grading many submissions (INSTRUCTOR ONLY): ``python -m instructor grade SUBMISSIONS``.

One concept per module, bottom-up:

- ``sandbox``: run one untrusted command (allow-listed root, namespaces, uids, limits,
  timeout, output cap); ``cgroups``: its limits per sandbox. Inside the sandbox (standard
  library only, never imported by the grader): ``_launcher`` (PID 1), ``_rootfs`` (the
  allow-listed root), ``_caps`` (uids, capabilities), ``_kernel_launcher`` (a notebook
  step's kernel, out of the verdict collector's reach);
- ``rubric``: the rubric file (instructor/rubric.toml): checks -> points, and scoring;
- ``workspace``: the grading kit (release, reference notebooks, hidden tests) and the fresh
  work folder of a submission; reading a submission safely;
- ``steps``: the pytest runs (hidden tests, nbval of reference and own notebooks);
  ``_pytest_reporter`` is the plugin that streams their outcomes; ``verdicts`` decides the
  hidden tests' verdicts outside the sandbox, and ``public_hints`` runs there the public
  checks whose hints the feedback gives;
- ``job``: grade one submission (the unit of work, local or on Dask);
- ``inline``: inline-question answers;
- ``feedback_text``: the words of the student's feedback (hints, cell names, one line per
  unfinished function, 60 lines at most);
- ``report``: grades.csv, Gradescope results.json, feedback, the grader's details, atomic
  writes;
- ``runner``: many submissions: resume, workers, Dask, progress;
- ``cli``: the command line (registered as ``grade`` by ``python -m instructor``).
"""


def register(subparsers):
    """Add the ``grade`` subcommand to ``python -m instructor`` (see instructor/__main__.py)."""
    from instructor.grading.cli import register as _register

    _register(subparsers)
