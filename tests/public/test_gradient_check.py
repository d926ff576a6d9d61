"""Tests of assignment/gradient_check.py against functions with known derivatives."""

import numpy as np
import pytest

from assignment.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


def test_eval_numerical_gradient_of_cubic_restores_x(capsys):
    x = np.random.RandomState(0).randn(3, 4)
    x0 = x.copy()
    grad = eval_numerical_gradient(lambda x: np.sum(x**3), x, verbose=False)
    np.testing.assert_allclose(grad, 3 * x0**2, rtol=1e-8, atol=1e-10)
    assert np.array_equal(x, x0)
    assert capsys.readouterr().out == ""


def test_eval_numerical_gradient_verbose_prints_each_index(capsys):
    x = np.array([1.0, 2.0])
    eval_numerical_gradient(lambda x: np.sum(x**2), x, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("(0,) 2.0")


def test_eval_numerical_gradient_array_is_vector_jacobian_product():
    rng = np.random.RandomState(1)
    x, df = rng.randn(5, 2), rng.randn(5, 2)
    grad = eval_numerical_gradient_array(np.sin, x, df)
    np.testing.assert_allclose(grad, np.cos(x) * df, rtol=1e-8, atol=1e-10)
    # an output of another shape than x: f(x) = x @ A, gradient df @ A.T
    A, df2 = rng.randn(2, 3), rng.randn(5, 3)
    grad = eval_numerical_gradient_array(lambda x: x @ A, x, df2)
    np.testing.assert_allclose(grad, df2 @ A.T, rtol=1e-8, atol=1e-10)


def test_centred_difference_error_is_second_order():
    x = np.array([0.7])
    exact = np.cos(0.7)
    e1 = abs(eval_numerical_gradient(lambda x: np.sin(x).sum(), x, verbose=False, h=1e-2) - exact)
    e2 = abs(eval_numerical_gradient(lambda x: np.sin(x).sum(), x, verbose=False, h=1e-3) - exact)
    assert 80 < (e1 / e2)[0] < 120  # h / 10 -> error / 100


def test_grad_check_sparse_flags_wrong_gradients(capsys):
    x = np.random.RandomState(2).randn(6, 7)

    def f(x):
        return np.sum(x**2)

    assert grad_check_sparse(f, x, 2 * x, num_checks=5, seed=0) < 1e-8
    assert grad_check_sparse(f, x, 3 * x, num_checks=5, seed=0) == pytest.approx(0.2, rel=1e-6)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 10 and out[0].startswith("numerical: ")
    # seeded: the same entries are checked
    a = grad_check_sparse(f, x, 2 * x + np.arange(42).reshape(6, 7), num_checks=3, seed=4)
    b = grad_check_sparse(f, x, 2 * x + np.arange(42).reshape(6, 7), num_checks=3, seed=4)
    assert a == b


def test_grad_check_sparse_zero_gradient_is_no_error(capsys):
    x = np.zeros((2, 2))
    assert grad_check_sparse(lambda x: 1.0, x, np.zeros((2, 2)), num_checks=2) == 0.0


def test_rel_error():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-4)  # the 1e-8 floor
    with pytest.raises(ValueError, match=r"x has shape \(2,\) but y has shape \(3,\)"):
        rel_error(np.ones(2), np.ones(3))


@pytest.mark.parametrize("fn", [
    lambda x: eval_numerical_gradient(np.sum, x, verbose=False),
    lambda x: eval_numerical_gradient_array(np.sin, x, np.ones(3)),
    lambda x: grad_check_sparse(np.sum, x, np.ones(3)),
])
def test_integer_input_is_rejected(fn):
    with pytest.raises(TypeError, match=r"x is int64, expected a floating numpy array"):
        fn(np.arange(3))
