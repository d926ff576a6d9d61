"""Public checks of the functions you write: ``python -m assignment check [PART]``.

Each part (affine, relu, losses, batchnorm, layernorm, dropout, fc_net, optim, solver) is a list
of checks. A check calls your code on small seeded inputs and compares it with something that does
not need the answer: centred-difference numerical gradients of your own forward pass (in
float64), properties the output must have (batch norm output has per-feature mean beta and
standard deviation gamma, inverted dropout keeps the mean), and the update rules' first steps.
Every check prints one line::

    PASS  batchnorm  batchnorm_backward's dx, dgamma, dbeta match numerical gradients. (...)
    FAIL  batchnorm  batchnorm_backward's dx, dgamma, dbeta match numerical gradients. (rel.
          error 0.75 (must be < 1e-06))
          hint: dgamma is N=4 times too small: sum over the batch (axis 0), don't average
    TODO  dropout    dropout_forward (test) returns its input unchanged.
          dropout_forward: not implemented yet; see notebooks/Dropout.ipynb, section ...

A function that still raises NotImplementedError is reported as ``TODO`` (not implemented
yet), never as a crash; a check that needs another function you have not written yet says so.
The hints name the common mistakes: a gradient off by a factor of N, biased vs unbiased
variance, running statistics not updated or updated with the wrong weight, test mode using the
batch statistics, a dropout mask not scaled by 1/p or drawn with the drop probability, a
missing bias correction in Adam, a regularization term without its 0.5, float64 results for
float32 inputs (an array made without x's dtype), inputs modified in place.

Every property that the graders' tests score is checked here too: their tests use other
inputs and seeds, not other requirements. (Passing here does not prove everything right: the
notebooks check more, and other inputs can find a bug that these miss.)

Python API: :func:`run_part` returns the results of one part as :class:`Result` tuples,
:func:`run_all` every check's result by the check's name; :func:`main` prints them (exit
status 0 when every check passed).
"""

import importlib
import math
import sys
from typing import NamedTuple

import numpy as np

from assignment import notebook_checks

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


def _mod(name):
    return importlib.import_module(f"assignment.{name}")


def rel_error(a, b):
    """notebook_checks.rel_error (the CS231n definition), made safe for checking student output.

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
    err = notebook_checks.rel_error(a, b)
    return math.inf if math.isnan(err) else err


def num_grad(f, x, df, h=1e-6):
    """Centred-difference gradient of sum(f(x) * df) with respect to x (float64, x restored)."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old
        grad[i] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def _factor_hint(name, got, expected, n):
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


def _grad_check(name, analytic, numeric, n, extra_hint="", atol=0.0):
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
        hint = _factor_hint(name, analytic, numeric, n) or extra_hint
        raise Failed(f"rel. error {err:.2g} (must be < {TOL:g})", hint)
    return f"rel. error {err:.1e}"


def _normalize_ref(x, axis):
    """(x - mean) / sqrt(var + 1e-5) along an axis, with the biased variance."""
    return (x - x.mean(axis=axis, keepdims=True)) / np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)


def _is_vs_expected(name, got, expected):
    """"name is [...], expected [...]", with as many decimals as it takes to see them differ."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    digits = 4
    while digits < 12 and np.array_equal(np.round(got, digits), np.round(expected, digits)):
        digits += 1

    def show(a):
        return np.array2string(np.round(a, digits), precision=digits, separator=", ")

    return f"{name} is {show(got)}, expected {show(expected)}"


def _require_float32(fn, outputs, hint):
    """Fail unless every (name, array) of ``outputs`` of ``fn`` on float32 input is float32."""
    wrong = [f"{name} is {'None' if a is None else np.asarray(a).dtype}"
             for name, a in outputs if a is None or np.asarray(a).dtype != np.float32]
    if wrong:
        raise Failed(f"{fn} on float32 input: {', '.join(wrong)}, expected float32", hint)


_DTYPE_HINT = ("outputs and gradients keep x's dtype (float32 in, float32 out): an array "
               "you create yourself (np.zeros, a mask, a constant array) is float64 unless you "
               "give it x's dtype, e.g. .astype(x.dtype)")


# ---------------------------------------------------------------------------------------------
# The checks of each part. Each returns a detail string on success or raises Failed.
# ---------------------------------------------------------------------------------------------


def affine_forward_values():
    """affine_forward on CS231n's linspace inputs gives the published numbers."""
    layers = _mod("layers")
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = layers.affine_forward(x, w, b)
    correct = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    if np.shape(out) != (2, 3):
        raise Failed(f"out has shape {np.shape(out)}, expected (2, 3)",
                     "reshape x into rows of D features first: x.reshape(N, -1)")
    err = rel_error(out, correct)
    if err > 1e-7:
        raise Failed(f"rel. error {err:.2g} against the expected values (must be < 1e-07)",
                     "flatten each example into a row of D features; b is added to every "
                     "row")
    return f"rel. error {err:.1e}"


def affine_backward_gradients():
    """affine_backward's dx, dw, db match numerical gradients."""
    layers = _mod("layers")
    rng = np.random.default_rng(231)
    x, w, b = rng.normal(size=(10, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(10, 5))
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)
    details = [
        _grad_check("dx", dx, num_grad(lambda v: layers.affine_forward(v, w, b)[0], x, dout), 10),
        _grad_check("dw", dw, num_grad(lambda v: layers.affine_forward(x, v, b)[0], w, dout), 10),
        _grad_check("db", db, num_grad(lambda v: layers.affine_forward(x, w, v)[0], b, dout), 10),
    ]
    return "dx, dw, db: " + ", ".join(details)


def affine_keeps_float32():
    """affine_forward and affine_backward keep float32 (float32 in, float32 out)."""
    layers = _mod("layers")
    rng = np.random.default_rng(12)
    x, w, b = (rng.normal(size=s).astype(np.float32) for s in ((4, 2, 3), (6, 5), (5,)))
    out, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(np.ones((4, 5), dtype=np.float32), cache)
    _require_float32("affine_forward/backward",
                     [("out", out), ("dx", dx), ("dw", dw), ("db", db)], _DTYPE_HINT)
    return "out, dx, dw, db are float32"


def relu_forward_values():
    """relu_forward keeps positive inputs and zeroes the others."""
    layers = _mod("layers")
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = layers.relu_forward(x)
    expected = np.where(x > 0, x, 0.0)
    err = rel_error(out, expected)
    if err > 1e-12:
        raise Failed(f"rel. error {err:.2g}", "out is x where x > 0 and 0 elsewhere")
    return "exact"


def relu_backward_gradient():
    """relu_backward's dx matches the numerical gradient."""
    layers = _mod("layers")
    rng = np.random.default_rng(1)
    x, dout = rng.normal(size=(10, 10)), rng.normal(size=(10, 10))
    _, cache = layers.relu_forward(x)
    dx = layers.relu_backward(dout, cache)
    num = num_grad(lambda v: layers.relu_forward(v)[0], x, dout)
    return _grad_check("dx", dx, num, 10, "which entries pass the gradient is decided by the "
                       "forward INPUT (in the cache), not by dout; the subgradient at 0 is 0")


