"""Which student functions ship already implemented ("given"): the ``[release]`` table.

The instructor chooses, per function, whether the student writes it (a TODO) or receives it
implemented. The choice is one list in the rubric (instructor/rubric.toml)::

    [release]
    given = ["affine_forward", "affine_backward", "sgd_momentum"]

Names are the qualified names of instructor/release/sections.py
(``"FullyConnectedNet.loss"``, ``"Solver._step"``). Two tools read the list:

- the release (instructor/release/) renders a solution region inside a given function like
  the solution release does (markers dropped, code kept) in the student release too; the
  notebooks are the same either way (their checks simply pass for a given function);
- grading (instructor/grading/rubric.py) drops every rubric item whose ``functions`` are all
  given (:func:`drops_item`): the student did not write them, so they are worth nothing.

Without a ``[release]`` table, or without a rubric, nothing is given (everything is a TODO).
An unknown name is an error that names it.
"""

from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI (requirements.txt)
    import tomli as tomllib

KEYS = {"given"}


class GivenError(ValueError):
    """A malformed ``[release]`` table, naming the file and what to fix."""


def known_functions():
    """The student functions a ``given`` list may name (instructor/release/sections.py)."""
    from instructor.release import sections

    return set(sections.SECTIONS)


def from_table(table, source="<rubric>", known=None):
    """Validate a parsed ``[release]`` table; return the given names as a sorted tuple.

    Inputs:
    - table: dict (the TOML table; {} when absent)
    - source: the file, for messages
    - known: the valid names (default: known_functions())
    """
    if not isinstance(table, dict):
        raise GivenError(f"{source}: [release] must be a table, got {table!r}")
    extra = sorted(set(table) - KEYS)
    if extra:
        raise GivenError(f"{source}: [release] has unknown key(s) {extra}; allowed: "
                         f"{sorted(KEYS)}")
    names = table.get("given", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise GivenError(f"{source}: [release] given must be a list of function names "
                         f"(strings), got {names!r}")
    known = known_functions() if known is None else set(known)
    for name in names:
        if name not in known:
            raise GivenError(f"{source}: [release] given names {name!r}, which is not a student "
                             f"function; the student functions are: {', '.join(sorted(known))}")
    return tuple(sorted(set(names)))


def read(rubric_path, known=None):
    """The given names of a rubric TOML file (an absent file or table: nothing given)."""
    path = Path(rubric_path)
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise GivenError(f"{path}: not valid TOML: {exc}") from None
    return from_table(data.get("release", {}), str(path), known)


def drops_item(functions, given):
    """True if a rubric item exercising `functions` is not graded: every one of them is given.

    An item that names no function is always graded.
    """
    return bool(functions) and all(f in given for f in functions)
