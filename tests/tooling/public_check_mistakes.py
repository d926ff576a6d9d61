"""The plausible mistakes that the public-check tests plant into the solution
(tests/tooling/test_public_checks_mistakes.py), and the helpers that read the checks' results.

A mistake is registered with :func:`mistake` by wrapping a solution function
(``owner.attribute``); each must fail a check of its part with its hint. The second group are
mistakes that the hidden tests score: a student sees each first from ``python -m assignment
check`` (issue 14).
"""

import numpy as np

from assignment import checks as pc
from assignment import fc_net, layer_utils, layers, optim


def by_status(results):
    return {s: [r for r in results if r.status == s] for s in ("PASS", "FAIL", "TODO")}


def fails_with(part, hint_words):
    failed = by_status(pc.run_part(part))["FAIL"]
    assert failed, f"no check of {part} failed"
    hints = " | ".join(r.hint for r in failed)
    assert all(w in hints for w in hint_words), hints
    return failed


MISTAKES = {}  # name -> (owner, attribute, part, hint, wrapper)


def mistake(owner, attribute, part, hint):
    """Register a plausible mistake, planted by wrapping the solution's ``owner.attribute``:
    the decorated function gets that original first, then the original's arguments; the
    planted mistake must fail a check of ``part`` with ``hint``."""
    def register(wrapper):
        MISTAKES[wrapper.__name__] = (owner, attribute, part, hint, wrapper)
        return wrapper
    return register


@mistake(layers, "batchnorm_backward", "batchnorm", "dgamma is N=4 times too small")
def dgamma_off_by_n(orig, dout, cache):
    dx, dgamma, dbeta = orig(dout, cache)
    return dx, dgamma / dout.shape[0], dbeta


@mistake(layers, "layernorm_backward", "layernorm", "dgamma is N=4 times too large")
def dgamma_times_n(orig, dout, cache):
    dx, dgamma, dbeta = orig(dout, cache)
    return dx, dgamma * dout.shape[0], dbeta


@mistake(layers, "batchnorm_backward", "batchnorm",
         "ignores that the mean and the variance depend on x")
def dx_without_the_mean_and_variance_terms(orig, dout, cache):
    _, dgamma, dbeta = orig(dout, cache)
    _, gamma, inv_std = cache  # the solution's cache (a student's may hold other values)
    return dout * gamma * inv_std, dgamma, dbeta


@mistake(layers, "batchnorm_forward", "batchnorm", "running statistics not updated")
def running_stats_not_updated(orig, x, gamma, beta, bn_param):
    before = {k: bn_param[k] for k in ("running_mean", "running_var") if k in bn_param}
    out = orig(x, gamma, beta, bn_param)
    for k in ("running_mean", "running_var"):
        bn_param[k] = before.get(k, np.zeros(x.shape[1]))
    return out


@mistake(layers, "batchnorm_forward", "batchnorm", "momentum weighs the OLD running average")
def running_stats_with_swapped_momentum(orig, x, gamma, beta, bn_param):
    first = "running_mean" not in bn_param
    out = orig(x, gamma, beta, bn_param)
    if first and bn_param["mode"] == "train":
        bn_param["running_mean"] = 0.9 * x.mean(axis=0)
    return out


@mistake(layers, "batchnorm_forward", "batchnorm", "biased variance")
def unbiased_variance(orig, x, gamma, beta, bn_param):
    out, cache = orig(x, gamma, beta, bn_param)
    N = x.shape[0]
    return (out - beta) * np.sqrt((N - 1) / N) + beta, cache


@mistake(layers, "batchnorm_forward", "batchnorm", "not the statistics of the test batch")
def batchnorm_test_mode_with_batch_statistics(orig, x, gamma, beta, bn_param):
    if bn_param["mode"] == "test":
        return orig(x, gamma, beta, {"mode": "train"})[0], None
    return orig(x, gamma, beta, bn_param)


@mistake(layers, "layernorm_forward", "layernorm",
         "normalizes each example (row) over its features")
