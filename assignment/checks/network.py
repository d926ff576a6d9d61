"""Public checks of part fc_net: FullyConnectedNet and the sandwich layers of layer_utils."""

import math

import numpy as np

from assignment.checks.common import (
    DTYPE_HINT,
    Failed,
    factor_hint,
    grad_check,
    is_vs_expected,
    mod,
    num_grad,
    rel_error,
    require_float32,
)


def _net(normalization, keep=1.0, reg=0.0, seed=None):
    fc_net = mod("fc_net")
    np.random.seed(231)
    return fc_net.FullyConnectedNet([6, 5], input_dim=4, num_classes=3, reg=reg,
                                    weight_scale=5e-2, dtype=np.float64,
                                    normalization=normalization, dropout_keep_ratio=keep,
                                    seed=seed)


def fc_net_params():
    """FullyConnectedNet creates W1, b1, ..., and gamma/beta for every hidden layer."""
    details = []
    for norm in (None, "batchnorm", "layernorm"):
        model = _net(norm)
        expected = {"W1": (4, 6), "b1": (6,), "W2": (6, 5), "b2": (5,), "W3": (5, 3), "b3": (3,)}
        if norm:
            expected.update({"gamma1": (6,), "beta1": (6,), "gamma2": (5,), "beta2": (5,)})
        got = {k: np.shape(v) for k, v in model.params.items()}
        if got != expected:
            hint = "hidden layers get W, b (and gamma, beta with normalization); the last layer "
            hint += "only W, b"
            raise Failed(f"normalization={norm!r}: params {got}, expected {expected}", hint)
        for k, v in model.params.items():
            if k[0] in "b" and np.any(v):
                raise Failed(f"{k} is not zero", "biases and betas start at zero")
            if k.startswith("gamma") and not np.all(v == 1):
                raise Failed(f"{k} is not all ones", "gammas start at one")
        details.append(str(norm))
    return "names and shapes for normalization " + ", ".join(details)


def fc_net_weight_draws():
    """FullyConnectedNet draws W1, W2, ... in order as weight_scale * randn; float32 default."""
    fc_net = mod("fc_net")
    np.random.seed(231)
    model = fc_net.FullyConnectedNet([3, 4], input_dim=2, num_classes=5, weight_scale=0.5,
                                     normalization="layernorm", dtype=np.float64)
    np.random.seed(231)
    for i, shape in enumerate([(2, 3), (3, 4), (4, 5)], start=1):
        expected = 0.5 * np.random.randn(*shape)
        got = model.params.get(f"W{i}")
        if np.shape(got) != shape or rel_error(got, expected) > 0:
            raise Failed(f"W{i} differs from the draw of the reference recipe "
                         "(np.random.seed(231), then W1, W2, W3)",
                         "draw each weight matrix as weight_scale * np.random.randn(fan_in, "
                         "fan_out), layer by layer in order, with no other random draws between")
    default = fc_net.FullyConnectedNet([3], input_dim=2, num_classes=5, normalization="batchnorm")
    not32 = sorted(k for k, v in default.params.items() if np.asarray(v).dtype != np.float32)
    if not32:
        raise Failed(f"with the default dtype, params {not32} are not float32",
                     "every parameter has the model's dtype (the given cast at the end of "
                     "__init__ does it: keep it)")
    return "CS231n's draws; float32 by default"


def fc_net_initial_losses():
    """FullyConnectedNet.loss: CS231n's published initial losses; log(C) at tiny weights."""
    fc_net = mod("fc_net")
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X, y = np.random.randn(N, D), np.random.randint(C, size=(N,))
    losses = []
    for reg in (0, 3.14):
        model = fc_net.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                         weight_scale=5e-2, dtype=np.float64)
        losses.append(model.loss(X, y)[0])
    published = [2.3004790897684924, 7.052114776533016]  # CS231n's FullyConnectedNets notebook
    if rel_error(losses, published) > 1e-10:
        hint = "the loss is the softmax loss of the scores plus 0.5 * reg * sum(W**2)"
        if rel_error(losses[0], published[0]) < 1e-10:
            hint = "the loss without reg is right: check the regularization term"
        raise Failed(is_vs_expected("the losses for reg 0 and 3.14", losses, published), hint)
    rng = np.random.default_rng(20)
    X, y = rng.normal(size=(100, 50)), rng.integers(10, size=100)
    for norm in (None, "batchnorm", "layernorm"):
        model = fc_net.FullyConnectedNet([40, 30], input_dim=50, num_classes=10,
                                         weight_scale=1e-3, normalization=norm, dtype=np.float64)
        loss = model.loss(X, y)[0]
        if not abs(loss - math.log(10)) < 0.02:
            raise Failed(f"normalization={norm!r}: initial loss {loss:.4g} with tiny weights, "
                         f"expected about log(10) = {math.log(10):.4g}",
                         "with tiny weights every class is equally likely: check the forward "
                         "pass and the softmax loss")
    return "published losses; log(C) for every normalization"


