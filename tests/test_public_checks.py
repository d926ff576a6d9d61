"""Tests of assignment/public_checks.py (``python -m assignment check``).

The checks pass on the solution; each common mistake, planted by wrapping a solution function,
fails its check with the hint that names it; a stub is reported as not implemented yet.
"""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assignment import fc_net, layers, optim
from assignment import public_checks as pc

REPO = Path(__file__).resolve().parent.parent


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


def test_dgamma_off_by_n(monkeypatch):
    orig = layers.batchnorm_backward

    def buggy(dout, cache):
        dx, dgamma, dbeta = orig(dout, cache)
        return dx, dgamma / dout.shape[0], dbeta

    monkeypatch.setattr(layers, "batchnorm_backward", buggy)
    _fails_with("batchnorm", ["dgamma is N=4 times too small"])


def test_dgamma_times_n(monkeypatch):
    orig = layers.layernorm_backward

    def buggy(dout, cache):
        dx, dgamma, dbeta = orig(dout, cache)
        return dx, dgamma * dout.shape[0], dbeta

    monkeypatch.setattr(layers, "layernorm_backward", buggy)
    _fails_with("layernorm", ["dgamma is N=4 times too large"])


def test_dx_without_the_mean_and_variance_terms(monkeypatch):
    orig = layers.batchnorm_backward

    def buggy(dout, cache):
        _, dgamma, dbeta = orig(dout, cache)
        return dout * cache.gamma * cache.inv_std, dgamma, dbeta

    monkeypatch.setattr(layers, "batchnorm_backward", buggy)
    _fails_with("batchnorm", ["ignores that the mean and the variance depend on x"])


def test_running_stats_not_updated(monkeypatch):
    orig = layers.batchnorm_forward

    def buggy(x, gamma, beta, bn_param):
        before = {k: bn_param[k] for k in ("running_mean", "running_var") if k in bn_param}
        out = orig(x, gamma, beta, bn_param)
        for k in ("running_mean", "running_var"):
            bn_param[k] = before.get(k, np.zeros(x.shape[1]))
        return out

    monkeypatch.setattr(layers, "batchnorm_forward", buggy)
    _fails_with("batchnorm", ["running statistics not updated"])


def test_running_stats_with_swapped_momentum(monkeypatch):
    orig = layers.batchnorm_forward

    def buggy(x, gamma, beta, bn_param):
        first = "running_mean" not in bn_param
        out = orig(x, gamma, beta, bn_param)
        if first and bn_param["mode"] == "train":
            bn_param["running_mean"] = 0.9 * x.mean(axis=0)
        return out

    monkeypatch.setattr(layers, "batchnorm_forward", buggy)
    _fails_with("batchnorm", ["momentum weighs the OLD running average"])


def test_unbiased_variance(monkeypatch):
    orig = layers.batchnorm_forward

    def buggy(x, gamma, beta, bn_param):
        out, cache = orig(x, gamma, beta, bn_param)
        N = x.shape[0]
        return (out - beta) * np.sqrt((N - 1) / N) + beta, cache

    monkeypatch.setattr(layers, "batchnorm_forward", buggy)
    _fails_with("batchnorm", ["biased variance"])


def test_batchnorm_test_mode_with_batch_statistics(monkeypatch):
    orig = layers.batchnorm_forward

    def buggy(x, gamma, beta, bn_param):
        if bn_param["mode"] == "test":
            return orig(x, gamma, beta, {"mode": "train"})[0], None
        return orig(x, gamma, beta, bn_param)

    monkeypatch.setattr(layers, "batchnorm_forward", buggy)
    _fails_with("batchnorm", ["not the statistics of the test batch"])


def test_layernorm_over_the_wrong_axis(monkeypatch):
    def buggy(x, gamma, beta, ln_param):
        z = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
        return gamma * z + beta, None

    monkeypatch.setattr(layers, "layernorm_forward", buggy)
    _fails_with("layernorm", ["normalizes each example (row) over its features"])


