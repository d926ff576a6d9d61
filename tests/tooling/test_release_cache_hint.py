"""The normalization caches are the student's design (issues 10 and 12).

What batchnorm_forward and layernorm_forward keep for their backward passes, and in what form, is
part of the exercise. So the student release hands out no cache design, and what grades the norm
layers (public checks, hidden tests, the given input checks in ``_checks.py``) looks at outputs
and gradients, never at the cache's layout:

- the student's ``layers.py`` defines nothing at module level but functions (no cache type, as
  the former ``NormCache(x_hat, gamma, inv_std)`` was), and the names of the values the solution
  keeps in its norm caches appear nowhere in it; a planted cache type, or a docstring naming
  those values, fails the scan;
- a student's own design passes the public checks and the hidden tests of the norm layers: the
  solution with batchnorm keeping ``(x, mean, var, gamma, eps)`` (the backward passes recompute
  the rest) and layernorm keeping a dict ``{"x", "gamma", "eps"}`` (its backward works on the
  transpose), run in a copy of the repository.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assignment import _checks
from instructor import release
from instructor.release.render import render_file
from instructor.release.stubs import parse_python

REPO = Path(__file__).resolve().parents[2]
LAYERS = "assignment/layers.py"
NORM_FORWARDS = ("batchnorm_forward", "layernorm_forward")


def student_layers():
    """The student release's layers.py (given functions implemented, as the release ships it)."""
    text, _ = render_file(REPO, LAYERS, "student", release.configured_given(REPO))
    return text.decode("utf-8")


def solution_cache_names(solution_text):
    """The local variables the solution's norm forward passes put into ``cache`` (not their
    arguments, which the docstrings name anyway): {name}."""
    names = set()
    for node in ast.parse(solution_text).body:
        if not (isinstance(node, ast.FunctionDef) and node.name in NORM_FORWARDS):
            continue
        arguments = {a.arg for a in node.args.args}
        for stmt in ast.walk(node):
            if (isinstance(stmt, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "cache" for t in stmt.targets)):
                names |= {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
        names -= arguments
    return names


def cache_design_hints(student_text, cache_names):
    """What in a student layers.py gives a norm cache design away: module-level statements other
    than the docstring, imports and functions (a cache type, a constant), and the words of
    ``cache_names`` wherever they occur. Returns a list of str, empty when there is none."""
    hints = []
    for i, node in enumerate(ast.parse(student_text).body):
        docstring = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (docstring or isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef))):
            hints.append(f"line {node.lineno}: module-level {ast.unparse(node)[:60]!r}")
    for name in sorted(cache_names):
        for match in re.finditer(rf"\b{re.escape(name)}\b", student_text):
            line = student_text.count("\n", 0, match.start()) + 1
            hints.append(f"line {line}: names {name!r}, a value the solution keeps in its cache")
    return hints


@pytest.fixture(scope="module")
def cache_names():
    names = solution_cache_names((REPO / LAYERS).read_text(encoding="utf-8"))
    assert names, f"found no `cache = ...` of local values in {NORM_FORWARDS} of {LAYERS}"
    return names


def test_student_layers_hands_out_no_cache_design(cache_names):
    assert cache_design_hints(student_layers(), cache_names) == []


FORMER_NORM_CACHE = '''
from collections import namedtuple

# One cache for the normalization backward passes: x_hat (N, D) the normalized input, gamma (D,),
# inv_std = 1 / sqrt(var + eps), of shape (D,) for batchnorm (per feature) or (N, 1) for layernorm.
NormCache = namedtuple("NormCache", ["x_hat", "gamma", "inv_std"])
'''


@pytest.mark.parametrize("plant", ["type", "type without comment", "docstring"])
def test_a_planted_cache_design_is_found(cache_names, plant):
    text = student_layers()
    if plant == "docstring":
        old = "    - cache: the values your backward pass needs, in a form of your choice\n"
        new = "    - cache: (x_hat, gamma, inv_std), the normalized input and 1 / std\n"
        found = ["names 'inv_std'", "names 'x_hat'"]
    else:
        old = "from assignment import _checks\n"
        new = old + (FORMER_NORM_CACHE if plant == "type"
                     else 'NormCache = namedtuple("NormCache", ["a", "b", "c"])\n')
        found = ["module-level", "NormCache = namedtuple("]
        if plant == "type":  # its comment describes the values
            found += ["names 'inv_std'", "names 'x_hat'"]
    assert text.count(old) == 1, f"the student {LAYERS} changed: update the plant"
    hints = " | ".join(cache_design_hints(text.replace(old, new), cache_names))
    assert all(f in hints for f in found), hints