def fc_net_gradients():
    """FullyConnectedNet.loss: every gradient matches the numerical gradient."""
    rng = np.random.default_rng(9)
    X, y = rng.normal(size=(3, 4)), rng.integers(3, size=3)
    details = []
    for norm, keep in ((None, 1.0), ("batchnorm", 1.0), ("layernorm", 1.0), (None, 0.75)):
        model = _net(norm, keep=keep, reg=0.7, seed=123)
        loss, grads = model.loss(X, y)
        for name in sorted(model.params):
            param = model.params[name]
            num = num_grad(lambda v, m=model: np.array(m.loss(X, y)[0]), param, np.array(1.0))
            err = rel_error(grads[name], num)
            if err > 1e-5:
                raise Failed(f"normalization={norm!r}, keep={keep}: {name} rel. error {err:.2g} "
                             "(must be < 1e-05)",
                             factor_hint(f"grads['{name}']", grads[name], num, 3)
                             or "check the backward pass of the layer that uses " + name)
        details.append(f"{norm}/{keep}")
    return "all parameters for " + ", ".join(details)


def fc_net_regularization():
    """FullyConnectedNet.loss adds 0.5 * reg * sum(W**2) over the weight matrices."""
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(3, 4)), rng.integers(3, size=3)
    plain, reg = _net(None), _net(None, reg=2.0)
    diff = reg.loss(X, y)[0] - plain.loss(X, y)[0]
    expected = 0.5 * 2.0 * sum(np.sum(plain.params[f"W{i}"] ** 2) for i in (1, 2, 3))
    if not math.isclose(diff, expected, rel_tol=1e-6):
        hint = "add 0.5 * reg * sum(W**2) for every weight matrix (not biases, gammas, betas)"
        if math.isclose(diff, 2 * expected, rel_tol=1e-6):
            hint = "the regularization term is 0.5 * reg * sum(W**2): the 0.5 is missing"
        raise Failed(f"reg=2 adds {diff:.4g} to the loss, expected {expected:.4g}", hint)
    bn0, bn2 = _net("batchnorm"), _net("batchnorm", reg=2.0)
    g0, g2 = bn0.loss(X, y)[1], bn2.loss(X, y)[1]
    for name in sorted(g0):
        extra = 2.0 * bn0.params[name] if name.startswith("W") else 0.0
        if rel_error(g2[name] - g0[name], np.broadcast_to(extra, g0[name].shape)) > 1e-6:
            raise Failed(f"with batchnorm, reg=2 changes grads['{name}'] by something other "
                         f"than {'reg * W' if name.startswith('W') else 'nothing'}",
                         "regularize the weight matrices only (not biases, gammas, betas), "
                         "in the loss and in the gradients alike")
    scores = plain.loss(X)
    if np.shape(scores) != (3, 3):
        raise Failed(f"loss(X) without y returned shape {np.shape(scores)}, expected (3, 3)",
                     "without y, return the class scores of shape (N, C)")
    return "regularization and test-time scores"


def fc_net_test_mode():
    """FullyConnectedNet.loss(X): test mode everywhere, running averages kept; float32 kept."""
    fc_net = mod("fc_net")
    rng = np.random.default_rng(21)
    X, y = rng.normal(size=(6, 4)), rng.integers(3, size=6)
    model = _net("batchnorm", keep=0.5)
    model.loss(X, y)
    running_mean = np.copy(model.bn_params[0].get("running_mean"))
    scores = model.loss(X)
    if rel_error(model.bn_params[0].get("running_mean"), running_mean) > 0:
        raise Failed("loss(X) without y changed bn_params[0]['running_mean']",
                     "without y the forward pass runs in test mode (the given code sets the "
                     "modes): pass self.bn_params[i] and self.dropout_param to the layers")
    if rel_error(model.loss(X), scores) > 0:
        raise Failed("two calls of loss(X) without y gave different scores",
                     "test mode is deterministic: no dropout, batchnorm with running averages")
    model = fc_net.FullyConnectedNet([6], input_dim=4, num_classes=3, normalization="layernorm")
    X32 = X.astype(np.float32)
    _, grads = model.loss(X32, y)
    require_float32("a float32 FullyConnectedNet",
                    [("scores", model.loss(X32))] + [(f"grads['{k}']", g)
                                                      for k, g in sorted(grads.items())],
                    DTYPE_HINT)
    return "test mode deterministic and leaves running averages; float32 kept"


