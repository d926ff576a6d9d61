"""Tests of assignment/fc_net.py: parameters, CS231n's random draws, gradients, bad input."""

import itertools

import numpy as np
import pytest

from assignment.fc_net import FullyConnectedNet
from assignment.gradient_check import eval_numerical_gradient

NORMALIZATIONS = [None, "batchnorm", "layernorm"]


def small_problem(N=3, D=5, C=4, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(N, D), rng.randint(C, size=N)


def test_parameters_shapes_and_dtype():
    model = FullyConnectedNet([7, 6], input_dim=5, num_classes=4, normalization="batchnorm")
    expected = {"W1": (5, 7), "b1": (7,), "gamma1": (7,), "beta1": (7,), "W2": (7, 6),
                "b2": (6,), "gamma2": (6,), "beta2": (6,), "W3": (6, 4), "b3": (4,)}
    assert {k: v.shape for k, v in model.params.items()} == expected
    assert all(v.dtype == np.float32 for v in model.params.values())
    assert np.all(model.params["gamma1"] == 1) and np.all(model.params["beta2"] == 0)
    assert model.num_layers == 3 and len(model.bn_params) == 2
    plain = FullyConnectedNet([7], input_dim=5, num_classes=4)
    assert sorted(plain.params) == ["W1", "W2", "b1", "b2"]
    assert plain.dropout_param == {} and plain.bn_params == [] and not plain.use_dropout


def test_weights_follow_cs231n_draw_order():
    np.random.seed(231)
    model = FullyConnectedNet([3, 4], input_dim=2, num_classes=5, weight_scale=0.5,
                              normalization="layernorm", dtype=np.float64)
    np.random.seed(231)
    for i, shape in enumerate([(2, 3), (3, 4), (4, 5)], start=1):
        np.testing.assert_array_equal(model.params[f"W{i}"], 0.5 * np.random.randn(*shape))


def test_cs231n_published_initial_losses():
    """The FullyConnectedNets notebook's gradient-check cell prints these two losses."""
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    losses = []
    for reg in [0, 3.14]:
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                  weight_scale=5e-2, dtype=np.float64)
        losses.append(model.loss(X, y)[0])
    np.testing.assert_allclose(losses, [2.3004790897684924, 7.052114776533016], rtol=1e-12)


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_initial_loss_is_log_num_classes(normalization):
    rng = np.random.RandomState(1)
    X, y = rng.randn(100, 50), rng.randint(10, size=100)
    model = FullyConnectedNet([40, 30], input_dim=50, num_classes=10, weight_scale=1e-3,
                              normalization=normalization, dtype=np.float64)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(np.log(10), abs=0.02)


@pytest.mark.parametrize(
    "normalization, keep, reg",
    list(itertools.product(NORMALIZATIONS, [1, 0.6], [0.0, 1.7])),
)
def test_gradients_of_every_parameter(normalization, keep, reg):
    X, y = small_problem(N=4)
    np.random.seed(2)
    model = FullyConnectedNet([10, 7], input_dim=5, num_classes=4, dropout_keep_ratio=keep,
                              normalization=normalization, reg=reg, weight_scale=0.5,
                              dtype=np.float64, seed=123)
    # (The seeds are chosen so that no example has all first-layer units dead: its
    # second-layer pre-activations would then be b2 = 0, exactly on ReLU's kink.)
    loss, grads = model.loss(X, y)
    assert sorted(grads) == sorted(model.params)
    for name in sorted(grads):
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name],
                                          verbose=False, h=1e-5)
        # Biases before a batchnorm get a gradient of exactly 0 (the mean is subtracted), so
        # compare with an absolute floor rather than relative error alone.
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def test_regularization_adds_half_sum_of_squared_weights_only():
    X, y = small_problem()
    np.random.seed(3)
    model = FullyConnectedNet([6], input_dim=5, num_classes=4, normalization="batchnorm",
                              dtype=np.float64)
    loss0, grads0 = model.loss(X, y)
    model.reg = 2.0
    loss2, grads2 = model.loss(X, y)
    W1, W2 = model.params["W1"], model.params["W2"]
    assert loss2 - loss0 == pytest.approx(0.5 * 2.0 * (np.sum(W1**2) + np.sum(W2**2)))
    np.testing.assert_allclose(grads2["W1"] - grads0["W1"], 2.0 * W1, rtol=1e-10)
    for name in ("gamma1", "beta1", "b1", "b2"):
        np.testing.assert_array_equal(grads2[name], grads0[name])


