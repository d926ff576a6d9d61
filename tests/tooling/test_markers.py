"""Tests of instructor/markers.py (the solution-region state machine and its renderings) and of
instructor/release/stubs.py (where a stub can go)."""

import textwrap

import pytest

from instructor import markers
from instructor.markers import MarkerError
from instructor.release import stubs

SOURCE = textwrap.dedent(
    '''\
    """A module."""


    def f(x):
        """Double x."""
        # TODO: double x.
        ### BEGIN SOLUTION
        y = 2 * x
        ### END SOLUTION
        return y


    class Net:
        def loss(self, mode):
            if mode == "train":
                # TODO: the train branch.
                ### BEGIN SOLUTION
                out = 1

                out += 1
                ### END SOLUTION
            return out
    '''
)


def _parse(text, path="m.py"):
    return markers.parse(text, path)


def test_parse_finds_regions_with_indentation_and_lines():
    parsed = _parse(SOURCE)
    assert [(r.begin, r.end, r.indent) for r in parsed.regions] == [
        (6, 8, "    "),
        (16, 20, "            "),
    ]
    assert parsed.regions[0].body == ("    y = 2 * x\n",)


def test_enclosing_functions_are_qualified():
    parsed = _parse(SOURCE)
    assert stubs.enclosing_functions(SOURCE, parsed) == ["f", "Net.loss"]


