"""Tests of assignment/checks/ (``python -m assignment check``).

The checks pass on the solution; each common mistake, planted by wrapping a solution function,
fails its check with the hint that names it; a stub is reported as not implemented yet.
"""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assignment import checks as pc
from assignment import fc_net, layer_utils, layers, optim
from assignment.checks import common
from instructor import fairness, manifest
from instructor.grading import rubric, scoring

REPO = Path(__file__).resolve().parents[2]


def _by_status(results):
    return {s: [r for r in results if r.status == s] for s in ("PASS", "FAIL", "TODO")}


@pytest.mark.parametrize("part", sorted(pc.PARTS))
def test_every_part_passes_on_the_solution(part):
    results = pc.run_part(part)
    assert [r.status for r in results] == ["PASS"] * len(pc.PARTS[part]), results


def _fails_with(part, hint_words):
    failed = _by_status(pc.run_part(part))["FAIL"]
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


def test_backward_from_the_last_forward_not_its_own_cache(monkeypatch):
    # a plausible shortcut: keep the statistics in a module-level variable instead of the cache
    orig_fwd, orig_bwd = layers.layernorm_forward, layers.layernorm_backward
    last = {}

    def fwd(x, gamma, beta, ln_param):
        out, cache = orig_fwd(x, gamma, beta, ln_param)
        last["cache"] = cache
        return out, cache

    def bwd(dout, cache):
        return orig_bwd(dout, last["cache"])

    monkeypatch.setattr(layers, "layernorm_forward", fwd)
    monkeypatch.setattr(layers, "layernorm_backward", bwd)
    _fails_with("layernorm", ["keep in the cache what this forward pass computed"])


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


def test_stub_is_reported_as_not_implemented(monkeypatch):
    def stub(*args, **kwargs):
        raise NotImplementedError("batchnorm_forward: not implemented yet; see notebooks/X")

    monkeypatch.setattr(layers, "batchnorm_forward", stub)
    results = _by_status(pc.run_part("batchnorm"))
    n = len(pc.PARTS["batchnorm"])
    assert len(results["TODO"]) == n  # every batchnorm check needs the forward pass
    details = [r.detail for r in results["TODO"]]
    assert all(d.startswith("batchnorm_forward: not implemented yet") for d in details)
    out = io.StringIO()
    assert pc.main(["batchnorm"], out=out) == 1
    text = out.getvalue()
    # the stub's message once; the other checks it stops name it in one line
    assert text.count("batchnorm_forward: not implemented yet; see notebooks/X") == 1
    assert "\n      batchnorm_forward: not implemented yet; see notebooks/X\n" in text
    assert text.count("(batchnorm_forward: not implemented yet, as above)") == n - 1
    assert len(text.strip().splitlines()) == n + 1 + 2  # one line per check, message, total
    assert f"0 passed, 0 failed, {n} not implemented yet" in text


def test_other_exceptions_are_failures_not_crashes(monkeypatch):
    def broken(x, w, b):
        raise IndexError("index 7 is out of bounds")

    monkeypatch.setattr(layers, "affine_forward", broken)
    failed = _by_status(pc.run_part("affine"))["FAIL"]
    assert len(failed) == len(pc.PARTS["affine"])
    assert failed[0].detail == "raised IndexError: index 7 is out of bounds"


def test_output_left_at_its_initial_none_fails(monkeypatch):
    """The starting code sets each output to None (as CS231n's); code that never assigns it
    must not pass (a None compares as NaN, and NaN > tolerance is False)."""
    monkeypatch.setattr(layers, "relu_forward", lambda x: (None, x))
    failed = {r.what: r for r in _by_status(pc.run_part("relu"))["FAIL"]}
    values = failed["relu_forward keeps positive inputs and zeroes the others."]
    assert values.detail == "an output is None"
    assert "the variable the function returns" in values.hint


def test_nan_output_fails():
    assert common.rel_error(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == float("inf")
    assert common.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_gradient_factor_hint_is_silent_for_unrelated_errors():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=10), rng.normal(size=10)
    assert common.factor_hint("dx", a, b, 4) == ""
    assert "wrong sign" in common.factor_hint("dx", -b, b, 4)


def test_unknown_part_is_a_value_error():
    with pytest.raises(ValueError, match="expected one of: affine"):
        pc.run_part("convnet")


