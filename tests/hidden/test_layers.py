"""Tests of assignment/layers.py: every backward against oracles, conventions, bad input.

Oracles: centred differences in float64 (assignment.gradient_check, itself tested in
test_gradient_check.py) on seeded shapes with edge cases, and PyTorch's outputs and gradients
stored in tests/fixtures/reference.npz by tests/fixtures/make_reference.py (torch is not needed
to run these tests).
"""

from pathlib import Path

import numpy as np
import pytest

from assignment.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from assignment.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "reference.npz"


def numeric_grads(forward, inputs, dout):
    """Centred-difference gradients of sum(forward(*inputs) * dout) w.r.t. each input."""
    grads = []
    for i in range(len(inputs)):
        def f(xi, i=i):
            args = list(inputs)
            args[i] = xi
            return forward(*args)
        grads.append(eval_numerical_gradient_array(f, inputs[i], dout))
    return grads


def assert_grads_close(analytic, numeric, rtol=1e-6, atol=1e-8):
    for a, n in zip(analytic, numeric, strict=True):
        assert a.shape == n.shape
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol)


def reference_cases(prefix):
    """Dicts of arrays, one per case of reference.npz whose name starts with ``prefix``."""
    with np.load(REFERENCE) as data:
        names = [str(c) for c in data["cases"] if str(c).startswith(prefix)]
        return {name: {k.split("/", 1)[1]: data[k] for k in data.files
                       if k.startswith(name + "/")} for name in names}


def assert_reference(actual, expected):
    """Compare at 1e-10 relative (values are O(1); the absolute floor covers exact zeros)."""
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


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
    numeric = numeric_grads(lambda x, w, b: affine_forward(x, w, b)[0], [x, w, b], dout)
    assert_grads_close([dx, dw, db], numeric)


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
# Losses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
@pytest.mark.parametrize("N, C", [(10, 6), (1, 2), (4, 10)])
def test_loss_gradients(loss_fn, N, C):
    rng = np.random.RandomState(N * C)
    x = rng.randn(N, C)
    y = rng.randint(C, size=N)
    _, dx = loss_fn(x, y)
    numeric = eval_numerical_gradient(lambda x: loss_fn(x, y)[0], x, verbose=False)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-9)


def test_losses_of_uninformative_scores():
    N, C = 50, 10
    x = 1e-6 * np.random.RandomState(2).randn(N, C)
    y = np.arange(N) % C
    assert softmax_loss(x, y)[0] == pytest.approx(np.log(C), abs=1e-5)
    assert svm_loss(x, y)[0] == pytest.approx(C - 1, abs=1e-4)


@pytest.mark.parametrize("case", sorted(reference_cases("loss_")))
def test_losses_match_pytorch(case):
    ref = reference_cases("loss_")[case]
    loss, dx = softmax_loss(ref["x"], ref["y"])
    assert np.isfinite(loss)
    assert_reference(loss, ref["softmax_loss"])
    assert_reference(dx, ref["softmax_dx"])
    loss, dx = svm_loss(ref["x"], ref["y"])
    assert_reference(loss, ref["svm_loss"])
    assert_reference(dx, ref["svm_dx"])


# ---------------------------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------------------------


def bn_inputs(N, D, seed):
    rng = np.random.RandomState(seed)
    return rng.randn(N, D) * 4 + 3, rng.randn(D), rng.randn(D), rng.randn(N, D)


def assert_batchnorm_gradients(backward, N, D):
    """``backward`` (the staged or the simplified pass) against numeric gradients."""
    x, gamma, beta, dout = bn_inputs(N, D, seed=N + D)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    analytic = backward(dout, cache)

    def forward(x, gamma, beta):
        return batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    assert_grads_close(analytic, numeric_grads(forward, [x, gamma, beta], dout))


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
    x, gamma, beta, dout = bn_inputs(N, D, seed=7)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    staged = batchnorm_backward(dout, cache)
    alt = batchnorm_backward_alt(dout, cache)
    for s, a in zip(staged, alt, strict=True):
        # 1e-12 relative, with an absolute floor for entries that cancel to ~0
        np.testing.assert_allclose(a, s, rtol=1e-12, atol=1e-12 * np.abs(s).max())


def test_batchnorm_normalizes_and_scales():
    x, _, _, _ = bn_inputs(200, 30, seed=3)
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