def relu_subgradient_at_zero():
    """relu_backward: the subgradient at exactly 0 is 0; float32 stays float32."""
    layers = _mod("layers")
    x = np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.5]], dtype=np.float32)
    dout = np.ones_like(x)
    out, cache = layers.relu_forward(x)
    dx = layers.relu_backward(dout, cache)
    _require_float32("relu_forward/backward", [("out", out), ("dx", dx)], _DTYPE_HINT)
    expected = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    if rel_error(dx, expected) > 0:
        hint = "dx is dout where the forward INPUT was positive and 0 elsewhere"
        if rel_error(dx, np.where(x >= 0, 1.0, 0.0)) == 0:
            hint = ("the subgradient at exactly 0 is 0: an input of exactly 0 passes no "
                    "gradient (it is not positive)")
        raise Failed(_is_vs_expected("dx", dx, expected) + " for x = [[-1, 0, 2], [0, 3, -0.5]] "
                     "and dout = 1", hint)
    return "dx = 0 at x = 0"


def _loss_check(fn_name, expected_loss):
    layers = _mod("layers")
    fn = getattr(layers, fn_name)
    rng = np.random.default_rng(0)
    N, C = 50, 10
    x, y = 0.001 * rng.normal(size=(N, C)), rng.integers(C, size=N)
    loss, dx = fn(x, y)
    if not math.isclose(loss, expected_loss, rel_tol=0.02):
        raise Failed(f"loss {loss:.4g} on tiny scores, expected about {expected_loss:.4g}",
                     "average the loss over the N examples")
    num = num_grad(lambda v: np.array(fn(v, y)[0]), x, np.array(1.0))
    return f"loss {loss:.3f}, dx " + _grad_check("dx", dx, num, N)


def softmax_loss_check():
    """softmax_loss: loss about log(C) on tiny scores; dx matches the numerical gradient."""
    return _loss_check("softmax_loss", math.log(10))


def svm_loss_check():
    """svm_loss: loss about C - 1 on tiny scores; dx matches the numerical gradient."""
    return _loss_check("svm_loss", 9.0)


def losses_large_scores():
    """softmax_loss and svm_loss on scores near 1000: finite, unchanged by a shift; float32."""
    layers = _mod("layers")
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(5, 4)), rng.integers(4, size=5)
    for fn_name in ("softmax_loss", "svm_loss"):
        fn = getattr(layers, fn_name)
        loss, dx = fn(x, y)
        big_loss, big_dx = fn(x + 1000.0, y)
        if not (np.isfinite(big_loss) and rel_error(big_loss, loss) < 1e-9
                and rel_error(big_dx, dx) < 1e-9):
            hint = "adding the same number to every score of a row changes neither loss nor dx"
            if fn_name == "softmax_loss":
                hint = ("exp overflows for large scores: subtract each row's maximum score before "
                        "exponentiating (the probabilities do not change)")
            raise Failed(f"{fn_name}: loss {big_loss!r} for the scores + 1000, expected {loss!r} "
                         "(the loss for the scores themselves)", hint)
        _, dx32 = fn(x.astype(np.float32), y)
        _require_float32(fn_name, [("dx", dx32)], _DTYPE_HINT)
    return "shift-invariant and finite; dx float32 for float32 scores"


def _bn_data(rng, N=200):
    return 5.0 + rng.normal(size=(N, 3)) * np.array([1.0, 2.0, 3.0])


def batchnorm_forward_train():
    """batchnorm_forward (train): per-feature mean beta and standard deviation gamma."""
    layers = _mod("layers")
    x = _bn_data(np.random.default_rng(0))
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    mean, std = out.mean(axis=0), out.std(axis=0)
    # With eps = 1e-5 in the variance the output std is gamma * sqrt(var / (var + eps)).
    expected_std = gamma * np.sqrt(x.var(0) / (x.var(0) + 1e-5))
    if rel_error(mean, beta) > 1e-6 or rel_error(std, expected_std) > 1e-4:
        N = x.shape[0]
        hint = ("normalize every feature with its batch mean and variance (eps added to the "
                "variance), then scale by gamma and shift by beta")
        if rel_error(std, gamma * np.sqrt((N - 1) / N)) < 1e-4:
            hint = "use the biased variance (divide by N, np.var's default), not N - 1"
        elif rel_error(out, _normalize_ref(x, 1) * gamma + beta) < 1e-6:
            hint = "batch norm normalizes each feature over the batch (axis 0), not each example"
        elif rel_error(std, np.ones(3)) < 1e-3:
            hint = "scale the normalized data by gamma"
        wrong = [_is_vs_expected(name, got, want) for name, got, want, tol in (
            ("the per-feature mean", mean, beta, 1e-6),
            ("the per-feature std", std, expected_std, 1e-4)) if rel_error(got, want) > tol]
        raise Failed("; ".join(wrong) + " (the expected: beta, and gamma with eps = 1e-5)", hint)
    return "means = beta, stds = gamma"


def batchnorm_running_stats():
    """batchnorm_forward (train) updates running_mean and running_var with the momentum rule."""
    layers = _mod("layers")
    x = _bn_data(np.random.default_rng(1))
    param = {"mode": "train", "momentum": 0.9}
    layers.batchnorm_forward(x, np.ones(3), np.zeros(3), param)
    rm, rv = param.get("running_mean"), param.get("running_var")
    if rm is None or rv is None or not np.any(rm) or not np.any(rv):
        raise Failed("bn_param['running_mean'] / ['running_var'] were not updated",
                     "running statistics not updated: in train mode set running_mean and "
                     "running_var with the momentum rule (they start at zeros)")
    expected = {"running_mean": 0.1 * x.mean(0), "running_var": 0.1 * x.var(0)}
    got = {"running_mean": rm, "running_var": rv}
    wrong = [name for name in expected if rel_error(got[name], expected[name]) > 1e-6]
    if wrong:
        hint = "running = momentum * running + (1 - momentum) * batch statistic"
        if rel_error(rm, 0.9 * x.mean(0)) < 1e-6:
            hint = ("momentum weighs the OLD running average: running = momentum * running + "
                    "(1 - momentum) * batch statistic")
        elif rel_error(rv, 0.1 * x.var(0, ddof=1)) < 1e-6:
            hint = "use the biased variance (divide by N) for running_var too"
        raise Failed("after one step from zeros with momentum 0.9: " + "; ".join(
            _is_vs_expected(name, got[name], expected[name]) for name in wrong), hint)
    return "one step from zeros gives 0.1 * batch statistics"


def batchnorm_forward_test():
    """batchnorm_forward (test) uses the running averages, not the test batch's statistics."""
    layers = _mod("layers")
    rng = np.random.default_rng(2)
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([0.0, -1.0, 1.0])
    param = {"mode": "train"}
    for _ in range(60):
        layers.batchnorm_forward(_bn_data(rng), gamma, beta, param)
    param["mode"] = "test"
    shifted = _bn_data(rng, 500) + np.array([1.0, 2.0, 3.0])  # one training std higher
    out, _ = layers.batchnorm_forward(shifted, gamma, beta, param)
    mean = out.mean(axis=0)
    expected = beta + gamma  # shifted by one std, in units of gamma
    if np.max(np.abs(mean - expected) / gamma) > 0.2:
        hint = "use bn_param's running_mean and running_var in test mode"
        if np.max(np.abs(mean - beta)) < 1e-6:
            hint = ("test mode must use the running averages, not the statistics of the test "
                    "batch")
        raise Failed(f"test-mode means {np.round(mean, 2)}, expected about {expected}", hint)
    return "test batch one std above the training data comes out one gamma above beta"


