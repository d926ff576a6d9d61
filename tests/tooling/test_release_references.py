"""Tests of instructor/release/mentions.py: what counts as a mention of left-out instructor
material (the release stops on one in any shipped file: tests/test_release.py).

Each line below is written as it would appear in a shipped file (a Makefile recipe, a
docstring, a script); the patterns are those of the real manifest, with one left-out test file.
"""

import pytest

from instructor.release import mentions

PATTERNS = mentions.patterns(["tests/hidden/test_layers.py"])

MENTIONS = {
    "\t$(PY) -m bench": "bench/",
    "python -m bench.notebooks --quick": "bench/",
    "see bench/README.md": "bench/",
    "cp ./bench/run.py .": "bench/",
    "import bench": "bench/",
    "from bench.timing import ratio": "bench/",
    "bench.norm_alternatives measures it": "bench/",
    "python -m instructor release": "instructor/",
    "from instructor import release": "instructor/",
    "read by instructor/grading": "instructor/",
    "instructor.grading.cli runs them": "instructor/",
    "./.ci/run": ".ci/",
    "python tests/fixtures/make_reference.py": "tests/fixtures/",
    "answers in tests/fixtures": "tests/fixtures/",
    "import tests.fixtures": "tests/fixtures/",
    "pytest tests/hidden/test_layers.py -x": "tests/hidden/test_layers.py",
    "np.load('reference.npz')": "reference fixture",
}

NOT_MENTIONS = (
    "ask your instructor for an extension",
    "the instructor.",
    "numbers from bench results",
    "a workbench/ folder",
    "benchmarks/ and benches/",
    "from tests.cifar_fixtures import serve",
    "tests/cifar_fixtures.py",
    "rm -rf build dist .pytest_cache",
    "$(PY) -m tools.run_notebooks --out build",
    "pytest tests/test_layers_public.py",
    "x.ci/y",
)


@pytest.mark.parametrize("line", sorted(MENTIONS))
def test_mention_is_found_with_what_it_points_at(line):
    found = mentions.find(line, PATTERNS)
    assert found is not None, line
    text, what = found
    assert text in line
    assert MENTIONS[line] in what


@pytest.mark.parametrize("line", NOT_MENTIONS)
def test_ordinary_text_is_not_a_mention(line):
    assert mentions.find(line, PATTERNS) is None
