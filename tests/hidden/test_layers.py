"""Tests of the plain layers of assignment/layers.py: affine, ReLU and dropout, against
centred differences (float64) and their conventions (ReLU's subgradient at 0, CS231n's dropout
mask, keep-probability p).

The other layers have files of their own: test_losses.py, test_batchnorm.py,
test_layernorm.py, test_norms.py (what both normalizations share), test_layers_bad_input.py;
their oracles are in layer_oracles.py.
"""

import numpy as np
import pytest

from assignment.gradient_check import eval_numerical_gradient_array
from assignment.layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    relu_backward,
    relu_forward,
)
from tests.hidden import layer_oracles as oracles

# ---------------------------------------------------------------------------------------------
# Affine and ReLU
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("x_shape, M", [((2, 4, 5, 6), 3), ((1, 7), 2), ((5, 3), 1)])
def test_affine_gradients(x_shape, M):
    rng = np.random.RandomState(0)
    x = rng.randn(*x_shape)
    D = int(np.prod(x_shape[1:]))
    w, b = rng.randn(D, M), rng.randn(M)
    dout = rng.randn(x_shape[0], M)
    out, cache = affine_forward(x, w, b)
    np.testing.assert_allclose(out, x.reshape(x_shape[0], D) @ w + b, rtol=1e-12)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape
    numeric = oracles.numeric_grads(lambda x, w, b: affine_forward(x, w, b)[0], [x, w, b], dout)
    oracles.assert_grads_close([dx, dw, db], numeric)


def test_relu_gradients_and_subgradient_at_zero():
    rng = np.random.RandomState(1)
    x = rng.randn(6, 7)
    x[np.abs(x) < 1e-3] = 0.5  # keep the finite differences away from the kink ...
    x[0, :3] = 0.0  # ... except at these exact zeros
    dout = rng.randn(*x.shape)
    out, cache = relu_forward(x)
    assert np.array_equal(out, np.where(x > 0, x, 0.0))
    dx = relu_backward(dout, cache)
    assert np.all(dx[0, :3] == 0), "the subgradient at exactly 0 is 0"
    numeric = eval_numerical_gradient_array(lambda x: relu_forward(x)[0], x, dout)
    away = x != 0
    np.testing.assert_allclose(dx[away], numeric[away], rtol=1e-8, atol=1e-10)



# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.25, 0.4, 0.7])
def test_dropout_keeps_fraction_p_and_preserves_mean(p):
    x = np.random.RandomState(8).randn(1000, 1000) + 10
    out, _ = dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    kept = np.mean(out != 0)
    assert abs(kept - p) < 0.01
    assert out.mean() == pytest.approx(x.mean(), rel=0.01)
    out_test, _ = dropout_forward(x, {"mode": "test", "p": p})
    assert out_test is x or np.array_equal(out_test, x)


def test_dropout_seed_gives_cs231n_mask():
    x = np.random.RandomState(9).randn(30, 40)
    param = {"mode": "train", "p": 0.3, "seed": 42}
    out1, (_, mask1) = dropout_forward(x, param)
    out2, (_, mask2) = dropout_forward(x, param)
    assert np.array_equal(mask1, mask2) and np.array_equal(out1, out2)
    expected = (np.random.RandomState(42).rand(*x.shape) < 0.3) / 0.3  # CS231n's draw
    assert np.array_equal(mask1, expected)
    out3, _ = dropout_forward(x, {"mode": "train", "p": 0.3, "seed": 43})
    assert not np.array_equal(out1, out3)


def test_dropout_p1_is_identity():
    x = np.random.RandomState(10).randn(7, 9)
    out, cache = dropout_forward(x, {"mode": "train", "p": 1})
    assert np.array_equal(out, x)
    dout = np.random.RandomState(11).randn(7, 9)
    assert np.array_equal(dropout_backward(dout, cache), dout)


@pytest.mark.parametrize("shape, p", [((10, 10), 0.2), ((3, 4, 5), 0.6)])
def test_dropout_gradients(shape, p):
    rng = np.random.RandomState(12)
    x, dout = rng.randn(*shape) + 10, rng.randn(*shape)
    param = {"mode": "train", "p": p, "seed": 0}
    _, cache = dropout_forward(x, param)
    dx = dropout_backward(dout, cache)
    numeric = eval_numerical_gradient_array(lambda x: dropout_forward(x, param)[0], x, dout)
    np.testing.assert_allclose(dx, numeric, rtol=1e-8, atol=1e-10)
    _, cache = dropout_forward(x, {"mode": "test", "p": p})
    assert np.array_equal(dropout_backward(dout, cache), dout)


def test_dropout_keeps_float32():
    x = np.ones((4, 5), dtype=np.float32)
    out, cache = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 1})
    assert out.dtype == np.float32
    assert dropout_backward(np.ones_like(x), cache).dtype == np.float32