def batchnorm_test_mode_state():
    """batchnorm_forward (test) leaves the running averages alone and returns cache None."""
    layers = _mod("layers")
    x = _bn_data(np.random.default_rng(14), 20)
    rm, rv = np.array([4.0, 5.0, 6.0]), np.array([1.0, 2.0, 3.0])
    param = {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy()}
    out, cache = layers.batchnorm_forward(x, np.ones(3), np.zeros(3), param)
    changed = [name for name, before in (("running_mean", rm), ("running_var", rv))
               if rel_error(param[name], before) > 0]
    if changed:
        raise Failed(f"test mode changed bn_param's {' and '.join(changed)}",
                     "only train mode updates the running averages; test mode only reads them")
    if cache is not None:
        raise Failed(f"test mode returned a cache of type {type(cache).__name__}, expected None",
                     "there is no backward pass through test mode: leave cache as None")
    expected = (x - rm) / np.sqrt(rv + 1e-5)
    if rel_error(out, expected) > 1e-9:
        raise Failed(f"test-mode output differs from (x - running_mean) / sqrt(running_var + "
                     f"eps) (rel. error {rel_error(out, expected):.2g})",
                     "test mode normalizes with bn_param's running averages and eps")
    return "running averages unchanged, cache None"


def batchnorm_keeps_float32():
    """batchnorm_forward, batchnorm_backward and _alt keep float32 (float32 in, float32 out)."""
    layers = _mod("layers")
    rng = np.random.default_rng(15)
    x, dout = (rng.normal(size=(6, 3)).astype(np.float32) for _ in range(2))
    gamma, beta = np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32)
    param = {"mode": "train"}
    out, cache = layers.batchnorm_forward(x, gamma, beta, param)
    outputs = [("out", out), ("running_mean", param.get("running_mean")),
               ("running_var", param.get("running_var"))]
    for backward in ("batchnorm_backward", "batchnorm_backward_alt"):
        grads = getattr(layers, backward)(dout, cache)
        outputs += [(f"{backward}'s {g}", a)
                    for g, a in zip(("dx", "dgamma", "dbeta"), grads, strict=False)]
    test_out, _ = layers.batchnorm_forward(x, gamma, beta, dict(param, mode="test"))
    _require_float32("batchnorm", [*outputs, ("test-mode out", test_out)], _DTYPE_HINT)
    return "outputs, running averages and gradients are float32"


def _norm_backward(part, forward, backward, param):
    layers = _mod("layers")
    rng = np.random.default_rng(3)
    N, D = 4, 5
    x = 5 * rng.normal(size=(N, D)) + 12
    gamma, beta, dout = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
    fwd, bwd = getattr(layers, forward), getattr(layers, backward)
    _, cache = fwd(x, gamma, beta, dict(param))
    dx, dgamma, dbeta = bwd(dout, cache)
    axis = 0 if part == "batchnorm" else 1
    naive = dout * gamma / np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)
    dx_hint = ""
    if rel_error(dx, naive) < 1e-6:
        dx_hint = ("dx ignores that the mean and the variance depend on x: add the terms that "
                   "flow through them")
    details = [
        _grad_check("dx", dx, num_grad(lambda v: fwd(v, gamma, beta, dict(param))[0], x, dout),
                    N, dx_hint),
        _grad_check("dgamma", dgamma,
                    num_grad(lambda v: fwd(x, v, beta, dict(param))[0], gamma, dout), N),
        _grad_check("dbeta", dbeta,
                    num_grad(lambda v: fwd(x, gamma, v, dict(param))[0], beta, dout), N),
    ]
    return f"{backward}: dx, dgamma, dbeta " + ", ".join(details)


def _norm_cache_behaviour(forward, backwards, param):
    """Forward leaves x, gamma, beta alone; backward leaves dout and the cache alone (a second
    call gives the same gradients) and uses only its own cache (later forward passes with the
    same parameter dict do not change what it returns). What the cache holds is your choice."""
    layers = _mod("layers")
    rng = np.random.default_rng(20)
    x, dout = rng.normal(size=(6, 4)) * 2 + 1, rng.normal(size=(6, 4))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    before = [a.copy() for a in (x, gamma, beta, dout)]
    params = dict(param)
    _, cache = getattr(layers, forward)(x, gamma, beta, params)
    firsts = {b: [np.array(g, copy=True) for g in getattr(layers, b)(dout, cache)]
              for b in backwards}
    for seed in (21, 22):
        x2 = np.random.default_rng(seed).normal(size=x.shape)
        getattr(layers, forward)(x2, gamma + 1, beta - 1, params)
    for b in backwards:
        again = getattr(layers, b)(dout, cache)
        if any(rel_error(g, f) > 1e-12 for g, f in zip(again, firsts[b], strict=False)):
            raise Failed(f"{b} gives other gradients for the same cache after more forward "
                         "passes (or when called twice)",
                         "keep in the cache what this forward pass computed (not a reference to "
                         "something a later call changes), and change neither dout nor the cache")
    names = ("x", "gamma", "beta", "dout")
    changed = [n for n, a, b in zip(names, before, (x, gamma, beta, dout), strict=True)
               if not np.array_equal(a, b)]
    if changed:
        raise Failed(f"{forward}/{backwards[0]} modified {', '.join(changed)} in place",
                     "compute new arrays; don't use -=, += or out= on the inputs")
    return "inputs untouched; backward depends only on its own cache"


def batchnorm_cache_behaviour():
    """batchnorm: inputs untouched; each backward uses only its own forward's cache."""
    return _norm_cache_behaviour("batchnorm_forward",
                                 ("batchnorm_backward", "batchnorm_backward_alt"),
                                 {"mode": "train"})


def layernorm_cache_behaviour():
    """layernorm: inputs untouched; the backward uses only its own forward's cache."""
    return _norm_cache_behaviour("layernorm_forward", ("layernorm_backward",), {})


def batchnorm_backward_gradients():
    """batchnorm_backward's dx, dgamma, dbeta match numerical gradients."""
    return _norm_backward("batchnorm", "batchnorm_forward", "batchnorm_backward", {"mode": "train"})


def batchnorm_backward_alt_gradients():
    """batchnorm_backward_alt's dx, dgamma, dbeta match numerical gradients."""
    return _norm_backward("batchnorm", "batchnorm_forward", "batchnorm_backward_alt",
                          {"mode": "train"})


