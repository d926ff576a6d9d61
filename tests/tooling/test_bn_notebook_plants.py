"""The claim checks of BatchNormalization.ipynb's experiments (sections 6 and 8) can fail.

The experiments are trained once, on the first 1000 CIFAR-10 training images as in the notebook
(slow: about 20 networks); then the notebook's own check cells (taken by cell id, as in
tests/tooling/test_notebook_plants.py)
run with the true results (all PASS) and with the results of a
plausible mistake (at least one FAIL). Each planted result is what the mistaken experiment
computes, not an approximation: the networks are seeded, so a "batchnorm" network built without
batch normalization is the baseline network, noisy batchnorm without noise is the batchnorm
network, ghost batches of 50 are ordinary batches of 50, and running averages of the unbiased
variance are those of the biased one times N / (N - 1).
"""

import copy
import dataclasses
import functools

import matplotlib
import numpy as np
import pytest

from assignment import bn_experiments as bx
from assignment import bn_measures as bm
from assignment.experiments import Run, run_parallel
from tests.tooling.test_notebook_plants import run_cells

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

pytestmark = pytest.mark.slow

NOTEBOOK = "BatchNormalization.ipynb"
SECTION_8 = ("7eeb0997", "20644554", "noisy-figure", "check-noisy", "lr-figure", "check-lr")
SECTION_6 = ("bn-statistics", "check-ghost")


@pytest.fixture(scope="module")
def results():
    """The notebook's experiments of sections 4 (for 8) and 6 (ghost batches, batch size 5)."""
    from assignment.data_utils import get_CIFAR10_data

    try:
        data = get_CIFAR10_data(num_training=1000)
    except (FileNotFoundError, ValueError, OSError) as error:
        pytest.skip(f"CIFAR-10 is not available: {error}")
    small_data = {key: data[key] for key in ("X_train", "y_train", "X_val", "y_val")}
    small_data["X_train"], small_data["y_train"] = data["X_train"][:1000], data["y_train"][:1000]

    def deep(normalization, **options):
        return Run((100,) * 5, normalization, weight_scale=2e-2, **options)

    learning_rates = [3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0]
    lr = 10 ** (-3.5)
    variants = [bx.Variant(deep(None), probe_every=10),
                bx.Variant(deep("batchnorm"), probe_every=10),
                bx.Variant(deep("batchnorm"), probe_every=10, noise=(1.2, 0.5))]
    variants += [bx.Variant(deep(n, learning_rate=rate), update_rule="sgd_momentum", checks=False)
                 for rate in learning_rates for n in (None, "batchnorm")]
    variants += [bx.Variant(deep("batchnorm", batch_size=5, learning_rate=lr), keep_model=True),
                 bx.Variant(deep("batchnorm", batch_size=50, learning_rate=lr)),
                 bx.Variant(deep("batchnorm", batch_size=50, learning_rate=lr), ghost_size=5)]
    trained = run_parallel(functools.partial(bx.train_variant, probe=small_data["X_val"][:500]),
                           variants, small_data,
                           cost=lambda v: 3 if v.probe_every or v.run.batch_size == 5 else 1)
    base, bn, noisy = trained[:3]
    bs5, bs50, ghost = trained[-3:]
    return {"small_data": small_data, "learning_rates": learning_rates,
            "base_deep": base, "bn_deep": bn, "noisy_deep": noisy, "lr_results": trained[3:-3],
            "bn_bs": [bs5, None, bs50], "ghost_bs50": ghost}


def late(accs):
    return float(np.mean(accs[-3:]))


def run_section(cell_ids, results, **planted):
    names = {**results, **planted}
    namespace = {
        "plt": plt, "late": late, "drift": bm.drift, "beta_smoothness": bm.beta_smoothness,
        "accuracy_with_statistics": bm.accuracy_with_statistics,
        "num_train": names["small_data"]["X_train"].shape[0], **names,
    }
    try:
        return run_cells(NOTEBOOK, cell_ids, **namespace)
    finally:
        plt.close("all")


def check_lines(printed):
    return [line for line in printed.splitlines() if line.endswith(("PASS", "FAIL"))
            or ": PASS [" in line or ": FAIL [" in line]


def test_section_8_checks_pass_with_the_true_results(results):
    printed = run_section(SECTION_8, results)
    lines = check_lines(printed)
    assert len(lines) == 10 and all(": PASS" in line for line in lines), printed


def test_section_6_checks_pass_with_the_true_results(results):
    printed = run_section(SECTION_6, results)
    lines = check_lines(printed)
    assert len(lines) == 2 and all(": PASS" in line for line in lines), printed


def test_no_batchnorm_in_the_batchnorm_network_fails(results):
    base_lr = results["lr_results"][0::2]
    lr_results = [h for pair in zip(base_lr, base_lr, strict=True) for h in pair]
    printed = run_section(SECTION_8, results, bn_deep=results["base_deep"], lr_results=lr_results)
    failed = [line for line in check_lines(printed) if ": FAIL" in line]
    # every claim about batchnorm vs the baseline in (a), (b) and (d) fails
    assert len(failed) >= 7, printed


@pytest.mark.parametrize("planted", ["bn_deep", "base_deep"])
def test_noise_not_injected_or_no_batchnorm_under_the_noise_fails(results, planted):
    # no noise: the batchnorm network; noise but no batchnorm: the baseline
    printed = run_section(SECTION_8, results, noisy_deep=results[planted])
    assert "noisy batchnorm's ReLU inputs drift 1.3x more than the baseline's after the " \
           "warm-up: FAIL" in printed, printed


def test_ghost_batches_not_applied_fails(results):
    printed = run_section(SECTION_6, results, ghost_bs50=results["bn_bs"][2])
    assert "ghost batches of 5 (batch size 50) train worse than ordinary batches of 50: FAIL" \
        in printed, printed


def test_running_averages_of_the_unbiased_variance_fail(results):
    bs5 = results["bn_bs"][0]
    model = copy.deepcopy(bs5.model)
    for bn_param in model.bn_params:
        bn_param["running_var"] = bn_param["running_var"] * 5 / 4
    planted = dataclasses.replace(bs5, model=model)
    printed = run_section(SECTION_6, results, bn_bs=[planted, None, results["bn_bs"][2]])
    assert "running variance is 0.6 to 0.85 of the training images' variance: FAIL" in printed, \
        printed
