"""The experiments of notebooks/Dropout.ipynb: section 5's trainings and sections 6a, 6c, 6d.

- :func:`solve` trains a network with the student's ``Solver.train`` exactly as section 5 (the
  original assignment's regularization experiment) does, and :func:`solve_all` trains several
  such networks at once, one worker process per core.
- :func:`train_network` trains a ``FullyConnectedNet`` with the student's ``Solver`` and keeps
  the network of the *last* step (``Solver.train`` would swap in the best-validation
  parameters, whose batchnorm running averages were never computed: section 6c compares the
  running averages with the statistics of the same parameters).
- :func:`batch_statistics` measures the mean and variance of every batchnorm layer's input
  on a batch, with dropout on or off (Li et al., 2019, "variance shift"), and
  :func:`with_recomputed_statistics` gives a copy of a network whose running averages are
  re-estimated with dropout switched off (their remedy).
- :func:`monte_carlo_gaps` compares the weight-scaled pass of a dropout network with the
  average of the scores over K sampled masks (section 6d).
- :func:`scaled_after_dropout` multiplies the weight matrices that follow a dropout layer
  (section 6a folds vanilla dropout's test-time scaling into them; with the factor 1 / p it
  gives the network that the bug of Inline Question 1 trains).

Everything runs through the student's ``FullyConnectedNet``, ``Solver`` and layer functions.

Shape letters: N examples, D input features, C classes, K sampled masks, L layers
(L - 1 hidden layers).

Public API: :class:`Solved`, :func:`solve`, :func:`solve_all`, :class:`Trained`,
:func:`train_network`, :func:`train_networks`, :func:`batch_statistics`,
:func:`with_recomputed_statistics`, :func:`monte_carlo_gaps`, :func:`scaled_after_dropout`.
"""

import copy
import dataclasses
import time

import numpy as np

from assignment.experiments import check_data, run_parallel
from assignment.fc_net import FullyConnectedNet
from assignment.layer_utils import affine_relu_forward, hidden_layer_forward
from assignment.layers import affine_forward, dropout_forward
from assignment.solver import Solver

__all__ = [
    "Solved",
    "Trained",
    "batch_statistics",
    "monte_carlo_gaps",
    "scaled_after_dropout",
    "solve",
    "solve_all",
    "train_network",
    "train_networks",
    "with_recomputed_statistics",
]


@dataclasses.dataclass
class Solved:
    """What ``Solver.train`` leaves behind for a network trained by :func:`solve`.

    - model: the FullyConnectedNet with the parameters of the best validation accuracy (the
      Solver swaps them in when training ends).
    - train_acc_history, val_acc_history: lists of E + 1 floats, the accuracies the Solver
      measured after the first step and after each of the E epochs.
    - best_val_acc: float, the best validation accuracy.
    - seconds: float, wall-clock time of the training.
    """

    model: FullyConnectedNet
    train_acc_history: list
    val_acc_history: list
    best_val_acc: float
    seconds: float


def _adam_solver(data, hidden_dims, normalization, keep_ratio, num_epochs, batch_size,
                 learning_rate, seed):
    """The float32 FullyConnectedNet (built right after np.random.seed(seed)) and its quiet
    Adam Solver, as :func:`solve` and :func:`train_network` train them."""
    check_data(data)
    np.random.seed(seed)
    model = FullyConnectedNet(list(hidden_dims), input_dim=int(np.prod(data["X_train"].shape[1:])),
                              normalization=normalization, dropout_keep_ratio=keep_ratio,
                              dtype=np.float32)
    solver = Solver(model, data, num_epochs=num_epochs, batch_size=batch_size,
                    update_rule="adam", optim_config={"learning_rate": learning_rate},
                    verbose=False)
    return model, solver


def solve(data, hidden_dims, keep_ratio=1, num_epochs=25, batch_size=100, learning_rate=5e-4,
          seed=231):
    """Train a FullyConnectedNet (float32, default initialization) with ``Solver.train`` and Adam.

    Inputs:
    - data: dict with X_train (N, ...), y_train (N,), X_val (V, ...), y_val (V,).
    - hidden_dims: list of the hidden layer sizes.
    - keep_ratio: dropout keep probability p (1: no dropout).
    - num_epochs, batch_size, learning_rate: as for the Solver (Adam); quiet.
    - seed: np.random.seed right before the network is built.

    Returns a Solved.
    """
    model, solver = _adam_solver(data, hidden_dims, None, keep_ratio, num_epochs, batch_size,
                                 learning_rate, seed)
    start = time.perf_counter()
    solver.train()
    return Solved(model, list(solver.train_acc_history), list(solver.val_acc_history),
                  float(solver.best_val_acc), time.perf_counter() - start)


