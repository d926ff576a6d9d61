"""Public checks of part dropout."""

import numpy as np

from assignment.checks.common import Failed, grad_check, mod, num_grad, rel_error, require_float32


def dropout_forward_train():
    """dropout_forward (train): keeps a fraction p of units and scales them by 1/p."""
    layers = mod("layers")
    x = np.random.default_rng(5).normal(size=(500, 500)) + 10
    for p in (0.25, 0.4, 0.7):
        out, _ = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
        kept = float(np.mean(out != 0))
        ratio = float(out.mean() / x.mean())
        if abs(kept - (1 - p)) < 0.01 and abs(kept - p) > 0.01:
            raise Failed(f"p={p}: kept {kept:.3f} of the units, expected {p}",
                         "p is the probability of KEEPING a unit: mask = rand < p")
        if abs(kept - p) > 0.01:
            raise Failed(f"p={p}: kept {kept:.3f} of the units, expected {p}",
                         "draw the mask as np.random.rand(*x.shape) < p")
        if abs(ratio - 1) > 0.02:
            hint = "divide the kept units by p (inverted dropout) so the mean is unchanged"
            if abs(ratio - p) < 0.02:
                hint = "dropout mask not scaled: " + hint
            raise Failed(f"p={p}: mean(out) / mean(x) is {ratio:.3f}, expected 1", hint)
    return "kept fractions 0.25, 0.4, 0.7 and the mean is preserved"


def dropout_forward_seeded():
    """dropout_forward (train, seed) draws the CS231n mask: seed, then rand(*x.shape) < p."""
    layers = mod("layers")
    x = np.random.default_rng(6).normal(size=(20, 30))
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": 0.3, "seed": 42})
    np.random.seed(42)
    keep = np.random.rand(*x.shape) < 0.3
    expected = np.where(keep, x / 0.3, 0.0)
    if out is not None and np.shape(out) != x.shape:
        raise Failed(f"out has shape {np.shape(out)}, expected {x.shape}",
                     "the mask has the shape of x: np.random.rand(*x.shape)")
    if rel_error(out, expected) > 1e-6:
        if np.array_equal(np.asarray(out) != 0, keep):  # x has no zeros: the draw is right
            raise Failed("the right units are kept, but their values differ from x / p",
                         "dropout mask not scaled: divide the kept units by p (inverted "
                         "dropout), in the mask itself so that the backward pass uses it too")
        raise Failed("the kept units differ from the mask np.random.seed(seed); "
                     "np.random.rand(*x.shape) < p", "draw the mask exactly as the TODO says, "
                     "after the seeding (which is given), with no other random draws between")
    mask = cache[1] if isinstance(cache, tuple) and len(cache) == 2 else None
    if mask is None or not np.array_equal(mask, keep / 0.3):
        raise Failed("cache[1] is not the mask that multiplied x (entries 0 or 1 / p)",
                     "store the scaled mask in the mask variable: the cache is (mode, mask)")
    return "same mask as the reference recipe, kept in the cache"


def dropout_forward_test():
    """dropout_forward (test) returns its input unchanged."""
    layers = mod("layers")
    x = np.random.default_rng(7).normal(size=(50, 40)) + 10
    out, _ = layers.dropout_forward(x, {"mode": "test", "p": 0.4})
    if rel_error(out, x) > 1e-12:
        hint = "test mode is the identity with inverted dropout"
        if rel_error(out, 0.4 * x) < 1e-9:
            hint += ": don't multiply by p at test time"
        raise Failed("test-mode output differs from the input", hint)
    return "identity"


def dropout_backward_gradient():
    """dropout_backward's dx matches the numerical gradient (seeded mask)."""
    layers = mod("layers")
    rng = np.random.default_rng(8)
    x, dout = rng.normal(size=(10, 10)) + 10, rng.normal(size=(10, 10))
    param = {"mode": "train", "p": 0.2, "seed": 123}
    _, cache = layers.dropout_forward(x, dict(param))
    dx = layers.dropout_backward(dout, cache)
    num = num_grad(lambda v: layers.dropout_forward(v, dict(param))[0], x, dout)
    return grad_check("dx", dx, num, 10, "the backward pass must use the very mask the forward "
                      "pass drew, scaled the same way (it is in the cache)")


def dropout_test_mode_and_keep_all():
    """dropout_backward (test) returns dout; p=1 keeps every unit, forward and backward."""
    layers = mod("layers")
    rng = np.random.default_rng(18)
    x, dout = rng.normal(size=(7, 9)), rng.normal(size=(7, 9))
    _, cache = layers.dropout_forward(x, {"mode": "test", "p": 0.4})
    if rel_error(layers.dropout_backward(dout, cache), dout) > 0:
        raise Failed("test-mode dropout_backward does not return dout",
                     "test mode is the identity, so is its gradient")
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": 1})
    dx = layers.dropout_backward(dout, cache)
    if rel_error(out, x) > 0 or rel_error(dx, dout) > 0:
        raise Failed("with p=1 (keep every unit) train mode is not the identity",
                     "p is the probability of KEEPING a unit: mask = rand < p, scaled by 1 / p")
    return "identity in test mode and with p=1"


def dropout_keeps_float32():
    """dropout_forward and dropout_backward keep float32 (float32 in, float32 out)."""
    layers = mod("layers")
    x = np.random.default_rng(19).normal(size=(4, 5)).astype(np.float32)
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 1})
    dx = layers.dropout_backward(np.ones_like(x), cache)
    mask = cache[1] if isinstance(cache, tuple) and len(cache) == 2 else None
    require_float32("dropout_forward/backward", [("out", out), ("dx", dx)],
                    "the mask (np.random.rand(*x.shape) < p) / p is float64; give it x's dtype "
                    "(mask.astype(x.dtype)) so that float32 stays float32 in both passes")
    if mask is not None and np.asarray(mask).dtype != np.float32:
        raise Failed(f"the mask in the cache is {np.asarray(mask).dtype}, expected float32 "
                     "(x's dtype)", "give the mask x's dtype: mask.astype(x.dtype)")
    return "out, mask and dx are float32"
