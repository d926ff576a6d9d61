"""Input checks of the Solver (given code, out of the student's way in ``solver.py``).

Each function raises a ValueError or TypeError that names the culprit, what was expected and
how to fix it; ``solver.py`` calls each of them in one line.
"""

import os

import numpy as np

from assignment import optim

# Options accepted by Solver(...) and their defaults (CS231n's).
DEFAULTS = {
    "update_rule": "sgd",
    "optim_config": None,
    "lr_decay": 1.0,
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,
    "num_val_samples": None,
    "checkpoint_name": None,
    "print_every": 10,
    "verbose": True,
}
_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")

def check_int(name, value, minimum, allow_none=False):
    """Raise a ValueError/TypeError unless value is an int >= minimum (or None if allowed)."""
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        expected = "an int or None" if allow_none else "an int"
        raise TypeError(f"Solver option {name} must be {expected}, got {value!r}")
    if value < minimum:
        raise ValueError(f"Solver option {name} must be >= {minimum}, got {value}")


def checked_options(kwargs):
    """The Solver's options: the defaults updated with kwargs, checked; update_rule resolved
    to a function, optim_config None turned into {}, checkpoint_name into a str."""
    unknown = [key for key in kwargs if key not in DEFAULTS]
    if unknown:
        raise ValueError(
            f"Solver: unrecognized option(s) {', '.join(map(repr, unknown))}; "
            f"valid options: {', '.join(DEFAULTS)}"
        )
    options = {**DEFAULTS, **kwargs}

    rule = options["update_rule"]
    if isinstance(rule, str):
        if rule not in optim.UPDATE_RULES:
            raise ValueError(
                f"Solver: invalid update_rule {rule!r}; "
                f"valid names: {', '.join(optim.UPDATE_RULES)} (or pass a callable)"
            )
        options["update_rule"] = getattr(optim, rule)
    elif not callable(rule):
        raise TypeError(
            "Solver: update_rule must be the name of a rule in optim.py or a callable "
            f"update(w, dw, config) -> (next_w, config), got {rule!r}"
        )

    config = options["optim_config"]
    if config is None:
        options["optim_config"] = {}
    elif not isinstance(config, dict):
        raise TypeError(
            "Solver: optim_config must be a dict such as {'learning_rate': 1e-3}, "
            f"got {type(config).__name__}"
        )

    lr_decay = options["lr_decay"]
    if isinstance(lr_decay, bool) or not isinstance(lr_decay, (int, float, np.floating)):
        raise TypeError(f"Solver option lr_decay must be a number, got {lr_decay!r}")
    if not lr_decay > 0:
        raise ValueError(f"Solver option lr_decay must be > 0, got {lr_decay}")

    check_int("batch_size", options["batch_size"], 1)
    check_int("num_epochs", options["num_epochs"], 0)
    check_int("num_train_samples", options["num_train_samples"], 1, allow_none=True)
    check_int("num_val_samples", options["num_val_samples"], 1, allow_none=True)
    check_int("print_every", options["print_every"], 1)
    if options["checkpoint_name"] is not None:
        options["checkpoint_name"] = os.fspath(options["checkpoint_name"])
    options["verbose"] = bool(options["verbose"])
    return options


def check_model(model):
    if not isinstance(getattr(model, "params", None), dict) or not callable(
        getattr(model, "loss", None)
    ):
        raise TypeError(
            f"Solver: model must have a dict 'params' and a method 'loss(X, y=None)', "
            f"got {type(model).__name__}"
        )


def checked_data(data):
    """(X_train, y_train, X_val, y_val) of the data dict, checked (and not copied)."""
    if not hasattr(data, "keys"):
        raise TypeError(
            f"Solver: data must be a dict with keys {', '.join(_DATA_KEYS)}, "
            f"got {type(data).__name__}"
        )
    missing = [key for key in _DATA_KEYS if key not in data]
    if missing:
        raise ValueError(
            f"Solver: data is missing key(s) {', '.join(missing)}; it needs "
            f"{', '.join(_DATA_KEYS)} (e.g. from assignment.datasets.get_CIFAR10_data())"
        )
    arrays = []
    for split in ("train", "val"):
        # np.asarray does not copy numpy arrays; it only turns lists into arrays.
        X, y = np.asarray(data[f"X_{split}"]), np.asarray(data[f"y_{split}"])
        if X.ndim < 1 or y.ndim != 1 or len(X) != len(y):
            raise ValueError(
                f"Solver: X_{split} has shape {X.shape} and y_{split} shape "
                f"{y.shape}; expected (N, ...) and (N,) with the same N"
            )
        if len(X) == 0:
            raise ValueError(f"Solver: X_{split} is empty; expected at least one example")
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(
                f"Solver: y_{split} has dtype {y.dtype}, expected integer class labels "
                f"in [0, C) (convert with y_{split}.astype(np.int64))"
            )
        arrays += [X, y]
    return tuple(arrays)


def check_decay(lr_decay, config, name):
    if "learning_rate" not in config and lr_decay != 1:
        raise ValueError(
            f"Solver: lr_decay={lr_decay} but the optimizer config of {name!r} "
            "has no 'learning_rate'; use lr_decay=1 with this update rule"
        )


def check_loss(loss, grads, params):
    """Raise TypeError if loss or grads were not computed (None) or grads does not hold a
    gradient for every parameter."""
    if loss is None or not isinstance(grads, dict):
        raise TypeError(
            "Solver._step: loss or grads is None; compute the model's loss and gradients "
            "on the minibatch and store them in loss and grads"
        )
    missing = [p for p in params if p not in grads]
    if missing:
        raise TypeError(
            f"Solver._step: grads has no gradient for parameter(s) {', '.join(missing)}; "
            "model.loss(X, y) must return a gradient for every key of model.params"
        )