def batchnorm_backward_alt_matches_staged():
    """batchnorm_backward_alt gives the same dx, dgamma, dbeta as batchnorm_backward."""
    layers = _mod("layers")
    rng = np.random.default_rng(16)
    x, dout = 4 * rng.normal(size=(50, 8)) + 3, rng.normal(size=(50, 8))
    gamma, beta = rng.normal(size=8), rng.normal(size=8)
    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    staged = layers.batchnorm_backward(dout, cache)
    alt = layers.batchnorm_backward_alt(dout, cache)
    errors = []
    for name, s_, a in zip(("dx", "dgamma", "dbeta"), staged, alt, strict=False):
        s_, a = np.asarray(s_, dtype=np.float64), np.asarray(a, dtype=np.float64)
        if s_.shape != a.shape:
            raise Failed(f"{name}: shape {a.shape} from _alt, {s_.shape} from the staged pass",
                         "both return dx (N, D), dgamma (D,), dbeta (D,)")
        # relative to the largest entry: entries that cancel to ~0 differ by rounding only
        errors.append((name, float(np.max(np.abs(a - s_)) / max(np.max(np.abs(s_)), 1e-300))))
    name, err = max(errors, key=lambda e: e[1])
    if err > 1e-10:
        raise Failed(f"{name} differs by {err:.2g} of its largest entry (must be < 1e-10)",
                     "the two passes compute the same gradients; check the one whose "
                     "gradient check fails first")
    return f"largest difference {err:.1e}"


def layernorm_forward_values():
    """layernorm_forward normalizes each example over its features, then scales and shifts."""
    layers = _mod("layers")
    x = _bn_data(np.random.default_rng(4), 7).T.copy()  # (3, 7): rows are examples
    gamma, beta = np.linspace(0.5, 2, 7), np.linspace(-1, 1, 7)
    out, _ = layers.layernorm_forward(x, gamma, beta, {})
    z = (out - beta) / gamma
    ok_mean = np.max(np.abs(z.mean(axis=1))) < 1e-6
    ok_std = rel_error(z.std(axis=1), np.sqrt(x.var(1) / (x.var(1) + 1e-5))) < 1e-4
    if not (ok_mean and ok_std):
        hint = ("normalize every example (row) with its own mean and variance (eps added to "
                "the variance), then scale by gamma and shift by beta")
        if rel_error(out, _normalize_ref(x, 0) * gamma + beta) < 1e-6:
            hint = "layer norm normalizes each example (row) over its features (axis 1)"
        elif ok_mean and rel_error(z.std(axis=1), np.sqrt(6 / 7) * np.ones(3)) < 1e-3:
            hint = "use the biased variance (divide by D), not D - 1"
        raise Failed(f"normalized rows have means {np.round(z.mean(1), 3)} and stds "
                     f"{np.round(z.std(1), 3)}, expected 0 and 1", hint)
    return "each row normalized, then gamma and beta per feature"


def layernorm_mode_and_float32():
    """layernorm_forward ignores the mode; layernorm keeps float32 (float32 in, float32 out)."""
    layers = _mod("layers")
    rng = np.random.default_rng(17)
    x, dout = rng.normal(size=(4, 6)) * 3 + 1, rng.normal(size=(4, 6))
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    outs = [layers.layernorm_forward(x, gamma, beta, param)[0]
            for param in ({}, {"mode": "train"}, {"mode": "test"})]
    if not all(rel_error(o, outs[0]) == 0 for o in outs[1:]):
        raise Failed("the output depends on ln_param['mode']",
                     "layer normalization computes the same thing in train and test mode")
    f32 = [a.astype(np.float32) for a in (x, gamma, beta, dout)]
    out, cache = layers.layernorm_forward(*f32[:3], {})
    grads = layers.layernorm_backward(f32[3], cache)
    _require_float32("layernorm_forward/backward",
                     [("out", out), *zip(("dx", "dgamma", "dbeta"), grads, strict=False)],
                     _DTYPE_HINT)
    return "same output in every mode; float32 kept"


def layernorm_backward_gradients():
    """layernorm_backward's dx, dgamma, dbeta match numerical gradients."""
    return _norm_backward("layernorm", "layernorm_forward", "layernorm_backward", {})


def dropout_forward_train():
    """dropout_forward (train): keeps a fraction p of units and scales them by 1/p."""
    layers = _mod("layers")
    x = np.random.default_rng(5).normal(size=(500, 500)) + 10
    for p in (0.25, 0.4, 0.7):
        out, _ = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
        kept = float(np.mean(out != 0))
        ratio = float(out.mean() / x.mean())
        if abs(kept - (1 - p)) < 0.01 and abs(kept - p) > 0.01:
            raise Failed(f"p={p}: kept {kept:.3f} of the units, expected {p}",
                         "p is the probability of KEEPING a unit: mask = rand < p")
        if abs(kept - p) > 0.01:
            raise Failed(f"p={p}: kept {kept:.3f} of the units, expected {p}",
                         "draw the mask as np.random.rand(*x.shape) < p")
        if abs(ratio - 1) > 0.02:
            hint = "divide the kept units by p (inverted dropout) so the mean is unchanged"
            if abs(ratio - p) < 0.02:
                hint = "dropout mask not scaled: " + hint
            raise Failed(f"p={p}: mean(out) / mean(x) is {ratio:.3f}, expected 1", hint)
    return "kept fractions 0.25, 0.4, 0.7 and the mean is preserved"


def dropout_forward_seeded():
    """dropout_forward (train, seed) draws the CS231n mask: seed, then rand(*x.shape) < p."""
    layers = _mod("layers")
    x = np.random.default_rng(6).normal(size=(20, 30))
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": 0.3, "seed": 42})
    np.random.seed(42)
    keep = np.random.rand(*x.shape) < 0.3
    expected = np.where(keep, x / 0.3, 0.0)
    if out is not None and np.shape(out) != x.shape:
        raise Failed(f"out has shape {np.shape(out)}, expected {x.shape}",
                     "the mask has the shape of x: np.random.rand(*x.shape)")
    if rel_error(out, expected) > 1e-6:
        if np.array_equal(np.asarray(out) != 0, keep):  # x has no zeros: the draw is right
            raise Failed("the right units are kept, but their values differ from x / p",
                         "dropout mask not scaled: divide the kept units by p (inverted "
                         "dropout), in the mask itself so that the backward pass uses it too")
        raise Failed("the kept units differ from the mask np.random.seed(seed); "
                     "np.random.rand(*x.shape) < p", "draw the mask exactly as the TODO says, "
                     "after the seeding (which is given), with no other random draws between")
    mask = cache[1] if isinstance(cache, tuple) and len(cache) == 2 else None
    if mask is None or not np.array_equal(mask, keep / 0.3):
        raise Failed("cache[1] is not the mask that multiplied x (entries 0 or 1 / p)",
                     "store the scaled mask in the mask variable: the cache is (mode, mask)")
    return "same mask as the reference recipe, kept in the cache"


def dropout_forward_test():
    """dropout_forward (test) returns its input unchanged."""
    layers = _mod("layers")
    x = np.random.default_rng(7).normal(size=(50, 40)) + 10
    out, _ = layers.dropout_forward(x, {"mode": "test", "p": 0.4})
    if rel_error(out, x) > 1e-12:
        hint = "test mode is the identity with inverted dropout"
        if rel_error(out, 0.4 * x) < 1e-9:
            hint += ": don't multiply by p at test time"
        raise Failed("test-mode output differs from the input", hint)
    return "identity"


def dropout_backward_gradient():
    """dropout_backward's dx matches the numerical gradient (seeded mask)."""
    layers = _mod("layers")
    rng = np.random.default_rng(8)
    x, dout = rng.normal(size=(10, 10)) + 10, rng.normal(size=(10, 10))
    param = {"mode": "train", "p": 0.2, "seed": 123}
    _, cache = layers.dropout_forward(x, dict(param))
    dx = layers.dropout_backward(dout, cache)
    num = num_grad(lambda v: layers.dropout_forward(v, dict(param))[0], x, dout)
    return _grad_check("dx", dx, num, 10, "the backward pass must use the very mask the forward "
                       "pass drew, scaled the same way (it is in the cache)")


