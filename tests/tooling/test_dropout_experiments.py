"""Tests of assignment/dropout_experiments.py and of the claim checks of Dropout.ipynb 6a, 6c, 6d.

The claim checks are taken from the committed notebook by cell id (as in
test_notebook_plants.py) and run on a small learnable toy problem instead of CIFAR-10: with the
solution every check passes; with a planted, plausible mistake at least one fails.
"""

import contextlib
import io
import time
import types

import matplotlib
import numpy as np
import pytest

from assignment import dropout_experiments, layer_utils, layers, notebook_checks
from assignment.dropout_experiments import (
    batch_statistics,
    monte_carlo_gaps,
    scaled_after_dropout,
    solve,
    solve_all,
    train_network,
    train_networks,
    with_recomputed_statistics,
)
from assignment.fc_net import FullyConnectedNet
from tests.tooling.test_notebook_plants import cell_source, run_cells

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

NOTEBOOK = "Dropout.ipynb"
_DROPOUT_FORWARD = layers.dropout_forward  # the solution's, kept before any planting


def toy_data(num_train=400, num_eval=300, shape=(3, 4, 4), noise=1.6, seed=0):
    """10 classes, each a noisy copy of its own prototype; noisy enough to overfit."""
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((10, *shape)).astype(np.float32)

    def split(n):
        y = rng.integers(10, size=n)
        return prototypes[y] + noise * rng.standard_normal((n, *shape)).astype(np.float32), y

    (X_train, y_train), (X_val, y_val), (X_test, y_test) = (
        split(num_train), split(num_eval), split(num_eval))
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val,
            "X_test": X_test, "y_test": y_test}


def no_rescale_dropout_forward(x, dropout_param):
    """Mistake: inverted dropout that forgets the division by p (Inline Question 1)."""
    out, cache = _DROPOUT_FORWARD(x, dropout_param)
    if dropout_param["mode"] == "train":
        out = out * dropout_param["p"]
    return out, cache


def scaled_test_mode_dropout_forward(x, dropout_param):
    """Mistake: the test pass multiplies by p as well (vanilla and inverted mixed)."""
    out, cache = _DROPOUT_FORWARD(x, dropout_param)
    if dropout_param["mode"] == "test":
        out = out * dropout_param["p"]
    return out, cache


@pytest.fixture
def planted_dropout(monkeypatch):
    """Plant a dropout_forward everywhere the network and the experiments call it."""

    def plant(fn):
        for module in (layers, layer_utils, dropout_experiments):
            monkeypatch.setattr(module, "dropout_forward", fn)

    return plant


# ---------------------------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------------------------


def _net(hidden, keep=0.5, normalization=None, seed=0):
    np.random.seed(seed)
    return FullyConnectedNet(hidden, input_dim=48, normalization=normalization,
                             dropout_keep_ratio=keep, weight_scale=0.3, dtype=np.float64)


def test_train_network_keeps_the_last_step_and_records_the_curves():
    data = toy_data()
    trained = train_network(data, [16], "batchnorm", 0.5, num_epochs=3, batch_size=50)
    assert trained.loss_history.shape == (3 * 8,)
    assert trained.val_acc_history.shape == (4,)
    # the last step's parameters: the running averages belong to them (one more training pass
    # with momentum 0 on the same parameters gives statistics of the same size)
    assert trained.model.bn_params[0]["running_var"].shape == (16,)
    again = train_network(data, [16], "batchnorm", 0.5, num_epochs=3, batch_size=50)
    np.testing.assert_array_equal(trained.loss_history, again.loss_history)


def test_train_networks_equals_train_network_in_order():
    data = toy_data(num_train=100)
    runs = [{"hidden_dims": [8], "keep_ratio": keep, "num_epochs": 2} for keep in (1, 0.5)]
    parallel = train_networks(runs, data, processes=2)
    for options, result in zip(runs, parallel, strict=True):
        alone = train_network(data, **options)
        np.testing.assert_allclose(result.loss_history, alone.loss_history, rtol=1e-6)


