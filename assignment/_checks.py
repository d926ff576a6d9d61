"""Input checks of the student functions (given code; nothing to write here).

Every function of ``layers.py``, ``layer_utils.py``, ``fc_net.py`` and ``optim.py`` starts with
ONE call into this module, which raises ``TypeError`` or ``ValueError`` for bad input with a
message that names the function and the argument, shows what it got and what was expected, and
says how to fix it; some calls also return the values the function needs (e.g. the options of
``bn_param`` with their defaults filled in). Keeping the checks here keeps the student's files
as short as the original CS231n ones: docstring, then the TODO.

Nothing here computes a layer: the checks look at shapes, dtypes, keys and ranges only.
"""

import numpy as np

NORMALIZATIONS = (None, "batchnorm", "layernorm")
"""The values of ``normalization`` accepted by the network and its hidden layers."""

# The optimizer state arrays (velocity, cache, m, v) that must have w's shape.
_STATE_ARRAYS = ("velocity", "cache", "m", "v")

# ---------------------------------------------------------------------------------------------
# Building blocks of the checks
# ---------------------------------------------------------------------------------------------


def float_array(name, a, fn, ndim=None):
    """Raise TypeError/ValueError unless ``a`` is a non-empty float ndarray (of ``ndim`` dims)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{fn}: {name} must be a numpy array, got {type(a).__name__}; "
            f"convert it with np.asarray({name}, dtype=np.float64)"
        )
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(
            f"{fn}: {name} has dtype {a.dtype}, expected a floating dtype (float32 or float64); "
            f"convert it with {name}.astype(np.float64)"
        )
    if ndim is not None and a.ndim != ndim:
        raise ValueError(
            f"{fn}: {name} has shape {a.shape} ({a.ndim} dims), expected {ndim} dims"
            + (" (N, D)" if ndim == 2 else "")
        )
    if a.ndim == 0 or a.shape[0] == 0 or a.size == 0:
        raise ValueError(
            f"{fn}: {name} has shape {a.shape}, expected a non-empty batch (N >= 1 examples "
            "with at least one feature each)"
        )


def _shape(name, a, expected, fn, hint=""):
    """Raise unless ``a`` is an ndarray with ``a.shape == expected``."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn}: {name} must be a numpy array, got {type(a).__name__}")
    if a.shape != tuple(expected):
        raise ValueError(f"{fn}: {name} has shape {a.shape}, expected {tuple(expected)}{hint}")


def _param_dict(name, param, allowed, required, fn):
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


def _mode(name, mode, fn):
    """Raise ValueError unless ``mode`` is 'train' or 'test'."""
    if mode not in ("train", "test"):
        raise ValueError(f"{fn}: {name}['mode'] is {mode!r}, expected 'train' or 'test'")


def _number(name, value, low, high, fn, meaning):
    """Raise ValueError unless ``value`` is a real number with ``low <= value <= high``."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not low <= value <= high):
        raise ValueError(
            f"{fn}: {name} is {value!r}, expected a number in [{low}, {high}] ({meaning})"
        )


def _cache(cache, expected_type, fn, forward):
    """Raise TypeError unless ``cache`` is what ``forward`` returns."""
    if not isinstance(cache, expected_type):
        raise TypeError(
            f"{fn}: cache is {type(cache).__name__}, expected the cache returned by {forward}"
            + (" in train mode (test mode keeps no cache)" if cache is None else "")
        )


def _scale_shift(x, gamma, beta, fn):
    """x is (N, D) float; gamma and beta are (D,). Returns D."""
    float_array("x", x, fn, ndim=2)
    D = x.shape[1]
    _shape("gamma", gamma, (D,), fn, f" to match x of shape {x.shape}")
    _shape("beta", beta, (D,), fn, f" to match x of shape {x.shape}")
    return D


def _eps(name, eps, fn):
    _number(f"{name}['eps']", eps, 0, np.inf, fn, "added to the variance, default 1e-5")


# ---------------------------------------------------------------------------------------------
# layers.py
# ---------------------------------------------------------------------------------------------


def affine_inputs(x, w, b):
    """affine_forward: x (N, d_1, ..., d_k) with d_1 * ... * d_k = D, w (D, M), b (M,)."""
    fn = "affine_forward"
    float_array("x", x, fn)
    float_array("w", w, fn, ndim=2)
    N = x.shape[0]
    D, M = w.shape
    if x.size != N * D:
        raise ValueError(
            f"{fn}: x has shape {x.shape} ({x.size // N} features per example), expected "
            f"D={D} features per example to match w of shape {w.shape}"
        )
    _shape("b", b, (M,), fn, f" to match w of shape {w.shape}")


def affine_backward_inputs(dout, cache):
    """affine_backward: cache is affine_forward's (x, w, b); dout is (N, M)."""
    fn = "affine_backward"
    _cache(cache, tuple, fn, "affine_forward")
    x, w, _ = cache
    _shape("dout", dout, (x.shape[0], w.shape[1]), fn, " (N, M) of the forward output")


