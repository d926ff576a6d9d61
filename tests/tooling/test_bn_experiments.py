"""Tests of assignment/bn_experiments.py and bn_measures.py (the experiments of
BatchNormalization.ipynb section 8 and the ghost batches of section 6), on a tiny learnable data
set."""

import copy
import functools

import numpy as np
import pytest

from assignment import bn_experiments as bx
from assignment import bn_measures as bm
from assignment.experiments import Run, run_parallel, train
from tests.hidden.test_experiments import _data


def _run(**options):
    return Run((8, 8), options.pop("normalization", "batchnorm"), weight_scale=0.1,
               batch_size=10, num_epochs=2, **options)


def test_a_plain_variant_trains_as_experiments_train():
    data = _data()
    result = bx.train_variant(bx.Variant(_run()), data)
    history = train(_run(), data)
    np.testing.assert_allclose(result.loss_history, history.loss_history, rtol=1e-6)
    np.testing.assert_array_equal(result.val_acc_history, history.val_acc_history)


def test_noise_of_scale_1_and_shift_0_changes_nothing_and_real_noise_does():
    data = _data()
    plain = bx.train_variant(bx.Variant(_run()), data)
    silent = bx.train_variant(bx.Variant(_run(), noise=(1.0, 0.0)), data)
    noisy = bx.train_variant(bx.Variant(_run(), noise=(1.5, 0.5)), data)
    np.testing.assert_allclose(silent.loss_history, plain.loss_history, rtol=1e-6)
    assert not np.allclose(noisy.loss_history, plain.loss_history, rtol=1e-3)


def test_noisy_batchnorm_gradients_are_those_of_the_noisy_network():
    data = _data()
    model = _run().build(input_dim=48)
    noisy = bx.NoisyBatchnorm(model, scale=1.5, shift=0.5, seed=3)
    X, y = data["X_train"][:10], data["y_train"][:10]
    loss, grads = noisy.loss(X, y)
    # Redraw the same noise and apply it by hand: gamma' = s gamma, beta' = s beta + m.
    rng = np.random.default_rng(3)
    reference = copy.deepcopy(model)
    scales = {}
    for i in (1, 2):
        g, b = model.params[f"gamma{i}"], model.params[f"beta{i}"]
        s = np.exp(rng.uniform(-np.log(1.5), np.log(1.5), g.shape)).astype(g.dtype)
        m = rng.uniform(-0.5, 0.5, b.shape).astype(b.dtype)
        reference.params[f"gamma{i}"], reference.params[f"beta{i}"] = s * g, s * b + m
        scales[i] = s
    ref_loss, ref_grads = reference.loss(X, y)
    assert loss == pytest.approx(ref_loss, rel=1e-6)
    np.testing.assert_allclose(grads["W1"], ref_grads["W1"], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grads["gamma1"], ref_grads["gamma1"] * scales[1], rtol=1e-4,
                               atol=1e-7)
    # the parameters are restored after the call
    assert np.all(model.params["gamma1"] == 1) and np.all(model.params["beta1"] == 0)


def test_ghost_batches_average_the_sub_batches():
    data = _data()
    model = _run().build(input_dim=48)
    X, y = data["X_train"][:10], data["y_train"][:10]
    loss, grads = bx.GhostBatches(copy.deepcopy(model), 5).loss(X, y)
    parts = [copy.deepcopy(model).loss(X[k:k + 5], y[k:k + 5]) for k in (0, 5)]
    assert loss == pytest.approx((parts[0][0] + parts[1][0]) / 2, rel=1e-6)
    np.testing.assert_allclose(grads["W2"], (parts[0][1]["W2"] + parts[1][1]["W2"]) / 2,
                               rtol=1e-5, atol=1e-8)
    whole, _ = copy.deepcopy(model).loss(X, y)
    assert loss != pytest.approx(whole, rel=1e-4)  # the statistics of 5 are not those of 10


def test_probing_does_not_change_training_and_records_every_few_steps():
    data = _data()
    plain = bx.train_variant(bx.Variant(_run()), data)
    probed = bx.train_variant(bx.Variant(_run(), probe_every=3), data, probe=data["X_val"])
    np.testing.assert_allclose(probed.loss_history, plain.loss_history, rtol=1e-6)
    trace = probed.trace
    assert trace.steps.tolist() == [0, 3, 6]
    assert trace.before.shape == trace.after.shape == (3, 3, 8)
    assert np.all(np.diff(trace.after, axis=1) >= 0)  # 15th <= 50th <= 85th percentile
    assert trace.losses.shape == trace.grad_changes.shape == (3, 4)
    assert np.all(trace.grad_norms > 0)
    # batchnorm at step 0 (gamma 1, beta 0): normalized inputs, unlike the raw ones
    assert abs(trace.after[0, 1]).max() < 1 and np.ptp(trace.before[0, 1]) > 0


