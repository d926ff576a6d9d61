"""Tests of batch normalization in assignment/layers.py: batchnorm_forward (train and test
mode, running averages), batchnorm_backward and batchnorm_backward_alt against centred
differences (float64), against each other, and against PyTorch (see layer_oracles.py).

What batchnorm shares with layernorm (float32 kept, inputs untouched, backward from its own
cache): test_norms.py."""

import numpy as np
import pytest

from assignment.layers import batchnorm_backward, batchnorm_backward_alt, batchnorm_forward
from tests.hidden import layer_oracles as oracles


def assert_batchnorm_gradients(backward, N, D):
    """``backward`` (the staged or the simplified pass) against numeric gradients."""
    x, gamma, beta, dout = oracles.norm_inputs(N, D, seed=N + D)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    analytic = backward(dout, cache)

    def forward(x, gamma, beta):
        return batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    oracles.assert_grads_close(analytic, oracles.numeric_grads(forward, [x, gamma, beta], dout))


@pytest.mark.parametrize("N, D", [(2, 3), (4, 5), (10, 7), (1, 4)])
def test_batchnorm_gradients(N, D):
    assert_batchnorm_gradients(batchnorm_backward, N, D)


@pytest.mark.parametrize("N, D", [(2, 3), (4, 5), (10, 7), (1, 4)])
def test_batchnorm_backward_alt_gradients(N, D):
    """The simplified backward pass on its own (the notebook items that train with it are
    judged by this test, whatever the staged pass does)."""
    assert_batchnorm_gradients(batchnorm_backward_alt, N, D)


@pytest.mark.parametrize("N, D", [(2, 3), (4, 5), (100, 50), (1, 3)])
def test_batchnorm_backward_alt_equals_staged(N, D):
    x, gamma, beta, dout = oracles.norm_inputs(N, D, seed=7)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    staged = batchnorm_backward(dout, cache)
    alt = batchnorm_backward_alt(dout, cache)
    for s, a in zip(staged, alt, strict=True):
        # 1e-12 relative, with an absolute floor for entries that cancel to ~0
        np.testing.assert_allclose(a, s, rtol=1e-12, atol=1e-12 * np.abs(s).max())


def test_batchnorm_normalizes_and_scales():
    x, _, _, _ = oracles.norm_inputs(200, 30, seed=3)
    gamma, beta = np.linspace(1, 3, 30), np.linspace(-1, 1, 30)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-5)  # eps shrinks it a little


def test_batchnorm_running_averages_and_test_mode():
    rng = np.random.RandomState(4)
    D = 6
    gamma, beta = rng.randn(D), rng.randn(D)
    bn_param = {"mode": "train", "momentum": 0.8}
    running_mean, running_var = np.zeros(D), np.zeros(D)
    for _ in range(3):
        x = rng.randn(20, D) * 2 + 5
        batchnorm_forward(x, gamma, beta, bn_param)
        running_mean = 0.8 * running_mean + 0.2 * x.mean(axis=0)
        running_var = 0.8 * running_var + 0.2 * x.var(axis=0)  # biased variance
    np.testing.assert_allclose(bn_param["running_mean"], running_mean, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], running_var, rtol=1e-12)

    bn_param["mode"] = "test"
    before = bn_param["running_mean"].copy(), bn_param["running_var"].copy()
    x = rng.randn(3, D)
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    expected = (x - running_mean) / np.sqrt(running_var + 1e-5) * gamma + beta
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert cache is None
    assert np.array_equal(bn_param["running_mean"], before[0])  # test mode leaves them
    assert np.array_equal(bn_param["running_var"], before[1])


def forward_matches_reference(ref, mode, stats):
    """batchnorm_forward in ``mode`` on the reference case ``ref``, from its running averages
    ``running_mean{stats}`` and ``running_var{stats}``, gives PyTorch's output; returns the
    cache and the bn_param dict after the call."""
    bn_param = {"mode": mode, "running_mean": ref["running_mean" + stats],
                "running_var": ref["running_var" + stats]}
    out, cache = batchnorm_forward(ref["x"], ref["gamma"], ref["beta"], bn_param)
    oracles.assert_reference(out, ref["out"])
    return cache, bn_param


@pytest.mark.parametrize("case", sorted(oracles.reference_cases("bn_train_")))
def test_batchnorm_train_matches_pytorch(case):
    ref = oracles.reference_cases("bn_train_")[case]
    cache, bn_param = forward_matches_reference(ref, "train", "0")
    oracles.assert_reference(bn_param["running_mean"], ref["running_mean"])
    for backward in (batchnorm_backward, batchnorm_backward_alt):
        oracles.assert_reference_grads(backward(ref["dout"], cache), ref)


@pytest.mark.parametrize("case", sorted(oracles.reference_cases("bn_test_")))
def test_batchnorm_test_mode_matches_pytorch(case):
    forward_matches_reference(oracles.reference_cases("bn_test_")[case], "test", "")
