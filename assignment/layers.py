"""Forward and backward passes of the layers of a fully connected network, and its losses.

Every layer is a pair, adjacent in this file::

    out, cache = x_forward(inputs..., param)      # cache: what x_backward needs, nothing more
    grads = x_backward(dout, cache)               # gradients in the order of the inputs

Shape letters: ``N`` examples in the minibatch, ``D`` input features (``d_1 * ... * d_k`` for an
input of shape ``(N, d_1, ..., d_k)``), ``M`` output features of an affine layer, ``C`` classes.

Conventions, as in CS231n (each function's docstring says more): batch and layer normalization
divide by the biased variance plus ``eps``; dropout's ``p`` is the probability of KEEPING a unit.
Outputs and gradients keep x's floating dtype (float32 in, float32 out); gradient checks are done
in float64. Each function's first line checks its input (given code in ``_checks.py``).
"""

import numpy as np

from assignment import _checks


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
    _checks.affine_inputs(x, w, b)
    out = None
    # TODO: Implement the affine forward pass. Store the result in out. You will need to
    # reshape the input into rows.
    ### BEGIN SOLUTION
    N = x.shape[0]
    x_rows = x.reshape(N, -1)  # (N, D): one row per example
    out = x_rows @ w + b
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
    _checks.affine_backward_inputs(dout, cache)
    x, w, b = cache
    dx, dw, db = None, None, None
    # TODO: Implement the affine backward pass.
    ### BEGIN SOLUTION
    N = x.shape[0]
    x_rows = x.reshape(N, -1)  # (N, D)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_rows.T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """Compute the forward pass for a layer of rectified linear units (ReLUs).

    Input:
    - x: Inputs, of any shape

    Returns a tuple of:
    - out: Output, of the same shape as x
    - cache: x
    """
    _checks.float_array("x", x, "relu_forward")
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
    _checks.relu_backward_inputs(dout, cache)
    x = cache
    dx = None
    # TODO: Implement the ReLU backward pass.
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx


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
    _checks.loss_inputs(x, y, "softmax_loss")
    loss, dx = None, None
    # TODO: Copy over your solution from Assignment 1. Subtract the row maximum from the
    # scores before exponentiating, so that exp cannot overflow.
    ### BEGIN SOLUTION
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)  # (N, C), largest score 0 in every row
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N)
    loss = -log_probs[rows, y].sum() / N
    dx = np.exp(log_probs)  # (N, C): the probabilities
    dx[rows, y] -= 1
    dx = dx / N
    ### END SOLUTION
    return loss, dx


def svm_loss(x, y):
    """Compute the loss and gradient for multiclass SVM classification (margin 1).

    Inputs and returns: as softmax_loss (scores x (N, C), labels y (N,); loss, dx (N, C)).
    """
    _checks.loss_inputs(x, y, "svm_loss")
    loss, dx = None, None
    # TODO: Copy over your solution from Assignment 1.
    ### BEGIN SOLUTION
    N = x.shape[0]
    rows = np.arange(N)
    correct_scores = x[rows, y][:, None]  # (N, 1)
    margins = np.maximum(0, x - correct_scores + 1.0)  # (N, C)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = margins > 0  # (N, C): the classes that violate the margin
    dx = positive.astype(x.dtype)
    dx[rows, y] -= positive.sum(axis=1)
    dx = dx / N
    ### END SOLUTION
    return loss, dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass for batch normalization.

    During training the sample mean and (uncorrected, biased) sample variance are computed from
    minibatch statistics and used to normalize the incoming data. During training we also keep
    an exponentially decaying running mean of the mean and variance of each feature, and these
    averages are used to normalize data at test time (the paper, Ioffe and Szegedy,
    https://arxiv.org/abs/1502.03167, estimates them from many training images instead).

    At each timestep the new running mean is ``momentum`` times the old one plus
    ``1 - momentum`` times the minibatch mean, and the same for the variance. The running
    variance averages the biased minibatch variance (divide by N), the one each batch was
    normalized with, as CS231n does; PyTorch averages the unbiased one (divide by N - 1).

    Input:
    - x: Data of shape (N, D)
    - gamma: Scale parameter of shape (D,)
    - beta: Shift parameter of shape (D,)
    - bn_param: Dictionary with the following keys:
      - mode: 'train' or 'test'; required
      - eps: Constant for numeric stability, >= 0 (default 1e-5)
      - momentum: Constant for running mean / variance, in [0, 1] (default 0.9; the weight
        of the OLD average: PyTorch's momentum is 1 - this)
      - running_mean: Array of shape (D,) giving running mean of features (default zeros of
        x's dtype); train mode stores the updated array back into bn_param
      - running_var: Array of shape (D,) giving running variance of features (same default)

    Returns a tuple of:
    - out: of shape (N, D), dtype of x
    - cache: in train mode, the values your backward passes need, in a form of your choice;
      None in test mode (there is no backward pass through test mode)
    """
    mode, eps, momentum, running_mean, running_var = _checks.batchnorm_inputs(
        x, gamma, beta, bn_param
    )
    out, cache = None, None
    if mode == "train":
        # TODO: Implement the training-time forward pass for batch norm. Use minibatch
        # statistics to compute the mean and variance, use these statistics to normalize the
        # incoming data, and scale and shift the normalized data using gamma and beta.
        # Store the output in the variable out. Keep in cache what the backward pass needs
        # (and no more), and update running_mean and running_var with the momentum rule above.
        # Referencing the original paper (https://arxiv.org/abs/1502.03167) might prove
        # helpful.
        ### BEGIN SOLUTION
        sample_mean = x.mean(axis=0)  # (D,)
        sample_var = x.var(axis=0)  # (D,), biased: divides by N
        inv_std = 1 / np.sqrt(sample_var + eps)  # (D,)
        x_hat = (x - sample_mean) * inv_std  # (N, D): mean 0, variance 1 per feature
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, inv_std)  # what both backward passes need
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
        ### END SOLUTION
    else:
        # TODO: Implement the test-time forward pass for batch normalization. Use the running
        # mean and variance to normalize the incoming data, then scale and shift the
        # normalized data using gamma and beta. Store the result in out.
        ### BEGIN SOLUTION
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)  # (N, D)
        out = gamma * x_hat + beta
        ### END SOLUTION

    # Store the updated running means back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Backward pass for batch normalization, stage by stage through the computational graph.

    Inputs:
    - dout: Upstream derivatives, of shape (N, D)
    - cache: Variable of intermediates from batchnorm_forward (train mode)

    Returns a tuple of:
    - dx: Gradient with respect to inputs x, of shape (N, D)
    - dgamma: Gradient with respect to scale parameter gamma, of shape (D,)
    - dbeta: Gradient with respect to shift parameter beta, of shape (D,)
    """
    _checks.norm_backward_inputs(dout, cache, "batchnorm_backward", "batchnorm_forward")
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for batch normalization. Store the results in the dx,
    # dgamma, and dbeta variables. Work out the derivatives on paper first, node by node of
    # your forward pass's computational graph, then implement them one stage at a time.
    ### BEGIN SOLUTION
    x_hat, gamma, inv_std = cache  # (N, D), (D,), (D,)
    N = dout.shape[0]
    xmu = x_hat / inv_std  # (N, D): x - mu
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
    dxmu = dxmu + 2 * xmu * dsq
    # xmu = x - mu: x reaches xmu directly and through mu
    dmu = -dxmu.sum(axis=0)
    # mu = mean(x)
    dx = dxmu + dmu / N
    ### END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Alternative backward pass for batch normalization.

    The same gradients as batchnorm_backward, from a simple expression worked out on paper (the
    notebook section "A simpler backward pass" says what to show), with far fewer passes over
    memory. It receives the same cache as batchnorm_backward and might not use all of it.

    Inputs / outputs: same as batchnorm_backward.
    """
    _checks.norm_backward_inputs(dout, cache, "batchnorm_backward_alt", "batchnorm_forward")
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for batch normalization. Store the results in the dx,
    # dgamma, and dbeta variables.
    # After computing the gradient with respect to the centered inputs, you should be able to
    # compute gradients with respect to the inputs in a single statement; our implementation
    # fits on a single 80-character line.
    ### BEGIN SOLUTION
    x_hat, gamma, inv_std = cache  # (N, D), (D,), (D,)
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)  # (D,)
    dgamma = (dout * x_hat).sum(axis=0)  # (D,)
    dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)
    ### END SOLUTION
    return dx, dgamma, dbeta


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
    - cache: the values your backward pass needs, in a form of your choice
    """
    N, D, eps = _checks.layernorm_inputs(x, gamma, beta, ln_param)
    out, cache = None, None
    # TODO: Implement the training-time forward pass for layer norm. Normalize the incoming
    # data, and scale and shift the normalized data using gamma and beta.
    # HINT: this can be done by slightly modifying your training-time implementation of batch
    # normalization, and inserting a line or two of well-placed code. In particular, can you
    # think of any matrix transformations you could perform, that would enable you to copy
    # over the batch norm code and leave it almost unchanged?
    ### BEGIN SOLUTION
    # Batch normalization's formulas with the statistics taken over each row (axis 1).
    mean = x.mean(axis=1, keepdims=True)  # (N, 1)
    var = x.var(axis=1, keepdims=True)  # (N, 1), biased: divides by D
    inv_std = 1 / np.sqrt(var + eps)  # (N, 1)
    x_hat = (x - mean) * inv_std  # (N, D): mean 0, variance 1 per example
    out = gamma * x_hat + beta
    cache = (x_hat, gamma, inv_std)  # inv_std (N, 1): one per example
    ### END SOLUTION
    return out, cache


def layernorm_backward(dout, cache):
    """Backward pass for layer normalization.

    Inputs / outputs: as batchnorm_backward, with the cache from layernorm_forward.
    """
    _checks.norm_backward_inputs(dout, cache, "layernorm_backward", "layernorm_forward")
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for layer norm.
    # HINT: this can be done by slightly modifying your training-time implementation of batch
    # normalization. The hints to the forward pass still apply!
    ### BEGIN SOLUTION
    x_hat, gamma, inv_std = cache  # (N, D), (D,), (N, 1)
    D = dout.shape[1]
    dbeta = dout.sum(axis=0)  # (D,)
    dgamma = (dout * x_hat).sum(axis=0)  # (D,)
    dx_hat = dout * gamma  # (N, D)
    # batchnorm_backward_alt's formula, with the sums taken over each row's D features
    row_sum = dx_hat.sum(axis=1, keepdims=True)  # (N, 1)
    row_dot = (dx_hat * x_hat).sum(axis=1, keepdims=True)  # (N, 1)
    dx = inv_std / D * (D * dx_hat - row_sum - x_hat * row_dot)
    ### END SOLUTION
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Forward pass for inverted dropout.

    Unlike vanilla dropout, ``p`` is the probability of KEEPING a neuron output (not of dropping
    it), and kept outputs are divided by ``p`` at training time so that test time is the
    identity. See http://cs231n.github.io/neural-networks-2/#reg for more details.

    Inputs:
    - x: Input data, of any shape
    - dropout_param: A dictionary with the following keys:
      - p: Dropout parameter. We keep each neuron output with probability p; 0 < p <= 1.
      - mode: 'test' or 'train'. In train mode perform dropout; in test mode return the input.
      - seed: optional; np.random.seed(seed) is called just before the mask is drawn, making
        the mask deterministic (needed for gradient checking, not in real networks).

    Outputs:
    - out: Array of the same shape and dtype as x.
    - cache: tuple (mode, mask). In training mode, mask is the dropout mask that was used to
      multiply the input, of x's shape and dtype (entries 0 or 1 / p); in test mode, mask is
      None.
    """
    p, mode = _checks.dropout_inputs(x, dropout_param)
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask, out = None, None
    if mode == "train":
        # TODO: Implement training phase forward pass for inverted dropout. Store the dropout
        # mask in the mask variable. Keep the units where np.random.rand(*x.shape) < p (one
        # call, no other random draws) so that your numbers match the reference outputs.
        ### BEGIN SOLUTION
        keep = np.random.rand(*x.shape) < p  # (x's shape): True where the unit is kept
        mask = (keep / p).astype(x.dtype)  # 0 or 1 / p, in x's dtype
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
    mode, mask = _checks.dropout_backward_inputs(dout, cache)
    dx = None
    if mode == "train":
        # TODO: Implement training phase backward pass for inverted dropout
        ### BEGIN SOLUTION
        dx = dout * mask
        ### END SOLUTION
    else:
        dx = dout
    return dx