def relu_backward_inputs(dout, cache):
    """relu_backward: cache is relu_forward's input x; dout has its shape."""
    fn = "relu_backward"
    _cache(cache, np.ndarray, fn, "relu_forward")
    _shape("dout", dout, cache.shape, fn, " (the shape of relu_forward's input)")


def loss_inputs(x, y, fn):
    """softmax_loss / svm_loss: x (N, C) float scores, y (N,) integer labels in [0, C)."""
    float_array("x", x, fn, ndim=2)
    N, C = x.shape
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


def batchnorm_inputs(x, gamma, beta, bn_param):
    """batchnorm_forward: checks every input; returns bn_param's options, defaults filled in.

    Returns a tuple (mode, eps, momentum, running_mean, running_var); the running averages
    default to zeros of shape (D,) and x's dtype.
    """
    fn = "batchnorm_forward"
    D = _scale_shift(x, gamma, beta, fn)
    _param_dict("bn_param", bn_param, ("mode", "eps", "momentum", "running_mean", "running_var"),
                ("mode",), fn)
    mode = bn_param["mode"]
    _mode("bn_param", mode, fn)
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    _eps("bn_param", eps, fn)
    _number("bn_param['momentum']", momentum, 0, 1, fn,
            "the weight of the OLD running average, default 0.9; PyTorch's momentum is 1 - this")
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    _shape("bn_param['running_mean']", running_mean, (D,), fn, f" to match x {x.shape}")
    _shape("bn_param['running_var']", running_var, (D,), fn, f" to match x {x.shape}")
    return mode, eps, momentum, running_mean, running_var


def norm_backward_inputs(dout, cache, fn, forward):
    """The norm backward passes: a cache was kept, and dout is an (N, D) float array.

    What the cache holds, and in what form, is the student's design: it is not looked into,
    so dout's shape is not compared with the forward's output.
    """
    if cache is None:
        kept = " in train mode (test mode keeps no cache)" if forward == "batchnorm_forward" else ""
        raise TypeError(
            f"{fn}: cache is None, expected the cache returned by {forward}{kept}; "
            f"if you passed that, make {forward} return what your backward pass needs as cache"
        )
    float_array("dout", dout, fn, ndim=2)


def layernorm_inputs(x, gamma, beta, ln_param):
    """layernorm_forward: checks every input; returns (N, D), x's shape, and ln_param's eps
    (default 1e-5) as a tuple (N, D, eps)."""
    fn = "layernorm_forward"
    D = _scale_shift(x, gamma, beta, fn)
    _param_dict("ln_param", ln_param, ("eps", "mode"), (), fn)
    if "mode" in ln_param:
        _mode("ln_param", ln_param["mode"], fn)
    eps = ln_param.get("eps", 1e-5)
    _eps("ln_param", eps, fn)
    return x.shape[0], D, eps


def dropout_inputs(x, dropout_param):
    """dropout_forward: checks every input; returns (p, mode)."""
    fn = "dropout_forward"
    float_array("x", x, fn)
    _param_dict("dropout_param", dropout_param, ("p", "mode", "seed"), ("mode",), fn)
    if "p" not in dropout_param:
        raise ValueError(
            f"{fn}: dropout_param is missing the required key 'p' (the probability of keeping "
            "a unit, 0 < p <= 1)"
        )
    p, mode = dropout_param["p"], dropout_param["mode"]
    _mode("dropout_param", mode, fn)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not 0 < p <= 1:
        raise ValueError(
            f"{fn}: dropout_param['p'] is {p!r}, expected a number in (0, 1]: the probability "
            "of KEEPING a unit (p=1 keeps all units)"
        )
    return p, mode


def dropout_backward_inputs(dout, cache):
    """dropout_backward: cache is dropout_forward's (mode, mask); returns it unpacked."""
    fn = "dropout_backward"
    _cache(cache, tuple, fn, "dropout_forward")
    mode, mask = cache
    if not isinstance(dout, np.ndarray):
        raise TypeError(f"{fn}: dout must be a numpy array, got {type(dout).__name__}")
    if mode not in ("train", "test"):
        raise ValueError(f"{fn}: cache holds mode {mode!r}, expected 'train' or 'test'")
    if mode == "train":
        _shape("dout", dout, mask.shape, fn, " (the shape of dropout_forward's input)")
    return mode, mask


