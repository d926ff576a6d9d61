"""Forward and backward passes of the layers of a fully connected network, and its losses.

Every layer is a pair, adjacent in this file::

    out, cache = x_forward(inputs..., param)      # cache: what x_backward needs, nothing more
    grads = x_backward(dout, cache)               # gradients in the order of the inputs

Shape letters used in the docstrings:

- ``N``: number of examples in the minibatch,
- ``D``: number of input features (``d_1 * ... * d_k`` for an input ``(N, d_1, ..., d_k)``),
- ``M``: number of output features of an affine layer,
- ``C``: number of classes.

Numerical conventions (as in CS231n):

- ReLU: at exactly 0, where ReLU has no derivative, the (sub)gradient is taken to be 0.
- Batch normalization normalizes with the *biased* minibatch variance (divide by ``N``), adds
  ``eps`` (default ``1e-5``) to the variance before the square root, and keeps exponentially
  decaying running averages ``running = momentum * running + (1 - momentum) * batch_statistic``
  (``momentum`` default ``0.9``; note that PyTorch's ``momentum`` is ``1 - momentum`` and that
  PyTorch's running variance is unbiased, ours is biased). Test mode uses the running averages.
- Layer normalization normalizes each example (row) over its ``D`` features with the biased
  variance and the same ``eps``; train and test mode compute the same thing.
- Dropout is *inverted* dropout: ``p`` is the probability of KEEPING a unit, kept units are
  scaled by ``1 / p`` at training time, so test mode is the identity. The mask is drawn as
  ``np.random.rand(*x.shape) < p`` (True: the unit is kept) from numpy's global random state,
  after ``np.random.seed(dropout_param['seed'])`` when a seed is given: the same draws as CS231n.
- Outputs and gradients keep the floating dtype of ``x`` (float32 in, float32 out). Gradient
  checks should be done in float64.

Bad input (wrong shapes, unknown or missing modes and keys, hyperparameters out of range,
non-float arrays, empty batches) raises ``ValueError`` or ``TypeError`` with a message naming the
argument, what it got and what was expected.
"""

from collections import namedtuple

import numpy as np

# What batchnorm_forward (train mode) keeps for its backward passes:
#   x_centered: (N, D) x minus its per-feature batch mean (x_hat = x_centered * inv_std; keeping
#               x_centered rather than x_hat saves the forward pass one sweep over memory)
#   gamma:      (D,) scale parameter
#   inv_std:    (D,) 1 / sqrt(var + eps), per feature
BatchNormCache = namedtuple("BatchNormCache", ["x_centered", "gamma", "inv_std"])

# What layernorm_forward keeps for its backward pass:
#   x_hat:   (N, D) normalized input, (x - row mean) * inv_std
#   gamma:   (D,) scale parameter
#   inv_std: (N, 1) 1 / sqrt(var + eps), per example
LayerNormCache = namedtuple("LayerNormCache", ["x_hat", "gamma", "inv_std"])


# ---------------------------------------------------------------------------------------------
# Input checks (given code, shared by all layers)
# ---------------------------------------------------------------------------------------------


def _check_float_array(name, a, ndim=None, fn=""):
    """Raise TypeError/ValueError unless ``a`` is a non-empty float ndarray (of ``ndim`` dims)."""
    where = f"{fn}: " if fn else ""
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{where}{name} must be a numpy array, got {type(a).__name__}; "
            f"convert it with np.asarray({name}, dtype=np.float64)"
        )
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(
            f"{where}{name} has dtype {a.dtype}, expected a floating dtype (float32 or float64); "
            f"convert it with {name}.astype(np.float64)"
        )
    if ndim is not None and a.ndim != ndim:
        raise ValueError(
            f"{where}{name} has shape {a.shape} ({a.ndim} dims), expected {ndim} dims"
            + (" (N, D)" if ndim == 2 else "")
        )
    if a.ndim == 0 or a.shape[0] == 0 or a.size == 0:
        raise ValueError(
            f"{where}{name} has shape {a.shape}, expected a non-empty batch (N >= 1 examples "
            "with at least one feature each)"
        )


