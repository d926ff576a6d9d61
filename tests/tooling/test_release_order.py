"""Every student TODO is driven by a notebook section, before the first cell that needs it, in
the order a student works (issue 10): on the real notebooks, without running them.

For every function of instructor/release/sections.py (each a TODO when nothing is given):

- the markdown of its section (its heading up to the next heading of the same or a higher level)
  names it, in backticks;
- no code cell that comes earlier in the order of work uses it: by name (``dropout_backward(``,
  ``FullyConnectedNet(`` for the class's methods; imports do not count), or through a
  normalization string (``"batchnorm"``, ``"layernorm"``), which makes a network call the
  normalization layers and the sandwich layer.

The order of work is the notebooks' cells in WORK_ORDER: Dropout.ipynb up to 6b, then
BatchNormalization.ipynb up to its section 4, then the rest of each (Dropout's 6c and 6d train
networks with batch normalization; the notebooks and the student README say so). Fast: reads
the two notebooks. Plants: a use moved in front of its section, the naive order (the whole
Dropout notebook first), a section that does not name its function.
"""

import ast
import copy
import re
from pathlib import Path

from instructor.release import cell_source, heading_cells, read_notebook, sections

REPO = Path(__file__).resolve().parents[2]
DROPOUT, BN = "Dropout.ipynb", "BatchNormalization.ipynb"

# (notebook, from heading, up to heading): None is the notebook's start or end.
WORK_ORDER = [
    (DROPOUT, None, "6c. Batchnorm with dropout: the variance shift"),
    (BN, None, "4. Batch normalization for deep networks"),
    (DROPOUT, "6c. Batchnorm with dropout: the variance shift", None),
    (BN, "4. Batch normalization for deep networks", None),
]
NAIVE_ORDER = [(DROPOUT, None, None), (BN, None, None)]

# A network built with one of these normalizations calls these functions.
NORMALIZATION_NEEDS = {
    "batchnorm": ("batchnorm_forward", "batchnorm_backward_alt", "affine_norm_relu_forward",
                  "affine_norm_relu_backward"),
    "layernorm": ("layernorm_forward", "layernorm_backward", "affine_norm_relu_forward",
                  "affine_norm_relu_backward"),
}
def section_cells(nb, section):
    """The cell indices of `section`: its heading's cell up to the next heading of the same or
    a higher level (exclusive). Raises AssertionError if the heading is missing."""
    heads = heading_cells(nb)
    for k, (start, level, text) in enumerate(heads):
        if text == section:
            end = next((i for i, lv, _ in heads[k + 1:] if lv <= level and i > start),
                       len(nb["cells"]))
            return range(start, end)
    raise AssertionError(f"no heading {section!r}")


def heading_cell(nb, section):
    return section_cells(nb, section).start


def work_order(notebooks, order):
    """[(notebook, cell index)] in the order a student works through the cells."""
    cells = []
    for name, first, last in order:
        nb = notebooks[name]
        start = 0 if first is None else heading_cell(nb, first)
        stop = len(nb["cells"]) if last is None else heading_cell(nb, last)
        cells += [(name, i) for i in range(start, stop)]
    return cells


def used_functions(source):
    """The student functions a code cell uses: names (not imports), class names for their
    methods, and the normalization strings."""
    tree = ast.parse("\n".join(line for line in source.splitlines()
                               if not line.lstrip().startswith(("%", "!"))))
    names, strings = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.add(node.value)
    used = set()
    for qualified in sections.SECTIONS:
        owner = qualified.split(".")[0]
        if owner in names:
            used.add(qualified)
    for string, needs in NORMALIZATION_NEEDS.items():
        if string in strings:
            used.update(needs)
    return used


def order_problems(notebooks, order):
    """Every breach of the module docstring's rules, as messages (empty when all hold)."""
    problems = []
    position = {cell: k for k, cell in enumerate(work_order(notebooks, order))}
    assert len(position) == sum(len(nb["cells"]) for nb in notebooks.values()), \
        "the order of work must cover every cell once"
    section_start = {}
    for name, where in sections.SECTIONS.items():
        nb = notebooks[where.notebook]
        cells = section_cells(nb, where.section)
        text = "\n".join(cell_source(nb["cells"][i]) for i in cells
                         if nb["cells"][i]["cell_type"] == "markdown")
        if f"`{name}`" not in text:
            problems.append(f"{where.notebook} section {where.section!r} does not name "
                            f"`{name}`")
        section_start[name] = position[(where.notebook, cells.start)]
    for (nb_name, i), k in sorted(position.items(), key=lambda item: item[1]):
        cell = notebooks[nb_name]["cells"][i]
        if cell["cell_type"] != "code":
            continue
        for name in sorted(used_functions(cell_source(cell))):
            if k < section_start[name]:
                where = sections.SECTIONS[name]
                problems.append(f"{nb_name} cell {i} uses {name} before {where.notebook} "
                                f"section {where.section!r}")
    return problems


