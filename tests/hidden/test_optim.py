"""Tests for assignment/optim.py: two update steps of every rule against hand-written formulas.

The expected values are computed element by element with Python floats and ``math``, written
out from the textbook formulas, so they do not share code or vectorisation with the rules.
"""

import math

import numpy as np
import pytest

from assignment import optim

W0 = [0.5, -1.25, 2.0, 0.0, -0.3, 1e-3]
DW1 = [0.1, -0.4, 0.0, 2.5, -1e-4, 0.3]
DW2 = [-0.2, 0.3, 1.5, -0.5, 7e-5, 0.3]


def _arrays():
    w = np.array(W0).reshape(2, 3)
    return w, np.array(DW1).reshape(2, 3), np.array(DW2).reshape(2, 3)


def _flat(a):
    return [float(x) for x in np.asarray(a).ravel()]


def _close(actual, expected):
    np.testing.assert_allclose(_flat(actual), expected, rtol=1e-12, atol=1e-15)


def test_sgd_two_steps():
    w, dw1, dw2 = _arrays()
    lr = 0.05
    w1, config = optim.sgd(w, dw1, {"learning_rate": lr})
    w2, config = optim.sgd(w1, dw2, config)
    expected1 = [w_i - lr * g for w_i, g in zip(W0, DW1, strict=True)]
    expected2 = [w_i - lr * g for w_i, g in zip(expected1, DW2, strict=True)]
    _close(w1, expected1)
    _close(w2, expected2)
    assert config == {"learning_rate": lr}


def test_sgd_momentum_two_steps():
    w, dw1, dw2 = _arrays()
    lr, mu = 0.1, 0.8
    w1, config = optim.sgd_momentum(w, dw1, {"learning_rate": lr, "momentum": mu})
    w2, config = optim.sgd_momentum(w1, dw2, config)

    # step 1 from v = 0, step 2 from the velocity of step 1
    v1 = [mu * 0.0 - lr * g for g in DW1]
    e1 = [w_i + v for w_i, v in zip(W0, v1, strict=True)]
    v2 = [mu * v - lr * g for v, g in zip(v1, DW2, strict=True)]
    e2 = [w_i + v for w_i, v in zip(e1, v2, strict=True)]
    _close(w1, e1)
    _close(w2, e2)
    _close(config["velocity"], v2)


def test_rmsprop_two_steps():
    w, dw1, dw2 = _arrays()
    lr, rho, eps = 0.01, 0.9, 1e-6
    w1, config = optim.rmsprop(w, dw1, {"learning_rate": lr, "decay_rate": rho, "epsilon": eps})
    w2, config = optim.rmsprop(w1, dw2, config)

    c1 = [rho * 0.0 + (1 - rho) * g * g for g in DW1]
    e1 = [w_i - lr * g / (math.sqrt(c) + eps) for w_i, g, c in zip(W0, DW1, c1, strict=True)]
    c2 = [rho * c + (1 - rho) * g * g for c, g in zip(c1, DW2, strict=True)]
    e2 = [w_i - lr * g / (math.sqrt(c) + eps) for w_i, g, c in zip(e1, DW2, c2, strict=True)]
    _close(w1, e1)
    _close(w2, e2)
    _close(config["cache"], c2)


def _adam_expected(w, grads, lr, b1, b2, eps, t0=0, m0=None, v0=None):
    """Adam, element by element: t is incremented before it is used."""
    m = list(m0) if m0 is not None else [0.0] * len(w)
    v = list(v0) if v0 is not None else [0.0] * len(w)
    t = t0
    steps = []
    for g in grads:
        t += 1
        m = [b1 * m_i + (1 - b1) * g_i for m_i, g_i in zip(m, g, strict=True)]
        v = [b2 * v_i + (1 - b2) * g_i * g_i for v_i, g_i in zip(v, g, strict=True)]
        w = [
            w_i - lr * (m_i / (1 - b1**t)) / (math.sqrt(v_i / (1 - b2**t)) + eps)
            for w_i, m_i, v_i in zip(w, m, v, strict=True)
        ]
        steps.append(w)
    return steps, m, v, t


def test_adam_two_steps():
    w, dw1, dw2 = _arrays()
    lr, b1, b2, eps = 0.02, 0.8, 0.95, 1e-7
    w1, config = optim.adam(
        w, dw1, {"learning_rate": lr, "beta1": b1, "beta2": b2, "epsilon": eps}
    )
    w2, config = optim.adam(w1, dw2, config)
    (e1, e2), m, v, t = _adam_expected(W0, [DW1, DW2], lr, b1, b2, eps)
    _close(w1, e1)
    _close(w2, e2)
    _close(config["m"], m)
    _close(config["v"], v)
    assert config["t"] == t == 2