def sandwich_layers():
    """affine_norm_relu_* and hidden_layer_* match numerical gradients; caches as documented."""
    layer_utils = mod("layer_utils")
    rng = np.random.default_rng(22)
    x, w, b = rng.normal(size=(4, 3, 2)), rng.normal(size=(6, 5)), rng.normal(size=5)
    gamma, beta, dout = 1 + 0.1 * rng.normal(size=5), 0.1 * rng.normal(size=5), rng.normal(
        size=(4, 5))
    for norm in ("batchnorm", "layernorm"):
        def fwd(x, w, b, gamma, beta, norm=norm):
            return layer_utils.affine_norm_relu_forward(x, w, b, gamma, beta, {"mode": "train"},
                                                        norm)
        _, cache = fwd(x, w, b, gamma, beta)
        if not (isinstance(cache, tuple) and len(cache) == 4 and cache[0] == norm):
            raise Failed(f"affine_norm_relu_forward ({norm}): cache is not "
                         f"({norm!r}, fc_cache, norm_cache, relu_cache)",
                         "the cache is (normalization, fc_cache, norm_cache, relu_cache)")
        grads = layer_utils.affine_norm_relu_backward(dout, cache)
        args = [x, w, b, gamma, beta]
        for i, name in enumerate(("dx", "dw", "db", "dgamma", "dbeta")):
            def f(v, i=i, args=args, fwd=fwd):
                return fwd(*args[:i], v, *args[i + 1:])[0]
            grad_check(f"affine_norm_relu_backward ({norm}) {name}", grads[i],
                       num_grad(f, args[i], dout), 4, atol=1e-8)
    bn_param = {"mode": "train"}
    layer_utils.affine_norm_relu_forward(x, w, b, gamma, beta, bn_param, "batchnorm")
    a = x.reshape(4, -1) @ w + b
    if rel_error(bn_param.get("running_mean"), 0.1 * a.mean(axis=0)) > 1e-9:
        raise Failed("affine_norm_relu_forward (batchnorm) did not update norm_param's "
                     "running_mean", "pass norm_param itself to batchnorm_forward")
    for norm in (None, "batchnorm"):
        for p in (None, 0.6):
            def hfwd(x, w, b, g=None, be=None, norm=norm, p=p):
                drop = None if p is None else {"mode": "train", "p": p, "seed": 5}
                return layer_utils.hidden_layer_forward(x, w, b, normalization=norm, gamma=g,
                                                        beta=be, norm_param={"mode": "train"},
                                                        dropout_param=drop)
            args = [x, w, b] + ([] if norm is None else [gamma, beta])
            _, cache = hfwd(*args)
            if not (isinstance(cache, tuple) and len(cache) == 3 and cache[0] == norm
                    and (cache[2] is None) == (p is None)):
                raise Failed(f"hidden_layer_forward (normalization={norm!r}, dropout p={p}): "
                             "cache is not (normalization, sandwich_cache, dropout_cache)",
                             "dropout_cache is None without dropout")
            grads = layer_utils.hidden_layer_backward(dout, cache)
            if norm is None and (grads[3] is not None or grads[4] is not None):
                raise Failed("hidden_layer_backward without normalization: dgamma/dbeta are not "
                             "None", "without normalization there is no gamma or beta")
            for i, name in enumerate(("dx", "dw", "db", "dgamma", "dbeta")[:len(args)]):
                def f(v, i=i, args=args, hfwd=hfwd):
                    return hfwd(*args[:i], v, *args[i + 1:])[0]
                grad_check(f"hidden_layer_backward (normalization={norm!r}, p={p}) {name}",
                           grads[i], num_grad(f, args[i], dout), 4, atol=1e-8)
    return "gradients of both sandwiches; caches as documented"