@pytest.mark.parametrize("case", sorted(reference_cases("bn_train_")))
def test_batchnorm_train_matches_pytorch(case):
    ref = reference_cases("bn_train_")[case]
    bn_param = {"mode": "train", "running_mean": ref["running_mean0"],
                "running_var": ref["running_var0"]}
    out, cache = batchnorm_forward(ref["x"], ref["gamma"], ref["beta"], bn_param)
    assert_reference(out, ref["out"])
    assert_reference(bn_param["running_mean"], ref["running_mean"])
    for backward in (batchnorm_backward, batchnorm_backward_alt):
        dx, dgamma, dbeta = backward(ref["dout"], cache)
        assert_reference(dx, ref["dx"])
        assert_reference(dgamma, ref["dgamma"])
        assert_reference(dbeta, ref["dbeta"])


@pytest.mark.parametrize("case", sorted(reference_cases("bn_test_")))
def test_batchnorm_test_mode_matches_pytorch(case):
    ref = reference_cases("bn_test_")[case]
    bn_param = {"mode": "test", "running_mean": ref["running_mean"],
                "running_var": ref["running_var"]}
    out, _ = batchnorm_forward(ref["x"], ref["gamma"], ref["beta"], bn_param)
    assert_reference(out, ref["out"])


@pytest.mark.parametrize("forward", [batchnorm_forward, layernorm_forward])
def test_norm_keeps_float32(forward):
    x, gamma, beta, dout = (a.astype(np.float32) for a in bn_inputs(8, 5, seed=5))
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


# ---------------------------------------------------------------------------------------------
# Layer normalization
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("N, D", [(3, 2), (4, 5), (6, 11), (1, 3)])
def test_layernorm_gradients(N, D):
    rng = np.random.RandomState(N + 10 * D)
    x, gamma, beta, dout = rng.randn(N, D) * 3 - 1, rng.randn(D), rng.randn(D), rng.randn(N, D)
    _, cache = layernorm_forward(x, gamma, beta, {})
    analytic = layernorm_backward(dout, cache)

    def forward(x, gamma, beta):
        return layernorm_forward(x, gamma, beta, {})[0]

    assert_grads_close(analytic, numeric_grads(forward, [x, gamma, beta], dout))


def test_layernorm_normalizes_rows_and_ignores_mode():
    rng = np.random.RandomState(6)
    x = rng.randn(5, 40) * 3 + np.arange(5)[:, None]
    ones, zeros = np.ones(40), np.zeros(40)
    out, _ = layernorm_forward(x, ones, zeros, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, rtol=1e-5)
    out_test, _ = layernorm_forward(x, ones, zeros, {"mode": "test"})
    assert np.array_equal(out, out_test)


@pytest.mark.parametrize("case", sorted(reference_cases("ln_")))
def test_layernorm_matches_pytorch(case):
    ref = reference_cases("ln_")[case]
    out, cache = layernorm_forward(ref["x"], ref["gamma"], ref["beta"], {})
    assert_reference(out, ref["out"])
    dx, dgamma, dbeta = layernorm_backward(ref["dout"], cache)
    assert_reference(dx, ref["dx"])
    assert_reference(dgamma, ref["dgamma"])
    assert_reference(dbeta, ref["dbeta"])


def test_reference_fixture_is_small_and_complete():
    assert REFERENCE.stat().st_size < 200_000
    with np.load(REFERENCE) as data:
        cases = [str(c) for c in data["cases"]]
    for prefix in ("bn_train_", "bn_test_", "ln_", "loss_"):
        assert sum(c.startswith(prefix) for c in cases) >= 2, prefix


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


# ---------------------------------------------------------------------------------------------
# Bad input: TypeError/ValueError naming the argument, what it got and what was expected
# ---------------------------------------------------------------------------------------------

X = np.ones((4, 3))
G3 = np.ones(3)


def bn_cache():
    return batchnorm_forward(np.arange(12.0).reshape(4, 3), G3, G3, {"mode": "train"})[1]