def test_solve_all_equals_solve_in_order_and_keeps_the_best_parameters():
    data = toy_data(num_train=100)
    runs = [{"hidden_dims": [8], "keep_ratio": keep, "num_epochs": 3, "batch_size": 20}
            for keep in (1, 0.5)]
    parallel = solve_all(runs, data, processes=2)
    for options, result in zip(runs, parallel, strict=True):
        alone = solve(data, **options)
        assert result.train_acc_history == alone.train_acc_history
        assert result.val_acc_history == alone.val_acc_history
        assert len(result.val_acc_history) == 4
        assert result.best_val_acc == max(result.val_acc_history)
        np.testing.assert_array_equal(result.model.params["W1"], alone.model.params["W1"])
    assert parallel[0].train_acc_history != parallel[1].train_acc_history  # dropout or not


def test_batch_statistics_measures_with_and_without_dropout_and_restores_the_model():
    data = toy_data()
    model = _net([32, 32], keep=0.5, normalization="batchnorm")
    model.loss(data["X_train"][:50], data["y_train"][:50])  # running averages exist
    before = [{k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in bn.items()}
              for bn in model.bn_params]
    with_dropout = batch_statistics(model, data["X_train"], data["y_train"], dropout=True)
    without = batch_statistics(model, data["X_train"], data["y_train"], dropout=False)
    assert model.dropout_param["p"] == 0.5
    for bn, old in zip(model.bn_params, before, strict=True):
        np.testing.assert_array_equal(bn["running_var"], old["running_var"])
        assert "momentum" not in bn
    # layer 1 sees no dropout; layer 2 sees the masks' extra variance, not a changed mean
    np.testing.assert_allclose(with_dropout[0][1], without[0][1], rtol=1e-10)
    assert np.median(with_dropout[1][1] / without[1][1]) > 1.2
    fixed = with_recomputed_statistics(model, data["X_train"], data["y_train"])
    np.testing.assert_allclose(fixed.bn_params[1]["running_var"], without[1][1])
    np.testing.assert_array_equal(model.bn_params[1]["running_var"], before[1]["running_var"])


def test_batch_statistics_needs_batchnorm():
    with pytest.raises(ValueError, match="normalization='batchnorm'"):
        batch_statistics(_net([8]), np.zeros((2, 48)), np.zeros(2, dtype=int))


def test_monte_carlo_average_is_exact_for_one_hidden_layer_only():
    X = toy_data()["X_val"]
    one, _ = monte_carlo_gaps(_net([64], keep=0.5), X, 400)
    three, _ = monte_carlo_gaps(_net([64, 64, 64], keep=0.5), X, 400)
    assert one[-1] < 1.3 * one[0] / np.sqrt(400)  # only sampling noise left
    assert three[-1] > 2 * three[0] / np.sqrt(400)  # a bias that more masks do not remove


def test_monte_carlo_gaps_rejects_a_network_without_dropout():
    with pytest.raises(ValueError, match="expected a network with dropout"):
        monte_carlo_gaps(_net([8], keep=1), np.zeros((2, 48)), 3)


def test_scaled_after_dropout_scales_the_weights_after_dropout_layers_only():
    model = _net([8, 8], keep=0.5)
    scaled = scaled_after_dropout(model, 4.0)
    np.testing.assert_array_equal(scaled.params["W1"], model.params["W1"])
    for name in ("W2", "W3"):
        np.testing.assert_allclose(scaled.params[name], 4 * model.params[name])
    for name in ("b1", "b2", "b3"):
        np.testing.assert_array_equal(scaled.params[name], model.params[name])
    assert scaled.params["W2"] is not model.params["W2"]


# ---------------------------------------------------------------------------------------------
# The notebook's claim checks, with the solution and with planted mistakes
# ---------------------------------------------------------------------------------------------


