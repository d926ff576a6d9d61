"""The oracles the hidden tests of assignment/layers.py compare against.

- centred differences in float64 (assignment.gradient_check, itself tested in
  tests/public/test_gradient_check.py): :func:`numeric_grads`, :func:`assert_grads_close`;
- PyTorch's outputs and gradients, stored in tests/fixtures/reference.npz by
  tests/fixtures/make_reference.py (torch is not needed to run the tests):
  :func:`reference_cases`, :func:`assert_reference`, :func:`assert_reference_grads`;
- the seeded normalization inputs the batchnorm, layernorm and shared normalization tests draw:
  :func:`norm_inputs`.
"""

from pathlib import Path

import numpy as np

from assignment.gradient_check import eval_numerical_gradient_array

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


def assert_reference_grads(grads, ref):
    """A normalization's backward ``(dx, dgamma, dbeta)`` against the reference case's."""
    dx, dgamma, dbeta = grads
    assert_reference(dx, ref["dx"])
    assert_reference(dgamma, ref["dgamma"])
    assert_reference(dbeta, ref["dbeta"])


def norm_inputs(N, D, seed):
    """x (N, D), shifted and scaled away from zero mean and unit variance; gamma (D,);
    beta (D,); dout (N, D)."""
    rng = np.random.RandomState(seed)
    return rng.randn(N, D) * 4 + 3, rng.randn(D), rng.randn(D), rng.randn(N, D)
