"""What the releases contain: the one place that decides which files ship and which stay private.

Both releases (``dist/student`` and ``dist/solution``) hold the same files; they differ only in
how the solution regions are rendered. Left out of both (the solution release is published, the
hidden tests and the tool are reused next term):

- the instructor tool itself (``instructor/``), CI (``.ci/``), version control (``.git``),
  environments and build products (``.venv``, ``build/``, ``dist/``, caches, ``*.egg-info``);
  the instructor material among these (PRIVATE_PREFIXES) must not even be mentioned by a
  shipped file, and the Makefile ships without its targets that need it (``make bench``);
- the benchmarks (``bench/``): they measure the course repository (notebook time budgets,
  grading throughput, the solution's layers), import the grading tool, and read the solution
  markers; the BatchNormalization notebook already times the student's two backward passes;
- downloaded data: everything in ``datasets/`` except ``get_datasets.sh`` and ``README.md``;
- reference fixtures that give answers away (``tests/fixtures/``: the reference ``.npz`` and the
  script that makes it);
- every file whose first line, or whose module docstring, contains ``INSTRUCTOR ONLY``;
- the tests listed below as HIDDEN (they grade student code against reference answers, the
  fixtures or hand-written formulas such as test_optim's Adam, so shipping them would give the
  answers away; instructor/grading runs them) or TOOLING (they test the instructor tools and
  the source repository).

Tests that ship (PUBLIC) are those that are meaningful against the stubs: they test given code
(data loading, the gradient checker, the solver, the notebook check helper) or the student's
functions through properties and numerical gradients without any reference answers, so a
student sees them fail with NotImplementedError first and pass once the code is right. Every
file in ``tests/`` must be classified here; an unclassified one stops the release (so that a new
test file never ships, or stays hidden, by accident).
"""

# Directory names left out wherever they occur.
EXCLUDED_DIR_NAMES = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
        ".mypy_cache",
    }
)

# Paths (relative, POSIX) left out with everything below them. The private ones hold instructor
# material: no shipped file may mention them (instructor/references.py says what a mention is;
# the release fails on one, and drops the Makefile rules that need them). Build products are
# left out too, but the shipped Makefile and .gitignore name them on purpose.
PRIVATE_PREFIXES = {
    "instructor/": "the instructor tool",
    ".ci/": "the CI scripts",
    "bench/": "the benchmarks",
    "tests/fixtures/": "the reference fixtures",
}
PRODUCT_PREFIXES = ("build/", "dist/")
EXCLUDED_PREFIXES = (*PRIVATE_PREFIXES, *PRODUCT_PREFIXES)

# Glob patterns (fnmatch on the relative POSIX path) left out. (".git" is a file, not a
# folder, in a `git worktree` checkout.)
EXCLUDED_GLOBS = ("*.pyc", "*.egg-info/*", "*.egg-info", ".coverage", ".git", "*/.git")

# The only files of datasets/ that ship; the data itself is downloaded by the student.
DATASET_FILES = frozenset({"datasets/get_datasets.sh", "datasets/README.md"})

# The marker that makes a file instructor-only (first line or module docstring).
INSTRUCTOR_ONLY = "INSTRUCTOR ONLY"

# Test files, by fnmatch pattern on the relative POSIX path.
PUBLIC_TESTS = (
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/cifar_fixtures.py",
    "tests/test_datasets.py",
    "tests/test_data_utils.py",
    "tests/test_gradient_check.py",
    "tests/test_notebook_checks.py",
    "tests/test_solver.py",
)
HIDDEN_TESTS = (
    "tests/test_layers.py",
    "tests/test_layer_utils.py",
    "tests/test_fc_net.py",
    "tests/test_optim.py",
    "tests/test_solver_step.py",
    "tests/test_experiments.py",
    "tests/test_batchnorm*.py",
)
TOOLING_TESTS = (
    "tests/test_markers.py",
    "tests/test_release*.py",
    "tests/test_collect.py",
    "tests/test_public_checks.py",
    "tests/test_grading*.py",
    "tests/test_sandbox.py",
    "tests/test_redteam.py",
    "tests/redteam/*",
    "tests/test_run_notebooks.py",
    "tests/test_notebook_plants.py",
    "tests/test_bn_notebook_plants.py",
    "tests/test_bn_experiments.py",
    "tests/test_bench*.py",
    "tests/test_ci.py",
    "tests/test_gradescope.py",
    "tests/test_platforms.py",
)

# Text that must not appear in a shipped file, besides the mentions of the private paths, the
# hidden and tooling tests and the INSTRUCTOR ONLY files (instructor/references.py): names of
# left-out files that are recognisable without their folder.
FORBIDDEN_REFERENCES = (
    ("reference.npz", "the reference fixture"),
    ("make_reference", "the script that makes the reference fixture"),
)
