"""Where a stub can go: the function enclosing each solution region, and the places a
``raise NotImplementedError`` stub cannot replace a region.

The Python-specific checks of the solution markers (instructor/markers.py parses them for any
text): :func:`enclosing_functions` finds the function that encloses each region (its name goes
into the stub's message) and :func:`check_stubbable` rejects regions that cannot be stubbed: at
module level or in a class body (the ``raise`` would run on import), inside a string literal,
or where the stub does not compile (e.g. inside a bracketed expression). Notebook code cells
are checked as Python after IPython's own transformation (:func:`ipython_to_python`).
"""

import ast
import io
import tokenize

from instructor.markers import MarkerError, code_stub, parse, render_student


def ipython_to_python(text):
    """IPython cell source as plain Python with the same line numbers (magics become calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(text)


def parse_python(text, rel):
    """Parse a .py file's markers: (Parsed, [qualified function name per region]).

    Raises MarkerError (file:line) for malformed markers or a region that cannot be stubbed.
    """
    parsed = parse(text, rel)
    if not parsed.regions:
        return parsed, []
    names = enclosing_functions(text, parsed)
    check_stubbable(text, parsed, names)
    return parsed, names

def _function_spans(tree):
    """(first_line, last_line, qualname) for every function in an AST, outermost first."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno, name))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def enclosing_functions(python_source, parsed):
    """The qualified name of the innermost function enclosing each region (None if none).

    Inputs:
    - python_source: the text as Python (for notebook cells: IPython magics already
      transformed, with the same line numbering)
    - parsed: Parsed of the same text

    Returns a list of str or None, one per region. Raises MarkerError if the text does not parse.
    """
    try:
        tree = ast.parse(python_source)
    except SyntaxError as e:
        raise MarkerError(parsed.path, e.lineno or 1, f"source does not parse: {e.msg}") from e
    spans = _function_spans(tree)
    names = []
    for region in parsed.regions:
        line = region.begin + 1
        inner = None
        for first, last, name in spans:
            if first < line <= last and (inner is None or first >= inner[0]):
                inner = (first, name)
        names.append(inner[1] if inner else None)
    return names


def _string_spans(python_source):
    """1-based (first, last) line spans of multi-line string tokens."""
    spans = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(python_source).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                spans.append((tok.start[0], tok.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass  # ast.parse reports the real problem
    return spans


def check_stubbable(python_source, parsed, names, *, allow_top_level=False, to_python=None):
    """Reject regions that a raise-stub cannot replace.

    Inputs:
    - python_source, parsed: as for enclosing_functions
    - names: enclosing_functions(python_source, parsed)
    - allow_top_level: True for notebook cells, where a top-level raise only stops that cell
    - to_python: function turning the stubbed text into Python (IPython's cell transformer for
      notebook cells); None for plain Python

    Raises MarkerError at the first region that is inside a string literal, outside any
    function (unless allowed), or whose stub does not compile.
    """
    strings = _string_spans(python_source)
    for region, name in zip(parsed.regions, names, strict=True):
        line = region.begin + 1
        for first, last in strings:
            if first <= line <= last:
                raise MarkerError(
                    parsed.path, line, "solution marker inside a string literal (lines "
                    f"{first}-{last}): markers must be comment lines in code"
                )
        if name is None and not allow_top_level:
            raise MarkerError(
                parsed.path,
                line,
                "solution region outside any function: its stub `raise NotImplementedError` "
                "would run on import; move the region into a function body",
            )
    stubbed = render_student(parsed, ["x"] * len(parsed.regions))
    if to_python is not None:
        stubbed = to_python(stubbed)
    try:
        compile(stubbed, parsed.path, "exec", dont_inherit=True)
    except SyntaxError as e:
        # Blame the region that contains (or is nearest above) the failing stub line.
        blamed = parsed.regions[0]
        shift = 0
        for region in parsed.regions:
            stub_first = region.begin + shift + 1
            if stub_first <= (e.lineno or 0):
                blamed = region
            shift += len(code_stub(region.indent, "x")) - len(region.lines)
        raise MarkerError(
            parsed.path,
            blamed.begin + 1,
            f"this region cannot be replaced by a stub: the stubbed code does not compile "
            f"({e.msg}); put the markers around whole statements",
        ) from e
