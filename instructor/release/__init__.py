"""Build the student release and the solution release from the one solution source.

Command line (instructor/release/cli.py)::

    python -m instructor release [--out DIR] [--only student|solution] [--execute]
                                 [--rubric RUBRIC] [--colab-url URL]

writes ``DIR/student/``, ``DIR/solution/`` and the same trees zipped as ``DIR/student.zip`` and
``DIR/solution.zip`` (``DIR`` defaults to ``dist``), byte for byte the same on every run.

Python API (used by instructor/grading and the tests)::

    from instructor import release
    release.build_student(src, out, given=None)  # -> Build (out = the student tree's folder)
    release.build_solution(src, out, execute=False, html=True)
    release.build_all(src, out_dir)              # both trees + zips, as the command line
    release.shipped_files(src)                   # relative POSIX paths present in both releases
    release.private_files(src)                   # left-out files no shipped file may mention
    release.hidden_test_files(src)               # tests that grade student code, not shipped
    release.student_code_files(src)              # .py files holding solution regions
    release.source_regions(src)                  # {relative path: [Region or (cell, Region)]}
    release.region_functions(src)                # {relative .py path: [function per region]}
    release.render_mixed(src, rel, {"batchnorm_backward"})  # solution except those stubbed
    release.configured_given(src)                # [release] given of src/instructor/rubric.toml
    release.fill_in(src, student_root, given)    # the solution back into a student tree's .py

One module a step, in the order a build runs them:

- files.py: which files ship (the rules of instructor/manifest.py), which are private;
- notebooks.py: reading notebooks, their headings (sections) and the regions of each cell;
- stubs.py: the function enclosing each region, and where a stub cannot go;
- sections.py: which notebook section checks each student function (the stub's message);
- regions.py: the regions of the whole source, their functions and messages; ``given``;
- render.py: one file rendered for the student or the solution release;
- tree.py: writing files, times and zips deterministically;
- mentions.py: no shipped file names left-out material (and no marker is left);
- leaks.py: no line of a replaced solution region is left in the student release;
- build.py: the two builds and the zips; notebooks re-run with tools/run_notebooks.py;
- cli.py, colab.py: the command and its ``--colab-url`` badges.

The markers themselves are parsed and rendered by instructor/markers.py (shared with
grading); the ``[release] given`` list is read by instructor/given.py (shared with grading).

The Makefile ships unchanged: the instructor's targets (``make bench``) live in ``bench.mk``,
an INSTRUCTOR ONLY file that the Makefile includes only when present (``-include *.mk``), so
the student release simply does not have it.

Any problem stops the build with a MarkerError or ReleaseError (both ValueError) naming file
and line: malformed markers, a region that cannot be stubbed, a TODO function without a
notebook section, an unknown given function, a marker left in an output file or a mention of
left-out material in one, a solution line left in the student tree, an unclassified test file.
"""

from instructor.release.build import (
    Build,
    build_all,
    build_solution,
    build_student,
    execute_notebook,
    fill_in,
)
from instructor.release.cli import register
from instructor.release.errors import ReleaseError
from instructor.release.files import hidden_test_files, private_files, shipped_files
from instructor.release.leaks import check_leaks, secret_regions
from instructor.release.notebooks import (
    cell_source,
    heading_cells,
    notebook_headings,
    parse_cell,
    read_notebook,
    write_notebook_text,
)
from instructor.release.regions import (
    check_given,
    configured_given,
    region_functions,
    source_regions,
    student_code_files,
)
from instructor.release.render import (
    KEEP_CELL_METADATA,
    KEEP_NOTEBOOK_METADATA,
    NOTEBOOK_ANSWER,
    render_mixed,
)
from instructor.release.tree import DEFAULT_EPOCH, write_zip

__all__ = [
    "DEFAULT_EPOCH", "KEEP_CELL_METADATA", "KEEP_NOTEBOOK_METADATA", "NOTEBOOK_ANSWER", "Build",
    "ReleaseError", "build_all", "build_solution", "build_student", "cell_source",
    "check_given", "check_leaks", "configured_given", "execute_notebook", "fill_in",
    "heading_cells", "hidden_test_files", "notebook_headings", "parse_cell", "private_files",
    "read_notebook",
    "region_functions", "register", "render_mixed", "secret_regions", "shipped_files",
    "source_regions", "student_code_files", "write_notebook_text", "write_zip",
]