# ---------------------------------------------------------------------------------------------
# layer_utils.py
# ---------------------------------------------------------------------------------------------


def normalization(normalization, fn, allowed=NORMALIZATIONS, hint=""):
    """Raise ValueError unless ``normalization`` is one of ``allowed``."""
    if normalization not in allowed:
        expected = (f"one of {allowed}" if len(allowed) > 2
                    else " or ".join(repr(a) for a in allowed))
        raise ValueError(f"{fn}: normalization is {normalization!r}, expected {expected}{hint}")


def sandwich_cache(cache, fn, forward, length, allowed=NORMALIZATIONS):
    """A sandwich backward pass: cache is the ``length``-tuple of ``forward``, whose first
    item is the normalization the forward pass was given (one of ``allowed``)."""
    if not isinstance(cache, tuple) or len(cache) != length:
        got = f"a {len(cache)}-tuple" if isinstance(cache, tuple) else type(cache).__name__
        raise TypeError(f"{fn}: cache is {got}, expected the {length}-tuple returned by "
                        f"{forward} (normalization first)")
    normalization(cache[0], f"{fn}: the cache's", allowed, f", as given to {forward}")


# ---------------------------------------------------------------------------------------------
# fc_net.py
# ---------------------------------------------------------------------------------------------


def network_options(hidden_dims, input_dim, num_classes, dropout_keep_ratio, normalization_,
                    reg, dtype):
    """FullyConnectedNet.__init__: checks every option; returns hidden_dims as a list."""
    normalization(normalization_, "FullyConnectedNet")
    try:
        hidden_dims = list(hidden_dims)
    except TypeError:
        raise TypeError(
            f"hidden_dims is {type(hidden_dims).__name__}, expected a list of positive "
            "ints (e.g. [100, 100]; [] for a linear classifier)"
        ) from None
    for name, value in [("input_dim", input_dim), ("num_classes", num_classes)] + [
        (f"hidden_dims[{i}]", h) for i, h in enumerate(hidden_dims)
    ]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} is {value!r}, expected a positive int")
    if not 0 < dropout_keep_ratio <= 1:
        raise ValueError(
            f"dropout_keep_ratio is {dropout_keep_ratio!r}, expected a number in (0, 1]: the "
            "probability of keeping a unit (1 disables dropout)"
        )
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"dtype is {np.dtype(dtype)}, expected a floating dtype "
                        "(np.float32, or np.float64 for gradient checks)")
    if reg < 0:
        raise ValueError(f"reg is {reg!r}, expected a number >= 0")
    return hidden_dims


def network_input(X):
    """FullyConnectedNet.loss: X is a numpy array."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X must be a numpy array, got {type(X).__name__}")


# ---------------------------------------------------------------------------------------------
# optim.py
# ---------------------------------------------------------------------------------------------


def update_config(rule, w, dw, config, accepted):
    """Check the arguments of an update rule; return the config dict (a new one for None).

    Inputs:
    - rule: Name of the update rule, used in error messages.
    - w, dw: Arrays of the same shape S.
    - config: A dict or None.
    - accepted: Tuple of the config keys the rule understands.
    """
    if config is None:
        config = {}
    elif not isinstance(config, dict):
        raise TypeError(
            f"{rule}: config must be a dict or None, got {type(config).__name__}; "
            "pass e.g. {'learning_rate': 1e-3}"
        )
    w_shape, dw_shape = np.shape(w), np.shape(dw)
    if w_shape != dw_shape:
        raise ValueError(
            f"{rule}: dw has shape {dw_shape}, expected the shape of w {w_shape}; "
            "pass the gradient of the loss with respect to this same parameter"
        )
    unknown = [key for key in config if key not in accepted]
    if unknown:
        raise ValueError(
            f"{rule}: unknown config key(s) {', '.join(map(repr, unknown))}; "
            f"accepted keys: {', '.join(accepted)}"
        )
    for key in _STATE_ARRAYS:
        state = config.get(key)
        if state is not None and np.shape(state) != w_shape:
            raise ValueError(
                f"{rule}: config[{key!r}] has shape {np.shape(state)}, expected the shape "
                f"of w {w_shape}; use a separate config dict for every parameter"
            )
    return config
