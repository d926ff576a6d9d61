"""Test of the PyTorch reference fixture itself (tests/fixtures/reference.npz, read through
layer_oracles.py by test_losses.py, test_batchnorm.py and test_layernorm.py): small, and with
at least two cases of each kind."""

import numpy as np

from tests.hidden import layer_oracles as oracles


def test_reference_fixture_is_small_and_complete():
    assert oracles.REFERENCE.stat().st_size < 200_000
    with np.load(oracles.REFERENCE) as data:
        cases = [str(c) for c in data["cases"]]
    for prefix in ("bn_train_", "bn_test_", "ln_", "loss_"):
        assert sum(c.startswith(prefix) for c in cases) >= 2, prefix
