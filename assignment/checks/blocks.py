"""Public checks of the building blocks: parts affine, relu and losses."""

import math

import numpy as np

from assignment.checks.common import (
    DTYPE_HINT,
    Failed,
    grad_check,
    is_vs_expected,
    mod,
    num_grad,
    rel_error,
    require_below,
    require_float32,
)


def affine_forward_values():
    """affine_forward on CS231n's linspace inputs gives the published numbers."""
    layers = mod("layers")
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = layers.affine_forward(x, w, b)
    correct = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    if np.shape(out) != (2, 3):
        raise Failed(f"out has shape {np.shape(out)}, expected (2, 3)",
                     "reshape x into rows of D features first: x.reshape(N, -1)")
    err = rel_error(out, correct)
    require_below(err, 1e-7, "rel. error {err} against the expected values",
                  "flatten each example into a row of D features; b is added to every row")
    return f"rel. error {err:.1e}"


def affine_backward_gradients():
    """affine_backward's dx, dw, db match numerical gradients."""
    layers = mod("layers")
    rng = np.random.default_rng(231)
    x, w, b = rng.normal(size=(10, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(10, 5))
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)
    details = [
        grad_check("dx", dx, num_grad(lambda v: layers.affine_forward(v, w, b)[0], x, dout), 10),
        grad_check("dw", dw, num_grad(lambda v: layers.affine_forward(x, v, b)[0], w, dout), 10),
        grad_check("db", db, num_grad(lambda v: layers.affine_forward(x, w, v)[0], b, dout), 10),
    ]
    return "dx, dw, db: " + ", ".join(details)


def affine_keeps_float32():
    """affine_forward and affine_backward keep float32 (float32 in, float32 out)."""
    layers = mod("layers")
    rng = np.random.default_rng(12)
    x, w, b = (rng.normal(size=s).astype(np.float32) for s in ((4, 2, 3), (6, 5), (5,)))
    out, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(np.ones((4, 5), dtype=np.float32), cache)
    require_float32("affine_forward/backward",
                    [("out", out), ("dx", dx), ("dw", dw), ("db", db)], DTYPE_HINT)
    return "out, dx, dw, db are float32"


def relu_forward_values():
    """relu_forward keeps positive inputs and zeroes the others."""
    layers = mod("layers")
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = layers.relu_forward(x)
    expected = np.where(x > 0, x, 0.0)
    err = rel_error(out, expected)
    if err > 1e-12:
        raise Failed(f"rel. error {err:.2g}", "out is x where x > 0 and 0 elsewhere")
    return "exact"


def relu_backward_gradient():
    """relu_backward's dx matches the numerical gradient."""
    layers = mod("layers")
    rng = np.random.default_rng(1)
    x, dout = rng.normal(size=(10, 10)), rng.normal(size=(10, 10))
    _, cache = layers.relu_forward(x)
    dx = layers.relu_backward(dout, cache)
    num = num_grad(lambda v: layers.relu_forward(v)[0], x, dout)
    return grad_check("dx", dx, num, 10, "which entries pass the gradient is decided by the "
                      "forward INPUT (in the cache), not by dout; the subgradient at 0 is 0")


def relu_subgradient_at_zero():
    """relu_backward: the subgradient at exactly 0 is 0; float32 stays float32."""
    layers = mod("layers")
    x = np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.5]], dtype=np.float32)
    dout = np.ones_like(x)
    out, cache = layers.relu_forward(x)
    dx = layers.relu_backward(dout, cache)
    require_float32("relu_forward/backward", [("out", out), ("dx", dx)], DTYPE_HINT)
    expected = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    if rel_error(dx, expected) > 0:
        hint = "which entries pass the gradient is decided by the forward INPUT (the cache)"
        if rel_error(dx, np.where(x >= 0, 1.0, 0.0)) == 0:
            hint = ("the subgradient at exactly 0 is 0: an input of exactly 0 passes no "
                    "gradient (it is not positive)")
        raise Failed(is_vs_expected("dx", dx, expected) + " for x = [[-1, 0, 2], [0, 3, -0.5]] "
                     "and dout = 1", hint)
    return "dx = 0 at x = 0"


def _loss_check(fn_name, expected_loss):
    layers = mod("layers")
    fn = getattr(layers, fn_name)
    rng = np.random.default_rng(0)
    N, C = 50, 10
    x, y = 0.001 * rng.normal(size=(N, C)), rng.integers(C, size=N)
    loss, dx = fn(x, y)
    if not math.isclose(loss, expected_loss, rel_tol=0.02):
        raise Failed(f"loss {loss:.4g} on tiny scores, expected about {expected_loss:.4g}",
                     "average the loss over the N examples")
    num = num_grad(lambda v: np.array(fn(v, y)[0]), x, np.array(1.0))
    return f"loss {loss:.3f}, dx " + grad_check("dx", dx, num, N)


def softmax_loss_check():
    """softmax_loss: loss about log(C) on tiny scores; dx matches the numerical gradient."""
    return _loss_check("softmax_loss", math.log(10))


def svm_loss_check():
    """svm_loss: loss about C - 1 on tiny scores; dx matches the numerical gradient."""
    return _loss_check("svm_loss", 9.0)


def losses_large_scores():
    """softmax_loss and svm_loss on scores near 1000: finite, unchanged by a shift; float32."""
    layers = mod("layers")
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(5, 4)), rng.integers(4, size=5)
    for fn_name in ("softmax_loss", "svm_loss"):
        fn = getattr(layers, fn_name)
        loss, dx = fn(x, y)
        big_loss, big_dx = fn(x + 1000.0, y)
        if not (np.isfinite(big_loss) and rel_error(big_loss, loss) < 1e-9
                and rel_error(big_dx, dx) < 1e-9):
            hint = "adding the same number to every score of a row changes neither loss nor dx"
            if fn_name == "softmax_loss":
                hint = ("exp overflows for large scores: subtract each row's maximum score before "
                        "exponentiating (the probabilities do not change)")
            raise Failed(f"{fn_name}: loss {big_loss!r} for the scores + 1000, expected {loss!r} "
                         "(the loss for the scores themselves)", hint)
        _, dx32 = fn(x.astype(np.float32), y)
        require_float32(fn_name, [("dx", dx32)], DTYPE_HINT)
    return "shift-invariant and finite; dx float32 for float32 scores"