def _solve_one(options, data):
    return solve(data, **options)


def solve_all(runs, data, processes=None):
    """``[solve(data, **options) for options in runs]``, in parallel and in order, as
    :func:`train_networks` does for train_network (same inputs, one worker per core)."""
    return run_parallel(_solve_one, list(runs), data, processes=processes)


@dataclasses.dataclass
class Trained:
    """A network trained by :func:`train_network` and what was recorded on the way.

    - model: the FullyConnectedNet after the last step (parameters and running averages).
    - loss_history: float array (I,), the minibatch loss of every step (I steps).
    - val_acc_history: float array (E + 1,), the validation accuracy before training and after
      each of the E epochs.
    - seconds: float, wall-clock time of the training.
    """

    model: FullyConnectedNet
    loss_history: np.ndarray
    val_acc_history: np.ndarray
    seconds: float


def train_network(data, hidden_dims, normalization=None, keep_ratio=1, num_epochs=10,
                  batch_size=50, learning_rate=1e-3, seed=231):
    """Train a float32 FullyConnectedNet with Adam, one Solver step at a time.

    Inputs:
    - data: dict with X_train (N, ...), y_train (N,), X_val (V, ...), y_val (V,).
    - hidden_dims: list of the hidden layer sizes.
    - normalization: None or "batchnorm" (as FullyConnectedNet).
    - keep_ratio: dropout keep probability p (1: no dropout).
    - num_epochs, batch_size, learning_rate: as for the Solver (Adam).
    - seed: np.random.seed right before the network is built.

    Returns a Trained. The validation accuracy is measured with ``Solver.check_accuracy``
    (test mode) on all V examples before training and after every epoch; nothing else is
    evaluated.
    """
    model, solver = _adam_solver(data, hidden_dims, normalization, keep_ratio, num_epochs,
                                 batch_size, learning_rate, seed)
    steps_per_epoch = max(data["X_train"].shape[0] // batch_size, 1)
    start = time.perf_counter()
    val_acc = [solver.check_accuracy(data["X_val"], data["y_val"])]
    for _ in range(num_epochs):
        for _ in range(steps_per_epoch):
            solver._step()  # the student's step: minibatch, loss, Adam updates
        val_acc.append(solver.check_accuracy(data["X_val"], data["y_val"]))
    return Trained(model, np.array(solver.loss_history, dtype=np.float64),
                   np.array(val_acc, dtype=np.float64), time.perf_counter() - start)


def _train_one(options, data):
    return train_network(data, **options)


def train_networks(runs, data, processes=None):
    """``[train_network(data, **options) for options in runs]``, one worker process per core.

    Inputs:
    - runs: list of dicts of keyword arguments of train_network (hidden_dims required).
    - data: as for train_network.
    - processes: as for ``assignment.experiments.run_parallel`` (default: one per core).

    Returns the list of Trained, in the order of runs. Each network has its own seed, so the
    results do not depend on the number of processes.
    """
    return run_parallel(_train_one, list(runs), data, processes=processes)


def _check_batchnorm(model, fn):
    if model.normalization != "batchnorm":
        raise ValueError(f"{fn}: the network has normalization={model.normalization!r}; "
                         "expected a network built with normalization='batchnorm'")


def batch_statistics(model, X, y, dropout=True):
    """Mean and variance of every batchnorm layer's input on the batch X, as training sees it.

    One training-mode pass of the model (the student's ``loss(X, y)``) with the running
    averages' momentum set to 0, so that they become the statistics of this batch; the model's
    own running averages and dropout setting are restored afterwards. With ``dropout=False``
    the dropout layers keep every unit (keep probability 1) during the pass.

    Inputs:
    - model: a FullyConnectedNet with batchnorm.
    - X: array (N, ...) of examples; y: int array (N,) of their labels.
    - dropout: bool, whether the dropout layers drop units during the pass.

    Returns a list with one tuple (mean, var) per batchnorm layer, each a float array (H_i,);
    var is the biased variance, as the running average keeps it.
    """
    _check_batchnorm(model, "batch_statistics")
    saved_bn_params = copy.deepcopy(model.bn_params)
    saved_dropout_param = dict(model.dropout_param)
    try:
        for bn_param in model.bn_params:
            bn_param["momentum"] = 0.0
        if model.use_dropout and not dropout:
            model.dropout_param["p"] = 1.0
        model.loss(X, y)
        return [(np.array(bn_param["running_mean"], dtype=np.float64),
                 np.array(bn_param["running_var"], dtype=np.float64))
                for bn_param in model.bn_params]
    finally:
        model.bn_params = saved_bn_params
        model.dropout_param.clear()
        model.dropout_param.update(saved_dropout_param)


def with_recomputed_statistics(model, X, y):
    """A copy of the network whose running averages are the statistics of X without dropout.

    Li et al.'s remedy for the variance shift: the test pass then normalizes with the
    statistics that its own (dropout-free) inputs have. The model itself is not changed.

    Inputs: as for batch_statistics. Returns a FullyConnectedNet.
    """
    fixed = copy.deepcopy(model)
    for bn_param, (mean, var) in zip(fixed.bn_params, batch_statistics(model, X, y, False),
                                     strict=True):
        bn_param["running_mean"] = mean.astype(fixed.dtype)
        bn_param["running_var"] = var.astype(fixed.dtype)
    return fixed


def _check_dropout_only(model, fn):
    if not model.use_dropout or model.normalization is not None:
        raise ValueError(
            f"{fn}: expected a network with dropout and without normalization, got "
            f"dropout_keep_ratio={model.dropout_param.get('p', 1)!r}, "
            f"normalization={model.normalization!r}")


def monte_carlo_gaps(model, X, num_masks, seed=0):
    """How far the average over K dropout masks is from the weight-scaled (test-mode) pass.

    For k = 1..num_masks, the class scores of X are averaged over k training-mode forward
    passes, each with fresh dropout masks (the student's ``hidden_layer_forward`` with a
    training-mode dropout_param), and compared with the test-mode scores ``model.loss(X)``.

    Inputs:
    - model: a FullyConnectedNet with dropout, without normalization.
    - X: array (N, ...) of examples.
    - num_masks: int K >= 1.
    - seed: np.random.seed before the first mask.

    Returns a tuple of:
    - gaps: float array (K,), gaps[k - 1] = mean over the N examples of
      ||average of k sampled scores - weight-scaled scores|| / ||weight-scaled scores||.
    - mean_scores: float array (N, C), the scores averaged over all K masks.
    """
    _check_dropout_only(model, "monte_carlo_gaps")
    X = X.reshape(X.shape[0], -1).astype(model.dtype, copy=False)
    scaled = model.loss(X).astype(np.float64)
    scaled_norm = np.linalg.norm(scaled, axis=1)
    dropout_param = {"mode": "train", "p": model.dropout_param["p"]}
    L = model.num_layers
    # The first hidden layer's ReLU output does not depend on the masks: computed once.
    first, _ = affine_relu_forward(X, model.params["W1"], model.params["b1"])
    np.random.seed(seed)
    total = np.zeros_like(scaled)
    gaps = np.empty(num_masks)
    for k in range(1, num_masks + 1):
        hidden, _ = dropout_forward(first, dropout_param)
        for i in range(2, L):
            hidden, _ = hidden_layer_forward(hidden, model.params[f"W{i}"], model.params[f"b{i}"],
                                             dropout_param=dropout_param)
        sampled, _ = affine_forward(hidden, model.params[f"W{L}"], model.params[f"b{L}"])
        total += sampled
        gaps[k - 1] = np.mean(np.linalg.norm(total / k - scaled, axis=1) / scaled_norm)
    return gaps, total / num_masks


def scaled_after_dropout(model, factor):
    """A copy of the network with every weight matrix that follows a dropout layer scaled.

    In FullyConnectedNet a dropout layer ends every hidden layer, so these are W2 .. WL (not
    W1, not the biases). A plain test pass of the copy computes what the model's test pass
    computes with every dropout layer's output multiplied by ``factor``.

    Inputs:
    - model: a FullyConnectedNet.
    - factor: float.

    Returns a FullyConnectedNet (the model is not changed).
    """
    scaled = copy.deepcopy(model)
    for i in range(2, model.num_layers + 1):
        scaled.params[f"W{i}"] = (factor * model.params[f"W{i}"]).astype(model.dtype)
    return scaled
