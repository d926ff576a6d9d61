"""Building the releases: the student tree, the solution tree, and both with their zips.

A build renders every shipped file (instructor/release/render.py), writes it with a fixed mode
(instructor/release/tree.py), and then checks what it wrote: no solution marker and no mention
of left-out material anywhere (instructor/release/mentions.py) and, in the student tree, no line
of a replaced solution region (instructor/release/leaks.py). The solution tree gets an HTML
rendering next to each notebook; with ``execute`` its notebooks are first run again, by the
repository's one notebook executor (tools/run_notebooks.py).
"""

import stat
from dataclasses import dataclass, field
from pathlib import Path

from instructor import manifest, markers
from instructor.release import mentions, tree
from instructor.release.errors import ReleaseError
from instructor.release.files import private_files, shipped_files
from instructor.release.leaks import check_leaks
from instructor.release.regions import (
    check_given,
    configured_given,
    region_functions,
    source_regions,
)
from instructor.release.render import render_file


@dataclass
class Build:
    """What a build wrote.

    - root: the tree's folder (Path)
    - files: relative POSIX paths written, sorted
    - stubs: number of regions stubbed (student) or unmarked (solution)
    - notes: human-readable remarks (e.g. "notebooks not executed")
    """

    root: Path
    files: list = field(default_factory=list)
    stubs: int = 0
    notes: list = field(default_factory=list)


def _build(src, out, mode, given=()):
    src = Path(src).resolve()
    out = Path(out).resolve()
    if out.is_relative_to(src):
        rel = out.relative_to(src).as_posix() + "/"
        if not rel.startswith(manifest.EXCLUDED_PREFIXES):
            raise ReleaseError(
                f"out={out} is inside the source tree but not under one of "
                f"{manifest.EXCLUDED_PREFIXES}: the next release would ship it; write to dist/"
            )
    out = tree.fresh_dir(out)
    build = Build(root=out)
    files = shipped_files(src)
    if "README.md" not in files:
        files = sorted([*files, "README.md"])
    for rel in files:
        data, count = render_file(src, rel, mode, given)
        path = src / rel
        executable = path.exists() and bool(path.stat().st_mode & stat.S_IXUSR)
        tree.write(out, rel, data, executable)
        build.stubs += count
    build.files = files
    mentions.check_output(out, files, src, mentions.patterns(private_files(src)))
    return build


def build_student(src, out, *, given=None):
    """Write the student release of the source tree `src` into the folder `out` (replaced).

    Inputs:
    - given: the functions that ship implemented (instructor/given.py); default: the
      [release] table of `src`/instructor/rubric.toml

    Returns a Build. Raises ReleaseError with file:line on any problem, including a line of a
    replaced solution region found anywhere in the written tree (check_leaks).
    """
    given = configured_given(src) if given is None else tuple(given)
    check_given(src, given)
    build = _build(src, out, "student", given)
    check_leaks(src, build.root, build.files, given)
    if given:
        build.notes.append(f"given (ship implemented): {', '.join(sorted(given))}")
    tree.fix_times(build.root)
    return build


def fill_in(src, student_root, given=None):
    """Put the solution back into the .py files of a student tree (in place): each stub gets
    its region back (markers.restore) and the markers are dropped. The result is the solution
    release's code when the student tree is the release of `src` with the same `given`.

    Returns the relative paths rewritten.
    """
    given = configured_given(src) if given is None else tuple(given)
    src, student_root = Path(src), Path(student_root)
    functions = region_functions(src)
    written = []
    for rel, regions in source_regions(src).items():
        if not rel.endswith(".py"):
            continue
        todo = [r for r, n in zip(regions, functions[rel], strict=True) if n not in given]
        path = student_root / rel
        restored = markers.restore(path.read_text(encoding="utf-8"), todo, path=rel)
        path.write_text(markers.render_solution(markers.parse(restored, rel)), encoding="utf-8")
        written.append(rel)
    return written


def execute_notebook(path, *, timeout=1800, env=None):
    """Run a notebook file top to bottom in its own folder and save it with its outputs
    (streams coalesced: how a print loop's output is split depends on timing).

    Raises ReleaseError naming the notebook and the first failing cell.
    """
    import nbformat
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    from tools.run_notebooks import execute_notebook as run_notebook

    run = run_notebook(path, timeout, env=env, record_timing=False)
    if run.error is not None:
        raise ReleaseError(f"{path}: {run.error}")
    nb, _ = CoalesceStreamsPreprocessor().preprocess(run.notebook, {})
    Path(path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return nb


def build_solution(src, out, *, execute=False, html=True, timeout=1800):
    """Write the solution release of `src` into the folder `out` (replaced).

    Inputs:
    - execute: run every notebook top to bottom inside the solution tree (the CIFAR-10 data
      of `src`/datasets is used through CIFAR10_DIR); False (default) keeps the outputs
      committed in the source
    - html: write notebooks/<name>.html next to each notebook
    - timeout: seconds per cell

    Returns a Build.
    """
    from assignment.collect import render

    build = _build(src, out, "solution")
    notebooks = [r for r in build.files if r.endswith(".ipynb")]
    if execute:
        data = Path(src).resolve() / "datasets" / "cifar-10-batches-py"
        env = {"CIFAR10_DIR": str(data)} if data.is_dir() else {}
        for rel in notebooks:
            execute_notebook(build.root / rel, timeout=timeout, env=env)
    else:
        build.notes.append("notebook outputs are those committed in the source (--execute to "
                           "re-run them)")
    if html:
        for rel in notebooks:
            html_rel = rel[: -len(".ipynb")] + ".html"
            tree.write(build.root, html_rel, render(build.root / rel, "html"), False)
            build.files.append(html_rel)
        build.files.sort()
    tree.fix_times(build.root)
    return build


def build_all(src, out_dir, *, only=None, execute=False, given=None):
    """The command line's work: out_dir/student, out_dir/solution and their zips.

    `given` as for build_student. Returns {"student": Build, "solution": Build} (only the ones
    built).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    builds = {}
    if only in (None, "student"):
        builds["student"] = build_student(src, out_dir / "student", given=given)
        tree.write_zip(out_dir / "student", out_dir / "student.zip")
    if only in (None, "solution"):
        builds["solution"] = build_solution(src, out_dir / "solution", execute=execute)
        tree.write_zip(out_dir / "solution", out_dir / "solution.zip")
    return builds