def dropout_test_mode_and_keep_all():
    """dropout_backward (test) returns dout; p=1 keeps every unit, forward and backward."""
    layers = _mod("layers")
    rng = np.random.default_rng(18)
    x, dout = rng.normal(size=(7, 9)), rng.normal(size=(7, 9))
    _, cache = layers.dropout_forward(x, {"mode": "test", "p": 0.4})
    if rel_error(layers.dropout_backward(dout, cache), dout) > 0:
        raise Failed("test-mode dropout_backward does not return dout",
                     "test mode is the identity, so is its gradient")
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": 1})
    dx = layers.dropout_backward(dout, cache)
    if rel_error(out, x) > 0 or rel_error(dx, dout) > 0:
        raise Failed("with p=1 (keep every unit) train mode is not the identity",
                     "p is the probability of KEEPING a unit: mask = rand < p, scaled by 1 / p")
    return "identity in test mode and with p=1"


def dropout_keeps_float32():
    """dropout_forward and dropout_backward keep float32 (float32 in, float32 out)."""
    layers = _mod("layers")
    x = np.random.default_rng(19).normal(size=(4, 5)).astype(np.float32)
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 1})
    dx = layers.dropout_backward(np.ones_like(x), cache)
    mask = cache[1] if isinstance(cache, tuple) and len(cache) == 2 else None
    _require_float32("dropout_forward/backward", [("out", out), ("dx", dx)],
                     "the mask (np.random.rand(*x.shape) < p) / p is float64; give it x's dtype "
                     "(mask.astype(x.dtype)) so that float32 stays float32 in both passes")
    if mask is not None and np.asarray(mask).dtype != np.float32:
        raise Failed(f"the mask in the cache is {np.asarray(mask).dtype}, expected float32 "
                     "(x's dtype)", "give the mask x's dtype: mask.astype(x.dtype)")
    return "out, mask and dx are float32"


def _net(normalization, keep=1.0, reg=0.0, seed=None):
    fc_net = _mod("fc_net")
    np.random.seed(231)
    return fc_net.FullyConnectedNet([6, 5], input_dim=4, num_classes=3, reg=reg,
                                    weight_scale=5e-2, dtype=np.float64,
                                    normalization=normalization, dropout_keep_ratio=keep,
                                    seed=seed)


def fc_net_params():
    """FullyConnectedNet creates W1, b1, ..., and gamma/beta for every hidden layer."""
    details = []
    for norm in (None, "batchnorm", "layernorm"):
        model = _net(norm)
        expected = {"W1": (4, 6), "b1": (6,), "W2": (6, 5), "b2": (5,), "W3": (5, 3), "b3": (3,)}
        if norm:
            expected.update({"gamma1": (6,), "beta1": (6,), "gamma2": (5,), "beta2": (5,)})
        got = {k: np.shape(v) for k, v in model.params.items()}
        if got != expected:
            hint = "hidden layers get W, b (and gamma, beta with normalization); the last layer "
            hint += "only W, b"
            raise Failed(f"normalization={norm!r}: params {got}, expected {expected}", hint)
        for k, v in model.params.items():
            if k[0] in "b" and np.any(v):
                raise Failed(f"{k} is not zero", "biases and betas start at zero")
            if k.startswith("gamma") and not np.all(v == 1):
                raise Failed(f"{k} is not all ones", "gammas start at one")
        details.append(str(norm))
    return "names and shapes for normalization " + ", ".join(details)


def fc_net_weight_draws():
    """FullyConnectedNet draws W1, W2, ... in order as weight_scale * randn; float32 default."""
    fc_net = _mod("fc_net")
    np.random.seed(231)
    model = fc_net.FullyConnectedNet([3, 4], input_dim=2, num_classes=5, weight_scale=0.5,
                                     normalization="layernorm", dtype=np.float64)
    np.random.seed(231)
    for i, shape in enumerate([(2, 3), (3, 4), (4, 5)], start=1):
        expected = 0.5 * np.random.randn(*shape)
        got = model.params.get(f"W{i}")
        if np.shape(got) != shape or rel_error(got, expected) > 0:
            raise Failed(f"W{i} differs from the draw of the reference recipe "
                         "(np.random.seed(231), then W1, W2, W3)",
                         "draw each weight matrix as weight_scale * np.random.randn(fan_in, "
                         "fan_out), layer by layer in order, with no other random draws between")
    default = fc_net.FullyConnectedNet([3], input_dim=2, num_classes=5, normalization="batchnorm")
    not32 = sorted(k for k, v in default.params.items() if np.asarray(v).dtype != np.float32)
    if not32:
        raise Failed(f"with the default dtype, params {not32} are not float32",
                     "every parameter has the model's dtype (the given cast at the end of "
                     "__init__ does it: keep it)")
    return "CS231n's draws; float32 by default"


def fc_net_initial_losses():
    """FullyConnectedNet.loss: CS231n's published initial losses; log(C) at tiny weights."""
    fc_net = _mod("fc_net")
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X, y = np.random.randn(N, D), np.random.randint(C, size=(N,))
    losses = []
    for reg in (0, 3.14):
        model = fc_net.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                         weight_scale=5e-2, dtype=np.float64)
        losses.append(model.loss(X, y)[0])
    published = [2.3004790897684924, 7.052114776533016]  # CS231n's FullyConnectedNets notebook
    if rel_error(losses, published) > 1e-10:
        hint = "the loss is the softmax loss of the scores plus 0.5 * reg * sum(W**2)"
        if rel_error(losses[0], published[0]) < 1e-10:
            hint = "the loss without reg is right: check the regularization term"
        raise Failed(_is_vs_expected("the losses for reg 0 and 3.14", losses, published), hint)
    rng = np.random.default_rng(20)
    X, y = rng.normal(size=(100, 50)), rng.integers(10, size=100)
    for norm in (None, "batchnorm", "layernorm"):
        model = fc_net.FullyConnectedNet([40, 30], input_dim=50, num_classes=10,
                                         weight_scale=1e-3, normalization=norm, dtype=np.float64)
        loss = model.loss(X, y)[0]
        if not abs(loss - math.log(10)) < 0.02:
            raise Failed(f"normalization={norm!r}: initial loss {loss:.4g} with tiny weights, "
                         f"expected about log(10) = {math.log(10):.4g}",
                         "with tiny weights every class is equally likely: check the forward "
                         "pass and the softmax loss")
    return "published losses; log(C) for every normalization"


def fc_net_gradients():
    """FullyConnectedNet.loss: every gradient matches the numerical gradient."""
    rng = np.random.default_rng(9)
    X, y = rng.normal(size=(3, 4)), rng.integers(3, size=3)
    details = []
    for norm, keep in ((None, 1.0), ("batchnorm", 1.0), ("layernorm", 1.0), (None, 0.75)):
        model = _net(norm, keep=keep, reg=0.7, seed=123)
        loss, grads = model.loss(X, y)
        for name in sorted(model.params):
            param = model.params[name]
            num = num_grad(lambda v, m=model: np.array(m.loss(X, y)[0]), param, np.array(1.0))
            err = rel_error(grads[name], num)
            if err > 1e-5:
                raise Failed(f"normalization={norm!r}, keep={keep}: {name} rel. error {err:.2g} "
                             "(must be < 1e-05)",
                             _factor_hint(f"grads['{name}']", grads[name], num, 3)
                             or "check the backward pass of the layer that uses " + name)
        details.append(f"{norm}/{keep}")
    return "all parameters for " + ", ".join(details)