def test_command_line():
    run = [sys.executable, "-m", "assignment", "check"]
    ok = subprocess.run([*run, "relu", "optim"], cwd=REPO, capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    n = len(pc.PARTS["relu"]) + len(pc.PARTS["optim"])
    assert ok.stdout.count("PASS") == n and f"{n} passed, 0 failed" in ok.stdout
    bad = subprocess.run([*run, "convnet"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "unknown part" in bad.stderr


# ---------------------------------------------------------------------------------------------
# Mistakes that the hidden tests score: each is caught here first, with its hint (issue 14)
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


def _statuses(part):
    return {r.what.split(" ")[0] + "|" + r.status: r for r in pc.run_part(part)}


def test_the_literal_todo_mask_is_caught_by_the_dtype_check(monkeypatch):
    monkeypatch.setattr(layers, "dropout_forward", dropout_forward_as_in_the_todo())
    results = pc.run_part("dropout")
    failed = [r for r in results if r.status != "PASS"]
    assert [r.what for r in failed] == [pc.dropout_keeps_float32.__doc__], failed
    assert failed[0].detail == ("dropout_forward/backward on float32 input: dx is float64, "
                                "expected float32")
    assert "mask.astype(x.dtype)" in failed[0].hint


def test_unscaled_mask_is_not_blamed_on_the_draw(monkeypatch):
    monkeypatch.setattr(layers, "dropout_forward", dropout_forward_as_in_the_todo(scale=False))
    failed = {r.what: r for r in _by_status(pc.run_part("dropout"))["FAIL"]}
    for check in (pc.dropout_forward_train, pc.dropout_forward_seeded):
        assert failed[check.__doc__].hint.startswith("dropout mask not scaled")
    assert not any("draw" in r.detail or "draw" in r.hint for r in failed.values()), failed


def test_unbiased_variance_names_running_var_with_values_that_differ(monkeypatch):
    orig = layers.batchnorm_forward

    def unbiased(x, gamma, beta, bn_param):
        # the whole forward pass with np.var(ddof=1): output and running_var
        N = x.shape[0]
        before = bn_param.get("running_var", np.zeros(x.shape[1]))
        out, cache = orig(x, gamma, beta, bn_param)
        if bn_param["mode"] == "train":
            out = (out - beta) * np.sqrt((N - 1) / N) + beta
            m = bn_param.get("momentum", 0.9)
            bn_param["running_var"] = m * before + (1 - m) * x.var(axis=0, ddof=1)
        return out, cache

    monkeypatch.setattr(layers, "batchnorm_forward", unbiased)
    failed = {r.what: r for r in _by_status(pc.run_part("batchnorm"))["FAIL"]}
    running = failed[pc.batchnorm_running_stats.__doc__]
    assert running.detail.startswith("after one step from zeros with momentum 0.9: running_var is ")
    assert "running_mean" not in running.detail
    got, expected = running.detail.split(": running_var is ")[1].split(", expected ")
    assert got != expected
    assert running.hint == "use the biased variance (divide by N) for running_var too"
    assert "biased variance" in failed[pc.batchnorm_forward_train.__doc__].hint


def test_is_vs_expected_shows_enough_digits_to_differ():
    text = common.is_vs_expected("v", [1.0, 2.0000001], [1.0, 2.0])
    assert text == "v is [1.       , 2.0000001], expected [1., 2.]"




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


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_planted_mistake_fails_its_check_with_its_hint(monkeypatch, name):
    owner, attr, part, hint, wrapper = MISTAKES[name]
    orig = getattr(owner, attr)
    monkeypatch.setattr(owner, attr, lambda *args, **kwargs: wrapper(orig, *args, **kwargs))
    _fails_with(part, [hint])


# ---------------------------------------------------------------------------------------------
# Fairness: every scored hidden test has its public counterpart (instructor/fairness.py)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hidden_ids():
    """Node ids of every hidden test, as pytest collects them."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "-p", "no:cacheprovider", manifest.HIDDEN_TEST_DIR], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    ids = [line for line in run.stdout.splitlines() if "::" in line]
    assert len(ids) > 100, run.stdout
    return ids


def _check_names():
    return {check.__name__ for checks in pc.PARTS.values() for check in checks}


def _is_scored(test_id, rub=None):
    return bool(scoring.selected_tests(rub or rubric.load(), [test_id]))


@pytest.mark.slow
def test_every_scored_hidden_test_has_a_public_counterpart(hidden_ids):
    rub = rubric.load()
    assert fairness.problems(hidden_ids, _check_names(), lambda t: _is_scored(t, rub)) == []


@pytest.mark.slow
def test_the_table_fails_for_a_hidden_test_added_without_a_public_check(hidden_ids):
    new = "tests/hidden/test_layers.py::test_dropout_new_property[0.5]"
    found = fairness.problems([*hidden_ids, new], _check_names(), _is_scored)
    assert found == [f"{new.split('[')[0]}: a hidden test with no entry; add the public "
                     "check that covers its property to assignment/checks/ and name "
                     "it in instructor/fairness.py (or say why it is Given or NotScored)"]


@pytest.mark.slow
def test_the_table_fails_for_a_missing_check_a_stale_entry_and_a_scored_exemption(hidden_ids):
    table = dict(fairness.TABLE)
    table["tests/hidden/test_layers.py::test_dropout_keeps_float32"] = fairness.Public(
        "no_such_check")
    table["tests/hidden/test_layers.py::test_gone"] = fairness.Public("dropout_keeps_float32")
    table["tests/hidden/test_layers.py::test_dropout_gradients"] = fairness.NotScored("wrongly")
    found = fairness.problems(hidden_ids, _check_names(), _is_scored, table)
    assert len(found) == 3, found
    assert found[0].startswith("tests/hidden/test_layers.py::test_gone: in the fairness table but")
    assert found[1].startswith("tests/hidden/test_layers.py::test_dropout_gradients: marked "
                               "NotScored but the rubric scores "
                               "tests/hidden/test_layers.py::test_dropout_grad")
    assert found[2] == ("tests/hidden/test_layers.py::test_dropout_keeps_float32: public check "
                        "'no_such_check' does not exist in assignment/checks/")


def test_an_output_of_the_wrong_shape_fails_with_the_shapes(monkeypatch):
    monkeypatch.setattr(layers, "relu_forward", lambda x: (np.maximum(x, 0)[:, :2], x))
    failed = {r.what: r for r in _by_status(pc.run_part("relu"))["FAIL"]}
    values = failed[pc.relu_forward_values.__doc__]
    assert values.detail == "an output has shape (3, 2), expected (3, 4)"