def real_notebooks():
    return {name: read_notebook(REPO / "notebooks" / name) for name in (DROPOUT, BN)}


def test_every_todo_is_named_in_its_section_before_any_cell_needs_it():
    assert order_problems(real_notebooks(), WORK_ORDER) == []


def test_a_use_before_the_section_is_found():
    notebooks = real_notebooks()
    nb = notebooks[DROPOUT]
    early = heading_cell(nb, "1. Dropout forward pass")
    nb["cells"].insert(early, copy.deepcopy(nb["cells"][heading_cell(nb, "2. Dropout backward "
                                                                      "pass") + 1]))
    problems = order_problems(notebooks, WORK_ORDER)
    assert any(f"cell {early} uses dropout_backward before" in p for p in problems), problems


def test_the_whole_dropout_notebook_first_uses_batchnorm_too_early():
    problems = order_problems(real_notebooks(), NAIVE_ORDER)
    assert any("uses batchnorm_forward before BatchNormalization.ipynb" in p
               for p in problems), problems


def test_a_section_that_does_not_name_its_function_is_found():
    notebooks = real_notebooks()
    nb = notebooks[DROPOUT]
    for i in section_cells(nb, "4. Fully connected network with dropout"):
        cell = nb["cells"][i]
        if cell["cell_type"] == "markdown":
            cell["source"] = cell_source(cell).replace("`hidden_layer_forward`", "the forward")
    problems = order_problems(notebooks, WORK_ORDER)
    assert problems == ["Dropout.ipynb section '4. Fully connected network with dropout' does "
                        "not name `hidden_layer_forward`"]


# ---------------------------------------------------------------------------------------------
# The student README lists the TODOs in that order, with their notebook sections
# ---------------------------------------------------------------------------------------------

README_TEMPLATE = REPO / "instructor/templates/README.student.md"
SHORT = {DROPOUT: "Dropout", BN: "BatchNorm"}


def section_number(nb, section):
    """The number of a section ("4b"), or of the numbered heading it sits under."""
    start = heading_cell(nb, section)
    for i, _, text in reversed(heading_cells(nb)):
        m = re.match(r"(\d+[a-z]?)\. ", text)
        if i <= start and m:
            return m.group(1)
    raise AssertionError(f"{section!r} is under no numbered heading")


def mentions(row, name):
    """True if a README table row names `name`, written out or as `x_forward`/`_backward`."""
    if f"`{name}`" in row:
        return True
    stem = name.removesuffix("_backward")
    return stem != name and f"`{stem}_forward`/`_backward`" in row


def readme_problems(notebooks, order, text):
    """Where the README's TODO table disagrees with SECTIONS and the order of work."""
    table = text.split("## Your TODOs, in order", 1)[1].split("\n\n")[2]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    position = {cell: k for k, cell in enumerate(work_order(notebooks, order))}
    problems, last = [], -1
    for name, where in sections.SECTIONS.items():
        nb = notebooks[where.notebook]
        found = [k for k, row in enumerate(rows) if mentions(row, name)]
        if len(found) != 1:
            problems.append(f"{name} is in {len(found)} rows of the README's TODO table")
            continue
        label = rows[found[0]].split("|")[1]
        number = section_number(nb, where.section)
        if SHORT[where.notebook] not in label or not re.search(rf"\b{number}\b", label):
            problems.append(f"{name}: README row {label.strip()!r}, expected "
                            f"{SHORT[where.notebook]} {number}")
    starts = sorted((position[(w.notebook, heading_cell(notebooks[w.notebook], w.section))],
                     name) for name, w in sections.SECTIONS.items())
    for _, name in starts:
        row = next((k for k, r in enumerate(rows) if mentions(r, name)), None)
        if row is not None and row < last:
            problems.append(f"{name} comes earlier in the README's table than in the order "
                            "of work")
        last = max(last, row if row is not None else last)
    return problems


def test_student_readme_lists_the_todos_in_order_with_their_sections():
    assert readme_problems(real_notebooks(), WORK_ORDER, README_TEMPLATE.read_text()) == []


def test_student_readme_out_of_order_or_missing_is_found():
    text = README_TEMPLATE.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| Dropout 4b ")]
    assert len(rows) == 1
    moved = text.replace(rows[0] + "\n", "").replace("| BatchNorm 7 ", rows[0] + "\n| BatchNorm 7 ")
    problems = readme_problems(real_notebooks(), WORK_ORDER, moved)
    assert any("comes earlier in the README" in p for p in problems), problems
    dropped = text.replace("`Solver.check_accuracy`", "the accuracy check")
    assert readme_problems(real_notebooks(), WORK_ORDER, dropped) == [
        "Solver.check_accuracy is in 0 rows of the README's TODO table"]
