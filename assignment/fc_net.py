"""FullyConnectedNet: a fully connected network of any depth (CS231n 2021+ API).

Architecture, for L = len(hidden_dims) + 1 layers::

    {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

Shape letters: N examples, D = input_dim input features, H_i = hidden_dims[i - 1], C classes.

Randomness follows CS231n, so that seeded runs give the course's published numbers: the weights
are ``weight_scale * np.random.randn(fan_in, fan_out)`` drawn from numpy's GLOBAL random state
(seed it with ``np.random.seed`` before constructing the net) in parameter order W1, W2, ...,
WL (biases, gammas and betas are constants and draw nothing). The ``seed`` argument only seeds
the dropout masks: with it, every forward pass draws the same masks (for gradient checks).
"""

import numpy as np

from assignment import _checks
from assignment.layer_utils import hidden_layer_backward, hidden_layer_forward
from assignment.layers import affine_backward, affine_forward, softmax_loss


class FullyConnectedNet:
    """Class for a multi-layer fully connected neural network.

    Network contains an arbitrary number of hidden layers, ReLU nonlinearities, and a softmax
    loss function. This will also implement dropout and batch/layer normalization as options.
    For a network with L layers, the architecture will be

    {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

    where batch/layer normalization and dropout are optional and the {...} block is repeated
    L - 1 times.

    Learnable parameters are stored in the self.params dictionary and will be learned using the
    Solver class:
    - 'W{i}': weights of layer i, of shape (H_{i-1}, H_i) (H_0 = D, H_L = C)
    - 'b{i}': biases of layer i, of shape (H_i,)
    - 'gamma{i}', 'beta{i}': scale and shift of the normalization after layer i < L, of shape
      (H_i,) (only with normalization; ones and zeros initially; not regularized)
    """

    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        dropout_keep_ratio=1,
        normalization=None,
        reg=0.0,
        weight_scale=1e-2,
        dtype=np.float32,
        seed=None,
    ):
        """Initialize a new FullyConnectedNet.

        Inputs:
        - hidden_dims: A list of integers giving the size of each hidden layer.
        - input_dim: An integer giving the size of the input (D).
        - num_classes: An integer giving the number of classes to classify (C).
        - dropout_keep_ratio: Scalar between 0 and 1 giving the probability of keeping a unit
          (dropout_param['p']). If dropout_keep_ratio=1 then the network should not use
          dropout at all.
        - normalization: What type of normalization the network should use. Valid values
          are "batchnorm", "layernorm", or None for no normalization (the default).
        - reg: Scalar giving L2 regularization strength (loss term 0.5 * reg * sum(W**2)).
        - weight_scale: Scalar giving the standard deviation for random initialization of the
          weights.
        - dtype: A numpy datatype object; all computations will be performed using this
          datatype. float32 is faster but less accurate, so you should use float64 for
          numeric gradient checking.
        - seed: If not None, then pass this random seed to the dropout layers. This will make
          the dropout layers deterministic so we can gradient check the model.
        """
        hidden_dims = _checks.network_options(hidden_dims, input_dim, num_classes,
                                              dropout_keep_ratio, normalization, reg, dtype)

        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        # TODO: Initialize the parameters of the network, storing all values in the
        # self.params dictionary. Store weights and biases for the first layer in W1 and b1;
        # for the second layer use W2 and b2, etc. Weights should be initialized from a
        # normal distribution centered at 0 with standard deviation equal to weight_scale
        # (weight_scale * np.random.randn(...), layer by layer in order). Biases should be
        # initialized to zero.
        #
        # When using batch normalization, store scale and shift parameters for the first
        # layer in gamma1 and beta1; for the second layer use gamma2 and beta2, etc. Scale
        # parameters should be initialized to ones and shift parameters should be initialized
        # to zeros.
        ### BEGIN SOLUTION
        dims = [input_dim, *hidden_dims, num_classes]
        for i in range(1, self.num_layers + 1):
            fan_in, fan_out = dims[i - 1], dims[i]
            self.params[f"W{i}"] = weight_scale * np.random.randn(fan_in, fan_out)
            self.params[f"b{i}"] = np.zeros(fan_out)
            if self.normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        ### END SOLUTION

        # When using dropout we need to pass a dropout_param dictionary to each dropout layer
        # so that the layer knows the dropout probability and the mode (train / test). You can
        # pass the same dropout_param to each dropout layer.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

        # With batch normalization we need to keep track of running means and variances, so
        # we need to pass a special bn_param object to each batch normalization layer. You
        # should pass self.bn_params[0] to the forward pass of the first batch normalization
        # layer, self.bn_params[1] to the forward pass of the second batch normalization
        # layer, etc.
        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for i in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for i in range(self.num_layers - 1)]

        # Cast all parameters to the correct datatype.
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute loss and gradient for the fully connected net.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k), d_1 * ... * d_k = D
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None, then run a test-time forward pass of the model and return:
        - scores: Array of shape (N, C) giving classification scores, where
          scores[i, c] is the classification score for X[i] and class c.

        If y is not None, then run a training-time forward and backward pass and
        return a tuple of:
        - loss: Scalar value giving the loss
        - grads: Dictionary with the same keys as self.params, mapping parameter
          names to gradients of the loss with respect to those parameters (same shapes).
        """
        _checks.network_input(X)
        X = X.astype(self.dtype, copy=False)
        mode = "test" if y is None else "train"

        # Set train/test mode for batchnorm params and dropout param since they
        # behave differently during training and testing.
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        scores = None

        # TODO: Implement the forward pass for the fully connected net, computing the class
        # scores for X and storing them in the scores variable.
        #
        # When using dropout, you'll need to pass self.dropout_param to each dropout forward
        # pass.
        #
        # When using batch normalization, you'll need to pass self.bn_params[0] to the
        # forward pass for the first batch normalization layer, pass self.bn_params[1] to the
        # forward pass for the second batch normalization layer, etc.
        #
        # You may find hidden_layer_forward in layer_utils.py helpful.
        ### BEGIN SOLUTION
        dropout_param = self.dropout_param if self.use_dropout else None
        caches = []
        out = X
        for i in range(1, self.num_layers):
            norm_param = self.bn_params[i - 1] if self.normalization else None
            out, cache = hidden_layer_forward(
                out, self.params[f"W{i}"], self.params[f"b{i}"],
                normalization=self.normalization,
                gamma=self.params.get(f"gamma{i}"), beta=self.params.get(f"beta{i}"),
                norm_param=norm_param, dropout_param=dropout_param,
            )
            caches.append(cache)
        L = self.num_layers
        scores, last_cache = affine_forward(out, self.params[f"W{L}"], self.params[f"b{L}"])
        ### END SOLUTION

        # If test mode return early.
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        # TODO: Implement the backward pass for the fully connected net. Store the loss in the
        # loss variable and gradients in the grads dictionary. Compute data loss using
        # softmax, and make sure that grads[k] holds the gradients for self.params[k]. Don't
        # forget to add L2 regularization!
        #
        # When using batch/layer normalization, you don't need to regularize the scale and
        # shift parameters.
        #
        # NOTE: To ensure that your implementation matches ours and you pass the automated
        # tests, make sure that your L2 regularization includes a factor of 0.5 to simplify
        # the expression for the gradient.
        ### BEGIN SOLUTION
        loss, dscores = softmax_loss(scores, y)
        dout, dW, db = affine_backward(dscores, last_cache)
        grads[f"W{L}"], grads[f"b{L}"] = dW, db
        for i in range(L - 1, 0, -1):
            dout, dW, db, dgamma, dbeta = hidden_layer_backward(dout, caches[i - 1])
            grads[f"W{i}"], grads[f"b{i}"] = dW, db
            if self.normalization is not None:
                grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] += self.reg * W
        ### END SOLUTION

        return loss, grads
