"""Tests of the losses of assignment/layers.py (softmax_loss, svm_loss): gradients against
centred differences (float64), the values for uninformative scores, and PyTorch's values and
gradients (tests/fixtures/reference.npz, see layer_oracles.py)."""

import numpy as np
import pytest

from assignment.gradient_check import eval_numerical_gradient
from assignment.layers import softmax_loss, svm_loss
from tests.hidden import layer_oracles as oracles


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


@pytest.mark.parametrize("case", sorted(oracles.reference_cases("loss_")))
def test_losses_match_pytorch(case):
    ref = oracles.reference_cases("loss_")[case]
    loss, dx = softmax_loss(ref["x"], ref["y"])
    assert np.isfinite(loss)
    oracles.assert_reference(loss, ref["softmax_loss"])
    oracles.assert_reference(dx, ref["softmax_dx"])
    loss, dx = svm_loss(ref["x"], ref["y"])
    oracles.assert_reference(loss, ref["svm_loss"])
    oracles.assert_reference(dx, ref["svm_dx"])
