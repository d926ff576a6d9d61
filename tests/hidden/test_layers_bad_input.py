"""Tests of the bad input that every function of assignment/layers.py reports clearly: a
TypeError or ValueError naming the argument, what it got and what was expected."""

import numpy as np
import pytest

from assignment import layers

X = np.ones((4, 3))
G3 = np.ones(3)


def bn_cache():
    return layers.batchnorm_forward(np.arange(12.0).reshape(4, 3), G3, G3, {"mode": "train"})[1]


BAD_CALLS = {
    # wrong shapes: x vs gamma/beta/w/b
    "bn gamma shape": (lambda: layers.batchnorm_forward(X, np.ones(4), G3, {"mode": "train"}),
                       ValueError, r"gamma has shape \(4,\), expected \(3,\)"),
    "bn beta shape": (lambda: layers.batchnorm_forward(X, G3, np.ones((1, 3)), {"mode": "train"}),
                      ValueError, r"beta has shape \(1, 3\), expected \(3,\)"),
    "bn x 1-d": (lambda: layers.batchnorm_forward(G3, G3, G3, {"mode": "train"}),
                 ValueError, r"x has shape \(3,\) \(1 dims\), expected 2 dims"),
    "ln gamma shape": (lambda: layers.layernorm_forward(X, np.ones(2), G3, {}),
                       ValueError, r"gamma has shape \(2,\), expected \(3,\)"),
    "affine w shape": (lambda: layers.affine_forward(X, np.ones((4, 2)), np.ones(2)),
                       ValueError, r"x has shape \(4, 3\).*expected D=4"),
    "affine b shape": (lambda: layers.affine_forward(X, np.ones((3, 2)), np.ones(3)),
                       ValueError, r"b has shape \(3,\), expected \(2,\)"),
    "running_mean shape": (lambda: layers.batchnorm_forward(
        X, G3, G3, {"mode": "train", "running_mean": np.zeros(2)}),
        ValueError, r"running_mean'\] has shape \(2,\), expected \(3,\)"),
    # wrong shapes: dout vs cache
    # (the norm caches are the student's design: dout is checked on its own, not against them)
    "bn dout 1-d": (lambda: layers.batchnorm_backward(np.ones(3), bn_cache()),
                    ValueError, r"dout has shape \(3,\) \(1 dims\), expected 2 dims"),
    "bn alt dout list": (lambda: layers.batchnorm_backward_alt([[1.0, 2.0, 3.0]], bn_cache()),
                         TypeError, r"dout must be a numpy array, got list"),
    "ln dout int": (lambda: layers.layernorm_backward(
        np.ones((4, 3), dtype=int), layers.layernorm_forward(X, G3, G3, {})[1]),
        TypeError, r"dout has dtype int64, expected a floating dtype"),
    "affine dout shape": (lambda: layers.affine_backward(
        np.ones((4, 3)), layers.affine_forward(X, np.ones((3, 2)), np.ones(2))[1]),
        ValueError, r"dout has shape \(4, 3\), expected \(4, 2\)"),
    "relu dout shape": (lambda: layers.relu_backward(np.ones(3), layers.relu_forward(X)[1]),
                        ValueError, r"dout has shape \(3,\), expected \(4, 3\)"),
    "dropout dout shape": (lambda: layers.dropout_backward(
        np.ones(3), layers.dropout_forward(X, {"mode": "train", "p": 0.5})[1]),
        ValueError, r"dout has shape \(3,\), expected \(4, 3\)"),
    "bn test-mode cache": (lambda: layers.batchnorm_backward(X, None), TypeError,
                           r"cache is None, expected .* batchnorm_forward in train mode"),
    "ln no cache": (lambda: layers.layernorm_backward(X, None), TypeError,
                    r"cache is None, expected the cache returned by layernorm_forward; if"),
    # unknown / missing mode, unknown keys
    "bn unknown mode": (lambda: layers.batchnorm_forward(X, G3, G3, {"mode": "eval"}),
                        ValueError, r"bn_param\['mode'\] is 'eval', expected 'train' or 'test'"),
    "bn missing mode": (lambda: layers.batchnorm_forward(X, G3, G3, {}),
                        ValueError, r"bn_param is missing the required key 'mode'"),
    "bn unknown key": (lambda: layers.batchnorm_forward(X, G3, G3, {"mode": "train", "epsilon": 1}),
                       ValueError, r"bn_param has unknown key\(s\) \['epsilon'\]"),
    "bn_param not dict": (lambda: layers.batchnorm_forward(X, G3, G3, "train"),
                          TypeError, r"bn_param must be a dict, got str"),
    # hyperparameters outside their range
    "bn eps<0": (lambda: layers.batchnorm_forward(X, G3, G3, {"mode": "test", "eps": -1e-5}),
                 ValueError, r"bn_param\['eps'\] is -1e-05, expected a number in \[0, inf\]"),
    "bn momentum>1": (lambda: layers.batchnorm_forward(
        X, G3, G3, {"mode": "train", "momentum": 1.1}),
                      ValueError, r"bn_param\['momentum'\] is 1.1, expected a number in \[0, 1\]"),
    "bn momentum str": (lambda: layers.batchnorm_forward(
        X, G3, G3, {"mode": "train", "momentum": "0.9"}),
                        ValueError, r"bn_param\['momentum'\] is '0.9'"),
    "ln eps nan": (lambda: layers.layernorm_forward(X, G3, G3, {"eps": float("nan")}),
                   ValueError, r"ln_param\['eps'\] is nan, expected a number in \[0, inf\]"),
    "ln unknown mode": (lambda: layers.layernorm_forward(X, G3, G3, {"mode": "predict"}),
                        ValueError, r"ln_param\['mode'\] is 'predict'"),
    "ln unknown key": (lambda: layers.layernorm_forward(X, G3, G3, {"momentum": 0.9}),
                       ValueError, r"ln_param has unknown key\(s\) \['momentum'\]"),
    "dropout unknown mode": (lambda: layers.dropout_forward(X, {"mode": "Train", "p": 0.5}),
                             ValueError, r"dropout_param\['mode'\] is 'Train'"),
    "dropout missing mode": (lambda: layers.dropout_forward(X, {"p": 0.5}),
                             ValueError, r"dropout_param is missing the required key 'mode'"),
    "dropout missing p": (lambda: layers.dropout_forward(X, {"mode": "train"}),
                          ValueError, r"dropout_param is missing the required key 'p'"),
    # p outside (0, 1]
    "dropout p=0": (lambda: layers.dropout_forward(X, {"mode": "train", "p": 0}),
                    ValueError, r"dropout_param\['p'\] is 0, expected a number in \(0, 1\]"),
    "dropout p>1": (lambda: layers.dropout_forward(X, {"mode": "train", "p": 1.5}),
                    ValueError, r"dropout_param\['p'\] is 1.5, expected a number in \(0, 1\]"),
    "dropout p<0": (lambda: layers.dropout_forward(X, {"mode": "test", "p": -0.2}),
                    ValueError, r"dropout_param\['p'\] is -0.2"),
    "dropout p str": (lambda: layers.dropout_forward(X, {"mode": "test", "p": "0.5"}),
                      ValueError, r"dropout_param\['p'\] is '0.5'"),
    # non-float input
    "affine int x": (lambda: layers.affine_forward(np.ones((4, 3), dtype=int), np.ones((3, 2)),
                                            np.ones(2)), TypeError, r"x has dtype int64"),
    "relu list": (lambda: layers.relu_forward([1.0, -1.0]), TypeError,
                  r"x must be a numpy array, got list"),
    "bn int x": (lambda: layers.batchnorm_forward(np.ones((4, 3), dtype=np.int32), G3, G3,
                                           {"mode": "train"}), TypeError, r"x has dtype int32"),
    "ln bool x": (lambda: layers.layernorm_forward(np.ones((4, 3), dtype=bool), G3, G3, {}),
                  TypeError, r"x has dtype bool, expected a floating dtype"),
    "dropout int x": (lambda: layers.dropout_forward(np.ones((4, 3), dtype=int), {"mode": "test",
                                                                          "p": 0.5}),
                      TypeError, r"x has dtype int64"),
    "softmax int x": (lambda: layers.softmax_loss(np.ones((2, 3), dtype=int),
                                                  np.zeros(2, dtype=int)),
                      TypeError, r"x has dtype int64"),
    "softmax float y": (lambda: layers.softmax_loss(np.ones((2, 3)), np.zeros(2)),
                        TypeError, r"y has type/dtype float64, expected an integer"),
    "svm y range": (lambda: layers.svm_loss(np.ones((2, 3)), np.array([0, 3])),
                    ValueError, r"y has labels in \[0, 3\], expected values in \[0, 2\]"),
    "softmax y shape": (lambda: layers.softmax_loss(np.ones((2, 3)), np.zeros(3, dtype=int)),
                        ValueError, r"y has shape \(3,\), expected \(2,\)"),
    # empty batch
    "bn empty": (lambda: layers.batchnorm_forward(np.ones((0, 3)), G3, G3, {"mode": "train"}),
                 ValueError, r"x has shape \(0, 3\), expected a non-empty batch"),
    "ln empty": (lambda: layers.layernorm_forward(np.ones((0, 3)), G3, G3, {}),
                 ValueError, r"x has shape \(0, 3\), expected a non-empty batch"),
    "affine empty": (lambda: layers.affine_forward(np.ones((0, 3)), np.ones((3, 2)), np.ones(2)),
                     ValueError, r"non-empty batch"),
    "dropout empty": (lambda: layers.dropout_forward(np.ones((0, 3)), {"mode": "train", "p": 0.5}),
                      ValueError, r"non-empty batch"),
    "softmax empty": (lambda: layers.softmax_loss(np.ones((0, 3)), np.zeros(0, dtype=int)),
                      ValueError, r"non-empty batch"),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_input_is_reported_clearly(name):
    call, error, message = BAD_CALLS[name]
    with pytest.raises(error, match=message):
        call()