def layernorm_over_the_wrong_axis(_orig, x, gamma, beta, ln_param):
    z = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    return gamma * z + beta, None


@mistake(layers, "batchnorm_forward", "batchnorm", "don't use -=, += or out= on the inputs")
def norm_forward_modifying_its_input(orig, x, gamma, beta, bn_param):
    out, cache = orig(x, gamma, beta, bn_param)
    x -= x.mean(axis=0)
    return out, cache


def _dropout_times_p_in(mode):
    """dropout_forward that multiplies its output by p in ``mode``."""
    def wrapper(orig, x, dropout_param):
        out, cache = orig(x, dropout_param)
        if dropout_param["mode"] == mode:
            out = out * dropout_param["p"]
        return out, cache
    wrapper.__name__ = f"dropout_times_p_in_{mode}"
    return wrapper


mistake(layers, "dropout_forward", "dropout", "dropout mask not scaled")(
    _dropout_times_p_in("train"))
mistake(layers, "dropout_forward", "dropout", "don't multiply by p at test time")(
    _dropout_times_p_in("test"))


@mistake(layers, "dropout_forward", "dropout", "probability of KEEPING")
def dropout_with_the_drop_probability(orig, x, dropout_param):
    param = dict(dropout_param)
    if param["mode"] == "train":
        param["p"] = 1 - param["p"]
    return orig(x, param)


@mistake(optim, "adam", "optim", "bias correction missing")
def adam_without_bias_correction(_orig, w, dw, config=None):
    config = dict(config or {})
    lr = config.get("learning_rate", 1e-3)
    t = config.get("t", 0) + 1
    m = 0.9 * config.get("m", np.zeros_like(w)) + 0.1 * dw
    v = 0.999 * config.get("v", np.zeros_like(w)) + 0.001 * dw**2
    config.update(m=m, v=v, t=t)
    return w - lr * m / (np.sqrt(v) + 1e-8), config


def _on_the_training_loss(change):
    """FullyConnectedNet.loss whose (loss, grads) pass through ``change(self, loss, grads)``;
    the scores (no y) are left alone."""
    def wrapper(orig, self, X, y=None):
        result = orig(self, X, y)
        return result if y is None else change(self, *result)
    wrapper.__name__ = change.__name__
    return wrapper


@mistake(fc_net.FullyConnectedNet, "loss", "fc_net", "the 0.5 is missing")
@_on_the_training_loss
def regularization_without_the_half(self, loss, grads):
    extra = 0.5 * self.reg * sum(np.sum(self.params[f"W{i}"] ** 2)
                                 for i in range(1, self.num_layers + 1))
    return loss + extra, grads


# ---------------------------------------------------------------------------------------------
# Mistakes that the hidden tests score: each is caught by a public check first, with its
# hint (issue 14)
# ---------------------------------------------------------------------------------------------


@mistake(layers, "relu_backward", "relu", "an input of exactly 0 passes no gradient")
def relu_at_zero(_orig, dout, x):
    return dout * (x >= 0)


@mistake(layers, "softmax_loss", "losses", "subtract each row's maximum score")
def softmax_overflow(_orig, x, y):
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y]).mean()
    dx = p.copy()
    dx[np.arange(len(y)), y] -= 1
    return loss, dx / len(y)


@mistake(layers, "batchnorm_forward", "batchnorm", "only train mode updates the running averages")
def updates_running_averages_in_test_mode(orig, x, gamma, beta, bn_param):
    out, cache = orig(x, gamma, beta, bn_param)
    if bn_param["mode"] == "test":
        bn_param["running_mean"] = 0.9 * bn_param["running_mean"] + 0.1 * x.mean(0)
    return out, cache


@mistake(layers, "batchnorm_forward", "batchnorm", "give it x's dtype")
def float64_running(orig, x, gamma, beta, bn_param):
    out, cache = orig(x, gamma, beta, bn_param)
    bn_param["running_var"] = bn_param["running_var"].astype(np.float64)
    return out, cache


