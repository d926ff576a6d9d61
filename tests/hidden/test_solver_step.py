"""Hidden tests of the Solver's TODOs: Solver._step and Solver.check_accuracy.

They compare the Solver with an independent re-implementation of CS231n's training step in the
test itself (one np.random.choice minibatch per step, every parameter updated by the rule with
its own config), so they give the answer away and do not ship (instructor/manifest.py).
"""

import numpy as np
import pytest

from assignment import fc_net, optim
from assignment.solver import Solver

# Under grading the student's modules run in a sandboxed worker and every object the Solver
# touches must live there too, so the model is the student's FullyConnectedNet without hidden
# layers (a linear softmax classifier: given building blocks plus FullyConnectedNet.loss), not
# a class of this file.


def Linear(D=5, C=3, seed=0):
    np.random.seed(seed)
    return fc_net.FullyConnectedNet([], input_dim=D, num_classes=C, weight_scale=0.1,
                                    dtype=np.float64)


def make_data(n=30, D=5, C=3, seed=1):
    rng = np.random.RandomState(seed)
    return {"X_train": rng.randn(n, D), "y_train": rng.randint(C, size=n),
            "X_val": rng.randn(n // 2, D), "y_val": rng.randint(C, size=n // 2)}


def reference_run(data, rule, config, batch_size, steps, seed):
    """CS231n's training steps, written out: (losses, params)."""
    model = Linear()
    configs = {p: dict(config) for p in model.params}
    np.random.seed(seed)
    losses = []
    for _ in range(steps):
        rows = np.random.choice(data["X_train"].shape[0], batch_size)
        loss, grads = model.loss(data["X_train"][rows], data["y_train"][rows])
        losses.append(loss)
        for p in model.params:
            model.params[p], configs[p] = rule(model.params[p], grads[p], configs[p])
    return np.array(losses), model.params


@pytest.mark.parametrize("rule", ["sgd_momentum", "adam"])
def test_step_matches_the_reference_run(rule):
    data = make_data()
    config = {"learning_rate": 5e-2}
    expected_losses, expected_params = reference_run(data, getattr(optim, rule), config, 7, 9, 5)
    model = Linear()
    solver = Solver(model, data, update_rule=rule, optim_config=config, batch_size=7,
                    num_epochs=0, verbose=False)
    np.random.seed(5)
    for _ in range(9):
        solver._step()
    assert solver.iteration == 9
    np.testing.assert_allclose(solver.loss_history, expected_losses, rtol=1e-10)
    for p, value in expected_params.items():
        np.testing.assert_allclose(model.params[p], value, rtol=1e-10, atol=1e-14)
    # every parameter keeps its own optimizer state
    state = "velocity" if rule == "sgd_momentum" else "m"
    assert solver.optim_configs["W1"][state].shape == model.params["W1"].shape
    assert solver.optim_configs["b1"][state].shape == model.params["b1"].shape


def test_step_draws_exactly_one_minibatch_from_the_global_state():
    data = make_data()
    solver = Solver(Linear(), data, batch_size=4, num_epochs=0, verbose=False)
    np.random.seed(3)
    solver._step()
    after_step = np.random.rand()
    np.random.seed(3)
    np.random.choice(data["X_train"].shape[0], 4)
    assert after_step == np.random.rand()


@pytest.mark.parametrize("N, batch_size", [(10, 3), (10, 10), (7, 100)])
def test_check_accuracy_is_batched_test_mode_and_exact(N, batch_size):
    data = make_data(n=N)
    model = Linear()
    expected = np.mean(np.argmax(model.loss(data["X_train"]), axis=1) == data["y_train"])
    solver = Solver(model, data, verbose=False)
    acc = solver.check_accuracy(data["X_train"], data["y_train"], batch_size=batch_size)
    assert acc == pytest.approx(expected, abs=1e-12)


def test_check_accuracy_subsamples_with_the_cs231n_draw():
    data = make_data(n=40)
    model = Linear()
    solver = Solver(model, data, verbose=False)
    np.random.seed(9)
    rows = np.random.choice(40, 15)
    X, y = data["X_train"][rows], data["y_train"][rows]
    expected = np.mean(np.argmax(model.loss(X), axis=1) == y)
    np.random.seed(9)
    assert solver.check_accuracy(data["X_train"], data["y_train"], num_samples=15,
                                 batch_size=4) == pytest.approx(expected, abs=1e-12)
