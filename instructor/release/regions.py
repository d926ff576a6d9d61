"""The solution regions of a source tree, the functions they belong to, and their stubs'
messages.

A region of a ``.py`` file belongs to the function that encloses it (instructor/release/stubs.py);
a stubbed function's message sends the student to the notebook section that checks it
(instructor/release/sections.py), which must be a markdown heading of that notebook. Functions
listed in ``[release] given`` (instructor/given.py) ship implemented; each must own a region.
"""

from pathlib import Path

from instructor import given as given_mod
from instructor.release import sections
from instructor.release.errors import ReleaseError
from instructor.release.files import shipped_files
from instructor.release.notebooks import notebook_headings, parse_notebook, read_notebook
from instructor.release.stubs import parse_python


def py_messages(rel, parsed, names, src, stubbed):
    """The stub message of each region of a .py file whose function is in `stubbed` (None for
    the others). Raises ReleaseError (file:line, the function) if a stubbed function has no
    notebook section in instructor/release/sections.py or its section is not a heading there."""
    messages = []
    headings_cache = {}
    for region, name in zip(parsed.regions, names, strict=True):
        if name not in stubbed:
            messages.append(None)
            continue
        try:
            where = sections.lookup(name)
        except sections.SectionError as e:
            raise ReleaseError(f"{rel}:{region.begin + 1}: {e}") from None
        nb_path = Path(src) / "notebooks" / where.notebook
        if where.notebook not in headings_cache:
            if not nb_path.exists():
                raise ReleaseError(
                    f"{rel}:{region.begin + 1}: instructor/release/sections.py sends {name!r} "
                    f"to notebooks/{where.notebook}, which does not exist"
                )
            headings_cache[where.notebook] = notebook_headings(read_notebook(nb_path))
        if where.section not in headings_cache[where.notebook]:
            raise ReleaseError(
                f"{rel}:{region.begin + 1}: instructor/release/sections.py sends {name!r} to "
                f"section {where.section!r} of notebooks/{where.notebook}, which has no such "
                f"markdown heading; its headings: {headings_cache[where.notebook]}"
            )
        messages.append(sections.stub_message(name, where))
    return messages


def source_regions(src):
    """Every solution region of the shipped source files.

    Returns {relative path: list of Region} for .py files and {relative path: list of
    (cell index, Region)} for notebooks; files without regions are left out.
    """
    src = Path(src)
    out = {}
    for rel in shipped_files(src):
        path = src / rel
        if rel.endswith(".py"):
            parsed, _ = parse_python(path.read_text(encoding="utf-8"), rel)
            if parsed.regions:
                out[rel] = list(parsed.regions)
        elif rel.endswith(".ipynb"):
            cells = parse_notebook(read_notebook(path), rel)
            found = [(i, r) for i, (p, _, _) in enumerate(cells) for r in p.regions]
            if found:
                out[rel] = found
    return out


def student_code_files(src):
    """The .py files (relative POSIX paths, sorted) that hold solution regions."""
    return sorted(r for r in source_regions(src) if r.endswith(".py"))


def region_functions(src):
    """{relative .py path: [qualified function name of each region]} of the source tree."""
    out = {}
    for rel in student_code_files(src):
        _, names = parse_python((Path(src) / rel).read_text(encoding="utf-8"), rel)
        out[rel] = names
    return out


def configured_given(src):
    """The functions given in the source's rubric (`src`/instructor/rubric.toml, [release])."""
    return given_mod.read(Path(src) / "instructor" / "rubric.toml")


def check_given(src, given):
    """Raise ReleaseError naming each function of `given` that has no solution region in the
    source's .py files (a typo, or a function that is not the student's)."""
    functions = {n for names in region_functions(src).values() for n in names}
    unknown = sorted(set(given) - functions)
    if unknown:
        raise ReleaseError(
            f"[release] given names {', '.join(map(repr, unknown))}: no solution region of the "
            f"source is in such a function; the functions with regions: "
            f"{', '.join(sorted(functions))}"
        )
