"""Sandwich layers: common chains of layers in layers.py, as one forward/backward pair each.

A sandwich's cache is the tuple of its layers' caches in forward order, preceded by the
normalization where the sandwich has a choice of one; its backward pass takes ``(dout, cache)``
like every other, unpacks that tuple and calls the layers' backward passes in reverse order.

Shape letters as in ``layers.py``: N examples, D input features (``d_1 * ... * d_k``), M output
features. Normalization names: ``None``, ``'batchnorm'`` or ``'layernorm'``.
"""

from assignment import _checks
from assignment.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward_alt,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
)


def affine_relu_forward(x, w, b):
    """Convenience layer that performs an affine transform followed by a ReLU.

    Inputs:
    - x: Input to the affine layer, of shape (N, d_1, ..., d_k)
    - w: Weights, of shape (D, M)
    - b: Biases, of shape (M,)

    Returns a tuple of:
    - out: Output from the ReLU, of shape (N, M)
    - cache: (fc_cache, relu_cache), the caches of affine_forward and relu_forward
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    """Backward pass for the affine-relu convenience layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, M)
    - cache: (fc_cache, relu_cache) from affine_relu_forward

    Returns a tuple of:
    - dx: of shape (N, d_1, ..., d_k)
    - dw: of shape (D, M)
    - db: of shape (M,)
    """
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db


def affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, normalization):
    """Affine transform, then batch or layer normalization, then a ReLU.

    Inputs:
    - x: Input to the affine layer, of shape (N, d_1, ..., d_k)
    - w: Weights, of shape (D, M)
    - b: Biases, of shape (M,)
    - gamma: Scale of the normalization, of shape (M,)
    - beta: Shift of the normalization, of shape (M,)
    - norm_param: bn_param (batchnorm; its running averages are updated) or ln_param
    - normalization: 'batchnorm' or 'layernorm'

    Returns a tuple of:
    - out: Output from the ReLU, of shape (N, M)
    - cache: (normalization, fc_cache, norm_cache, relu_cache); norm_cache comes from
      batchnorm_forward or layernorm_forward, as ``normalization`` says
    """
    _checks.normalization(normalization, "affine_norm_relu_forward", ("batchnorm", "layernorm"),
                          " (use affine_relu_forward for no normalization)")
    out, cache = None, None
    # TODO: Implement the forward pass of affine - batch/layer norm - relu. Call
    # batchnorm_forward or layernorm_forward depending on normalization.
    ### BEGIN SOLUTION
    a, fc_cache = affine_forward(x, w, b)
    if normalization == "batchnorm":
        a_norm, norm_cache = batchnorm_forward(a, gamma, beta, norm_param)
    else:
        a_norm, norm_cache = layernorm_forward(a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(a_norm)
    cache = (normalization, fc_cache, norm_cache, relu_cache)
    ### END SOLUTION
    return out, cache


def affine_norm_relu_backward(dout, cache):
    """Backward pass for affine - batch/layer norm - relu.

    Inputs:
    - dout: Upstream derivatives, of shape (N, M)
    - cache: (normalization, fc_cache, norm_cache, relu_cache) from affine_norm_relu_forward

    Returns a tuple of:
    - dx: of shape (N, d_1, ..., d_k)
    - dw: of shape (D, M)
    - db: of shape (M,)
    - dgamma: of shape (M,)
    - dbeta: of shape (M,)
    """
    _checks.sandwich_cache(cache, "affine_norm_relu_backward", "affine_norm_relu_forward", 4,
                           ("batchnorm", "layernorm"))
    dx, dw, db, dgamma, dbeta = None, None, None, None, None
    # TODO: Implement the backward pass of affine - batch/layer norm - relu: unpack the cache
    # and call the backward passes in reverse order. (Use the fast batchnorm_backward_alt.)
    ### BEGIN SOLUTION
    normalization, fc_cache, norm_cache, relu_cache = cache
    da_norm = relu_backward(dout, relu_cache)
    if normalization == "batchnorm":
        da, dgamma, dbeta = batchnorm_backward_alt(da_norm, norm_cache)
    else:
        da, dgamma, dbeta = layernorm_backward(da_norm, norm_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    ### END SOLUTION
    return dx, dw, db, dgamma, dbeta


def hidden_layer_forward(x, w, b, *, normalization=None, gamma=None, beta=None,
                         norm_param=None, dropout_param=None):
    """One hidden layer of FullyConnectedNet: affine - [norm] - relu - [dropout].

    Inputs (all but x, w, b by keyword):
    - x, w, b: as for affine_forward: (N, d_1, ..., d_k), (D, M), (M,)
    - normalization: None (the default), 'batchnorm' or 'layernorm'
    - gamma, beta: normalization parameters of shape (M,); ignored when normalization is None
    - norm_param: bn_param or ln_param; ignored when normalization is None
    - dropout_param: dict for dropout_forward, or None (the default) for no dropout

    Returns a tuple of:
    - out: of shape (N, M)
    - cache: (normalization, sandwich_cache, dropout_cache), where sandwich_cache comes from
      affine_relu_forward (normalization None) or affine_norm_relu_forward, and dropout_cache
      from dropout_forward (None without dropout)
    """
    _checks.normalization(normalization, "hidden_layer_forward")
    out, cache = None, None
    # TODO: Chain the layers of one hidden layer: affine_relu_forward without normalization,
    # affine_norm_relu_forward with it, then dropout_forward when dropout_param is given.
    ### BEGIN SOLUTION
    if normalization is None:
        out, sandwich_cache = affine_relu_forward(x, w, b)
    else:
        out, sandwich_cache = affine_norm_relu_forward(
            x, w, b, gamma, beta, norm_param, normalization
        )
    dropout_cache = None
    if dropout_param is not None:
        out, dropout_cache = dropout_forward(out, dropout_param)
    cache = (normalization, sandwich_cache, dropout_cache)
    ### END SOLUTION
    return out, cache


def hidden_layer_backward(dout, cache):
    """Backward pass for hidden_layer_forward.

    Inputs:
    - dout: Upstream derivatives, of shape (N, M)
    - cache: (normalization, sandwich_cache, dropout_cache) from hidden_layer_forward

    Returns a tuple of:
    - dx: of shape (N, d_1, ..., d_k)
    - dw: of shape (D, M)
    - db: of shape (M,)
    - dgamma, dbeta: of shape (M,), or None when normalization is None
    """
    _checks.sandwich_cache(cache, "hidden_layer_backward", "hidden_layer_forward", 3)
    dx, dw, db, dgamma, dbeta = None, None, None, None, None
    # TODO: Undo hidden_layer_forward in reverse order: dropout (if any), then the sandwich.
    ### BEGIN SOLUTION
    normalization, sandwich_cache, dropout_cache = cache
    if dropout_cache is not None:
        dout = dropout_backward(dout, dropout_cache)
    if normalization is None:
        dx, dw, db = affine_relu_backward(dout, sandwich_cache)
    else:
        dx, dw, db, dgamma, dbeta = affine_norm_relu_backward(dout, sandwich_cache)
    ### END SOLUTION
    return dx, dw, db, dgamma, dbeta