def test_run_parallel_in_workers_runs_train_variant_with_probes():
    # as the notebook does: a functools.partial (the probe examples bound) sent to spawned workers
    data = _data()
    variants = [bx.Variant(_run(normalization=None), probe_every=2),
                bx.Variant(_run(), probe_every=2)]
    function = functools.partial(bx.train_variant, probe=data["X_val"])
    results = run_parallel(function, variants, data, processes=2)
    assert [r.variant.run.normalization for r in results] == [None, "batchnorm"]


def test_probe_of_the_baseline_sees_the_same_input_before_and_after():
    data = _data()
    result = bx.train_variant(bx.Variant(_run(normalization=None), probe_every=2), data,
                              probe=data["X_val"])
    np.testing.assert_array_equal(result.trace.before, result.trace.after)


def test_sgd_momentum_without_checks_checks_the_final_network_once():
    result = bx.train_variant(
        bx.Variant(_run(learning_rate=1e-2), update_rule="sgd_momentum", checks=False), _data())
    assert result.loss_history.shape == (8,)
    assert result.train_acc_history.shape == result.val_acc_history.shape == (1,)


def test_a_diverging_variant_is_reported():
    run = Run((8,), None, weight_scale=1e3, batch_size=10, num_epochs=3, learning_rate=1e30)
    result = bx.train_variant(bx.Variant(run, update_rule="sgd_momentum", checks=False), _data())
    assert result.diverged and result.train_acc_history.tolist() == [0.1]


def test_drift_and_beta_smoothness():
    steady = np.tile(np.array([-1.0, 0.0, 1.0])[None, :, None], (4, 1, 5))
    assert bm.drift(steady) == 0
    moving = steady + np.arange(4)[:, None, None] * 0.5  # the median moves by 0.5 per probe
    assert bm.drift(moving) == pytest.approx(0.25)  # spread 2
    assert bm.drift(moving, start=2) == pytest.approx(0.25)
    trace = bx.Trace(steps=np.arange(2), before=steady[:2], after=steady[:2],
                     step_sizes=np.array([0.1, 0.2]), losses=np.zeros((2, 2)),
                     grad_changes=np.array([[1.0, 4.0], [1.0, 1.0]]), grad_norms=np.array([2.0,
                                                                                         1.0]))
    np.testing.assert_allclose(bm.beta_smoothness(trace), [10.0, 10.0])
    with pytest.raises(ValueError, match="shape"):
        bm.drift(steady[:1])


def test_accuracy_with_statistics_leaves_the_model_alone():
    data = _data(num_val=20)
    result = bx.train_variant(bx.Variant(_run(), keep_model=True), data)
    model = result.model
    running = copy.deepcopy(model.bn_params)
    accuracies = {kind: bm.accuracy_with_statistics(model, data, kind)
                  for kind in ("running", "batch", "training set")}
    assert all(0 <= a <= 1 for a in accuracies.values())
    np.testing.assert_array_equal(model.bn_params[0]["running_var"], running[0]["running_var"])
    # the running averages are what the Solver's check uses
    scores = model.loss(data["X_val"])
    assert accuracies["running"] == pytest.approx(np.mean(scores.argmax(1) == data["y_val"]))
    with pytest.raises(ValueError, match="statistics"):
        bm.accuracy_with_statistics(model, data, "population")


@pytest.mark.parametrize("options, message", [
    ({"update_rule": "sgd"}, "update_rule"),
    ({"ghost_size": 3}, "ghost_size"),
    ({"noise": (1.2, 0.5), "run": Run((8,), None)}, "batchnorm"),
])
def test_bad_variants_are_rejected(options, message):
    options = {"run": _run(), **options}
    with pytest.raises(ValueError, match=message):
        bx.Variant(**options)


def test_probing_needs_probe_examples():
    with pytest.raises(ValueError, match="probe"):
        bx.train_variant(bx.Variant(_run(), probe_every=2), _data())
