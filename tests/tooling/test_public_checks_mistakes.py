"""Tests that each plausible mistake (tests/tooling/public_check_mistakes.py), planted by wrapping
a solution function, fails its public check with the hint that names it; and the mistakes that
need more than a wrapper: a backward that reads the last forward's cache, the TODO's literal
dropout mask, an unscaled mask, the unbiased variance.
"""

import numpy as np
import pytest

from assignment import checks as pc
from assignment import layers
from tests.tooling.public_check_mistakes import (
    MISTAKES,
    by_status,
    dropout_forward_as_in_the_todo,
    fails_with,
)


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_planted_mistake_fails_its_check_with_its_hint(monkeypatch, name):
    owner, attr, part, hint, wrapper = MISTAKES[name]
    orig = getattr(owner, attr)
    monkeypatch.setattr(owner, attr, lambda *args, **kwargs: wrapper(orig, *args, **kwargs))
    fails_with(part, [hint])


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
    fails_with("layernorm", ["keep in the cache what this forward pass computed"])


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
    failed = {r.what: r for r in by_status(pc.run_part("dropout"))["FAIL"]}
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
    failed = {r.what: r for r in by_status(pc.run_part("batchnorm"))["FAIL"]}
    running = failed[pc.batchnorm_running_stats.__doc__]
    assert running.detail.startswith("after one step from zeros with momentum 0.9: running_var is ")
    assert "running_mean" not in running.detail
    got, expected = running.detail.split(": running_var is ")[1].split(", expected ")
    assert got != expected
    assert running.hint == "use the biased variance (divide by N) for running_var too"
    assert "biased variance" in failed[pc.batchnorm_forward_train.__doc__].hint
