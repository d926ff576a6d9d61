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
missing bias correction in Adam, a regularization term without its 0.5.

These checks are public and do not prove that everything is right; the notebooks and the
graders' tests check more.

Python API: :func:`run_part` returns the results of one part as :class:`Result` tuples;
:func:`main` prints them (exit status 0 when every check passed).
"""

import importlib
import math
import sys
from typing import NamedTuple

import numpy as np

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
    """Largest elementwise relative error between two arrays (0 for two zero arrays).

    None (an output the starting code sets to None and the code written never assigns) fails
    the check; a NaN anywhere gives inf, so that ``rel_error(...) > tol`` fails too.
    """
    if a is None or b is None:
        raise Failed("an output is None",
                     "store each result in the variable the function returns (it starts as None)")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    err = float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
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


def _grad_check(name, analytic, numeric, n, extra_hint=""):
    analytic = np.asarray(analytic)
    if analytic.shape != np.shape(numeric):
        raise Failed(
            f"{name} has shape {analytic.shape}, expected {np.shape(numeric)}",
            f"{name} must have the shape of the input it is the gradient of",
        )
    err = rel_error(analytic, numeric)
    if err > TOL:
        hint = _factor_hint(name, analytic, numeric, n) or extra_hint
        raise Failed(f"rel. error {err:.2g} (must be < {TOL:g})", hint)
    return f"rel. error {err:.1e}"


def _normalize_ref(x, axis):
    """(x - mean) / sqrt(var + 1e-5) along an axis, with the biased variance."""
    return (x - x.mean(axis=axis, keepdims=True)) / np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)


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
        raise Failed(f"per-feature means {np.round(mean, 3)} (expected beta {beta}), stds "
                     f"{np.round(std, 3)} (expected gamma {gamma})", hint)
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
    exp_m, exp_v = 0.1 * x.mean(0), 0.1 * x.var(0)
    if rel_error(rm, exp_m) > 1e-6 or rel_error(rv, exp_v) > 1e-6:
        hint = "running = momentum * running + (1 - momentum) * batch statistic"
        if rel_error(rm, 0.9 * x.mean(0)) < 1e-6:
            hint = ("momentum weighs the OLD running average: running = momentum * running + "
                    "(1 - momentum) * batch statistic")
        elif rel_error(rv, 0.1 * x.var(0, ddof=1)) < 1e-6:
            hint = "use the biased variance (divide by N) for running_var too"
        raise Failed(f"after one step from zeros running_mean is {np.round(rm, 4)}, expected "
                     f"{np.round(exp_m, 4)}", hint)
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


def batchnorm_backward_gradients():
    """batchnorm_backward's dx, dgamma, dbeta match numerical gradients."""
    return _norm_backward("batchnorm", "batchnorm_forward", "batchnorm_backward", {"mode": "train"})


def batchnorm_backward_alt_gradients():
    """batchnorm_backward_alt's dx, dgamma, dbeta match numerical gradients."""
    return _norm_backward("batchnorm", "batchnorm_forward", "batchnorm_backward_alt",
                          {"mode": "train"})


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
    out, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.3, "seed": 42})
    np.random.seed(42)
    keep = np.random.rand(*x.shape) < 0.3
    expected = np.where(keep, x / 0.3, 0.0)
    if rel_error(out, expected) > 1e-6:
        raise Failed("the output differs from the mask np.random.seed(seed); "
                     "np.random.rand(*x.shape) < p", "draw the mask exactly as the TODO says, "
                     "after the seeding (which is given), with no other random draws between")
    return "same mask as the reference recipe"


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
    scores = plain.loss(X)
    if np.shape(scores) != (3, 3):
        raise Failed(f"loss(X) without y returned shape {np.shape(scores)}, expected (3, 3)",
                     "without y, return the class scores of shape (N, C)")
    return "regularization and test-time scores"


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
    return "accuracy 0.7 in batches 3, 3, 3, 1"


PARTS = {
    "affine": (affine_forward_values, affine_backward_gradients),
    "relu": (relu_forward_values, relu_backward_gradient),
    "losses": (softmax_loss_check, svm_loss_check),
    "batchnorm": (batchnorm_forward_train, batchnorm_running_stats, batchnorm_forward_test,
                  batchnorm_backward_gradients, batchnorm_backward_alt_gradients),
    "layernorm": (layernorm_forward_values, layernorm_backward_gradients),
    "dropout": (dropout_forward_train, dropout_forward_seeded, dropout_forward_test,
                dropout_backward_gradient),
    "fc_net": (fc_net_params, fc_net_gradients, fc_net_regularization),
    "optim": (sgd_momentum_steps, rmsprop_steps, adam_steps),
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


def format_result(r):
    """The printed line(s) of one Result."""
    line = f"{r.status:4}  {r.part:9}  {r.what}"
    if r.status == "TODO":  # the NotImplementedError message says what is missing and where
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
    results = []
    for part in parts:
        for r in run_part(part):
            results.append(r)
            print(format_result(r), file=out, flush=True)
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "TODO")}
    print(f"\n{counts['PASS']} passed, {counts['FAIL']} failed, {counts['TODO']} not implemented "
          f"yet (of {len(results)} checks)", file=out)
    return 0 if counts["PASS"] == len(results) else 1