def fc_net_regularization():
    """FullyConnectedNet.loss adds 0.5 * reg * sum(W**2) over the weight matrices."""
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(3, 4)), rng.integers(3, size=3)
    plain, reg = _net(None), _net(None, reg=2.0)
    diff = reg.loss(X, y)[0] - plain.loss(X, y)[0]
    expected = 0.5 * 2.0 * sum(np.sum(plain.params[f"W{i}"] ** 2) for i in (1, 2, 3))
    if not math.isclose(diff, expected, rel_tol=1e-6):
        hint = "add 0.5 * reg * sum(W**2) for every weight matrix (not biases, gammas, betas)"
        if math.isclose(diff, 2 * expected, rel_tol=1e-6):
            hint = "the regularization term is 0.5 * reg * sum(W**2): the 0.5 is missing"
        raise Failed(f"reg=2 adds {diff:.4g} to the loss, expected {expected:.4g}", hint)
    bn0, bn2 = _net("batchnorm"), _net("batchnorm", reg=2.0)
    g0, g2 = bn0.loss(X, y)[1], bn2.loss(X, y)[1]
    for name in sorted(g0):
        extra = 2.0 * bn0.params[name] if name.startswith("W") else 0.0
        if rel_error(g2[name] - g0[name], np.broadcast_to(extra, g0[name].shape)) > 1e-6:
            raise Failed(f"with batchnorm, reg=2 changes grads['{name}'] by something other "
                         f"than {'reg * W' if name.startswith('W') else 'nothing'}",
                         "regularize the weight matrices only (not biases, gammas, betas), "
                         "in the loss and in the gradients alike")
    scores = plain.loss(X)
    if np.shape(scores) != (3, 3):
        raise Failed(f"loss(X) without y returned shape {np.shape(scores)}, expected (3, 3)",
                     "without y, return the class scores of shape (N, C)")
    return "regularization and test-time scores"


def fc_net_test_mode():
    """FullyConnectedNet.loss(X): test mode everywhere, running averages kept; float32 kept."""
    fc_net = _mod("fc_net")
    rng = np.random.default_rng(21)
    X, y = rng.normal(size=(6, 4)), rng.integers(3, size=6)
    model = _net("batchnorm", keep=0.5)
    model.loss(X, y)
    running_mean = np.copy(model.bn_params[0].get("running_mean"))
    scores = model.loss(X)
    if rel_error(model.bn_params[0].get("running_mean"), running_mean) > 0:
        raise Failed("loss(X) without y changed bn_params[0]['running_mean']",
                     "without y the forward pass runs in test mode (the given code sets the "
                     "modes): pass self.bn_params[i] and self.dropout_param to the layers")
    if rel_error(model.loss(X), scores) > 0:
        raise Failed("two calls of loss(X) without y gave different scores",
                     "test mode is deterministic: no dropout, batchnorm with running averages")
    model = fc_net.FullyConnectedNet([6], input_dim=4, num_classes=3, normalization="layernorm")
    X32 = X.astype(np.float32)
    _, grads = model.loss(X32, y)
    _require_float32("a float32 FullyConnectedNet",
                     [("scores", model.loss(X32))] + [(f"grads['{k}']", g)
                                                      for k, g in sorted(grads.items())],
                     _DTYPE_HINT)
    return "test mode deterministic and leaves running averages; float32 kept"


def sandwich_layers():
    """affine_norm_relu_* and hidden_layer_* match numerical gradients; caches as documented."""
    layer_utils = _mod("layer_utils")
    rng = np.random.default_rng(22)
    x, w, b = rng.normal(size=(4, 3, 2)), rng.normal(size=(6, 5)), rng.normal(size=5)
    gamma, beta, dout = 1 + 0.1 * rng.normal(size=5), 0.1 * rng.normal(size=5), rng.normal(
        size=(4, 5))
    for norm in ("batchnorm", "layernorm"):
        def fwd(x, w, b, gamma, beta, norm=norm):
            return layer_utils.affine_norm_relu_forward(x, w, b, gamma, beta, {"mode": "train"},
                                                        norm)
        _, cache = fwd(x, w, b, gamma, beta)
        if not (isinstance(cache, tuple) and len(cache) == 3):
            raise Failed(f"affine_norm_relu_forward ({norm}): cache is not a 3-tuple",
                         "the cache is (fc_cache, norm_cache, relu_cache)")
        grads = layer_utils.affine_norm_relu_backward(dout, cache, norm)
        args = [x, w, b, gamma, beta]
        for i, name in enumerate(("dx", "dw", "db", "dgamma", "dbeta")):
            def f(v, i=i, args=args, fwd=fwd):
                return fwd(*args[:i], v, *args[i + 1:])[0]
            _grad_check(f"affine_norm_relu_backward ({norm}) {name}", grads[i],
                        num_grad(f, args[i], dout), 4, atol=1e-8)
    bn_param = {"mode": "train"}
    layer_utils.affine_norm_relu_forward(x, w, b, gamma, beta, bn_param, "batchnorm")
    a = x.reshape(4, -1) @ w + b
    if rel_error(bn_param.get("running_mean"), 0.1 * a.mean(axis=0)) > 1e-9:
        raise Failed("affine_norm_relu_forward (batchnorm) did not update norm_param's "
                     "running_mean", "pass norm_param itself to batchnorm_forward")
    for norm in (None, "batchnorm"):
        for p in (None, 0.6):
            def hfwd(x, w, b, g=None, be=None, norm=norm, p=p):
                drop = None if p is None else {"mode": "train", "p": p, "seed": 5}
                return layer_utils.hidden_layer_forward(x, w, b, g, be, {"mode": "train"}, norm,
                                                        drop)
            args = [x, w, b] + ([] if norm is None else [gamma, beta])
            _, cache = hfwd(*args)
            if not (isinstance(cache, tuple) and len(cache) == 3 and cache[0] == norm
                    and (cache[2] is None) == (p is None)):
                raise Failed(f"hidden_layer_forward (normalization={norm!r}, dropout p={p}): "
                             "cache is not (normalization, sandwich_cache, dropout_cache)",
                             "dropout_cache is None without dropout")
            grads = layer_utils.hidden_layer_backward(dout, cache)
            if norm is None and (grads[3] is not None or grads[4] is not None):
                raise Failed("hidden_layer_backward without normalization: dgamma/dbeta are not "
                             "None", "without normalization there is no gamma or beta")
            for i, name in enumerate(("dx", "dw", "db", "dgamma", "dbeta")[:len(args)]):
                def f(v, i=i, args=args, hfwd=hfwd):
                    return hfwd(*args[:i], v, *args[i + 1:])[0]
                _grad_check(f"hidden_layer_backward (normalization={norm!r}, p={p}) {name}",
                            grads[i], num_grad(f, args[i], dout), 4, atol=1e-8)
    return "gradients of both sandwiches; caches as documented"