@mistake(layers, "layernorm_forward", "layernorm", "same thing in train and test mode")
def mode_dependent(orig, x, gamma, beta, ln_param):
    out, cache = orig(x, gamma, beta, ln_param)
    return (out * 0.5 if ln_param.get("mode") == "test" else out), cache


@mistake(optim, "rmsprop", "optim", "don't use -= or += on w or dw")
def in_place(orig, w, dw, config=None):
    next_w, config = orig(w, dw, config)
    w -= w - next_w
    return w, config


@mistake(optim, "adam", "optim", "start from config's m, v and t")
def adam_ignores_t(orig, w, dw, config=None):
    config = dict(config or {})
    t = config.pop("t", 0)
    config["t"] = 0 if t == 5 else t
    return orig(w, dw, config)


@mistake(fc_net.FullyConnectedNet, "loss", "fc_net", "regularize the weight matrices only")
@_on_the_training_loss
def reg_on_gamma(self, loss, grads):
    if self.normalization is None:
        return loss, grads
    for i in range(1, self.num_layers):
        g = self.params[f"gamma{i}"]
        loss += 0.5 * self.reg * np.sum(g * g)
        grads[f"gamma{i}"] = grads[f"gamma{i}"] + self.reg * g
    return loss, grads


@mistake(fc_net.FullyConnectedNet, "__init__", "fc_net", "layer by layer in order")
def draw_order(orig, self, *args, **kwargs):
    np.random.randn(1)  # an extra draw before the weights
    orig(self, *args, **kwargs)


@mistake(layers, "affine_backward", "affine", "is float64 unless you give it x's dtype")
def affine_float64(orig, dout, cache):
    dx, dw, db = orig(dout, cache)
    return dx, dw, np.zeros(db.shape) + db


@mistake(layers, "batchnorm_backward_alt", "batchnorm", "the two passes compute the same gradients")
def alt_differs(orig, dout, cache):
    dx, dgamma, dbeta = orig(dout, cache)
    return dx * (1 + 1e-7), dgamma, dbeta  # within the gradient check's tolerance


@mistake(layers, "batchnorm_forward", "batchnorm", "leave cache as None")
def caches_in_test_mode(orig, x, gamma, beta, bn_param):
    out, cache = orig(x, gamma, beta, bn_param)
    return out, (cache if bn_param["mode"] == "train" else (x, gamma))


@mistake(layers, "dropout_forward", "dropout", "p is the probability of KEEPING a unit")
def p1_drops(orig, x, dropout_param):
    if dropout_param["p"] == 1 and dropout_param["mode"] == "train":
        return orig(x, dict(dropout_param, p=0.999))
    return orig(x, dropout_param)


@mistake(layer_utils, "hidden_layer_forward", "fc_net", "dropout_cache is None without dropout")
def sandwich_cache(orig, *args, **kwargs):
    out, (norm, sandwich, drop) = orig(*args, **kwargs)
    return out, (norm, sandwich, drop if drop is not None else ("test", None))


@mistake(fc_net.FullyConnectedNet, "loss", "fc_net", "is float64 unless you give it x's dtype")
@_on_the_training_loss
def fc_net_float64(self, loss, grads):
    return loss, {k: g.astype(np.float64) for k, g in grads.items()}


@mistake(fc_net.FullyConnectedNet, "loss", "fc_net", "without y the forward pass runs in test mode")
def drops_units_without_y(orig, self, X, y=None):
    if y is None and self.use_dropout:
        self.dropout_param["mode"] = "train"
        self.dropout_param.pop("seed", None)
        scores = orig(self, X, np.zeros(len(X), dtype=int))
        return scores
    return orig(self, X, y)


# ---------------------------------------------------------------------------------------------
# Plants that are no wrapper of the solution
# ---------------------------------------------------------------------------------------------

def dropout_forward_as_in_the_todo(scale=True):
    """dropout_forward with the given code around the TODO's literal mask (float64)."""
    def forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = None
        if mode == "train":
            mask = np.random.rand(*x.shape) < p
            mask = mask / p if scale else mask
            out = x * mask
        else:
            out = x
        return out.astype(x.dtype, copy=False), (mode, mask)
    return forward