def _check_shape(name, a, expected, fn, hint=""):
    """Raise ValueError unless ``a.shape == expected``."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn}: {name} must be a numpy array, got {type(a).__name__}")
    if a.shape != tuple(expected):
        raise ValueError(f"{fn}: {name} has shape {a.shape}, expected {tuple(expected)}{hint}")


def _check_param_dict(name, param, allowed, required, fn):
    """Raise unless ``param`` is a dict whose keys are in ``allowed`` and include ``required``."""
    if not isinstance(param, dict):
        raise TypeError(f"{fn}: {name} must be a dict, got {type(param).__name__}")
    unknown = sorted(set(param) - set(allowed), key=str)
    if unknown:
        raise ValueError(
            f"{fn}: {name} has unknown key(s) {unknown}; accepted keys are {sorted(allowed)}"
        )
    for key in required:
        if key not in param:
            raise ValueError(
                f"{fn}: {name} is missing the required key {key!r}; set e.g. "
                f"{name}[{key!r}] = 'train' (accepted: 'train', 'test')"
            )


def _check_mode(name, mode, fn):
    """Raise ValueError unless ``mode`` is 'train' or 'test'."""
    if mode not in ("train", "test"):
        raise ValueError(f"{fn}: {name}['mode'] is {mode!r}, expected 'train' or 'test'")


def _check_number(name, value, low, high, fn, meaning):
    """Raise ValueError unless ``value`` is a real number with ``low <= value <= high``."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not low <= value <= high):
        raise ValueError(
            f"{fn}: {name} is {value!r}, expected a number in [{low}, {high}] ({meaning})"
        )


def _check_cache(cache, expected_type, fn, forward):
    """Raise TypeError unless ``cache`` is what ``forward`` returns."""
    if not isinstance(cache, expected_type):
        raise TypeError(
            f"{fn}: cache is {type(cache).__name__}, expected the cache returned by {forward}"
            + (" in train mode (test mode keeps no cache)" if cache is None else "")
        )


def _check_labels(y, N, C, fn):
    """Raise unless ``y`` is an integer array of shape (N,) with values in [0, C)."""
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        got = y.dtype if isinstance(y, np.ndarray) else type(y).__name__
        raise TypeError(f"{fn}: y has type/dtype {got}, expected an integer numpy array")
    if y.shape != (N,):
        raise ValueError(f"{fn}: y has shape {y.shape}, expected ({N},) to match x of N={N} rows")
    if y.min() < 0 or y.max() >= C:
        raise ValueError(
            f"{fn}: y has labels in [{y.min()}, {y.max()}], expected values in [0, {C - 1}] "
            f"for x with C={C} columns"
        )


# ---------------------------------------------------------------------------------------------
# Affine
# ---------------------------------------------------------------------------------------------


def affine_forward(x, w, b):
    """Compute the forward pass of an affine (fully connected) layer.

    The input x has shape (N, d_1, ..., d_k); each example is reshaped into a vector of
    dimension D = d_1 * ... * d_k and transformed to an output vector of dimension M.

    Inputs:
    - x: A numpy array containing input data, of shape (N, d_1, ..., d_k)
    - w: A numpy array of weights, of shape (D, M)
    - b: A numpy array of biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b), the inputs as given
    """
    fn = "affine_forward"
    _check_float_array("x", x, fn=fn)
    _check_float_array("w", w, ndim=2, fn=fn)
    N = x.shape[0]
    D, M = w.shape
    if x.size != N * D:
        raise ValueError(
            f"{fn}: x has shape {x.shape} ({x.size // N} features per example), expected "
            f"D={D} features per example to match w of shape {w.shape}"
        )
    _check_shape("b", b, (M,), fn, f" to match w of shape {w.shape}")
    out = None
    # TODO: Implement the affine forward pass. Store the result in out. You will need to
    # reshape the input into rows.
    ### BEGIN SOLUTION
    out = x.reshape(N, D) @ w + b
    ### END SOLUTION
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Compute the backward pass of an affine layer.

    Inputs:
    - dout: Upstream derivative, of shape (N, M)
    - cache: Tuple of:
      - x: Input data, of shape (N, d_1, ... d_k)
      - w: Weights, of shape (D, M)
      - b: Biases, of shape (M,)

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, d1, ..., d_k)
    - dw: Gradient with respect to w, of shape (D, M)
    - db: Gradient with respect to b, of shape (M,)
    """
    fn = "affine_backward"
    _check_cache(cache, tuple, fn, "affine_forward")
    x, w, b = cache
    _check_shape("dout", dout, (x.shape[0], w.shape[1]), fn, " (N, M) of the forward output")
    dx, dw, db = None, None, None
    # TODO: Implement the affine backward pass.
    ### BEGIN SOLUTION
    N = x.shape[0]
    D = w.shape[0]
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(N, D).T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------------------------


def relu_forward(x):
    """Compute the forward pass for a layer of rectified linear units (ReLUs).

    Input:
    - x: Inputs, of any shape

    Returns a tuple of:
    - out: Output, of the same shape as x
    - cache: x
    """
    _check_float_array("x", x, fn="relu_forward")
    out = None
    # TODO: Implement the ReLU forward pass.
    ### BEGIN SOLUTION
    out = np.maximum(x, 0)
    ### END SOLUTION
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Compute the backward pass for a layer of rectified linear units (ReLUs).

    The subgradient at x == 0 is 0.

    Input:
    - dout: Upstream derivatives, of any shape
    - cache: Input x, of same shape as dout

    Returns:
    - dx: Gradient with respect to x, of the same shape as x
    """
    fn = "relu_backward"
    _check_cache(cache, np.ndarray, fn, "relu_forward")
    x = cache
    _check_shape("dout", dout, x.shape, fn, " (the shape of relu_forward's input)")
    dx = None
    # TODO: Implement the ReLU backward pass.
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------


