"""Numeric gradients by centred differences, to check analytic backward passes (CS231n API).

For a function f and a step h, the centred difference

    df/dx[i] ~= (f(x + h e_i) - f(x - h e_i)) / (2 h)

has an error of order h**2 (the forward difference has order h). Use float64 inputs: in float32
the rounding error of f, about 1e-7 * |f| / h, swamps the result for h = 1e-5.

All functions perturb ``x`` IN PLACE, one entry at a time, and restore it afterwards; ``f`` must
therefore read its input at every call (e.g. ``lambda _: model.loss(X, y)[0]`` with ``x`` being
``model.params['W1']``) and must not keep a reference to a value it computed before.

Shape letters: ``x`` is an array of any shape; ``f(x)`` is a scalar for
``eval_numerical_gradient`` / ``grad_check_sparse`` and an array (any shape) for
``eval_numerical_gradient_array``.
"""

from random import randrange

import numpy as np


def _check_input(x, fn):
    """Raise TypeError unless ``x`` is a floating numpy array (it is perturbed in place)."""
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"{fn}: x is {got}, expected a floating numpy array (it is perturbed in place by h; "
            "use x.astype(np.float64))"
        )


def _centred_differences(f, x, h, indices):
    """Yield ``(ix, f(x + h e_ix), f(x - h e_ix))`` for each index ``ix`` of ``indices``.

    The two values are float64 copies (``f`` may return a view of its input, or None, which
    becomes NaN). ``x`` is perturbed in place and restored, also when ``f`` raises.
    """
    for ix in indices:
        oldval = x[ix]
        try:
            x[ix] = oldval + h
            fxph = np.array(f(x), dtype=np.float64)
            x[ix] = oldval - h
            fxmh = np.array(f(x), dtype=np.float64)
        finally:
            x[ix] = oldval
        yield ix, fxph, fxmh


def eval_numerical_gradient(f, x, verbose=True, h=0.00001):
    """Numeric gradient of a scalar function f at x, by centred differences.

    Inputs:
    - f: function taking one argument (x, of x's shape) and returning a scalar
    - x: point (numpy array, any shape) at which to evaluate the gradient; modified in place
      during the computation and restored
    - verbose: if True, print each index and its partial derivative
    - h: step of the centred difference

    Returns:
    - grad: array of x's shape, the numeric gradient df/dx
    """
    _check_input(x, "eval_numerical_gradient")
    grad = np.zeros_like(x)
    for ix, fxph, fxmh in _centred_differences(f, x, h, np.ndindex(x.shape)):
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numeric gradient of sum(f(x) * df) at x: the backward pass of an array function f.

    Inputs:
    - f: function taking one argument (x) and returning an array (any shape, call it S)
    - x: numpy array (any shape) at which to evaluate; modified in place and restored
    - df: upstream derivative, of shape S
    - h: step of the centred difference

    Returns:
    - grad: array of x's shape
    """
    _check_input(x, "eval_numerical_gradient_array")
    grad = np.zeros_like(x)
    for ix, pos, neg in _centred_differences(f, x, h, np.ndindex(x.shape)):
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare an analytic gradient with centred differences at a few random entries.

    Prints one line per checked entry, as CS231n does. Entries are drawn with Python's
    ``random.randrange`` (as in CS231n); ``seed`` (an extension) seeds a private generator
    instead, so that the checked entries are reproducible without touching global state.

    Inputs:
    - f: function taking one argument (x) and returning a scalar
    - x: numpy array (any shape); modified in place and restored
    - analytic_grad: array of x's shape, the gradient to check
    - num_checks: number of random entries to check
    - h: step of the centred difference
    - seed: optional int, see above

    Returns:
    - the largest relative error among the checked entries (CS231n returns None; callers that
      ignore the value see no difference)
    """
    _check_input(x, "grad_check_sparse")
    if np.shape(analytic_grad) != x.shape:
        raise ValueError(
            f"grad_check_sparse: analytic_grad has shape {np.shape(analytic_grad)}, "
            f"expected {x.shape} (the shape of x)"
        )
    draw = randrange
    if seed is not None:
        draw = np.random.RandomState(seed).randint
    worst = 0.0
    indices = (tuple(int(draw(m)) for m in x.shape) for _ in range(num_checks))
    for ix, fxph, fxmh in _centred_differences(f, x, h, indices):
        grad_numerical = float((fxph - fxmh) / (2 * h))
        grad_analytic = analytic_grad[ix]
        denominator = abs(grad_numerical) + abs(grad_analytic)
        # Both zero: they agree exactly (CS231n divides by zero here).
        rel = abs(grad_numerical - grad_analytic) / denominator if denominator > 0 else 0.0
        worst = max(worst, float(rel))
        print(
            f"numerical: {grad_numerical:f} analytic: {grad_analytic:f}, relative error: {rel:e}"
        )
    return worst


def rel_error(x, y):
    """Maximum relative error between two arrays (or scalars) of the same shape.

    max |x - y| / max(1e-8, |x| + |y|), elementwise then the maximum: CS231n's definition.
    The 1e-8 floor keeps entries where both are (near) zero from dividing by zero.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: x has shape {x.shape} but y has shape {y.shape}; "
                         "compare arrays of the same shape")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
