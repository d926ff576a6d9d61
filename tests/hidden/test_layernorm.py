"""Tests of layer normalization in assignment/layers.py: layernorm_forward (per-row
statistics, the same in both modes) and layernorm_backward against centred differences
(float64) and PyTorch (see layer_oracles.py).

What layernorm shares with batchnorm (float32 kept, inputs untouched, backward from its own
cache): test_norms.py."""

import numpy as np
import pytest

from assignment.layers import layernorm_backward, layernorm_forward
from tests.hidden import layer_oracles as oracles


@pytest.mark.parametrize("N, D", [(3, 2), (4, 5), (6, 11), (1, 3)])
def test_layernorm_gradients(N, D):
    rng = np.random.RandomState(N + 10 * D)
    x, gamma, beta, dout = rng.randn(N, D) * 3 - 1, rng.randn(D), rng.randn(D), rng.randn(N, D)
    _, cache = layernorm_forward(x, gamma, beta, {})
    analytic = layernorm_backward(dout, cache)

    def forward(x, gamma, beta):
        return layernorm_forward(x, gamma, beta, {})[0]

    oracles.assert_grads_close(analytic, oracles.numeric_grads(forward, [x, gamma, beta], dout))


def test_layernorm_normalizes_rows_and_ignores_mode():
    rng = np.random.RandomState(6)
    x = rng.randn(5, 40) * 3 + np.arange(5)[:, None]
    ones, zeros = np.ones(40), np.zeros(40)
    out, _ = layernorm_forward(x, ones, zeros, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, rtol=1e-5)
    out_test, _ = layernorm_forward(x, ones, zeros, {"mode": "test"})
    assert np.array_equal(out, out_test)


@pytest.mark.parametrize("case", sorted(oracles.reference_cases("ln_")))
def test_layernorm_matches_pytorch(case):
    ref = oracles.reference_cases("ln_")[case]
    out, cache = layernorm_forward(ref["x"], ref["gamma"], ref["beta"], {})
    oracles.assert_reference(out, ref["out"])
    oracles.assert_reference_grads(layernorm_backward(ref["dout"], cache), ref)