def softmax_loss(x, y):
    """Compute the loss and gradient for softmax classification.

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth class for the ith
      input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and 0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss (mean over the N examples)
    - dx: Gradient of the loss with respect to x, of shape (N, C)
    """
    fn = "softmax_loss"
    _check_float_array("x", x, ndim=2, fn=fn)
    N, C = x.shape
    _check_labels(y, N, C, fn)
    loss, dx = None, None
    # TODO: Copy over your solution from Assignment 1. Subtract the row maximum from the
    # scores before exponentiating, so that exp cannot overflow.
    ### BEGIN SOLUTION
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N)
    loss = -log_probs[rows, y].sum() / N
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= N
    ### END SOLUTION
    return loss, dx


def svm_loss(x, y):
    """Compute the loss and gradient for multiclass SVM classification (margin 1).

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth class for the ith
      input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and 0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss (mean over the N examples)
    - dx: Gradient of the loss with respect to x, of shape (N, C)
    """
    fn = "svm_loss"
    _check_float_array("x", x, ndim=2, fn=fn)
    N, C = x.shape
    _check_labels(y, N, C, fn)
    loss, dx = None, None
    # TODO: Copy over your solution from Assignment 1.
    ### BEGIN SOLUTION
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = margins > 0
    dx = positive.astype(x.dtype)
    dx[rows, y] -= positive.sum(axis=1)
    dx /= N
    ### END SOLUTION
    return loss, dx


