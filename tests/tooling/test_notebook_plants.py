"""The notebooks' new checks can fail: each is run with the solution (all PASS) and with a
planted, plausible mistake (at least one FAIL).

The cells are taken from the committed notebooks by their cell id and executed in a plain
namespace (they need no data and no IPython magics): the Solver checks of Dropout.ipynb
section 4b and the sandwich-layer check of BatchNormalization.ipynb section 3.
"""

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from assignment import fc_net, gradient_check, layer_utils, layers, notebook_checks, solver

REPO = Path(__file__).resolve().parents[2]


def cell_source(notebook, cell_id):
    nb = json.loads((REPO / "notebooks" / notebook).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell.get("id") == cell_id:
            src = cell["source"]
            return "".join(src) if isinstance(src, list) else src
    raise AssertionError(f"no cell with id {cell_id!r} in {notebook}")


def run_cells(notebook, cell_ids, **names):
    """Execute the cells in one namespace; returns what they printed."""
    namespace = {
        "np": np,
        "FullyConnectedNet": fc_net.FullyConnectedNet,
        "Solver": solver.Solver,
        "affine_forward": layers.affine_forward,
        "batchnorm_forward": layers.batchnorm_forward,
        "relu_forward": layers.relu_forward,
        "affine_norm_relu_forward": layer_utils.affine_norm_relu_forward,
        "affine_norm_relu_backward": layer_utils.affine_norm_relu_backward,
        "eval_numerical_gradient_array": gradient_check.eval_numerical_gradient_array,
        "check_below": notebook_checks.check_below,
        "check_claim": notebook_checks.check_claim,
        "rel_error": notebook_checks.rel_error,
        **names,
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell_id in cell_ids:
            exec(compile(cell_source(notebook, cell_id), cell_id, "exec"), namespace)  # noqa: S102
    return out.getvalue()


SOLVER_CELLS = ("check-solver-run", "check-accuracy")


class StateLostSolver(solver.Solver):
    """Mistake: the returned config is not kept, so the optimizer state (velocity) is lost."""

    def _step(self):
        kept = {p: dict(c) for p, c in self.optim_configs.items()}
        for c in kept.values():
            c.pop("velocity", None)
        super()._step()
        for p, c in self.optim_configs.items():
            c.pop("velocity", None)
            c.update(kept[p])


class TwoDrawsSolver(solver.Solver):
    """Mistake: the minibatch drawn with an extra random draw (e.g. X and y sampled apart)."""

    def _step(self):
        np.random.choice(self.X_train.shape[0], self.batch_size)
        super()._step()


class TrainModeAccuracySolver(solver.Solver):
    """Mistake: check_accuracy calls the model with the labels (training mode)."""

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        self.model.loss(X[:batch_size], y[:batch_size])
        return super().check_accuracy(X, y, num_samples, batch_size)


class OneBatchAccuracySolver(solver.Solver):
    """Mistake: check_accuracy feeds all N examples at once."""

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        return super().check_accuracy(X, y, num_samples, batch_size=X.shape[0])


def test_solver_checks_pass_with_the_solution():
    printed = run_cells("Dropout.ipynb", SOLVER_CELLS)
    assert printed.count("PASS") == 7 and "FAIL" not in printed, printed


@pytest.mark.parametrize("planted", [StateLostSolver, TwoDrawsSolver,
                                     TrainModeAccuracySolver, OneBatchAccuracySolver])
def test_solver_checks_fail_with_a_planted_mistake(planted):
    printed = run_cells("Dropout.ipynb", SOLVER_CELLS, Solver=planted)
    assert "FAIL" in printed, printed


def no_relu(x, w, b, gamma, beta, norm_param, normalization):
    """Mistake: the sandwich forgets the ReLU (forward and backward)."""
    a, fc_cache = layers.affine_forward(x, w, b)
    out, bn_cache = layers.batchnorm_forward(a, gamma, beta, norm_param)
    return out, (normalization, fc_cache, bn_cache)


def no_relu_backward(dout, cache):
    _, fc_cache, bn_cache = cache
    da, dgamma, dbeta = layers.batchnorm_backward_alt(dout, bn_cache)
    return (*layers.affine_backward(da, fc_cache), dgamma, dbeta)


def swapped_gamma_beta_backward(dout, cache):
    """Mistake: dgamma and dbeta returned in the wrong order."""
    dx, dw, db, dgamma, dbeta = layer_utils.affine_norm_relu_backward(dout, cache)
    return dx, dw, db, dbeta, dgamma


def test_sandwich_check_passes_with_the_solution():
    printed = run_cells("BatchNormalization.ipynb", ("check-sandwich",))
    assert printed.count("PASS") == 6 and "FAIL" not in printed, printed


@pytest.mark.parametrize("names", [
    {"affine_norm_relu_forward": no_relu, "affine_norm_relu_backward": no_relu_backward},
    {"affine_norm_relu_backward": swapped_gamma_beta_backward},
])
def test_sandwich_check_fails_with_a_planted_mistake(names):
    printed = run_cells("BatchNormalization.ipynb", ("check-sandwich",), **names)
    assert "FAIL" in printed, printed