def test_student_rendering_is_a_stub_at_the_region_indentation():
    parsed = _parse(SOURCE)
    student = markers.render_student(parsed, ["f: msg", "Net.loss: msg"])
    assert "y = 2 * x" not in student and "out += 1" not in student
    lines = student.splitlines()
    start = lines.index("    " + markers.BANNER_START)
    assert lines[start - 1] == "    # TODO: double x."
    assert lines[start + 1 : start + 5] == [
        "    raise NotImplementedError(",
        "        'f: msg'",
        "    )",
        "    " + markers.BANNER_END,
    ]
    assert lines[start + 5] == "    return y"
    long = "".join(markers.code_stub("        ", "word " * 40, width=60))
    literal_lines = [ln for ln in long.splitlines() if ln.lstrip().startswith("'")]
    assert len(literal_lines) > 1 and max(len(ln) for ln in literal_lines) <= 60
    assert eval("(" + "\n".join(literal_lines) + ")") == "word " * 40
    assert "            " + markers.BANNER_START in lines
    compile(student, "student.py", "exec")
    namespace = {}
    exec(compile(student, "student.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="f: msg"):
        namespace["f"](1)
    with pytest.raises(NotImplementedError, match="Net.loss: msg"):
        namespace["Net"]().loss("train")


def test_solution_rendering_drops_only_the_marker_lines():
    solution = markers.render_solution(_parse(SOURCE))
    expected = "".join(
        line for line in SOURCE.splitlines(keepends=True) if "SOLUTION" not in line
    )
    assert solution == expected


@pytest.mark.parametrize("final_newline", [True, False])
def test_round_trip_code_and_markdown(final_newline):
    text = SOURCE
    if not final_newline:
        text += "    # end\n    ### BEGIN SOLUTION\n    z = 1\n    ### END SOLUTION"
    parsed = _parse(text)
    student = markers.render_student(parsed, ["m"] * len(parsed.regions))
    assert markers.restore(student, parsed.regions) == text

    md = MARKDOWN if final_newline else MARKDOWN.rstrip("\n")
    parsed_md = markers.parse(md, "nb cell 3", kind="markdown")
    student_md = markers.render_student(parsed_md)
    assert student_md.rstrip("\n") == MARKDOWN_STUDENT.rstrip("\n")
    assert markers.restore(student_md, parsed_md.regions, kind="markdown") == md


MARKDOWN = textwrap.dedent(
    """\
    **Your derivation:** with $\\hat{x} = (x - \\mu) / \\sigma$, show that

    <!-- BEGIN SOLUTION -->
    $$\\frac{\\partial L}{\\partial x} = \\text{the secret closed form}$$
    <!-- END SOLUTION -->

    **Your Answer:**
    <!-- BEGIN SOLUTION -->
    Because of the secret reason.

    And a second paragraph.
    <!-- END SOLUTION -->
    """
)
MARKDOWN_STUDENT = textwrap.dedent(
    """\
    **Your derivation:** with $\\hat{x} = (x - \\mu) / \\sigma$, show that

    *Write your answer here.*

    **Your Answer:**
    *Write your answer here.*
    """
)


def test_markdown_regions_become_the_placeholder_and_the_solution_keeps_the_text():
    parsed = markers.parse(MARKDOWN, "nb cell 5", kind="markdown")
    assert [(r.begin, r.end) for r in parsed.regions] == [(2, 4), (7, 11)]
    assert markers.render_student(parsed) == MARKDOWN_STUDENT
    solution = markers.render_solution(parsed)
    assert "SOLUTION" not in solution
    assert "the secret closed form" in solution and "And a second paragraph." in solution
    assert solution.splitlines()[0] == MARKDOWN.splitlines()[0]


def test_restore_refuses_a_student_text_whose_placeholder_moved():
    parsed = markers.parse(MARKDOWN, "nb cell 5", kind="markdown")
    edited = MARKDOWN_STUDENT.replace("**Your Answer:**\n", "**Your Answer:**\nmine\n")
    with pytest.raises(MarkerError, match="placeholder") as info:
        markers.restore(edited, parsed.regions, kind="markdown", path="nb cell 5")
    assert info.value.line == 6


# Markdown cases: the same strictness, plus the markdown-only rules.
MALFORMED_MARKDOWN = {
    "code marker in markdown": ("Answer:\n### BEGIN SOLUTION\nx\n### END SOLUTION\n", 2,
                                "are for code"),
    "unclosed": ("Answer:\n<!-- BEGIN SOLUTION -->\nx\n", 2, "never closed"),
    "unopened": ("Answer:\nx\n<!-- END SOLUTION -->\n", 3, "without a matching"),
    "nested": ("<!-- BEGIN SOLUTION -->\n<!-- BEGIN SOLUTION -->\nx\n<!-- END SOLUTION -->\n"
               "<!-- END SOLUTION -->\n", 2, "nested"),
    "empty": ("Answer:\n<!-- BEGIN SOLUTION -->\n\n<!-- END SOLUTION -->\n", 2, "empty"),
    "malformed": ("<!--BEGIN SOLUTION-->\nx\n", 1, "malformed"),
    "heading inside": ("<!-- BEGIN SOLUTION -->\n## 3. Next section\n<!-- END SOLUTION -->\n",
                       2, "heading"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_MARKDOWN))
def test_malformed_markdown_markers_fail_with_file_and_line(case):
    text, line, word = MALFORMED_MARKDOWN[case]
    with pytest.raises(MarkerError, match=word) as info:
        markers.parse(text, "nb.ipynb cell 3", first_line=1, kind="markdown")
    assert str(info.value).startswith(f"nb.ipynb cell 3:{line}: ")


def test_markdown_marker_in_code_is_malformed():
    with pytest.raises(MarkerError, match="are for markdown"):
        markers.parse("def f():\n    <!-- BEGIN SOLUTION -->\n", "m.py")


def test_crlf_line_endings_are_kept():
    text = "def f():\r\n    ### BEGIN SOLUTION\r\n    return 1\r\n    ### END SOLUTION\r\n"
    parsed = _parse(text)
    student = markers.render_student(parsed, ["m"])
    assert markers.restore(student, parsed.regions) == text
    assert markers.render_solution(parsed) == "def f():\r\n    return 1\r\n"


# Each malformed case, with the line the error must point at and a word of its message.
MALFORMED = {
    "unclosed": ("def f():\n    ### BEGIN SOLUTION\n    x = 1\n", 2, "never closed"),
    "unopened": ("def f():\n    x = 1\n    ### END SOLUTION\n", 3, "without a matching"),
    "nested": (
        "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    x = 1\n"
        "    ### END SOLUTION\n    ### END SOLUTION\n",
        3,
        "nested",
    ),
    "indent mismatch": (
        "def f():\n    ### BEGIN SOLUTION\n    x = 1\n        ### END SOLUTION\n",
        4,
        "indented",
    ),
    "body less indented": (
        "def f():\n    if x:\n        ### BEGIN SOLUTION\n        y = 1\n    z = 2\n"
        "        ### END SOLUTION\n",
        5,
        "indented less",
    ),
    "empty region": ("def f():\n    ### BEGIN SOLUTION\n\n    ### END SOLUTION\n", 2, "empty"),
    "malformed marker": ("def f():\n    ## BEGIN SOLUTION\n    x = 1\n", 2, "malformed"),
    "marker with trailing text": (
        "def f():\n    ### BEGIN SOLUTION  # here\n    x = 1\n    ### END SOLUTION\n",
        2,
        "malformed",
    ),
    "banner in source": (
        "def f():\n    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****\n",
        2,
        "banner",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_markers_fail_with_file_and_line(case):
    text, line, word = MALFORMED[case]
    with pytest.raises(MarkerError, match=word) as info:
        markers.parse(text, "pkg/mod.py")
    assert (info.value.path, info.value.line) == ("pkg/mod.py", line)
    assert str(info.value).startswith(f"pkg/mod.py:{line}: ")


def test_first_line_offsets_the_reported_line():
    with pytest.raises(MarkerError) as info:
        markers.parse("x\n### END SOLUTION\n", "nb.ipynb cell 4", first_line=10)
    assert info.value.line == 11


# Regions that parse but cannot be replaced by a raise-stub.
UNSTUBBABLE = {
    "module level": ("# TODO\n### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n", 2, "outside any"),
    "class body": (
        "class A:\n    # TODO\n    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\n",
        3,
        "outside any",
    ),
    "inside a string": (
        'def f():\n    s = """\n    ### BEGIN SOLUTION\n    x\n    ### END SOLUTION\n    """\n',
        3,
        "string literal",
    ),
    "inside brackets": (
        "def f():\n    return g(\n        1,\n        ### BEGIN SOLUTION\n        2,\n"
        "        ### END SOLUTION\n    )\n",
        4,
        "does not compile",
    ),
}


@pytest.mark.parametrize("case", sorted(UNSTUBBABLE))
def test_unstubbable_regions_fail_with_file_and_line(case):
    text, line, word = UNSTUBBABLE[case]
    parsed = markers.parse(text, "m.py")
    with pytest.raises(MarkerError, match=word) as info:
        names = stubs.enclosing_functions(text, parsed)
        stubs.check_stubbable(text, parsed, names)
    assert info.value.line == line


def test_top_level_region_is_allowed_in_notebook_cells():
    text = "# TODO\n### BEGIN SOLUTION\nbest = 1\n### END SOLUTION\nprint(best)\n"
    parsed = markers.parse(text, "nb cell 1")
    names = stubs.enclosing_functions(text, parsed)
    assert names == [None]
    stubs.check_stubbable(text, parsed, names, allow_top_level=True)


def test_find_stubs_rejects_unbalanced_banners():
    with pytest.raises(MarkerError, match="never closed"):
        markers.find_stubs("    " + markers.BANNER_START + "\n", "s.py")
    with pytest.raises(MarkerError, match="without a START"):
        markers.find_stubs(markers.BANNER_END + "\n", "s.py")