def _two_steps(rule, config):
    rng = np.random.default_rng(11)
    w, dw1, dw2 = rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    w1, config = rule(w.copy(), dw1, dict(config))
    w2, config = rule(w1.copy(), dw2, config)
    return w, dw1, dw2, w1, w2, config


def sgd_momentum_steps():
    """sgd_momentum: first step from zero velocity is plain SGD; the second adds momentum."""
    optim = _mod("optim")
    lr, mu = 1e-2, 0.9
    w, dw1, dw2, w1, w2, config = _two_steps(optim.sgd_momentum,
                                             {"learning_rate": lr, "momentum": mu})
    if rel_error(w1, w - lr * dw1) > 1e-8:
        raise Failed("first step differs from w - learning_rate * dw",
                     "from a zero velocity the first momentum step equals a plain SGD step")
    v1 = -lr * dw1
    if rel_error(w2, w1 + mu * v1 - lr * dw2) > 1e-8:
        hint = "store the new velocity in config['velocity']"
        if rel_error(w2, w1 - lr * dw2) < 1e-8:
            hint = "the velocity is not kept between steps: " + hint
        raise Failed("second step does not add momentum * previous velocity", hint)
    return "two steps"


def rmsprop_steps():
    """rmsprop: the first step from a zero cache moves each weight by 10 * learning_rate."""
    optim = _mod("optim")
    lr = 1e-2
    w, dw1, dw2, w1, w2, config = _two_steps(optim.rmsprop, {"learning_rate": lr})
    # cache = 0.01 * dw**2 after one step (decay 0.99), so dw / sqrt(cache) = 10 * sign(dw).
    if rel_error(w1, w - 10 * lr * np.sign(dw1)) > 1e-5:
        raise Failed("first step is not -10 * learning_rate * sign(dw) (decay_rate 0.99)",
                     "the cache is a decaying average of the squared gradients, and each "
                     "weight's step is scaled by the square root of its own cache entry")
    cache2 = 0.99 * 0.01 * dw1**2 + 0.01 * dw2**2
    if rel_error(config.get("cache"), cache2) > 1e-8:
        raise Failed("config['cache'] after two steps is wrong",
                     "store the updated cache in config['cache']")
    return "two steps"


def adam_steps():
    """adam: with bias correction the first step moves each weight by learning_rate."""
    optim = _mod("optim")
    lr = 1e-3
    w, dw1, dw2, w1, w2, config = _two_steps(optim.adam, {"learning_rate": lr})
    if rel_error(w1, w - lr * np.sign(dw1)) > 1e-4:
        hint = "correct the bias of both moment estimates for step t (t incremented first)"
        if rel_error(w1, w - lr * 0.1 / math.sqrt(0.001) * np.sign(dw1)) < 1e-4:
            hint = "bias correction missing: " + hint
        raise Failed("first step is not -learning_rate * sign(dw)", hint)
    if config.get("t") != 2:
        raise Failed(f"config['t'] is {config.get('t')!r} after two steps, expected 2",
                     "increment t in config before using it")
    m2 = 0.9 * 0.1 * dw1 + 0.1 * dw2
    if rel_error(config.get("m"), m2) > 1e-8:
        raise Failed("config['m'] after two steps is wrong", "store the updated m and v in config")
    return "two steps"


def adam_continues_from_state():
    """adam continues from the m, v and t given in config (t=5: the first update uses t=6)."""
    optim = _mod("optim")
    rng = np.random.default_rng(23)
    w, dw = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    m, v = 0.1 * rng.normal(size=(2, 3)), 0.05 + 0.01 * rng.random((2, 3))
    next_w, config = optim.adam(w.copy(), dw, {"learning_rate": 1e-2, "m": m.copy(),
                                               "v": v.copy(), "t": 5})
    # the step next_w - w of the reference implementation (12 significant digits)
    expected = np.array([[-0.000438075654, -0.001349004617, -0.000224150471],
                         [-0.000429774505, 0.000247884827, 0.000681593897]])
    err = rel_error(np.asarray(next_w) - w, expected)
    if config.get("t") != 6 or err > 1e-8:
        raise Failed(f"from t=5 the step gives t={config.get('t')!r} and a step next_w - w with "
                     f"rel. error {err:.2g} (expected t=6 and < 1e-08)",
                     "start from config's m, v and t (they are not always zero); increment t "
                     "before using it")
    return "t=5 -> 6"


def update_rules_keep_inputs_and_dtype():
    """sgd_momentum, rmsprop, adam: w and dw are not modified; float32 stays float32."""
    optim = _mod("optim")
    rng = np.random.default_rng(24)
    for rule in ("sgd_momentum", "rmsprop", "adam"):
        w, dw = (rng.normal(size=(3, 4)).astype(np.float32) for _ in range(2))
        w0, dw0 = w.copy(), dw.copy()
        next_w, config = getattr(optim, rule)(w, dw, {"learning_rate": 0.1})
        changed = [n for n, a, a0 in (("w", w, w0), ("dw", dw, dw0)) if not np.array_equal(a, a0)]
        if changed:
            raise Failed(f"{rule} modified its input {' and '.join(changed)} in place",
                         "return a new array (next_w = w - ...); don't use -= or += on w or dw")
        _require_float32(rule, [("next_w", next_w)], "python floats keep float32 arrays float32; "
                         "an array you create yourself needs w's dtype (np.zeros_like(w))")
        if np.shape(next_w) != w.shape or np.array_equal(next_w, w):
            raise Failed(f"{rule}: next_w has shape {np.shape(next_w)} or equals w",
                         "next_w is w after one step, of w's shape")
    return "inputs unchanged; float32 kept"
class _SquaredLossModel:
    """A linear model with a squared loss, in the model API the Solver expects.

    loss(X) returns the scores X @ W + b (N, C); loss(X, y) returns 0.5 * mean over the batch
    of the squared distance between the scores and the one-hot labels, and its gradients.
    ``calls`` records (batch size, test mode?) of every call.
    """

    def __init__(self, D=3, C=2):
        rng = np.random.default_rng(12)
        self.params = {"W": 0.1 * rng.normal(size=(D, C)), "b": np.zeros(C)}
        self.calls = []

    def loss(self, X, y=None):
        self.calls.append((X.shape[0], y is None))
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        N = X.shape[0]
        diff = scores - np.eye(scores.shape[1])[y]
        grads = {"W": X.T @ diff / N, "b": diff.sum(axis=0) / N}
        return 0.5 * float(np.sum(diff**2)) / N, grads


