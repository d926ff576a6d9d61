"""First-order update rules used to train neural networks (CS231n assignment 2 API).

Every update rule has the same signature::

    next_w, config = update(w, dw, config=None)

Inputs:
- w: A numpy array of any shape S giving the current weights.
- dw: A numpy array of the same shape S giving the gradient of the loss with
  respect to w.
- config: A dictionary of hyperparameters (learning rate, momentum, ...) and of
  the optimizer's state (velocity, moving averages, step count). If None, a new
  dictionary is created. Missing hyperparameters are filled in with the
  defaults listed in each function's docstring (``config.setdefault``), and the
  updated state is written back into the dictionary, so the caller passes the
  returned config to the next call for the same parameter.

Returns a tuple of:
- next_w: A numpy array of shape S, the weights after the update. ``w`` itself
  is never modified in place (CS231n's ``sgd`` does ``w -= ...``; here every
  rule returns a new array, so a caller may keep ``w`` for comparison).
- config: The same dictionary that was passed in (or the new one), updated.

The state arrays (``velocity``, ``cache``, ``m``, ``v``) are created as
``np.zeros_like(w)``, so they have w's shape and dtype; updates keep w's dtype
(float32 parameters stay float32).

Configuration dictionaries are strict: a key that the rule does not know (for
example ``momentum`` passed to ``adam``) is a ValueError that names the key and
lists the accepted ones, so that a misspelt hyperparameter is not silently
ignored. ``w`` and ``dw`` of different shapes are a ValueError too.

NOTE: For most update rules the default learning rate will probably not
perform well; other default hyperparameters should work well for a variety of
problems.
"""

import numpy as np

from assignment import _checks

UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")
"""Names of the update rules defined here; ``Solver(update_rule=...)`` accepts these."""

def sgd(w, dw, config=None):
    """Performs vanilla stochastic gradient descent.

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).

    Returns a tuple of:
    - next_w: Array of shape S, ``w - learning_rate * dw``.
    - config: The updated config dict.
    """
    config = _checks.update_config("sgd", w, dw, config, ("learning_rate",))
    config.setdefault("learning_rate", 1e-2)

    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """Performs stochastic gradient descent with momentum.

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    - momentum: Scalar between 0 and 1 giving the momentum value (default 0.9).
      Setting momentum = 0 reduces to sgd.
    - velocity: Array of shape S, a moving average of the gradients
      (default ``np.zeros_like(w)``).

    Returns a tuple of:
    - next_w: Array of shape S, the updated weights.
    - config: The updated config dict; ``config['velocity']`` holds the new v.
    """
    config = _checks.update_config(
        "sgd_momentum", w, dw, config, ("learning_rate", "momentum", "velocity")
    )
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    if v is None:
        v = np.zeros_like(w)

    next_w = None
    # TODO: Implement the momentum update formula. Store the updated value in
    # the next_w variable. You should also use and update the velocity v.
    ### BEGIN SOLUTION
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    ### END SOLUTION

    config["velocity"] = v
    return next_w, config


def rmsprop(w, dw, config=None):
    """Uses the RMSProp update rule, which uses a moving average of squared
    gradient values to set adaptive per-parameter learning rates.

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    - decay_rate: Scalar between 0 and 1 giving the decay rate for the squared
      gradient cache (default 0.99).
    - epsilon: Small scalar used for smoothing to avoid dividing by zero
      (default 1e-8).
    - cache: Array of shape S, moving average of second moments of gradients
      (default ``np.zeros_like(w)``).

    Returns a tuple of:
    - next_w: Array of shape S, the updated weights.
    - config: The updated config dict; ``config['cache']`` holds the new cache.
    """
    config = _checks.update_config(
        "rmsprop", w, dw, config, ("learning_rate", "decay_rate", "epsilon", "cache")
    )
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    if config.get("cache") is None:
        config["cache"] = np.zeros_like(w)

    next_w = None
    # TODO: Implement the RMSprop update formula, storing the next value of w
    # in the next_w variable. Don't forget to update the cache value stored in
    # config['cache'].
    # Hint: epsilon is added to the square root of the cache, not inside it.
    ### BEGIN SOLUTION
    decay_rate = config["decay_rate"]
    cache = decay_rate * config["cache"] + (1 - decay_rate) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache
    ### END SOLUTION

    return next_w, config


def adam(w, dw, config=None):
    """Uses the Adam update rule, which incorporates moving averages of both the
    gradient and its square and a bias correction term.

    config format:
    - learning_rate: Scalar learning rate (default 1e-3, as in CS231n).
    - beta1: Decay rate for moving average of first moment of gradient
      (default 0.9).
    - beta2: Decay rate for moving average of second moment of gradient
      (default 0.999).
    - epsilon: Small scalar used for smoothing to avoid dividing by zero
      (default 1e-8).
    - m: Array of shape S, moving average of gradient (default zeros).
    - v: Array of shape S, moving average of squared gradient (default zeros).
    - t: Iteration number (default 0). It is incremented BEFORE it is used, so
      the first update uses t = 1 (as CS231n's 2021+ solutions and the Adam
      paper; the notebooks' expected values assume this).

    Returns a tuple of:
    - next_w: Array of shape S, the updated weights.
    - config: The updated config dict; ``m``, ``v`` and ``t`` hold the new state.
    """
    config = _checks.update_config(
        "adam", w, dw, config, ("learning_rate", "beta1", "beta2", "epsilon", "m", "v", "t")
    )
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    if config.get("m") is None:
        config["m"] = np.zeros_like(w)
    if config.get("v") is None:
        config["v"] = np.zeros_like(w)
    config.setdefault("t", 0)

    next_w = None
    # TODO: Implement the Adam update formula, storing the next value of w in
    # the next_w variable. Don't forget to update the m, v, and t variables
    # stored in config.
    #
    # NOTE: In order to match the reference output, please modify t _before_
    # using it in any calculations.
    ### BEGIN SOLUTION
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = beta1 * config["m"] + (1 - beta1) * dw
    v = beta2 * config["v"] + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1**t)  # bias-corrected moments
    v_hat = v / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["t"], config["m"], config["v"] = t, m, v
    ### END SOLUTION

    return next_w, config