def _namespace(data, **names):
    """What the cells need besides run_cells' defaults (no training: a random one-layer net)."""
    np.random.seed(1)
    one_layer = FullyConnectedNet([40], input_dim=48, dropout_keep_ratio=0.25, weight_scale=0.3,
                                  dtype=np.float32)
    return {
        "data": data, "plt": plt, "time": time,
        "solvers": {0.25: types.SimpleNamespace(model=one_layer)},
        "affine_relu_forward": layer_utils.affine_relu_forward,
        "dropout_forward": layers.dropout_forward,
        "softmax_loss": layers.softmax_loss,
        "batch_statistics": batch_statistics, "monte_carlo_gaps": monte_carlo_gaps,
        "scaled_after_dropout": scaled_after_dropout, "train_networks": train_networks,
        "with_recomputed_statistics": with_recomputed_statistics,
        **names,
    }


VANILLA_CELLS = ("1e7b5fef",)
FOLDING_CELLS = ("1e7b5fef", "305b5edd", "4610be51")


def test_vanilla_checks_pass_with_the_solution():
    printed = run_cells(NOTEBOOK, FOLDING_CELLS, **_namespace(toy_data()))
    verdicts = [line for line in printed.splitlines() if ": PASS" in line or ": FAIL" in line]
    assert len(verdicts) == 5 and all(": PASS" in line for line in verdicts), printed


@pytest.mark.parametrize("planted", [no_rescale_dropout_forward, scaled_test_mode_dropout_forward])
def test_vanilla_checks_fail_with_a_planted_dropout(planted):
    printed = run_cells(NOTEBOOK, VANILLA_CELLS,
                        **_namespace(toy_data(), dropout_forward=planted))
    assert "FAIL" in printed, printed


def scaled_with_biases(model, factor):
    """Mistake: the scaling folded into the biases as well as the weights."""
    scaled = scaled_after_dropout(model, factor)
    for i in range(2, model.num_layers + 1):
        scaled.params[f"b{i}"] = (factor * model.params[f"b{i}"]).astype(model.dtype)
    return scaled


def scaled_first_layer(model, factor):
    """Mistake: the scaling folded into W1, which no dropout layer precedes."""
    scaled = scaled_after_dropout(model, 1.0)
    scaled.params["W1"] = (factor * model.params["W1"]).astype(model.dtype)
    return scaled


@pytest.mark.parametrize("planted", [scaled_with_biases, scaled_first_layer])
def test_folding_checks_fail_with_a_planted_folding(planted):
    names = _namespace(toy_data(), scaled_after_dropout=planted)
    names["solvers"][0.25].model.params["b2"] += 0.5  # biases that matter
    printed = run_cells(NOTEBOOK, FOLDING_CELLS, **names)
    assert "FAIL" in printed, printed


def run_parts(parts, names):
    """Like run_cells, for (cell id, stop) pairs: each cell's source up to the text stop."""
    namespace = {"np": np, "affine_forward": layers.affine_forward,
                 "check_below": notebook_checks.check_below,
                 "check_claim": notebook_checks.check_claim,
                 "rel_error": notebook_checks.rel_error, **names}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell_id, stop in parts:
            source = cell_source(NOTEBOOK, cell_id)
            if stop is not None:
                source = source[: source.index(stop)]
            exec(compile(source, cell_id, "exec"), namespace)  # noqa: S102
    return out.getvalue()


# 6c: batchnorm with dropout. Trained once per planted variant, on the toy problem.

MIX_PARTS = [("bn-dropout-train", "trained = "), ("bn-dropout-measure", None),
             ("bn-dropout-claims", None)]


def _mix_names(data, keep_ratio=0.5):
    runs = [{"hidden_dims": [64, 64, 64], "num_epochs": 8, **options} for options in (
        {"normalization": "batchnorm"}, {"keep_ratio": keep_ratio},
        {"normalization": "batchnorm", "keep_ratio": keep_ratio})]
    trained = dict(zip(("batchnorm", "dropout", "batchnorm + dropout"),
                       train_networks(runs, data, processes=1), strict=True))
    return {**_namespace(data), "trained": trained}


