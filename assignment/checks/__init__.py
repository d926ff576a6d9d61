"""Public checks of the functions you write: ``python -m assignment check [PART]``.

Each part (affine, relu, losses, batchnorm, layernorm, dropout, fc_net, optim, solver) is a list
of checks. A check calls your code on small seeded inputs and compares it with something that does
not need the answer: centred-difference numerical gradients of your own forward pass (in
float64), properties the output must have (batch norm output has per-feature mean beta and
standard deviation gamma, inverted dropout keeps the mean), and the update rules' first steps.
Every check prints one line::

    PASS  batchnorm  batchnorm_backward's dx, dgamma, dbeta match numerical gradients. (...)
    FAIL  batchnorm  batchnorm_backward's dx, dgamma, dbeta match numerical gradients. (rel.
          error 0.75 (must be < 1e-06))
          hint: dgamma is N=4 times too small: sum over the batch (axis 0), don't average
    TODO  dropout    dropout_forward (test) returns its input unchanged.
          dropout_forward: not implemented yet; see notebooks/Dropout.ipynb, section ...

A function that still raises NotImplementedError is reported as ``TODO`` (not implemented
yet), never as a crash; a check that needs another function you have not written yet says so.
The hints name the common mistakes: a gradient off by a factor of N, biased vs unbiased
variance, running statistics not updated or updated with the wrong weight, test mode using the
batch statistics, a dropout mask not scaled by 1/p or drawn with the drop probability, a
missing bias correction in Adam, a regularization term without its 0.5, float64 results for
float32 inputs (an array made without x's dtype), inputs modified in place.

Every property that the graders' tests score is checked here too: their tests use other
inputs and seeds, not other requirements. (Passing here does not prove everything right: the
notebooks check more, and other inputs can find a bug that these miss.)

One module per group of parts (blocks: affine, relu, losses; norms: batchnorm, layernorm;
dropout; network: fc_net; training: optim, solver); ``common`` holds what they share.

Python API: :func:`run_part` returns the results of one part as :class:`Result` tuples,
:func:`run_all` every check's result by the check's name; :func:`main` prints them (exit
status 0 when every check passed).
"""

import sys

import numpy as np

from assignment.checks.blocks import (
    affine_backward_gradients,
    affine_forward_values,
    affine_keeps_float32,
    losses_large_scores,
    relu_backward_gradient,
    relu_forward_values,
    relu_subgradient_at_zero,
    softmax_loss_check,
    svm_loss_check,
)
from assignment.checks.common import Failed, Result
from assignment.checks.dropout import (
    dropout_backward_gradient,
    dropout_forward_seeded,
    dropout_forward_test,
    dropout_forward_train,
    dropout_keeps_float32,
    dropout_test_mode_and_keep_all,
)
from assignment.checks.network import (
    fc_net_gradients,
    fc_net_initial_losses,
    fc_net_params,
    fc_net_regularization,
    fc_net_test_mode,
    fc_net_weight_draws,
    sandwich_layers,
)
from assignment.checks.norms import (
    batchnorm_backward_alt_gradients,
    batchnorm_backward_alt_matches_staged,
    batchnorm_backward_gradients,
    batchnorm_cache_behaviour,
    batchnorm_forward_test,
    batchnorm_forward_train,
    batchnorm_keeps_float32,
    batchnorm_running_stats,
    batchnorm_test_mode_state,
    layernorm_backward_gradients,
    layernorm_cache_behaviour,
    layernorm_forward_values,
    layernorm_mode_and_float32,
)
from assignment.checks.training import (
    adam_continues_from_state,
    adam_steps,
    rmsprop_steps,
    sgd_momentum_steps,
    solver_check_accuracy,
    solver_step_reference,
    update_rules_keep_inputs_and_dtype,
)