def test_dropout_mask_not_scaled(monkeypatch):
    orig = layers.dropout_forward

    def buggy(x, dropout_param):
        out, cache = orig(x, dropout_param)
        if dropout_param["mode"] == "train":
            out = out * dropout_param["p"]
        return out, cache

    monkeypatch.setattr(layers, "dropout_forward", buggy)
    _fails_with("dropout", ["dropout mask not scaled"])


def test_dropout_with_the_drop_probability(monkeypatch):
    orig = layers.dropout_forward

    def buggy(x, dropout_param):
        param = dict(dropout_param)
        if param["mode"] == "train":
            param["p"] = 1 - param["p"]
        return orig(x, param)

    monkeypatch.setattr(layers, "dropout_forward", buggy)
    _fails_with("dropout", ["probability of KEEPING"])


def test_dropout_scaled_at_test_time(monkeypatch):
    orig = layers.dropout_forward

    def buggy(x, dropout_param):
        out, cache = orig(x, dropout_param)
        if dropout_param["mode"] == "test":
            out = out * dropout_param["p"]
        return out, cache

    monkeypatch.setattr(layers, "dropout_forward", buggy)
    _fails_with("dropout", ["don't multiply by p at test time"])


def test_adam_without_bias_correction(monkeypatch):
    def buggy(w, dw, config=None):
        config = dict(config or {})
        lr = config.get("learning_rate", 1e-3)
        t = config.get("t", 0) + 1
        m = 0.9 * config.get("m", np.zeros_like(w)) + 0.1 * dw
        v = 0.999 * config.get("v", np.zeros_like(w)) + 0.001 * dw**2
        config.update(m=m, v=v, t=t)
        return w - lr * m / (np.sqrt(v) + 1e-8), config

    monkeypatch.setattr(optim, "adam", buggy)
    _fails_with("optim", ["bias correction missing"])


def test_regularization_without_the_half(monkeypatch):
    orig = fc_net.FullyConnectedNet.loss

    def buggy(self, X, y=None):
        result = orig(self, X, y)
        if y is None:
            return result
        loss, grads = result
        extra = 0.5 * self.reg * sum(np.sum(self.params[f"W{i}"] ** 2)
                                     for i in range(1, self.num_layers + 1))
        return loss + extra, grads

    monkeypatch.setattr(fc_net.FullyConnectedNet, "loss", buggy)
    _fails_with("fc_net", ["the 0.5 is missing"])


def test_stub_is_reported_as_not_implemented(monkeypatch):
    def stub(*args, **kwargs):
        raise NotImplementedError("batchnorm_forward: not implemented yet; see notebooks/X")

    monkeypatch.setattr(layers, "batchnorm_forward", stub)
    results = _by_status(pc.run_part("batchnorm"))
    assert len(results["TODO"]) == 5  # every batchnorm check needs the forward pass
    details = [r.detail for r in results["TODO"]]
    assert all(d.startswith("batchnorm_forward: not implemented yet") for d in details)
    out = io.StringIO()
    assert pc.main(["batchnorm"], out=out) == 1
    text = out.getvalue()
    assert "\n      batchnorm_forward: not implemented yet; see notebooks/X\n" in text
    assert "0 passed, 0 failed, 5 not implemented yet" in text


def test_other_exceptions_are_failures_not_crashes(monkeypatch):
    def broken(x, w, b):
        raise IndexError("index 7 is out of bounds")

    monkeypatch.setattr(layers, "affine_forward", broken)
    failed = _by_status(pc.run_part("affine"))["FAIL"]
    assert len(failed) == 2
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
    assert pc.rel_error(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == float("inf")
    assert pc.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_gradient_factor_hint_is_silent_for_unrelated_errors():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=10), rng.normal(size=10)
    assert pc._factor_hint("dx", a, b, 4) == ""
    assert "wrong sign" in pc._factor_hint("dx", -b, b, 4)


def test_unknown_part_is_a_value_error():
    with pytest.raises(ValueError, match="expected one of: affine"):
        pc.run_part("convnet")


def test_command_line():
    run = [sys.executable, "-m", "assignment", "check"]
    ok = subprocess.run([*run, "relu", "optim"], cwd=REPO, capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("PASS") == 5 and "5 passed, 0 failed" in ok.stdout
    bad = subprocess.run([*run, "convnet"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "unknown part" in bad.stderr
