"""Tests of what batch and layer normalization (assignment/layers.py) share: float32 in gives
float32 out, forward leaves its inputs alone, backward repeats and depends only on its own
cache."""

import numpy as np
import pytest

from assignment.layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from tests.hidden import layer_oracles as oracles


@pytest.mark.parametrize("forward", [batchnorm_forward, layernorm_forward])
def test_norm_keeps_float32(forward):
    x, gamma, beta, dout = (a.astype(np.float32) for a in oracles.norm_inputs(8, 5, seed=5))
    param = {"mode": "train"}
    out, cache = forward(x, gamma, beta, param)
    assert out.dtype == np.float32
    if forward is batchnorm_forward:
        assert param["running_mean"].dtype == np.float32
        backwards = (batchnorm_backward, batchnorm_backward_alt)
    else:
        backwards = (layernorm_backward,)
    for backward in backwards:
        assert all(g.dtype == np.float32 for g in backward(dout, cache))



NORMS = {  # forward, its backward passes, the forward's parameters
    "batchnorm": (batchnorm_forward, (batchnorm_backward, batchnorm_backward_alt),
                  lambda: {"mode": "train"}),
    "layernorm": (layernorm_forward, (layernorm_backward,), dict),
}


@pytest.mark.parametrize("norm", sorted(NORMS))
def test_norm_passes_leave_their_inputs_alone_and_backward_repeats(norm):
    """What the cache holds is the student's choice; what it must do is not: forward changes
    none of x, gamma, beta; backward changes neither dout nor the cache (a second call gives
    the same gradients)."""
    forward, backwards, param = NORMS[norm]
    x, gamma, beta, dout = oracles.norm_inputs(6, 4, seed=11)
    inputs = [a.copy() for a in (x, gamma, beta, dout)]
    _, cache = forward(x, gamma, beta, param())
    for backward in backwards:
        first = [g.copy() for g in backward(dout, cache)]
        second = backward(dout, cache)
        for a, b in zip(first, second, strict=True):
            assert np.array_equal(a, b), backward.__name__
    for before, after in zip(inputs, (x, gamma, beta, dout), strict=True):
        assert np.array_equal(before, after)


@pytest.mark.parametrize("norm", sorted(NORMS))
def test_norm_backward_depends_only_on_its_own_cache(norm):
    """Backward with the cache of an earlier forward gives that forward's gradients, however
    many forward passes (with other inputs and the same parameter dict) ran in between."""
    forward, backwards, param = NORMS[norm]
    x, gamma, beta, dout = oracles.norm_inputs(5, 3, seed=12)
    params = param()
    _, cache = forward(x, gamma, beta, params)
    expected = [b(dout, cache) for b in backwards]
    for seed in (13, 14):
        x2, gamma2, beta2, _ = oracles.norm_inputs(7, 3, seed=seed)
        forward(x2, gamma2, beta2, params)
    for backward, want in zip(backwards, expected, strict=True):
        for a, b in zip(backward(dout, cache), want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    # (whether they are the right gradients is the gradient tests' business: this item must
    # not fail for a wrong backward formula, see the rubric's `functions`)
