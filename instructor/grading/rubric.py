"""The rubric: which checks earn which points (read from a TOML file, instructor/rubric.toml).

A *check* is one pass/fail outcome of a grading run, named by a check id:

* ``test:<pytest node id>`` -- one hidden unit test, e.g.
  ``test:tests/hidden/test_batchnorm.py::test_batchnorm_backward``;
* ``ref:<notebook>::Cell <n>`` -- code cell ``n`` (0-based, code cells only, as nbval counts)
  of a reference notebook, run by nbval against the student's code;
* ``own:<notebook>::Cell <n>`` -- code cell ``n`` of the student's own notebook, re-run by
  nbval to confirm the outputs handed in are what the student's code produces.

A rubric *item* is a named group of checks worth some points::

    [[item]]
    id = "bn_backward"                      # column name in grades.csv
    title = "Batch normalization backward"  # shown in feedback
    points = 6
    tests = ["tests/hidden/test_batchnorm.py::test_batchnorm_backward*"]   # node ids; * and ? only
    notebook = "BatchNormalization.ipynb"   # reference notebook ...
    sections = ["Batch normalization: backward"]   # ... cells under these headings ("*": all)
    exclude = ["summary()"]                 # ... but not cells whose whole source is one of these
    own_notebook = "Dropout.ipynb"          # or: every cell of the student's own notebook
    functions = ["batchnorm_backward"]      # student functions it exercises (feedback hint)
    all_or_nothing = true                   # optional: points only when every check passed

**Notebook items are gated by the hidden tests.** A notebook's outputs come from the student's
code running in the sandbox, and that code can print whatever the notebook is expected to
print (a stub that detects the Jupyter kernel and prints the PASS lines). So an item with
``notebook`` or ``own_notebook`` earns its points only when, besides its own checks, every
hidden test of every function it lists passed: those verdicts are decided in the trusted
verdict process (:mod:`instructor.grading.verdicts`), which the student's code cannot reach.
The hidden tests of a function come from the ``[function_tests]`` table::

    [function_tests]
    dropout_forward = ["tests/hidden/test_layers.py::test_dropout_seed*"]   # node-id patterns
    "FullyConnectedNet.loss" = ["tests/hidden/test_fc_net.py::test_initial_loss_*"]

and, for a function the table does not name, from the hidden-test items that list it (the
union of their ``tests``). An own-notebook item without ``functions`` is gated by the
functions of the reference-notebook items of the same notebook. Given functions (``[release]
given``) are not gated. A notebook item that lists no function is not gated (and can be
faked); a function a notebook item lists with no hidden test at all is a rubric error. The
gating tests are run even when no item scores them. A gate that fails makes the item earn 0;
when that is what cost the points (its own checks passed, at least some), the item's note
says so and one failure ``gate:<function>`` per function names the hidden tests that failed,
by id.

How an item's points are computed from its checks (partial credit, skips, an item that
selects nothing) is :mod:`instructor.grading.scoring`; which code cells a ``sections`` list
selects, :mod:`instructor.grading.notebook_sections`.

Other tables: ``[limits]`` (see :class:`instructor.grading.limits.Limits`; ``step_seconds``,
``cpu_seconds``, ``memory_gib``, ``file_mib``, ``processes``, ``output_kib``, plus
``cell_seconds`` per notebook cell, ``test_seconds`` per call of the student's code in a
hidden test, and the time budget of a whole submission, all steps together:
``budget_seconds``, or when 0 (the default) ``budget_factor`` (default 3) x the time the
reference solution takes, measured before grading, see
:mod:`instructor.grading.preflight`) and ``[files]``
(``notebooks``: the notebooks graded, in notebooks/; ``hidden_support``: folders or files the
hidden tests need besides the test files, e.g. reference fixtures) and ``[release]``
(``given``: the student functions that ship implemented, see instructor/given.py; an item
whose ``functions`` are all given is dropped from grading, :attr:`Rubric.dropped`, and the
maximum score shrinks by its points) and ``[function_tests]`` (above).
"""

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI (requirements.txt)
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

from instructor import given as given_mod
from instructor.grading.limits import GiB, Limits, MiB

DEFAULT_RUBRIC = Path(__file__).resolve().parents[1] / "rubric.toml"
ITEM_KEYS = {"id", "title", "points", "tests", "notebook", "sections", "exclude",
             "own_notebook", "functions", "partial", "all_or_nothing"}
LIMIT_KEYS = {"step_seconds", "cpu_seconds", "memory_gib", "file_mib", "processes",
              "output_kib", "cell_seconds", "test_seconds", "budget_seconds", "budget_factor"}
FILES_KEYS = {"notebooks", "hidden_support"}


class RubricError(ValueError):
    """A malformed rubric, naming the file, the item and what to fix."""


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    points: float
    tests: tuple = ()
    notebook: str | None = None
    sections: tuple = ()
    exclude: tuple = ()
    own_notebook: str | None = None
    functions: tuple = ()
    all_or_nothing: bool = False


