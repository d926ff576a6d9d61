"""What the batch normalization experiments measure (notebooks/BatchNormalization.ipynb).

The training side is ``bn_experiments`` (variants, model wrappers, the Probe and its Trace);
this module looks at a network or at what a Probe recorded:

- :func:`layer_inputs`: the inputs of one hidden layer before and after normalization, for
  fixed examples (Ioffe and Szegedy, figure 1; the Probe records their percentiles);
- :func:`drift`: how much those distributions move over training;
- :func:`beta_smoothness`: Santurkar et al.'s effective beta-smoothness (figure 4);
- :func:`accuracy_with_statistics`: the trained network at test time with running averages,
  batch statistics or the statistics of the training set.

Shape letters: H units of the probed layer, T probed steps, S step sizes.
"""

import copy

import numpy as np

from assignment.layers import affine_forward, batchnorm_forward, relu_forward

__all__ = ["accuracy_with_statistics", "beta_smoothness", "drift", "layer_inputs"]

_STATISTICS = ("running", "batch", "training set")


def layer_inputs(model, X, layer):
    """The inputs of hidden layer ``layer`` (1-based) of a FullyConnectedNet for examples X.

    Batch normalization normalizes with the statistics of X itself (train mode, on throwaway
    bn_params: the running averages stay as they are), with the model's current gamma and
    beta (for NoisyBatchnorm inside a training call: the noisy ones). Uses the student's layers.

    Returns a tuple of float arrays (len(X), H): the input of the normalization (the affine
    output) and the input of the ReLU (the normalized one; the same array without
    normalization).
    """
    if model.normalization not in (None, "batchnorm"):
        raise ValueError(f"layer_inputs: normalization {model.normalization!r} is not supported")
    h = X.reshape(X.shape[0], -1).astype(model.dtype, copy=False)
    for i in range(1, layer + 1):
        a, _ = affine_forward(h, model.params[f"W{i}"], model.params[f"b{i}"])
        normalized = a
        if model.normalization == "batchnorm":
            normalized, _ = batchnorm_forward(
                a, model.params[f"gamma{i}"], model.params[f"beta{i}"], {"mode": "train"})
        h, _ = relu_forward(normalized)
    return a, normalized


def drift(percentiles, start=0):
    """How much the distribution of a layer's inputs moves over training, from step ``start``.

    Inputs:
    - percentiles: float array (T, 3, H), the 15th, 50th and 85th percentile of every unit's
      input at T probed steps (Trace.before or Trace.after).
    - start: the first probed step to look at (an index into T; e.g. after a warm-up).

    Returns the median over the H units of the mean absolute change between consecutive probed
    steps of the unit's median, in units of its mean spread (85th - 15th percentile) over those
    steps: 0 for a distribution that does not move; 1 when the median moves by a whole spread
    from one probed step to the next.
    """
    p = np.asarray(percentiles, dtype=np.float64)[start:]
    if p.ndim != 3 or p.shape[1] != 3 or p.shape[0] < 2:
        raise ValueError(f"drift: percentiles[start:] has shape {p.shape}, expected (T, 3, H) "
                         "with T >= 2")
    spread = (p[:, 2] - p[:, 0]).mean(axis=0)
    moves = np.abs(np.diff(p[:, 1], axis=0)).mean(axis=0)
    return float(np.median(moves / np.maximum(spread, 1e-12)))


def beta_smoothness(trace):
    """Santurkar et al.'s effective beta-smoothness at every probed step.

    The largest change of the gradient per unit of distance moved along it:
    max over eta of ||grad L(w - eta g) - grad L(w)|| / (eta ||g||). Returns a float array (T,).
    """
    distance = np.outer(trace.grad_norms, trace.step_sizes)
    return (trace.grad_changes / np.maximum(distance, 1e-30)).max(axis=1)


def accuracy_with_statistics(model, data, statistics, batch_size=5, num_train=1000):
    """Validation accuracy of a trained batchnorm network, normalized with other statistics.

    Inputs:
    - model: a trained FullyConnectedNet with batch normalization (it is not changed).
    - data: dict with X_train, y_train, X_val, y_val.
    - statistics: "running" (the running averages, as the network is evaluated normally),
      "batch" (the statistics of every batch of ``batch_size`` validation examples, as in
      training) or "training set" (the exact statistics of the first ``num_train`` training
      examples with the final weights).

    Uses only the model's own loss: a training call with momentum 0 sets every running
    average to the statistics of that call's batch, and a test call then normalizes with them.
    Returns a float.
    """
    if statistics not in _STATISTICS:
        raise ValueError(f"statistics is {statistics!r}, expected one of {_STATISTICS}")
    model = copy.deepcopy(model)
    X, y = data["X_val"], data["y_val"]

    def set_statistics(X_batch, y_batch):
        for bn_param in model.bn_params:
            bn_param["momentum"] = 0.0
        model.loss(X_batch, y_batch)

    if statistics == "training set":
        set_statistics(data["X_train"][:num_train], data["y_train"][:num_train])
    if statistics != "batch":
        return float(np.mean(np.argmax(model.loss(X), axis=1) == y))
    correct = 0
    for k in range(0, X.shape[0] - batch_size + 1, batch_size):
        set_statistics(X[k:k + batch_size], y[k:k + batch_size])
        correct += int(np.sum(np.argmax(model.loss(X[k:k + batch_size]), axis=1)
                              == y[k:k + batch_size]))
    return correct / (X.shape[0] // batch_size * batch_size)