# ---------------------------------------------------------------------------------------------
# Any cache design is accepted
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cache", [(1, 2), {"x": np.ones((2, 3))}, np.ones(3), object()],
                         ids=["tuple", "dict", "array", "object"])
def test_norm_backward_check_accepts_any_cache(cache):
    assert _checks.norm_backward_inputs(np.ones((2, 3)), cache, "layernorm_backward",
                                        "layernorm_forward") is None


# The regions of a student who designs the caches differently, in the order of layers.py:
# (function, index of the region within it) -> code. Everything else stays the solution's.
OWN_DESIGN = {
    ("batchnorm_forward", 0): """
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        out = gamma * (x - mean) / np.sqrt(var + eps) + beta
        cache = (x, mean, var, gamma, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    """,
    ("batchnorm_backward", 0): """
        x, mean, var, gamma, eps = cache
        N = x.shape[0]
        std = np.sqrt(var + eps)
        dbeta = dout.sum(axis=0)
        dgamma = (dout * (x - mean) / std).sum(axis=0)
        dx_hat = dout * gamma
        dvar = (dx_hat * (x - mean)).sum(axis=0) * -0.5 / std**3
        dmean = -(dx_hat / std).sum(axis=0) - 2 * dvar * (x - mean).mean(axis=0)
        dx = dx_hat / std + dvar * 2 * (x - mean) / N + dmean / N
    """,
    ("batchnorm_backward_alt", 0): """
        x, mean, var, gamma, eps = cache
        N = x.shape[0]
        x_norm = (x - mean) / np.sqrt(var + eps)
        dbeta = dout.sum(axis=0)
        dgamma = (dout * x_norm).sum(axis=0)
        dx = gamma / np.sqrt(var + eps) / N * (N * dout - dbeta - x_norm * dgamma)
    """,
    ("layernorm_forward", 0): """
        xt = x.T
        out = gamma * ((xt - xt.mean(axis=0)) / np.sqrt(xt.var(axis=0) + eps)).T + beta
        cache = {"x": x, "gamma": gamma, "eps": eps}
    """,
    ("layernorm_backward", 0): """
        xt = cache["x"].T  # (D, N): batchnorm's formula over the columns
        D = xt.shape[0]
        inv = 1 / np.sqrt(xt.var(axis=0) + cache["eps"])
        xt_norm = (xt - xt.mean(axis=0)) * inv
        dbeta = dout.sum(axis=0)
        dgamma = (dout * xt_norm.T).sum(axis=0)
        g = (dout * cache["gamma"]).T
        dx = (inv / D * (D * g - g.sum(axis=0) - xt_norm * (g * xt_norm).sum(axis=0))).T
    """,
}


def own_design_layers():
    """The solution's layers.py with the norm regions of OWN_DESIGN, markers dropped."""
    parsed, names = parse_python((REPO / LAYERS).read_text(encoding="utf-8"), LAYERS)
    out, pos, seen = [], 0, {}
    for region, name in zip(parsed.regions, names, strict=True):
        key = (name, seen.get(name, 0))
        seen[name] = key[1] + 1
        out.extend(parsed.lines[pos:region.begin])
        code = OWN_DESIGN.pop(key, None)
        out.append(textwrap.indent(textwrap.dedent(code).strip() + "\n", region.indent)
                   if code else "".join(region.body))
        pos = region.end + 1
    assert not OWN_DESIGN, f"no such regions in {LAYERS}: {sorted(OWN_DESIGN)}"
    return "".join(out + list(parsed.lines[pos:]))


USES_OWN_DESIGN = """
import numpy as np
from assignment import layers
x, g = np.arange(12.0).reshape(4, 3), np.ones(3)
bn = layers.batchnorm_forward(x, g, g, {"mode": "train"})[1]
ln = layers.layernorm_forward(x, g, g, {})[1]
assert len(bn) == 5 and bn[0] is x and sorted(ln) == ["eps", "gamma", "x"], (bn, ln)
"""


def test_own_cache_design_passes_public_checks_and_hidden_tests(tmp_path):
    tree = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    for rel in ("assignment", "tests/hidden", "tests/fixtures"):
        shutil.copytree(REPO / rel, tree / rel, ignore=ignore)
    for rel in ("tests/conftest.py", "pyproject.toml"):
        shutil.copy(REPO / rel, tree / rel)
    (tree / LAYERS).write_text(own_design_layers(), encoding="utf-8")

    def run(*args):
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        return done.stdout

    run("-c", USES_OWN_DESIGN)  # the copy's layers.py is the one imported, with its caches
    out = run("-m", "assignment", "check", "batchnorm", "layernorm", "fc_net")
    assert "0 failed, 0 not implemented yet" in out, out
    run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hidden", "-k", "norm or bad_input")