def test_test_mode_scores_and_modes():
    X, y = small_problem(N=6)
    model = FullyConnectedNet([6], input_dim=5, num_classes=4, dropout_keep_ratio=0.5,
                              normalization="batchnorm", dtype=np.float64)
    model.loss(X, y)
    assert model.dropout_param["mode"] == "train" and model.bn_params[0]["mode"] == "train"
    running_mean = model.bn_params[0]["running_mean"].copy()
    scores = model.loss(X)
    assert scores.shape == (6, 4)
    assert model.dropout_param["mode"] == "test" and model.bn_params[0]["mode"] == "test"
    np.testing.assert_array_equal(model.bn_params[0]["running_mean"], running_mean)
    np.testing.assert_array_equal(model.loss(X), scores)  # deterministic at test time


def test_float32_model_computes_in_float32():
    X, y = small_problem()
    model = FullyConnectedNet([6], input_dim=5, num_classes=4, normalization="layernorm")
    assert model.loss(X).dtype == np.float32
    _, grads = model.loss(X, y)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_dropout_seed_makes_loss_reproducible():
    X, y = small_problem(N=8)
    np.random.seed(4)
    model = FullyConnectedNet([20], input_dim=5, num_classes=4, dropout_keep_ratio=0.5,
                              dtype=np.float64, seed=7)
    assert model.loss(X, y)[0] == model.loss(X, y)[0]
    assert model.dropout_param == {"mode": "train", "p": 0.5, "seed": 7}


@pytest.mark.parametrize("kwargs, error, message", [
    ({"normalization": "groupnorm"}, ValueError,
     r"normalization is 'groupnorm', expected one of \(None, 'batchnorm', 'layernorm'\)"),
    ({"dropout_keep_ratio": 0}, ValueError, r"dropout_keep_ratio is 0, expected a number in"),
    ({"dropout_keep_ratio": 1.5}, ValueError, r"dropout_keep_ratio is 1.5"),
    ({"hidden_dims": [5, 0]}, ValueError, r"hidden_dims\[1\] is 0, expected a positive int"),
    ({"hidden_dims": 5}, TypeError, r"hidden_dims is int, expected a list"),
    ({"input_dim": 2.5}, ValueError, r"input_dim is 2.5, expected a positive int"),
    ({"dtype": np.int32}, TypeError, r"dtype is int32, expected a floating dtype"),
    ({"reg": -1}, ValueError, r"reg is -1, expected a number >= 0"),
])
def test_bad_constructor_arguments(kwargs, error, message):
    args = {"hidden_dims": [5], "input_dim": 4, "num_classes": 3, **kwargs}
    with pytest.raises(error, match=message):
        FullyConnectedNet(**args)


def test_bad_loss_input():
    model = FullyConnectedNet([5], input_dim=4, num_classes=3)
    with pytest.raises(ValueError, match=r"x has shape \(2, 5\).*expected D=4"):
        model.loss(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"non-empty batch"):
        model.loss(np.ones((0, 4)))
    with pytest.raises(TypeError, match=r"X must be a numpy array, got list"):
        model.loss([[1.0, 2.0, 3.0, 4.0]])
    with pytest.raises(ValueError, match=r"y has labels in \[0, 3\], expected values in"):
        model.loss(np.ones((2, 4)), np.array([0, 3]))
