"""Tests of assignment/layer_utils.py: sandwich layers against centred differences (float64)."""

import numpy as np
import pytest

from assignment.gradient_check import eval_numerical_gradient_array
from assignment.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    hidden_layer_backward,
    hidden_layer_forward,
)


def inputs(N=4, d=(3, 2), M=6, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(N, *d)
    D = int(np.prod(d))
    return (x, rng.randn(D, M), rng.randn(M), 1 + 0.1 * rng.randn(M), 0.1 * rng.randn(M),
            rng.randn(N, M))


def check_gradients(forward, args, analytic, dout):
    """Centred differences of sum(forward(*args) * dout) for each array in args."""
    for i, grad in enumerate(analytic):
        def f(a, i=i):
            new = list(args)
            new[i] = a
            return forward(*new)
        numeric = eval_numerical_gradient_array(f, args[i], dout)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8, err_msg=f"input {i}")


def test_affine_relu():
    x, w, b, _, _, dout = inputs()
    out, cache = affine_relu_forward(x, w, b)
    assert np.array_equal(out, np.maximum(0, x.reshape(4, -1) @ w + b))
    fc_cache, relu_cache = cache  # nested: one cache per layer, in forward order
    assert fc_cache[0] is x and relu_cache.shape == out.shape
    grads = affine_relu_backward(dout, cache)
    check_gradients(lambda x, w, b: affine_relu_forward(x, w, b)[0], [x, w, b], grads, dout)


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_affine_norm_relu(normalization):
    x, w, b, gamma, beta, dout = inputs(seed=1)

    def forward(x, w, b, gamma, beta):
        param = {"mode": "train"}
        return affine_norm_relu_forward(x, w, b, gamma, beta, param, normalization)[0]

    _, cache = affine_norm_relu_forward(x, w, b, gamma, beta, {"mode": "train"}, normalization)
    assert len(cache) == 4 and cache[0] == normalization  # (normalization, fc, norm, relu)
    grads = affine_norm_relu_backward(dout, cache)
    assert len(grads) == 5
    check_gradients(forward, [x, w, b, gamma, beta], grads, dout)


def test_affine_batchnorm_relu_updates_running_averages():
    x, w, b, gamma, beta, _ = inputs(N=10, seed=2)
    bn_param = {"mode": "train"}
    affine_norm_relu_forward(x, w, b, gamma, beta, bn_param, "batchnorm")
    a = x.reshape(10, -1) @ w + b
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * a.mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("p", [None, 0.6])
def test_hidden_layer(normalization, p):
    x, w, b, gamma, beta, dout = inputs(seed=3)
    if normalization is None:
        gamma = beta = None

    def params():
        dropout_param = None if p is None else {"mode": "train", "p": p, "seed": 5}
        return {"mode": "train"}, dropout_param

    def forward(x, w, b, gamma=None, beta=None):
        norm_param, dropout_param = params()
        return hidden_layer_forward(x, w, b, normalization=normalization, gamma=gamma,
                                    beta=beta, norm_param=norm_param,
                                    dropout_param=dropout_param)[0]

    norm_param, dropout_param = params()
    out, cache = hidden_layer_forward(x, w, b, normalization=normalization, gamma=gamma,
                                      beta=beta, norm_param=norm_param,
                                      dropout_param=dropout_param)
    assert cache[0] == normalization and (cache[2] is None) == (p is None)
    if p is not None:
        assert 0 < np.mean(out == 0) < 1
    dx, dw, db, dgamma, dbeta = hidden_layer_backward(dout, cache)
    if normalization is None:
        assert dgamma is None and dbeta is None
        check_gradients(forward, [x, w, b], [dx, dw, db], dout)
    else:
        check_gradients(forward, [x, w, b, gamma, beta], [dx, dw, db, dgamma, dbeta], dout)


@pytest.mark.parametrize("call", [
    lambda x, w, b, g, be: affine_norm_relu_forward(x, w, b, g, be, {}, "groupnorm"),
    lambda x, w, b, g, be: affine_norm_relu_forward(x, w, b, g, be, {}, None),
    lambda x, w, b, g, be: hidden_layer_forward(x, w, b, normalization="BatchNorm", gamma=g,
                                                beta=be, norm_param={}),
])
def test_unknown_normalization(call):
    x, w, b, gamma, beta, _ = inputs()
    with pytest.raises(ValueError, match=r"normalization is .*, expected"):
        call(x, w, b, gamma, beta)


def test_backward_rejects_unknown_normalization():
    x, w, b, gamma, beta, dout = inputs()
    _, cache = affine_norm_relu_forward(x, w, b, gamma, beta, {}, "layernorm")
    cache = ("ln", *cache[1:])  # the cache remembers the normalization the forward pass had
    with pytest.raises(ValueError, match=r"normalization is 'ln', expected 'batchnorm' or"):
        affine_norm_relu_backward(dout, cache)