@dataclass
class Rubric:
    items: list
    limits: Limits = field(default_factory=Limits)
    cell_seconds: float = 300.0
    test_seconds: float = 120.0
    budget_seconds: float = 0.0     # per submission, all steps; 0: budget_factor x reference
    budget_factor: float = 3.0
    notebooks: tuple = ("Dropout.ipynb", "BatchNormalization.ipynb")
    hidden_support: tuple = ("tests/fixtures",)
    source: str = "<dict>"
    given: tuple = ()     # [release] given: functions that ship implemented
    dropped: tuple = ()   # the items not graded because all their functions are given
    function_tests: dict = field(default_factory=dict)   # function -> hidden-test patterns

    @property
    def max_score(self):
        return sum(i.points for i in self.items)

    @property
    def dropped_note(self):
        """One sentence on the items not graded (None if none), for the reports."""
        if not self.dropped:
            return None
        points = sum(i.points for i in self.dropped)
        return (f"Not graded ({points:g} points): {', '.join(i.id for i in self.dropped)}; "
                "the functions they check ship implemented in this release ([release] given).")

    @property
    def needs_tests(self):
        return any(i.tests or self.gate(i) for i in self.items)

    def gate(self, item):
        """The functions whose hidden tests must all pass for notebook ``item`` to earn its
        points (see the module docstring); () for a hidden-test item."""
        if not (item.notebook or item.own_notebook):
            return ()
        return tuple(f for f in item.functions if f not in self.given)

    @property
    def reference_notebooks(self):
        return sorted({i.notebook for i in self.items if i.notebook})

    @property
    def own_notebooks(self):
        return sorted({i.own_notebook for i in self.items if i.own_notebook})

    def to_dict(self):
        """A plain dict that :func:`from_dict` turns back into this rubric (for Dask jobs)."""
        lim = self.limits
        return {
            "item": [{k: (list(v) if isinstance(v, tuple) else v)
                      for k, v in vars(i).items() if v not in (None, (), False)}
                     for i in [*self.items, *self.dropped]],
            "release": {"given": list(self.given)},
            "limits": {"step_seconds": lim.wall_seconds, "cpu_seconds": lim.cpu_seconds,
                       "memory_gib": lim.memory_bytes / GiB, "file_mib": lim.file_bytes / MiB,
                       "processes": lim.processes, "output_kib": lim.output_bytes / 1024,
                       "cell_seconds": self.cell_seconds, "test_seconds": self.test_seconds,
                       "budget_seconds": self.budget_seconds,
                       "budget_factor": self.budget_factor},
            "files": {"notebooks": list(self.notebooks),
                      "hidden_support": list(self.hidden_support)},
            "function_tests": {f: list(p) for f, p in self.function_tests.items()},
        }


def _unknown(keys, allowed, where, source):
    extra = sorted(set(keys) - allowed)
    if extra:
        raise RubricError(f"{source}: {where} has unknown key(s) {extra}; "
                          f"allowed: {sorted(allowed)}")


def _strings(value, key, where, source):
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RubricError(f"{source}: {where}: {key} must be a string or a list of strings, "
                          f"got {value!r}")
    return tuple(value)


def _all_or_nothing(raw, where, source):
    """The item's scoring mode from ``all_or_nothing`` (or the older ``partial``)."""
    for key in ("all_or_nothing", "partial"):
        if key in raw and not isinstance(raw[key], bool):
            raise RubricError(f"{source}: {where}: {key} must be true or false, "
                              f"got {raw[key]!r}")
    if "all_or_nothing" in raw and "partial" in raw and raw["all_or_nothing"] == raw["partial"]:
        raise RubricError(f"{source}: {where}: all_or_nothing = {raw['all_or_nothing']} and "
                          f"partial = {raw['partial']} contradict each other; keep only "
                          "all_or_nothing (partial credit is the default)")
    return raw.get("all_or_nothing", not raw.get("partial", True))


