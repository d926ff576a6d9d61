"""Public checks of the normalization layers: parts batchnorm and layernorm."""

import numpy as np

from assignment.checks.common import (
    DTYPE_HINT,
    Failed,
    grad_check,
    is_vs_expected,
    mod,
    normalize_ref,
    num_grad,
    rel_error,
    require_below,
    require_float32,
)


def _bn_data(rng, N=200):
    return 5.0 + rng.normal(size=(N, 3)) * np.array([1.0, 2.0, 3.0])


def batchnorm_forward_train():
    """batchnorm_forward (train): per-feature mean beta and standard deviation gamma."""
    layers = mod("layers")
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
        elif rel_error(out, normalize_ref(x, 1) * gamma + beta) < 1e-6:
            hint = "batch norm normalizes each feature over the batch (axis 0), not each example"
        elif rel_error(std, np.ones(3)) < 1e-3:
            hint = "scale the normalized data by gamma"
        wrong = [is_vs_expected(name, got, want) for name, got, want, tol in (
            ("the per-feature mean", mean, beta, 1e-6),
            ("the per-feature std", std, expected_std, 1e-4)) if rel_error(got, want) > tol]
        raise Failed("; ".join(wrong) + " (the expected: beta, and gamma with eps = 1e-5)", hint)
    return "means = beta, stds = gamma"


def batchnorm_running_stats():
    """batchnorm_forward (train) updates running_mean and running_var with the momentum rule."""
    layers = mod("layers")
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
            is_vs_expected(name, got[name], expected[name]) for name in wrong), hint)
    return "one step from zeros gives 0.1 * batch statistics"


def batchnorm_forward_test():
    """batchnorm_forward (test) uses the running averages, not the test batch's statistics."""
    layers = mod("layers")
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
    layers = mod("layers")
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
    layers = mod("layers")
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
    require_float32("batchnorm", [*outputs, ("test-mode out", test_out)], DTYPE_HINT)
    return "outputs, running averages and gradients are float32"


def _norm_backward(part, forward, backward, param):
    layers = mod("layers")
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
        grad_check("dx", dx, num_grad(lambda v: fwd(v, gamma, beta, dict(param))[0], x, dout),
                   N, dx_hint),
        grad_check("dgamma", dgamma,
                   num_grad(lambda v: fwd(x, v, beta, dict(param))[0], gamma, dout), N),
        grad_check("dbeta", dbeta,
                   num_grad(lambda v: fwd(x, gamma, v, dict(param))[0], beta, dout), N),
    ]
    return f"{backward}: dx, dgamma, dbeta " + ", ".join(details)


def _norm_cache_behaviour(forward, backwards, param):
    """Forward leaves x, gamma, beta alone; backward leaves dout and the cache alone (a second
    call gives the same gradients) and uses only its own cache (later forward passes with the
    same parameter dict do not change what it returns). What the cache holds is your choice."""
    layers = mod("layers")
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
    layers = mod("layers")
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
    require_below(err, 1e-10, name + " differs by {err} of its largest entry",
                  "the two passes compute the same gradients; check the one whose gradient "
                  "check fails first")
    return f"largest difference {err:.1e}"


def layernorm_forward_values():
    """layernorm_forward normalizes each example over its features, then scales and shifts."""
    layers = mod("layers")
    x = _bn_data(np.random.default_rng(4), 7).T.copy()  # (3, 7): rows are examples
    gamma, beta = np.linspace(0.5, 2, 7), np.linspace(-1, 1, 7)
    out, _ = layers.layernorm_forward(x, gamma, beta, {})
    z = (out - beta) / gamma
    ok_mean = np.max(np.abs(z.mean(axis=1))) < 1e-6
    ok_std = rel_error(z.std(axis=1), np.sqrt(x.var(1) / (x.var(1) + 1e-5))) < 1e-4
    if not (ok_mean and ok_std):
        hint = ("normalize every example (row) with its own mean and variance (eps added to "
                "the variance), then scale by gamma and shift by beta")
        if rel_error(out, normalize_ref(x, 0) * gamma + beta) < 1e-6:
            hint = "layer norm normalizes each example (row) over its features (axis 1)"
        elif ok_mean and rel_error(z.std(axis=1), np.sqrt(6 / 7) * np.ones(3)) < 1e-3:
            hint = "use the biased variance (divide by D), not D - 1"
        raise Failed(f"normalized rows have means {np.round(z.mean(1), 3)} and stds "
                     f"{np.round(z.std(1), 3)}, expected 0 and 1", hint)
    return "each row normalized, then gamma and beta per feature"


def layernorm_mode_and_float32():
    """layernorm_forward ignores the mode; layernorm keeps float32 (float32 in, float32 out)."""
    layers = mod("layers")
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
    require_float32("layernorm_forward/backward",
                    [("out", out), *zip(("dx", "dgamma", "dbeta"), grads, strict=False)],
                    DTYPE_HINT)
    return "same output in every mode; float32 kept"


def layernorm_backward_gradients():
    """layernorm_backward's dx, dgamma, dbeta match numerical gradients."""
    return _norm_backward("layernorm", "layernorm_forward", "layernorm_backward", {})