# ---------------------------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------------------------


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass for batch normalization.

    During training the sample mean and (uncorrected, biased) sample variance are computed from
    minibatch statistics and used to normalize the incoming data. During training we also keep
    an exponentially decaying running mean of the mean and variance of each feature, and these
    averages are used to normalize data at test time.

    At each timestep we update the running averages for mean and variance using an exponential
    decay based on the momentum parameter: the new running mean is ``momentum`` times the old
    one plus ``1 - momentum`` times the minibatch mean, and the same for the variance.

    The original paper (Ioffe and Szegedy, https://arxiv.org/abs/1502.03167) estimates the test
    statistics from a large number of training images instead; running averages avoid that
    extra pass and are what Torch and PyTorch do.

    Input:
    - x: Data of shape (N, D)
    - gamma: Scale parameter of shape (D,)
    - beta: Shift parameter of shape (D,)
    - bn_param: Dictionary with the following keys:
      - mode: 'train' or 'test'; required
      - eps: Constant for numeric stability, >= 0 (default 1e-5)
      - momentum: Constant for running mean / variance, in [0, 1] (default 0.9)
      - running_mean: Array of shape (D,) giving running mean of features (default zeros of
        x's dtype); train mode stores the updated array back into bn_param
      - running_var: Array of shape (D,) giving running variance of features (same default)

    Returns a tuple of:
    - out: of shape (N, D), dtype of x
    - cache: in train mode, a tuple of the values your backward passes need (a
      BatchNormCache, defined at the top of this file, is one choice; any tuple of your own
      design is accepted); None in test mode (there is no backward pass through test mode)
    """
    fn = "batchnorm_forward"
    _check_float_array("x", x, ndim=2, fn=fn)
    N, D = x.shape
    _check_shape("gamma", gamma, (D,), fn, f" to match x of shape {x.shape}")
    _check_shape("beta", beta, (D,), fn, f" to match x of shape {x.shape}")
    _check_param_dict(
        "bn_param", bn_param, ("mode", "eps", "momentum", "running_mean", "running_var"),
        ("mode",), fn,
    )
    mode = bn_param["mode"]
    _check_mode("bn_param", mode, fn)
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    _check_number("bn_param['eps']", eps, 0, np.inf, fn, "added to the variance, default 1e-5")
    _check_number(
        "bn_param['momentum']", momentum, 0, 1, fn,
        "the weight of the OLD running average, default 0.9; PyTorch's momentum is 1 - this",
    )

    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    _check_shape("bn_param['running_mean']", running_mean, (D,), fn, f" to match x {x.shape}")
    _check_shape("bn_param['running_var']", running_var, (D,), fn, f" to match x {x.shape}")

    out, cache = None, None
    if mode == "train":
        # TODO: Implement the training-time forward pass for batch norm. Use minibatch
        # statistics to compute the mean and variance, use these statistics to normalize the
        # incoming data, and scale and shift the normalized data using gamma and beta.
        #
        # Store the output in the variable out. Keep in cache what the backward pass needs
        # (and no more), and update running_mean and running_var with the momentum rule above.
        #
        # Referencing the original paper (https://arxiv.org/abs/1502.03167) might prove
        # helpful.
        ### BEGIN SOLUTION
        sample_mean = x.mean(axis=0)
        x_centered = x - sample_mean
        # Biased variance: mean of squares of the centred data; einsum avoids a temporary.
        sample_var = np.einsum("ij,ij->j", x_centered, x_centered) / N
        inv_std = 1.0 / np.sqrt(sample_var + eps)
        # gamma * x_hat + beta, with x_hat = x_centered * inv_std folded into the scale
        out = x_centered * (gamma * inv_std)
        out += beta
        cache = BatchNormCache(x_centered, gamma, inv_std)
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
        ### END SOLUTION
    else:
        # TODO: Implement the test-time forward pass for batch normalization. Use the running
        # mean and variance to normalize the incoming data, then scale and shift the
        # normalized data using gamma and beta. Store the result in out.
        ### BEGIN SOLUTION
        scale = gamma / np.sqrt(running_var + eps)
        out = (x - running_mean) * scale + beta
        ### END SOLUTION

    # Store the updated running means back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    return out, cache


def _check_norm_backward(dout, cache, fn, forward):
    """Shared checks of the norm backward passes: a cache was kept, dout has its shape.

    A cache of another type (a student's own design) is passed through unchecked.
    """
    if cache is None:
        _check_cache(cache, tuple, fn, forward)
    if not isinstance(dout, np.ndarray):
        raise TypeError(f"{fn}: dout must be a numpy array, got {type(dout).__name__}")
    if isinstance(cache, (BatchNormCache, LayerNormCache)):
        _check_shape("dout", dout, cache[0].shape, fn, f" (the shape of {forward}'s output)")


def batchnorm_backward(dout, cache):
    """Backward pass for batch normalization, stage by stage through the computational graph.

    For this implementation, write out a computation graph for batch normalization on paper and
    propagate gradients backward through intermediate nodes.

    Inputs:
    - dout: Upstream derivatives, of shape (N, D)
    - cache: Variable of intermediates from batchnorm_forward (train mode)

    Returns a tuple of:
    - dx: Gradient with respect to inputs x, of shape (N, D)
    - dgamma: Gradient with respect to scale parameter gamma, of shape (D,)
    - dbeta: Gradient with respect to shift parameter beta, of shape (D,)
    """
    _check_norm_backward(dout, cache, "batchnorm_backward", "batchnorm_forward")
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for batch normalization. Store the results in the dx,
    # dgamma, and dbeta variables. Work out the derivatives on paper first, node by node of
    # your forward pass's computational graph, then implement them one stage at a time.
    ### BEGIN SOLUTION
    xmu, gamma, inv_std = cache
    N = dout.shape[0]
    x_hat = xmu * inv_std
    # out = gamma * x_hat + beta
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    # x_hat = xmu * inv_std: xmu reaches the output directly and through inv_std
    dinv_std = (dx_hat * xmu).sum(axis=0)
    dxmu = dx_hat * inv_std
    # inv_std = 1 / std
    dstd = -dinv_std * inv_std**2
    # std = sqrt(var + eps)
    dvar = 0.5 * dstd * inv_std
    # var = mean(xmu**2)
    dsq = np.ones_like(dout) * dvar / N
    dxmu += 2 * xmu * dsq
    # xmu = x - mu: x reaches xmu directly and through mu
    dmu = -dxmu.sum(axis=0)
    # mu = mean(x)
    dx = dxmu + dmu / N
    ### END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Alternative backward pass for batch normalization.

    For this implementation you should work out the derivatives for the batch normalization
    backward pass on paper and simplify as much as possible (the notebook section "A simpler
    backward pass" says what to show). You should be able to derive a simple expression for
    the backward pass; it computes the same gradients as batchnorm_backward with far fewer
    passes over memory.

    Note: This implementation should expect to receive the same cache variable as
    batchnorm_backward, but might not use all of the values in the cache.

    Inputs / outputs: same as batchnorm_backward.
    """
    _check_norm_backward(dout, cache, "batchnorm_backward_alt", "batchnorm_forward")
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for batch normalization. Store the results in the dx,
    # dgamma, and dbeta variables.
    #
    # After computing the gradient with respect to the centered inputs, you should be able to
    # compute gradients with respect to the inputs in a single statement; our implementation
    # fits on a single 80-character line.
    ### BEGIN SOLUTION
    x_centered, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("ij,ij->j", dout, x_centered) * inv_std
    # dx = gamma * inv_std * (dout - (dbeta + x_hat * dgamma) / N), built in one buffer
    dx = x_centered * (inv_std * dgamma / N)
    dx += dbeta / N
    np.subtract(dout, dx, out=dx)
    dx *= gamma * inv_std
    ### END SOLUTION
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Layer normalization
# ---------------------------------------------------------------------------------------------


def layernorm_forward(x, gamma, beta, ln_param):
    """Forward pass for layer normalization.

    During both training and test-time, the incoming data is normalized per data-point (row),
    before being scaled by gamma and beta parameters identical to that of batch normalization.
    In contrast to batch normalization, the behavior during train and test-time for layer
    normalization is identical, and we do not need to keep track of running averages of any
    sort (Ba, Kiros and Hinton, https://arxiv.org/abs/1607.06450).

    Input:
    - x: Data of shape (N, D)
    - gamma: Scale parameter of shape (D,)
    - beta: Shift parameter of shape (D,)
    - ln_param: Dictionary with the following keys:
        - eps: Constant for numeric stability, >= 0 (default 1e-5)
        - mode: optional, 'train' or 'test'; accepted for symmetry with batchnorm, no effect

    Returns a tuple of:
    - out: of shape (N, D), dtype of x
    - cache: a tuple of the values your backward pass needs (a LayerNormCache, defined at the
      top of this file, is one choice; any tuple of your own design is accepted)
    """
    fn = "layernorm_forward"
    _check_float_array("x", x, ndim=2, fn=fn)
    N, D = x.shape
    _check_shape("gamma", gamma, (D,), fn, f" to match x of shape {x.shape}")
    _check_shape("beta", beta, (D,), fn, f" to match x of shape {x.shape}")
    _check_param_dict("ln_param", ln_param, ("eps", "mode"), (), fn)
    if "mode" in ln_param:
        _check_mode("ln_param", ln_param["mode"], fn)
    eps = ln_param.get("eps", 1e-5)
    _check_number("ln_param['eps']", eps, 0, np.inf, fn, "added to the variance, default 1e-5")
    out, cache = None, None
    # TODO: Implement the training-time forward pass for layer norm. Normalize the incoming
    # data, and scale and shift the normalized data using gamma and beta.
    # HINT: this can be done by slightly modifying your training-time implementation of batch
    # normalization, and inserting a line or two of well-placed code. In particular, can you
    # think of any matrix transformations you could perform, that would enable you to copy
    # over the batch norm code and leave it almost unchanged?
    ### BEGIN SOLUTION
    x_hat = x - x.mean(axis=1, keepdims=True)
    var = np.einsum("ij,ij->i", x_hat, x_hat)[:, None] / D
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat *= inv_std
    out = x_hat * gamma
    out += beta
    cache = LayerNormCache(x_hat, gamma, inv_std)
    ### END SOLUTION
    return out, cache


def layernorm_backward(dout, cache):
    """Backward pass for layer normalization.

    For this implementation, you can heavily rely on the work you've done already for batch
    normalization.

    Inputs:
    - dout: Upstream derivatives, of shape (N, D)
    - cache: Variable of intermediates from layernorm_forward

    Returns a tuple of:
    - dx: Gradient with respect to inputs x, of shape (N, D)
    - dgamma: Gradient with respect to scale parameter gamma, of shape (D,)
    - dbeta: Gradient with respect to shift parameter beta, of shape (D,)
    """
    _check_norm_backward(dout, cache, "layernorm_backward", "layernorm_forward")
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for layer norm.
    #
    # HINT: this can be done by slightly modifying your training-time implementation of batch
    # normalization. The hints to the forward pass still apply!
    ### BEGIN SOLUTION
    x_hat, gamma, inv_std = cache
    D = dout.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("ij,ij->j", dout, x_hat)
    dx = dout * gamma  # dx_hat, turned into dx in place below
    row_sum = dx.sum(axis=1, keepdims=True) / D
    row_dot = np.einsum("ij,ij->i", dx, x_hat)[:, None] / D
    correction = x_hat * row_dot
    correction += row_sum
    dx -= correction
    dx *= inv_std
    ### END SOLUTION
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


def dropout_forward(x, dropout_param):
    """Forward pass for inverted dropout.

    Note that this is different from the vanilla version of dropout: here ``p`` is the
    probability of KEEPING a neuron output, as opposed to the probability of dropping it, and
    kept outputs are divided by ``p`` at training time so that test time is the identity.
    See http://cs231n.github.io/neural-networks-2/#reg for more details.

    Inputs:
    - x: Input data, of any shape
    - dropout_param: A dictionary with the following keys:
      - p: Dropout parameter. We keep each neuron output with probability p; 0 < p <= 1.
      - mode: 'test' or 'train'. If the mode is train, then perform dropout;
        if the mode is test, then just return the input.
      - seed: optional; seed for numpy's global random state, drawn just before the mask
        (np.random.seed(seed)). This makes the mask deterministic, which is needed for
        gradient checking but not in real networks.

    Outputs:
    - out: Array of the same shape and dtype as x.
    - cache: tuple (mode, mask). In training mode, mask is the dropout mask that was used to
      multiply the input, of x's shape and dtype (entries 0 or 1 / p); in test mode, mask is
      None.
    """
    fn = "dropout_forward"
    _check_float_array("x", x, fn=fn)
    _check_param_dict("dropout_param", dropout_param, ("p", "mode", "seed"), ("mode",), fn)
    if "p" not in dropout_param:
        raise ValueError(
            f"{fn}: dropout_param is missing the required key 'p' (the probability of keeping "
            "a unit, 0 < p <= 1)"
        )
    p, mode = dropout_param["p"], dropout_param["mode"]
    _check_mode("dropout_param", mode, fn)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not 0 < p <= 1:
        raise ValueError(
            f"{fn}: dropout_param['p'] is {p!r}, expected a number in (0, 1]: the probability "
            "of KEEPING a unit (p=1 keeps all units)"
        )
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None

    if mode == "train":
        # TODO: Implement training phase forward pass for inverted dropout. Store the dropout
        # mask in the mask variable. Keep the units where np.random.rand(*x.shape) < p (one
        # call, no other random draws) so that your numbers match the reference outputs.
        ### BEGIN SOLUTION
        mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype, copy=False)
        out = x * mask
        ### END SOLUTION
    else:
        # TODO: Implement the test phase forward pass for inverted dropout.
        ### BEGIN SOLUTION
        out = x
        ### END SOLUTION

    cache = (mode, mask)
    out = out.astype(x.dtype, copy=False)

    return out, cache


def dropout_backward(dout, cache):
    """Backward pass for inverted dropout.

    Inputs:
    - dout: Upstream derivatives, of any shape
    - cache: (mode, mask) from dropout_forward.

    Returns:
    - dx: Gradient with respect to x, of the shape of dout
    """
    fn = "dropout_backward"
    _check_cache(cache, tuple, fn, "dropout_forward")
    mode, mask = cache
    if not isinstance(dout, np.ndarray):
        raise TypeError(f"{fn}: dout must be a numpy array, got {type(dout).__name__}")

    dx = None
    if mode == "train":
        _check_shape("dout", dout, mask.shape, fn, " (the shape of dropout_forward's input)")
        # TODO: Implement training phase backward pass for inverted dropout
        ### BEGIN SOLUTION
        dx = dout * mask
        ### END SOLUTION
    elif mode == "test":
        dx = dout
    else:
        raise ValueError(f"{fn}: cache holds mode {mode!r}, expected 'train' or 'test'")
    return dx