def _solver_data():
    rng = np.random.default_rng(13)
    X = rng.normal(size=(10, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    return {"X_train": X, "y_train": y, "X_val": X[:4], "y_val": y[:4]}


def solver_step_reference():
    """Solver._step: a seeded run of 6 steps gives the reference losses and parameters."""
    solver_mod = _mod("solver")
    model = _SquaredLossModel()
    solver = solver_mod.Solver(model, _solver_data(), update_rule="sgd_momentum",
                               optim_config={"learning_rate": 0.1}, batch_size=4, num_epochs=0,
                               verbose=False)
    np.random.seed(231)
    for _ in range(6):
        solver._step()
    losses = np.array(solver.loss_history)
    expected_losses = np.array([0.52641018453, 0.30126614054, 0.09812046272, 0.15895728989,
                                0.25803995068, 0.41421938465])
    expected_W = np.array([[-0.08066854585, 0.72707413900], [-0.05915073756, 0.27307153277],
                           [-0.00397375328, 0.38413569434]])
    expected_b = np.array([0.11692990310, 0.77257036223])
    if losses.shape != (6,):
        raise Failed(f"loss_history has {losses.size} entries after 6 steps, expected 6",
                     "compute the loss and gradients once per step")
    err = max(rel_error(losses, expected_losses), rel_error(model.params["W"], expected_W),
              rel_error(model.params["b"], expected_b))
    if err > 1e-6:
        hint = ("draw the minibatch with one np.random.choice(num_train, batch_size) per step, "
                "update every parameter with its own config and keep the returned config")
        if rel_error(losses[:1], expected_losses[:1]) < 1e-6:
            hint = ("the first loss is right, later ones are not: store the updated weights "
                    "and each parameter's returned config (the momentum) back")
        raise Failed(f"rel. error {err:.2g} against the reference run (must be < 1e-06)", hint)
    if np.random.rand() != 0.5629335205260959:
        raise Failed("after 6 steps numpy's global random state is not where 6 minibatch draws "
                     "leave it", "draw each minibatch with exactly one np.random.choice(num_train, "
                     "batch_size) and no other random call")
    return f"losses and parameters, rel. error {err:.1e}"


def solver_check_accuracy():
    """Solver.check_accuracy classifies in test mode, in batches, and counts correctly."""
    solver_mod = _mod("solver")
    model = _SquaredLossModel()
    data = _solver_data()
    model.params["W"] = np.array([[-1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    solver = solver_mod.Solver(model, data, verbose=False)
    acc = solver.check_accuracy(data["X_train"], data["y_train"], batch_size=3)
    sizes = [n for n, _ in model.calls]
    if any(not test_mode for _, test_mode in model.calls):
        raise Failed("the model was called with labels",
                     "classify in test mode: call model.loss(X_batch) without y")
    if sorted(sizes) != [1, 3, 3, 3]:
        raise Failed(f"the model saw batches of sizes {sizes}, expected 3, 3, 3, 1",
                     "split the N examples into batches of at most batch_size")
    if acc is None or not math.isclose(acc, 0.7, rel_tol=1e-12):
        raise Failed(f"accuracy {acc!r}, expected 0.7 (7 of 10 right)",
                     "the predicted class is the one with the highest score; divide the "
                     "number of correct predictions by N")
    np.random.seed(7)
    acc = solver.check_accuracy(data["X_train"], data["y_train"], num_samples=6, batch_size=4)
    if acc is None or not math.isclose(acc, 5 / 6, rel_tol=1e-12):
        raise Failed(f"with num_samples=6 after np.random.seed(7) the accuracy is {acc!r}, "
                     "expected 0.8333 (5 of the 6 rows drawn)",
                     "subsample as CS231n does: one np.random.choice(N, num_samples) when N > "
                     "num_samples, then classify only those rows")
    return "accuracy 0.7 in batches 3, 3, 3, 1; subsample of 6: 5/6"


PARTS = {
    "affine": (affine_forward_values, affine_backward_gradients, affine_keeps_float32),
    "relu": (relu_forward_values, relu_backward_gradient, relu_subgradient_at_zero),
    "losses": (softmax_loss_check, svm_loss_check, losses_large_scores),
    "batchnorm": (batchnorm_forward_train, batchnorm_running_stats, batchnorm_forward_test,
                  batchnorm_test_mode_state, batchnorm_backward_gradients,
                  batchnorm_backward_alt_gradients, batchnorm_backward_alt_matches_staged,
                  batchnorm_keeps_float32, batchnorm_cache_behaviour),
    "layernorm": (layernorm_forward_values, layernorm_backward_gradients,
                  layernorm_mode_and_float32, layernorm_cache_behaviour),
    "dropout": (dropout_forward_train, dropout_forward_seeded, dropout_forward_test,
                dropout_backward_gradient, dropout_test_mode_and_keep_all, dropout_keeps_float32),
    "fc_net": (fc_net_params, fc_net_weight_draws, sandwich_layers, fc_net_gradients,
               fc_net_regularization, fc_net_initial_losses, fc_net_test_mode),
    "optim": (sgd_momentum_steps, rmsprop_steps, adam_steps, adam_continues_from_state,
              update_rules_keep_inputs_and_dtype),
    "solver": (solver_step_reference, solver_check_accuracy),
}


def run_check(part, check):
    """Run one check function; never raises (except KeyboardInterrupt). Returns a Result."""
    what = (check.__doc__ or check.__name__).strip().split("\n")[0]
    try:
        with np.errstate(all="ignore"):
            detail = check()
    except NotImplementedError as e:
        return Result(part, "TODO", what, str(e) or "not implemented yet")
    except Failed as e:
        return Result(part, "FAIL", what, e.detail, e.hint)
    except Exception as e:  # noqa: BLE001 - student code may raise anything; report it
        return Result(part, "FAIL", what, f"raised {type(e).__name__}: {e}",
                      "read the error: it names the argument or line that went wrong")
    return Result(part, "PASS", what, detail or "")


def run_part(part):
    """Run every check of one part; returns a list of Result. Unknown part: ValueError."""
    if part not in PARTS:
        raise ValueError(f"part is {part!r}, expected one of: {', '.join(PARTS)}")
    return [run_check(part, check) for check in PARTS[part]]


def run_all(parts=None):
    """Every check of the given parts (default: all) as check function name -> Result.

    For feedback elsewhere (a grader's report names a failed check's hint by its name)."""
    return {check.__name__: run_check(part, check)
            for part in (parts or PARTS) for check in PARTS[part]}


def format_result(r, said=None):
    """The printed line(s) of one Result. ``said``: a set of the not-implemented messages
    printed already; a message is printed once, later checks it stops say "(as above)"."""
    line = f"{r.status:4}  {r.part:9}  {r.what}"
    if r.status == "TODO":  # the NotImplementedError message says what is missing and where
        if said is not None and r.detail in said:
            name = r.detail.split(":", 1)[0]
            return line + f" ({name}: not implemented yet, as above)"
        if said is not None:
            said.add(r.detail)
        line += f"\n      {r.detail}"
    elif r.detail:
        line += f" ({r.detail})"
    if r.hint and r.status == "FAIL":
        line += f"\n      hint: {r.hint}"
    return line


def main(parts=None, out=None):
    """Run the given parts (default: all), print one line per check; returns the exit status.

    Exit status: 0 if every check passed, 1 otherwise (a failure or something not
    implemented yet).
    """
    out = out or sys.stdout
    parts = list(parts or PARTS)
    for part in parts:
        if part not in PARTS:
            raise ValueError(f"part is {part!r}, expected one of: {', '.join(PARTS)}")
    results, said = [], set()
    for part in parts:
        for r in run_part(part):
            results.append(r)
            print(format_result(r, said), file=out, flush=True)
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "TODO")}
    print(f"\n{counts['PASS']} passed, {counts['FAIL']} failed, {counts['TODO']} not implemented "
          f"yet (of {len(results)} checks)", file=out)
    return 0 if counts["PASS"] == len(results) else 1
