"""Tests of how a student's own notebook is prepared for grading (instructor/grading/own.py): it
must keep the cells that come with the assignment, loses the student's nbval switches but keeps
the instructor's, and cells saved without outputs fail."""

import json


def _nb(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(src, outputs=(), tags=None):
    cell = {"cell_type": "code", "source": src, "metadata": {}, "outputs": list(outputs),
            "execution_count": 1}
    if tags:
        cell["metadata"]["tags"] = list(tags)
    return cell


OUT = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]


REFERENCE = _nb(_code("import x"), _code("# NBVAL_IGNORE_OUTPUT\nprint(t)", OUT),
                _code("y = solve()", OUT), _code("check(y)", OUT))


RELEASE = _nb(_code("import x"), _code("# NBVAL_IGNORE_OUTPUT\nprint(t)"),
              _code("y = ...  # your code"), _code("check(y)"))


def test_own_notebook_without_the_given_cells_does_not_count():
    from instructor.grading import own

    data = json.dumps(_nb(_code("x = 1", OUT))).encode()
    nb, problem, _ = own.prepare(data, REFERENCE, RELEASE)
    assert nb is None and "3 of the 3 code cells that come with the assignment" in problem


def test_own_notebook_loses_nbval_switches_but_keeps_the_instructors():
    from instructor.grading import own

    sub = _nb(_code("import x", tags=["raises-exception"]),
              _code("print(t)", OUT, tags=["nbval-skip", "mine"]),
              _code("# NBVAL_IGNORE_OUTPUT\ny = mine()", OUT, tags=["nbval-ignore-output"]),
              _code("check(y)  ", OUT))
    data, problem, failed = own.prepare(json.dumps(sub).encode(), REFERENCE, RELEASE)
    assert problem is None and failed == {}
    cells = json.loads(data)["cells"]
    assert [c["metadata"].get("tags") for c in cells] == [None, ["mine"], None, None]
    assert cells[1]["source"].startswith("# NBVAL_IGNORE_OUTPUT")   # the instructor's
    assert cells[2]["source"] == "y = mine()"                     # the student's: stripped


def test_own_notebook_saved_without_outputs_fails_those_cells():
    from instructor.grading import own

    sub = _nb(_code("import x"), _code("print(t)"), _code("y = mine()", OUT), _code("check(y)"))
    _, problem, failed = own.prepare(json.dumps(sub).encode(), REFERENCE, RELEASE)
    assert problem is None and sorted(failed) == [1, 3]
    assert "no outputs" in failed[1]