BAD_CALLS = {
    # wrong shapes: x vs gamma/beta/w/b
    "bn gamma shape": (lambda: batchnorm_forward(X, np.ones(4), G3, {"mode": "train"}),
                       ValueError, r"gamma has shape \(4,\), expected \(3,\)"),
    "bn beta shape": (lambda: batchnorm_forward(X, G3, np.ones((1, 3)), {"mode": "train"}),
                      ValueError, r"beta has shape \(1, 3\), expected \(3,\)"),
    "bn x 1-d": (lambda: batchnorm_forward(G3, G3, G3, {"mode": "train"}),
                 ValueError, r"x has shape \(3,\) \(1 dims\), expected 2 dims"),
    "ln gamma shape": (lambda: layernorm_forward(X, np.ones(2), G3, {}),
                       ValueError, r"gamma has shape \(2,\), expected \(3,\)"),
    "affine w shape": (lambda: affine_forward(X, np.ones((4, 2)), np.ones(2)),
                       ValueError, r"x has shape \(4, 3\).*expected D=4"),
    "affine b shape": (lambda: affine_forward(X, np.ones((3, 2)), np.ones(3)),
                       ValueError, r"b has shape \(3,\), expected \(2,\)"),
    "running_mean shape": (lambda: batchnorm_forward(
        X, G3, G3, {"mode": "train", "running_mean": np.zeros(2)}),
        ValueError, r"running_mean'\] has shape \(2,\), expected \(3,\)"),
    # wrong shapes: dout vs cache
    # (the norm caches are the student's design: dout is checked on its own, not against them)
    "bn dout 1-d": (lambda: batchnorm_backward(np.ones(3), bn_cache()),
                    ValueError, r"dout has shape \(3,\) \(1 dims\), expected 2 dims"),
    "bn alt dout list": (lambda: batchnorm_backward_alt([[1.0, 2.0, 3.0]], bn_cache()),
                         TypeError, r"dout must be a numpy array, got list"),
    "ln dout int": (lambda: layernorm_backward(
        np.ones((4, 3), dtype=int), layernorm_forward(X, G3, G3, {})[1]),
        TypeError, r"dout has dtype int64, expected a floating dtype"),
    "affine dout shape": (lambda: affine_backward(
        np.ones((4, 3)), affine_forward(X, np.ones((3, 2)), np.ones(2))[1]),
        ValueError, r"dout has shape \(4, 3\), expected \(4, 2\)"),
    "relu dout shape": (lambda: relu_backward(np.ones(3), relu_forward(X)[1]),
                        ValueError, r"dout has shape \(3,\), expected \(4, 3\)"),
    "dropout dout shape": (lambda: dropout_backward(
        np.ones(3), dropout_forward(X, {"mode": "train", "p": 0.5})[1]),
        ValueError, r"dout has shape \(3,\), expected \(4, 3\)"),
    "bn test-mode cache": (lambda: batchnorm_backward(X, None), TypeError,
                           r"cache is None, expected .* batchnorm_forward in train mode"),
    "ln no cache": (lambda: layernorm_backward(X, None), TypeError,
                    r"cache is None, expected the cache returned by layernorm_forward; if"),
    # unknown / missing mode, unknown keys
    "bn unknown mode": (lambda: batchnorm_forward(X, G3, G3, {"mode": "eval"}),
                        ValueError, r"bn_param\['mode'\] is 'eval', expected 'train' or 'test'"),
    "bn missing mode": (lambda: batchnorm_forward(X, G3, G3, {}),
                        ValueError, r"bn_param is missing the required key 'mode'"),
    "bn unknown key": (lambda: batchnorm_forward(X, G3, G3, {"mode": "train", "epsilon": 1}),
                       ValueError, r"bn_param has unknown key\(s\) \['epsilon'\]"),
    "bn_param not dict": (lambda: batchnorm_forward(X, G3, G3, "train"),
                          TypeError, r"bn_param must be a dict, got str"),
    # hyperparameters outside their range
    "bn eps<0": (lambda: batchnorm_forward(X, G3, G3, {"mode": "test", "eps": -1e-5}),
                 ValueError, r"bn_param\['eps'\] is -1e-05, expected a number in \[0, inf\]"),
    "bn momentum>1": (lambda: batchnorm_forward(X, G3, G3, {"mode": "train", "momentum": 1.1}),
                      ValueError, r"bn_param\['momentum'\] is 1.1, expected a number in \[0, 1\]"),
    "bn momentum str": (lambda: batchnorm_forward(X, G3, G3, {"mode": "train", "momentum": "0.9"}),
                        ValueError, r"bn_param\['momentum'\] is '0.9'"),
    "ln eps nan": (lambda: layernorm_forward(X, G3, G3, {"eps": float("nan")}),
                   ValueError, r"ln_param\['eps'\] is nan, expected a number in \[0, inf\]"),
    "ln unknown mode": (lambda: layernorm_forward(X, G3, G3, {"mode": "predict"}),
                        ValueError, r"ln_param\['mode'\] is 'predict'"),
    "ln unknown key": (lambda: layernorm_forward(X, G3, G3, {"momentum": 0.9}),
                       ValueError, r"ln_param has unknown key\(s\) \['momentum'\]"),
    "dropout unknown mode": (lambda: dropout_forward(X, {"mode": "Train", "p": 0.5}),
                             ValueError, r"dropout_param\['mode'\] is 'Train'"),
    "dropout missing mode": (lambda: dropout_forward(X, {"p": 0.5}),
                             ValueError, r"dropout_param is missing the required key 'mode'"),
    "dropout missing p": (lambda: dropout_forward(X, {"mode": "train"}),
                          ValueError, r"dropout_param is missing the required key 'p'"),
    # p outside (0, 1]
    "dropout p=0": (lambda: dropout_forward(X, {"mode": "train", "p": 0}),
                    ValueError, r"dropout_param\['p'\] is 0, expected a number in \(0, 1\]"),
    "dropout p>1": (lambda: dropout_forward(X, {"mode": "train", "p": 1.5}),
                    ValueError, r"dropout_param\['p'\] is 1.5, expected a number in \(0, 1\]"),
    "dropout p<0": (lambda: dropout_forward(X, {"mode": "test", "p": -0.2}),
                    ValueError, r"dropout_param\['p'\] is -0.2"),
    "dropout p str": (lambda: dropout_forward(X, {"mode": "test", "p": "0.5"}),
                      ValueError, r"dropout_param\['p'\] is '0.5'"),
    # non-float input
    "affine int x": (lambda: affine_forward(np.ones((4, 3), dtype=int), np.ones((3, 2)),
                                            np.ones(2)), TypeError, r"x has dtype int64"),
    "relu list": (lambda: relu_forward([1.0, -1.0]), TypeError,
                  r"x must be a numpy array, got list"),
    "bn int x": (lambda: batchnorm_forward(np.ones((4, 3), dtype=np.int32), G3, G3,
                                           {"mode": "train"}), TypeError, r"x has dtype int32"),
    "ln bool x": (lambda: layernorm_forward(np.ones((4, 3), dtype=bool), G3, G3, {}),
                  TypeError, r"x has dtype bool, expected a floating dtype"),
    "dropout int x": (lambda: dropout_forward(np.ones((4, 3), dtype=int), {"mode": "test",
                                                                          "p": 0.5}),
                      TypeError, r"x has dtype int64"),
    "softmax int x": (lambda: softmax_loss(np.ones((2, 3), dtype=int), np.zeros(2, dtype=int)),
                      TypeError, r"x has dtype int64"),
    "softmax float y": (lambda: softmax_loss(np.ones((2, 3)), np.zeros(2)),
                        TypeError, r"y has type/dtype float64, expected an integer"),
    "svm y range": (lambda: svm_loss(np.ones((2, 3)), np.array([0, 3])),
                    ValueError, r"y has labels in \[0, 3\], expected values in \[0, 2\]"),
    "softmax y shape": (lambda: softmax_loss(np.ones((2, 3)), np.zeros(3, dtype=int)),
                        ValueError, r"y has shape \(3,\), expected \(2,\)"),
    # empty batch
    "bn empty": (lambda: batchnorm_forward(np.ones((0, 3)), G3, G3, {"mode": "train"}),
                 ValueError, r"x has shape \(0, 3\), expected a non-empty batch"),
    "ln empty": (lambda: layernorm_forward(np.ones((0, 3)), G3, G3, {}),
                 ValueError, r"x has shape \(0, 3\), expected a non-empty batch"),
    "affine empty": (lambda: affine_forward(np.ones((0, 3)), np.ones((3, 2)), np.ones(2)),
                     ValueError, r"non-empty batch"),
    "dropout empty": (lambda: dropout_forward(np.ones((0, 3)), {"mode": "train", "p": 0.5}),
                      ValueError, r"non-empty batch"),
    "softmax empty": (lambda: softmax_loss(np.ones((0, 3)), np.zeros(0, dtype=int)),
                      ValueError, r"non-empty batch"),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_input_is_reported_clearly(name):
    call, error, message = BAD_CALLS[name]
    with pytest.raises(error, match=message):
        call()


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
    x, gamma, beta, dout = bn_inputs(6, 4, seed=11)
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
    x, gamma, beta, dout = bn_inputs(5, 3, seed=12)
    params = param()
    _, cache = forward(x, gamma, beta, params)
    expected = [b(dout, cache) for b in backwards]
    for seed in (13, 14):
        x2, gamma2, beta2, _ = bn_inputs(7, 3, seed=seed)
        forward(x2, gamma2, beta2, params)
    for backward, want in zip(backwards, expected, strict=True):
        for a, b in zip(backward(dout, cache), want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    # (whether they are the right gradients is the gradient tests' business: this item must
    # not fail for a wrong backward formula, see the rubric's `functions`)
