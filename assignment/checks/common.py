"""What every part's checks share: Result, Failed, and helpers that compare with hints.

A check function returns a detail string on success or raises :class:`Failed` (a detail and a
hint naming the likely mistake). The helpers compare a student's output with something that
does not need the answer: numerical gradients (:func:`num_grad`, :func:`grad_check`), a
gradient off by a constant factor (:func:`factor_hint`), float32 kept (:func:`require_float32`).
"""

import importlib
import math
from typing import NamedTuple

import numpy as np

from assignment import gradient_check
from assignment.gradient_check import eval_numerical_gradient_array

TOL = 1e-6  # relative error accepted against numerical gradients (float64, h = 1e-6)


class Result(NamedTuple):
    """One check's outcome: status is "PASS", "FAIL" or "TODO" (not implemented yet)."""

    part: str
    status: str
    what: str
    detail: str = ""
    hint: str = ""


class Failed(Exception):
    """Raised inside a check: the check failed, with a hint for the likely mistake."""

    def __init__(self, detail, hint=""):
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


def mod(name):
    """The student module assignment.<name>, looked up at every check (tests replace it)."""
    return importlib.import_module(f"assignment.{name}")


def rel_error(a, b):
    """gradient_check.rel_error (the CS231n definition), made safe for checking student output.

    None (an output the starting code sets to None and the code written never assigns) and an
    output of the wrong shape fail the check; a NaN anywhere gives inf, so that
    ``rel_error(...) > tol`` fails too.
    """
    if a is None or b is None:
        raise Failed("an output is None",
                     "store each result in the variable the function returns (it starts as None)")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise Failed(f"an output has shape {a.shape}, expected {b.shape}",
                     "check the shapes the docstring gives for each output")
    err = gradient_check.rel_error(a, b)
    return math.inf if math.isnan(err) else err


def num_grad(f, x, df):
    """gradient_check's centred differences of sum(f(x) * df), with the checks' step 1e-6."""
    return eval_numerical_gradient_array(f, x, df, h=1e-6)


def factor_hint(name, got, expected, n):
    """A hint for a gradient that is off by a factor (N, 1/N, -1, p, ...), else ''."""
    got, expected = np.ravel(got), np.ravel(expected)
    denom = float(expected @ expected)
    if denom == 0 or not np.all(np.isfinite(got)):
        return ""
    ratio = float(got @ expected) / denom
    if rel_error(got, ratio * expected) > 1e-4:
        return ""
    if math.isclose(ratio, n, rel_tol=1e-3):
        return f"{name} is N={n} times too large: don't multiply by N (or sum twice)"
    if math.isclose(ratio, 1 / n, rel_tol=1e-3):
        return f"{name} is N={n} times too small: sum over the batch (axis 0), don't average"
    if math.isclose(ratio, -1, rel_tol=1e-3):
        return f"{name} has the wrong sign"
    return f"{name} is the numerical gradient times {ratio:.4g}: a constant factor is off"


def grad_check(name, analytic, numeric, n, extra_hint="", atol=0.0):
    """Compare a gradient with the numerical one; entries within ``atol`` of it pass (for
    gradients that are exactly 0, e.g. a bias before a batch norm, where only rounding is left)."""
    if analytic is None:
        raise Failed(f"{name} is None",
                     "store each result in the variable the function returns (it starts as None)")
    analytic = np.asarray(analytic)
    if analytic.shape != np.shape(numeric):
        raise Failed(
            f"{name} has shape {analytic.shape}, expected {np.shape(numeric)}",
            f"{name} must have the shape of the input it is the gradient of",
        )
    err = rel_error(analytic, numeric)
    if err > TOL and not np.all(np.abs(analytic - numeric) <= atol):
        hint = factor_hint(name, analytic, numeric, n) or extra_hint
        raise Failed(f"rel. error {err:.2g} (must be < {TOL:g})", hint)
    return f"rel. error {err:.1e}"


def require_below(err, limit, measured, hint):
    """Fail unless ``err <= limit``; ``measured`` names the error, with ``{err}`` where its
    value goes, e.g. ``"rel. error {err} against the expected values"``."""
    if err > limit:
        raise Failed(measured.format(err=f"{err:.2g}") + f" (must be < {limit:g})", hint)


def normalize_ref(x, axis):
    """(x - mean) / sqrt(var + 1e-5) along an axis, with the biased variance."""
    return (x - x.mean(axis=axis, keepdims=True)) / np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)


def is_vs_expected(name, got, expected):
    """"name is [...], expected [...]", with as many decimals as it takes to see them differ."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    digits = 4
    while digits < 12 and np.array_equal(np.round(got, digits), np.round(expected, digits)):
        digits += 1

    def show(a):
        return np.array2string(np.round(a, digits), precision=digits, separator=", ")

    return f"{name} is {show(got)}, expected {show(expected)}"


def require_float32(fn, outputs, hint):
    """Fail unless every (name, array) of ``outputs`` of ``fn`` on float32 input is float32."""
    wrong = [f"{name} is {'None' if a is None else np.asarray(a).dtype}"
             for name, a in outputs if a is None or np.asarray(a).dtype != np.float32]
    if wrong:
        raise Failed(f"{fn} on float32 input: {', '.join(wrong)}, expected float32", hint)


DTYPE_HINT = ("outputs and gradients keep x's dtype (float32 in, float32 out): an array "
               "you create yourself (np.zeros, a mask, a constant array) is float64 unless you "
               "give it x's dtype, e.g. .astype(x.dtype)")


# ---------------------------------------------------------------------------------------------
# The checks of each part. Each returns a detail string on success or raises Failed.
# ---------------------------------------------------------------------------------------------