def from_dict(data, source="<dict>"):
    """Validate a parsed rubric (the TOML as a dict) and return a :class:`Rubric`."""
    _unknown(data, {"item", "limits", "files", "release", "function_tests"}, "the top level",
             source)
    try:
        given = given_mod.from_table(data.get("release", {}), source)
    except given_mod.GivenError as exc:
        raise RubricError(str(exc)) from None
    items, seen = [], set()
    for n, raw in enumerate(data.get("item", []), 1):
        where = f"item {n} ({raw.get('id', 'no id')})"
        _unknown(raw, ITEM_KEYS, where, source)
        if not isinstance(raw.get("id"), str) or not re.fullmatch(r"[A-Za-z0-9_.-]+",
                                                                   raw["id"]):
            raise RubricError(f"{source}: {where}: id must be letters, digits, '_', '.', '-' "
                              f"(it becomes a grades.csv column), got {raw.get('id')!r}")
        if raw["id"] in seen or raw["id"] in ("student", "total"):
            raise RubricError(f"{source}: {where}: id {raw['id']!r} is used twice or reserved")
        seen.add(raw["id"])
        points = raw.get("points")
        if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
            raise RubricError(f"{source}: {where}: points must be a number >= 0, got {points!r}")
        item = Item(
            id=raw["id"], title=raw.get("title", raw["id"]), points=float(points),
            tests=_strings(raw.get("tests", []), "tests", where, source),
            notebook=raw.get("notebook"),
            sections=_strings(raw.get("sections", []), "sections", where, source),
            exclude=_strings(raw.get("exclude", []), "exclude", where, source),
            own_notebook=raw.get("own_notebook"),
            functions=_strings(raw.get("functions", []), "functions", where, source),
            all_or_nothing=_all_or_nothing(raw, where, source),
        )
        if bool(item.notebook) != bool(item.sections):
            raise RubricError(f"{source}: {where}: 'notebook' and 'sections' go together "
                              "(sections = [\"*\"] selects every cell)")
        if not (item.tests or item.notebook or item.own_notebook):
            raise RubricError(f"{source}: {where}: selects no check; give 'tests', "
                              "'notebook' + 'sections', or 'own_notebook'")
        items.append(item)
    if not items:
        raise RubricError(f"{source}: no [[item]] tables: a rubric needs at least one item")
    items = _own_functions(items, given)
    dropped = tuple(i for i in items if given_mod.drops_item(i.functions, given))
    items = [i for i in items if i not in dropped]
    if not items:
        raise RubricError(f"{source}: every item checks only functions that are given "
                          "([release] given): nothing is left to grade")
    lim = data.get("limits", {})
    _unknown(lim, LIMIT_KEYS, "[limits]", source)
    default = Limits()
    limits = Limits(
        wall_seconds=float(lim.get("step_seconds", default.wall_seconds)),
        cpu_seconds=int(lim.get("cpu_seconds", default.cpu_seconds)),
        memory_bytes=int(lim.get("memory_gib", default.memory_bytes / GiB) * GiB),
        file_bytes=int(lim.get("file_mib", default.file_bytes / MiB) * MiB),
        processes=int(lim.get("processes", default.processes)),
        output_bytes=int(lim.get("output_kib", default.output_bytes / 1024) * 1024),
    )
    files = data.get("files", {})
    _unknown(files, FILES_KEYS, "[files]", source)
    rubric = Rubric(items=items, limits=limits,
                    cell_seconds=float(lim.get("cell_seconds", 300.0)),
                    test_seconds=float(lim.get("test_seconds", 120.0)),
                    budget_seconds=float(lim.get("budget_seconds", 0.0)),
                    budget_factor=float(lim.get("budget_factor", 3.0)), source=source,
                    given=given, dropped=dropped)
    if "notebooks" in files:
        rubric.notebooks = _strings(files["notebooks"], "notebooks", "[files]", source)
    if "hidden_support" in files:
        rubric.hidden_support = _strings(files["hidden_support"], "hidden_support", "[files]",
                                         source)
    for item in [*items, *dropped]:
        for nb in filter(None, (item.notebook, item.own_notebook)):
            if nb not in rubric.notebooks:
                raise RubricError(f"{source}: item {item.id}: notebook {nb!r} is not in "
                                  f"[files] notebooks {list(rubric.notebooks)}")
    rubric.function_tests = _function_tests(data.get("function_tests", {}), rubric, source)
    return rubric


def _own_functions(items, given):
    """An own-notebook item without ``functions`` gets the (non-given) functions of the
    reference-notebook items of its notebook: its outputs come from the same code."""
    out = []
    for item in items:
        if item.own_notebook and not item.functions:
            names = [f for i in items if i.notebook == item.own_notebook
                     for f in i.functions if f not in given]
            item = dataclasses.replace(item, functions=tuple(dict.fromkeys(names)))
        out.append(item)
    return out


def _function_tests(table, rubric, source):
    """The hidden-test patterns of every gated function: ``[function_tests]``, else the tests
    of the hidden-test items that list the function."""
    if not isinstance(table, dict):
        raise RubricError(f"{source}: [function_tests] must be a table of function = [node-id "
                          f"patterns], got {table!r}")
    resolved = {f: _strings(p, f, "[function_tests]", source) for f, p in table.items()}
    for item in rubric.items:
        for f in rubric.gate(item):
            if f not in resolved:
                resolved[f] = tuple(dict.fromkeys(
                    p for i in rubric.items if f in i.functions for p in i.tests))
            if not resolved[f]:
                raise RubricError(
                    f"{source}: item {item.id} lists {f!r}, which no hidden test checks: a "
                    "notebook item earns its points only when the hidden tests of its "
                    f"functions pass; add {f!r} = [node-id patterns] to [function_tests] or "
                    "to the functions of a hidden-test item")
    return resolved


def load(path=DEFAULT_RUBRIC):
    """Read and validate a rubric TOML file."""
    path = Path(path)
    if tomllib is None:
        raise RubricError(
            "reading a TOML rubric needs Python >= 3.11 (tomllib) or the tomli package: "
            "pip install -r requirements.txt"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"rubric {path} not found; pass --rubric PATH") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: not valid TOML: {exc}") from None
    return from_dict(data, source=str(path))
