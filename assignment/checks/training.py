"""Public checks of parts optim (the update rules) and solver (Solver's step and accuracy)."""

import math

import numpy as np

from assignment.checks.common import Failed, mod, rel_error, require_float32


def _two_steps(rule, config):
    rng = np.random.default_rng(11)
    w, dw1, dw2 = rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    w1, config = rule(w.copy(), dw1, dict(config))
    w2, config = rule(w1.copy(), dw2, config)
    return w, dw1, dw2, w1, w2, config


def sgd_momentum_steps():
    """sgd_momentum: first step from zero velocity is plain SGD; the second adds momentum."""
    optim = mod("optim")
    lr, mu = 1e-2, 0.9
    w, dw1, dw2, w1, w2, config = _two_steps(optim.sgd_momentum,
                                             {"learning_rate": lr, "momentum": mu})
    if rel_error(w1, w - lr * dw1) > 1e-8:
        raise Failed("first step differs from w - learning_rate * dw",
                     "from a zero velocity the first momentum step equals a plain SGD step")
    v1 = -lr * dw1
    if rel_error(w2, w1 + mu * v1 - lr * dw2) > 1e-8:
        hint = "store the new velocity in config['velocity']"
        if rel_error(w2, w1 - lr * dw2) < 1e-8:
            hint = "the velocity is not kept between steps: " + hint
        raise Failed("second step does not add momentum * previous velocity", hint)
    return "two steps"


def rmsprop_steps():
    """rmsprop: the first step from a zero cache moves each weight by 10 * learning_rate."""
    optim = mod("optim")
    lr = 1e-2
    w, dw1, dw2, w1, w2, config = _two_steps(optim.rmsprop, {"learning_rate": lr})
    # cache = 0.01 * dw**2 after one step (decay 0.99), so dw / sqrt(cache) = 10 * sign(dw).
    if rel_error(w1, w - 10 * lr * np.sign(dw1)) > 1e-5:
        raise Failed("first step is not -10 * learning_rate * sign(dw) (decay_rate 0.99)",
                     "the cache is a decaying average of the squared gradients, and each "
                     "weight's step is scaled by the square root of its own cache entry")
    cache2 = 0.99 * 0.01 * dw1**2 + 0.01 * dw2**2
    if rel_error(config.get("cache"), cache2) > 1e-8:
        raise Failed("config['cache'] after two steps is wrong",
                     "store the updated cache in config['cache']")
    return "two steps"


def adam_steps():
    """adam: with bias correction the first step moves each weight by learning_rate."""
    optim = mod("optim")
    lr = 1e-3
    w, dw1, dw2, w1, w2, config = _two_steps(optim.adam, {"learning_rate": lr})
    if rel_error(w1, w - lr * np.sign(dw1)) > 1e-4:
        hint = "correct the bias of both moment estimates for step t (t incremented first)"
        if rel_error(w1, w - lr * 0.1 / math.sqrt(0.001) * np.sign(dw1)) < 1e-4:
            hint = "bias correction missing: " + hint
        raise Failed("first step is not -learning_rate * sign(dw)", hint)
    if config.get("t") != 2:
        raise Failed(f"config['t'] is {config.get('t')!r} after two steps, expected 2",
                     "increment t in config before using it")
    m2 = 0.9 * 0.1 * dw1 + 0.1 * dw2
    if rel_error(config.get("m"), m2) > 1e-8:
        raise Failed("config['m'] after two steps is wrong", "store the updated m and v in config")
    return "two steps"


def adam_continues_from_state():
    """adam continues from the m, v and t given in config (t=5: the first update uses t=6)."""
    optim = mod("optim")
    rng = np.random.default_rng(23)
    w, dw = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    m, v = 0.1 * rng.normal(size=(2, 3)), 0.05 + 0.01 * rng.random((2, 3))
    next_w, config = optim.adam(w.copy(), dw, {"learning_rate": 1e-2, "m": m.copy(),
                                               "v": v.copy(), "t": 5})
    # the step next_w - w of the reference implementation (12 significant digits)
    expected = np.array([[-0.000438075654, -0.001349004617, -0.000224150471],
                         [-0.000429774505, 0.000247884827, 0.000681593897]])
    err = rel_error(np.asarray(next_w) - w, expected)
    if config.get("t") != 6 or err > 1e-8:
        raise Failed(f"from t=5 the step gives t={config.get('t')!r} and a step next_w - w with "
                     f"rel. error {err:.2g} (expected t=6 and < 1e-08)",
                     "start from config's m, v and t (they are not always zero); increment t "
                     "before using it")
    return "t=5 -> 6"


def update_rules_keep_inputs_and_dtype():
    """sgd_momentum, rmsprop, adam: w and dw are not modified; float32 stays float32."""
    optim = mod("optim")
    rng = np.random.default_rng(24)
    for rule in ("sgd_momentum", "rmsprop", "adam"):
        w, dw = (rng.normal(size=(3, 4)).astype(np.float32) for _ in range(2))
        w0, dw0 = w.copy(), dw.copy()
        next_w, config = getattr(optim, rule)(w, dw, {"learning_rate": 0.1})
        changed = [n for n, a, a0 in (("w", w, w0), ("dw", dw, dw0)) if not np.array_equal(a, a0)]
        if changed:
            raise Failed(f"{rule} modified its input {' and '.join(changed)} in place",
                         "return a new array (next_w = w - ...); don't use -= or += on w or dw")
        require_float32(rule, [("next_w", next_w)], "python floats keep float32 arrays float32; "
                        "an array you create yourself needs w's dtype (np.zeros_like(w))")
        if np.shape(next_w) != w.shape or np.array_equal(next_w, w):
            raise Failed(f"{rule}: next_w has shape {np.shape(next_w)} or equals w",
                         "next_w is w after one step, of w's shape")
    return "inputs unchanged; float32 kept"