PARTS = {
    "affine": (affine_forward_values, affine_backward_gradients, affine_keeps_float32),
    "relu": (relu_forward_values, relu_backward_gradient, relu_subgradient_at_zero),
    "losses": (softmax_loss_check, svm_loss_check, losses_large_scores),
    "batchnorm": (batchnorm_forward_train, batchnorm_running_stats, batchnorm_forward_test,
                  batchnorm_test_mode_state, batchnorm_backward_gradients,
                  batchnorm_backward_alt_gradients, batchnorm_backward_alt_matches_staged,
                  batchnorm_keeps_float32, batchnorm_cache_behaviour),
    "layernorm": (layernorm_forward_values, layernorm_backward_gradients,
                  layernorm_mode_and_float32, layernorm_cache_behaviour),
    "dropout": (dropout_forward_train, dropout_forward_seeded, dropout_forward_test,
                dropout_backward_gradient, dropout_test_mode_and_keep_all, dropout_keeps_float32),
    "fc_net": (fc_net_params, fc_net_weight_draws, sandwich_layers, fc_net_gradients,
               fc_net_regularization, fc_net_initial_losses, fc_net_test_mode),
    "optim": (sgd_momentum_steps, rmsprop_steps, adam_steps, adam_continues_from_state,
              update_rules_keep_inputs_and_dtype),
    "solver": (solver_step_reference, solver_check_accuracy),
}


def run_check(part, check):
    """Run one check function; never raises (except KeyboardInterrupt). Returns a Result."""
    what = (check.__doc__ or check.__name__).strip().split("\n")[0]
    try:
        with np.errstate(all="ignore"):
            detail = check()
    except NotImplementedError as e:
        return Result(part, "TODO", what, str(e) or "not implemented yet")
    except Failed as e:
        return Result(part, "FAIL", what, e.detail, e.hint)
    except Exception as e:  # noqa: BLE001 - student code may raise anything; report it
        return Result(part, "FAIL", what, f"raised {type(e).__name__}: {e}",
                      "read the error: it names the argument or line that went wrong")
    return Result(part, "PASS", what, detail or "")


def run_part(part):
    """Run every check of one part; returns a list of Result. Unknown part: ValueError."""
    if part not in PARTS:
        raise ValueError(f"part is {part!r}, expected one of: {', '.join(PARTS)}")
    return [run_check(part, check) for check in PARTS[part]]


def run_all(parts=None):
    """Every check of the given parts (default: all) as check function name -> Result.

    For feedback elsewhere (a grader's report names a failed check's hint by its name)."""
    return {check.__name__: run_check(part, check)
            for part in (parts or PARTS) for check in PARTS[part]}


def format_result(r, said=None):
    """The printed line(s) of one Result. ``said``: a set of the not-implemented messages
    printed already; a message is printed once, later checks it stops say "(as above)"."""
    line = f"{r.status:4}  {r.part:9}  {r.what}"
    if r.status == "TODO":  # the NotImplementedError message says what is missing and where
        if said is not None and r.detail in said:
            name = r.detail.split(":", 1)[0]
            return line + f" ({name}: not implemented yet, as above)"
        if said is not None:
            said.add(r.detail)
        line += f"\n      {r.detail}"
    elif r.detail:
        line += f" ({r.detail})"
    if r.hint and r.status == "FAIL":
        line += f"\n      hint: {r.hint}"
    return line


def main(parts=None, out=None):
    """Run the given parts (default: all), print one line per check; returns the exit status.

    Exit status: 0 if every check passed, 1 otherwise (a failure or something not
    implemented yet).
    """
    out = out or sys.stdout
    parts = list(parts or PARTS)
    for part in parts:
        if part not in PARTS:
            raise ValueError(f"part is {part!r}, expected one of: {', '.join(PARTS)}")
    results, said = [], set()
    for part in parts:
        for r in run_part(part):
            results.append(r)
            print(format_result(r, said), file=out, flush=True)
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "TODO")}
    print(f"\n{counts['PASS']} passed, {counts['FAIL']} failed, {counts['TODO']} not implemented "
          f"yet (of {len(results)} checks)", file=out)
    return 0 if counts["PASS"] == len(results) else 1