def test_adam_continues_from_given_state():
    """As in the CS231n notebook: t, m, v given in the config (t=5 -> first update uses 6)."""
    w, dw1, dw2 = _arrays()
    m0 = [0.1 * i for i in range(6)]
    v0 = [0.05 * (i + 1) for i in range(6)]
    config = {"learning_rate": 1e-2, "m": np.array(m0).reshape(2, 3),
              "v": np.array(v0).reshape(2, 3), "t": 5}
    w1, config = optim.adam(w, dw1, config)
    w2, config = optim.adam(w1, dw2, config)
    (e1, e2), m, v, t = _adam_expected(W0, [DW1, DW2], 1e-2, 0.9, 0.999, 1e-8, 5, m0, v0)
    _close(w1, e1)
    _close(w2, e2)
    assert config["t"] == t == 7


@pytest.mark.parametrize(
    "rule, defaults",
    [
        ("sgd", {"learning_rate": 1e-2}),
        ("sgd_momentum", {"learning_rate": 1e-2, "momentum": 0.9}),
        ("rmsprop", {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}),
        ("adam", {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
    ],
)
def test_defaults_filled_in(rule, defaults):
    w, dw1, _ = _arrays()
    next_w, config = getattr(optim, rule)(w, dw1)
    for key, value in defaults.items():
        assert config[key] == value, key
    # an explicit config with the defaults gives the same step as config=None
    explicit_w, _ = getattr(optim, rule)(w, dw1, dict(defaults))
    np.testing.assert_array_equal(next_w, explicit_w)


def test_adam_default_state_starts_at_t_zero():
    """t starts at 0 and is incremented first: the first step is lr * g / (|g| + eps)."""
    w, dw1, _ = _arrays()
    next_w, config = optim.adam(w, dw1)
    assert config["t"] == 1
    expected = [w_i - 1e-3 * g / (abs(g) + 1e-8) for w_i, g in zip(W0, DW1, strict=True)]
    _close(next_w, expected)


@pytest.mark.parametrize("rule", optim.UPDATE_RULES)
def test_inputs_not_modified_and_dtype_kept(rule):
    w, dw1, _ = _arrays()
    w32, dw32 = w.astype(np.float32), dw1.astype(np.float32)
    w_before, dw_before = w32.copy(), dw32.copy()
    next_w, config = getattr(optim, rule)(w32, dw32, {"learning_rate": 0.1})
    np.testing.assert_array_equal(w32, w_before)
    np.testing.assert_array_equal(dw32, dw_before)
    assert next_w.dtype == np.float32
    assert next_w.shape == w32.shape
    assert not np.array_equal(next_w, w32)


@pytest.mark.parametrize("rule", optim.UPDATE_RULES)
def test_shape_mismatch_is_value_error(rule):
    w = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"dw has shape \(3, 2\).*\(2, 3\)"):
        getattr(optim, rule)(w, np.zeros((3, 2)))


@pytest.mark.parametrize("rule", optim.UPDATE_RULES)
def test_unknown_config_key_is_value_error(rule):
    w = np.zeros(3)
    with pytest.raises(ValueError, match=r"unknown config key\(s\) 'learnig_rate'.*learning_rate"):
        getattr(optim, rule)(w, np.ones(3), {"learnig_rate": 0.1})


def test_config_must_be_dict():
    with pytest.raises(TypeError, match="config must be a dict"):
        optim.sgd(np.zeros(3), np.ones(3), [("learning_rate", 0.1)])


@pytest.mark.parametrize(
    "rule, key", [("sgd_momentum", "velocity"), ("rmsprop", "cache"), ("adam", "m"), ("adam", "v")]
)
def test_state_of_wrong_shape_is_value_error(rule, key):
    """A config shared between two parameters of different shapes is caught."""
    with pytest.raises(ValueError, match=rf"config\['{key}'\] has shape \(4,\)"):
        getattr(optim, rule)(np.zeros(3), np.ones(3), {key: np.zeros(4)})


def test_momentum_zero_is_sgd():
    w, dw1, _ = _arrays()
    a, _ = optim.sgd_momentum(w, dw1, {"learning_rate": 0.3, "momentum": 0.0})
    b, _ = optim.sgd(w, dw1, {"learning_rate": 0.3})
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