class _SquaredLossModel:
    """A linear model with a squared loss, in the model API the Solver expects.

    loss(X) returns the scores X @ W + b (N, C); loss(X, y) returns 0.5 * mean over the batch
    of the squared distance between the scores and the one-hot labels, and its gradients.
    ``calls`` records (batch size, test mode?) of every call.
    """

    def __init__(self, D=3, C=2):
        rng = np.random.default_rng(12)
        self.params = {"W": 0.1 * rng.normal(size=(D, C)), "b": np.zeros(C)}
        self.calls = []

    def loss(self, X, y=None):
        self.calls.append((X.shape[0], y is None))
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        N = X.shape[0]
        diff = scores - np.eye(scores.shape[1])[y]
        grads = {"W": X.T @ diff / N, "b": diff.sum(axis=0) / N}
        return 0.5 * float(np.sum(diff**2)) / N, grads


def _solver_data():
    rng = np.random.default_rng(13)
    X = rng.normal(size=(10, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    return {"X_train": X, "y_train": y, "X_val": X[:4], "y_val": y[:4]}


def solver_step_reference():
    """Solver._step: a seeded run of 6 steps gives the reference losses and parameters."""
    solver_mod = mod("solver")
    model = _SquaredLossModel()
    solver = solver_mod.Solver(model, _solver_data(), update_rule="sgd_momentum",
                               optim_config={"learning_rate": 0.1}, batch_size=4, num_epochs=0,
                               verbose=False)
    np.random.seed(231)
    for _ in range(6):
        solver._step()
    losses = np.array(solver.loss_history)
    expected_losses = np.array([0.52641018453, 0.30126614054, 0.09812046272, 0.15895728989,
                                0.25803995068, 0.41421938465])
    expected_W = np.array([[-0.08066854585, 0.72707413900], [-0.05915073756, 0.27307153277],
                           [-0.00397375328, 0.38413569434]])
    expected_b = np.array([0.11692990310, 0.77257036223])
    if losses.shape != (6,):
        raise Failed(f"loss_history has {losses.size} entries after 6 steps, expected 6",
                     "compute the loss and gradients once per step")
    err = max(rel_error(losses, expected_losses), rel_error(model.params["W"], expected_W),
              rel_error(model.params["b"], expected_b))
    if err > 1e-6:
        hint = ("draw the minibatch with one np.random.choice(num_train, batch_size) per step, "
                "update every parameter with its own config and keep the returned config")
        if rel_error(losses[:1], expected_losses[:1]) < 1e-6:
            hint = ("the first loss is right, later ones are not: store the updated weights "
                    "and each parameter's returned config (the momentum) back")
        raise Failed(f"rel. error {err:.2g} against the reference run (must be < 1e-06)", hint)
    if np.random.rand() != 0.5629335205260959:
        raise Failed("after 6 steps numpy's global random state is not where 6 minibatch draws "
                     "leave it", "draw each minibatch with exactly one np.random.choice(num_train, "
                     "batch_size) and no other random call")
    return f"losses and parameters, rel. error {err:.1e}"


def solver_check_accuracy():
    """Solver.check_accuracy classifies in test mode, in batches, and counts correctly."""
    solver_mod = mod("solver")
    model = _SquaredLossModel()
    data = _solver_data()
    model.params["W"] = np.array([[-1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    solver = solver_mod.Solver(model, data, verbose=False)
    acc = solver.check_accuracy(data["X_train"], data["y_train"], batch_size=3)
    sizes = [n for n, _ in model.calls]
    if any(not test_mode for _, test_mode in model.calls):
        raise Failed("the model was called with labels",
                     "classify in test mode: call model.loss(X_batch) without y")
    if sorted(sizes) != [1, 3, 3, 3]:
        raise Failed(f"the model saw batches of sizes {sizes}, expected 3, 3, 3, 1",
                     "split the N examples into batches of at most batch_size")
    if acc is None or not math.isclose(acc, 0.7, rel_tol=1e-12):
        raise Failed(f"accuracy {acc!r}, expected 0.7 (7 of 10 right)",
                     "the predicted class is the one with the highest score; divide the "
                     "number of correct predictions by N")
    np.random.seed(7)
    acc = solver.check_accuracy(data["X_train"], data["y_train"], num_samples=6, batch_size=4)
    if acc is None or not math.isclose(acc, 5 / 6, rel_tol=1e-12):
        raise Failed(f"with num_samples=6 after np.random.seed(7) the accuracy is {acc!r}, "
                     "expected 0.8333 (5 of the 6 rows drawn)",
                     "subsample as CS231n does: one np.random.choice(N, num_samples) when N > "
                     "num_samples, then classify only those rows")
    return "accuracy 0.7 in batches 3, 3, 3, 1; subsample of 6: 5/6"