def _run_mix(names):
    # the training cell up to the training itself (the trained networks are given), the rest
    return run_parts(MIX_PARTS, names)


def test_mix_claims_pass_with_the_solution():
    printed = _run_mix(_mix_names(toy_data()))
    verdicts = [line for line in printed.splitlines() if line.endswith("]")]
    assert len(verdicts) == 4 and all(": PASS [" in line for line in verdicts), printed


def test_mix_claims_fail_without_dropout():
    """Mistake: the 'batchnorm + dropout' network trained without dropout (keep ratio 1)."""
    printed = _run_mix(_mix_names(toy_data(), keep_ratio=1))
    assert "FAIL" in printed, printed


def test_mix_claims_fail_without_the_rescaling(planted_dropout):
    planted_dropout(no_rescale_dropout_forward)
    printed = _run_mix(_mix_names(toy_data()))
    assert "FAIL" in printed, printed


# 6d: dropout beyond one hidden layer, and the bug of Inline Question 1.


@pytest.fixture(scope="module")
def deep_names():
    """Trained toy networks: one hidden layer (keep 0.25) and three hidden layers (keep 0.5)."""
    data = toy_data(num_train=200, shape=(3, 8, 8), noise=5.0)  # overfits, as CIFAR-10 does
    one, three = train_networks([{"hidden_dims": [200], "keep_ratio": 0.25, "num_epochs": 25},
                                 {"hidden_dims": [100, 100, 100], "keep_ratio": 0.5,
                                  "num_epochs": 10}], data, processes=1)
    return data, one.model, three.model


def _run_deep(deep_names, parts, **names):
    data, one, three = deep_names
    namespace = {**_namespace(data), "model": one,
                 "trained": {"dropout": types.SimpleNamespace(model=three)}, **names}
    return run_parts(parts, namespace)


GAP_CELLS = [("deep-dropout-gaps", None), ("deep-dropout-claims", None)]
# the bug's cells need only the first lines of the gaps cell (the test images, the network)
BUG_CELLS = [("deep-dropout-gaps", "gaps = {"), ("iq1-visible-measure", None),
             ("iq1-visible-claims", None)]


def test_deep_claims_pass_with_the_solution(deep_names):
    printed = _run_deep(deep_names, GAP_CELLS + BUG_CELLS[1:])
    verdicts = [line for line in printed.splitlines() if line.endswith("]")]
    assert len(verdicts) == 8 and all(": PASS [" in line for line in verdicts), printed


def test_gap_claims_fail_without_the_rescaling(deep_names, planted_dropout):
    planted_dropout(no_rescale_dropout_forward)
    printed = _run_deep(deep_names, GAP_CELLS)
    assert "FAIL" in printed, printed


def test_gap_claims_fail_for_a_network_linear_in_its_mask(deep_names):
    """A different claim: the 'three-layer' network is one whose scores are linear in the mask."""
    data, one, _ = deep_names
    printed = _run_deep(deep_names, GAP_CELLS,
                        trained={"dropout": types.SimpleNamespace(model=one)})
    assert "FAIL" in printed, printed


def scaled_not_at_all(model, factor):
    """Mistake: the bug not reproduced, the network evaluated with its own weights."""
    return scaled_after_dropout(model, 1.0)


def scaled_the_other_way(model, factor):
    """Mistake: the activations multiplied by p instead of 1 / p."""
    return scaled_after_dropout(model, 1 / factor)


@pytest.mark.parametrize("planted", [scaled_not_at_all, scaled_the_other_way])
def test_bug_claims_fail_with_a_planted_scaling(deep_names, planted):
    printed = _run_deep(deep_names, BUG_CELLS, scaled_after_dropout=planted)
    assert "FAIL" in printed, printed
