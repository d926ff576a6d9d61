"""Fairness table: for every hidden test, the public check that warns a student first.

Rule (issue 14): every property that a hidden test scores is stated in the TODO or docstring
and checked by ``python -m assignment check``; the hidden tests use other inputs and seeds,
not other requirements. This table names, per hidden test function (``file::name``, without
the parametrization), one of:

- ``Public(check, ...)``: the public checks (function names in assignment/checks/)
  that test the same properties;
- ``Given(reason)``: the test exercises code the student does not write (input validation,
  given helpers): it passes for any submission, stubs included, so no rubric item may score
  it (with partial credit it would pay points for nothing);
- ``NotScored(reason)``: no rubric item selects the test either (it checks a fixture, or it
  constrains a choice the assignment leaves free).

tests/tooling/test_public_checks_fairness.py proves that the rubric scores no Given or NotScored
test.

:func:`problems` lists what is wrong with the table for a set of hidden test ids and a rubric:
a hidden test without an entry (a new hidden test needs its public counterpart first), an
entry naming a public check that does not exist, a stale entry, a ``Given`` or ``NotScored``
test that the rubric scores. The table lives here, not next to the public checks, because it
names the hidden tests (which no shipped file may mention).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Public:
    checks: tuple

    def __init__(self, *checks):
        object.__setattr__(self, "checks", checks)


@dataclass(frozen=True)
class Given:
    reason: str


@dataclass(frozen=True)
class NotScored:
    reason: str


_INPUT_CHECKS = Given("input validation is given code (the _check_* helpers / _prepare), "
                      "outside every solution region")

TABLE = {
    # ----------------------------------------------------------- tests/hidden/test_layers.py
    "tests/hidden/test_layers.py::test_affine_gradients": Public(
        "affine_forward_values", "affine_backward_gradients"),
    "tests/hidden/test_layers.py::test_relu_gradients_and_subgradient_at_zero": Public(
        "relu_forward_values", "relu_backward_gradient", "relu_subgradient_at_zero"),
    "tests/hidden/test_layers.py::test_dropout_keeps_fraction_p_and_preserves_mean": Public(
        "dropout_forward_train", "dropout_forward_test"),
    "tests/hidden/test_layers.py::test_dropout_seed_gives_cs231n_mask": (
        Public("dropout_forward_seeded")),
    "tests/hidden/test_layers.py::test_dropout_p1_is_identity": (
        Public("dropout_test_mode_and_keep_all")),
    "tests/hidden/test_layers.py::test_dropout_gradients": Public(
        "dropout_backward_gradient", "dropout_test_mode_and_keep_all"),
    "tests/hidden/test_layers.py::test_dropout_keeps_float32": Public("dropout_keeps_float32"),
    # ----------------------------------------------------------- tests/hidden/test_losses.py
    "tests/hidden/test_losses.py::test_loss_gradients": (
        Public("softmax_loss_check", "svm_loss_check")),
    "tests/hidden/test_losses.py::test_losses_of_uninformative_scores": Public(
        "softmax_loss_check", "svm_loss_check"),
    "tests/hidden/test_losses.py::test_losses_match_pytorch": Public(
        "softmax_loss_check", "svm_loss_check", "losses_large_scores"),
    # -------------------------------------------------------- tests/hidden/test_batchnorm.py
    "tests/hidden/test_batchnorm.py::test_batchnorm_gradients": Public(
        "batchnorm_backward_gradients"),
    "tests/hidden/test_batchnorm.py::test_batchnorm_backward_alt_gradients": Public(
        "batchnorm_backward_alt_gradients"),
    "tests/hidden/test_batchnorm.py::test_batchnorm_backward_alt_equals_staged": Public(
        "batchnorm_backward_alt_matches_staged"),
    "tests/hidden/test_batchnorm.py::test_batchnorm_normalizes_and_scales": Public(
        "batchnorm_forward_train"),
    "tests/hidden/test_batchnorm.py::test_batchnorm_running_averages_and_test_mode": Public(
        "batchnorm_running_stats", "batchnorm_forward_test", "batchnorm_test_mode_state"),
    "tests/hidden/test_batchnorm.py::test_batchnorm_train_matches_pytorch": Public(
        "batchnorm_forward_train", "batchnorm_running_stats", "batchnorm_backward_gradients",
        "batchnorm_backward_alt_gradients"),
    "tests/hidden/test_batchnorm.py::test_batchnorm_test_mode_matches_pytorch": Public(
        "batchnorm_forward_test", "batchnorm_test_mode_state"),
    # -------------------------------------------------------- tests/hidden/test_layernorm.py
    "tests/hidden/test_layernorm.py::test_layernorm_gradients": Public(
        "layernorm_backward_gradients"),
    "tests/hidden/test_layernorm.py::test_layernorm_normalizes_rows_and_ignores_mode": Public(
        "layernorm_forward_values", "layernorm_mode_and_float32"),
    "tests/hidden/test_layernorm.py::test_layernorm_matches_pytorch": Public(
        "layernorm_forward_values", "layernorm_backward_gradients"),
    # ------------------------------------------------------------ tests/hidden/test_norms.py
    "tests/hidden/test_norms.py::test_norm_keeps_float32": Public(
        "batchnorm_keeps_float32", "layernorm_mode_and_float32"),
    "tests/hidden/test_norms.py::test_norm_passes_leave_their_inputs_alone_and_backward_repeats": (
        Public("batchnorm_cache_behaviour", "layernorm_cache_behaviour")),
    "tests/hidden/test_norms.py::test_norm_backward_depends_only_on_its_own_cache": Public(
        "batchnorm_cache_behaviour", "layernorm_cache_behaviour"),
    # ------------------------------------------------- tests/hidden/test_layers_bad_input.py
    "tests/hidden/test_layers_bad_input.py::test_bad_input_is_reported_clearly": _INPUT_CHECKS,
    # ------------------------------------------------ tests/hidden/test_reference_fixture.py
    "tests/hidden/test_reference_fixture.py::test_reference_fixture_is_small_and_complete": (
        NotScored("checks the instructor's fixture file, not student code")),
    # ------------------------------------------------------ tests/hidden/test_solver_step.py
    "tests/hidden/test_solver_step.py::test_step_matches_the_reference_run": Public(
        "solver_step_reference"),
    "tests/hidden/test_solver_step.py::"
    "test_step_draws_exactly_one_minibatch_from_the_global_state": Public("solver_step_reference"),
    "tests/hidden/test_solver_step.py::test_check_accuracy_is_batched_test_mode_and_exact": Public(
        "solver_check_accuracy"),
    "tests/hidden/test_solver_step.py::test_check_accuracy_subsamples_with_the_cs231n_draw": Public(
        "solver_check_accuracy"),
    # ------------------------------------------------------ tests/hidden/test_layer_utils.py
    "tests/hidden/test_layer_utils.py::test_affine_relu": Public(
        "affine_forward_values", "affine_backward_gradients", "relu_backward_gradient"),
    "tests/hidden/test_layer_utils.py::test_affine_norm_relu": Public("sandwich_layers"),
    "tests/hidden/test_layer_utils.py::test_affine_batchnorm_relu_updates_running_averages": Public(
        "sandwich_layers"),
    "tests/hidden/test_layer_utils.py::test_hidden_layer": Public("sandwich_layers"),
    "tests/hidden/test_layer_utils.py::test_unknown_normalization": _INPUT_CHECKS,
    "tests/hidden/test_layer_utils.py::test_backward_rejects_unknown_normalization": _INPUT_CHECKS,
    # ----------------------------------------------------------- tests/hidden/test_fc_net.py
    "tests/hidden/test_fc_net.py::test_parameters_shapes_and_dtype": Public(
        "fc_net_params", "fc_net_weight_draws"),
    "tests/hidden/test_fc_net.py::test_weights_follow_cs231n_draw_order": (
        Public("fc_net_weight_draws")),
    "tests/hidden/test_fc_net.py::test_cs231n_published_initial_losses": (
        Public("fc_net_initial_losses")),
    "tests/hidden/test_fc_net.py::test_initial_loss_is_log_num_classes": (
        Public("fc_net_initial_losses")),
    "tests/hidden/test_fc_net.py::test_gradients_of_every_parameter": Public("fc_net_gradients"),
    "tests/hidden/test_fc_net.py::test_regularization_adds_half_sum_of_squared_weights_only": (
        Public("fc_net_regularization")),
    "tests/hidden/test_fc_net.py::test_test_mode_scores_and_modes": Public(
        "fc_net_regularization", "fc_net_test_mode"),
    "tests/hidden/test_fc_net.py::test_float32_model_computes_in_float32": (
        Public("fc_net_test_mode")),
    "tests/hidden/test_fc_net.py::test_dropout_seed_makes_loss_reproducible": Public(
        "fc_net_gradients"),
    "tests/hidden/test_fc_net.py::test_bad_constructor_arguments": _INPUT_CHECKS,
    "tests/hidden/test_fc_net.py::test_bad_loss_input": _INPUT_CHECKS,
    # ------------------------------------------------------------ tests/hidden/test_optim.py
    "tests/hidden/test_optim.py::test_sgd_two_steps": (
        Given("sgd is given code (no solution region)")),
    "tests/hidden/test_optim.py::test_sgd_momentum_two_steps": Public("sgd_momentum_steps"),
    "tests/hidden/test_optim.py::test_rmsprop_two_steps": Public("rmsprop_steps"),
    "tests/hidden/test_optim.py::test_adam_two_steps": Public("adam_steps"),
    "tests/hidden/test_optim.py::test_adam_continues_from_given_state": Public(
        "adam_continues_from_state"),
    "tests/hidden/test_optim.py::test_defaults_filled_in": Given(
        "the defaults are filled in by given code (config.setdefault before each TODO)"),
    "tests/hidden/test_optim.py::test_adam_default_state_starts_at_t_zero": Public("adam_steps"),
    "tests/hidden/test_optim.py::test_inputs_not_modified_and_dtype_kept": Public(
        "update_rules_keep_inputs_and_dtype"),
    "tests/hidden/test_optim.py::test_shape_mismatch_is_value_error": _INPUT_CHECKS,
    "tests/hidden/test_optim.py::test_unknown_config_key_is_value_error": _INPUT_CHECKS,
    "tests/hidden/test_optim.py::test_config_must_be_dict": _INPUT_CHECKS,
    "tests/hidden/test_optim.py::test_state_of_wrong_shape_is_value_error": _INPUT_CHECKS,
    "tests/hidden/test_optim.py::test_momentum_zero_is_sgd": Public("sgd_momentum_steps"),
    # ------------------------------------------------------ tests/hidden/test_experiments.py
    **{f"tests/hidden/test_experiments.py::{name}": NotScored(
        "assignment/experiments.py is given code (the notebooks' training helper)")
       for name in ("test_train_records_every_iteration_and_epoch",
                    "test_train_is_seeded_by_the_run", "test_training_learns_the_toy_problem",
                    "test_a_diverging_run_is_reported_not_raised",
                    "test_parallel_results_equal_sequential_results_in_order",
                    "test_run_parallel_passes_data_and_keeps_order", "test_bad_runs_are_rejected",
                    "test_bad_arguments_are_rejected",
                    "test_background_groups_equal_sequential_results",
                    "test_background_raises_a_worker_error_where_the_group_is_collected")},
}


def function_of(node_id):
    """``file::name`` of a pytest node id (its parametrization dropped)."""
    return node_id.split("[", 1)[0]


def problems(hidden_ids, public_check_names, is_scored, table=None):
    """What is wrong with the fairness table, as a list of str (empty: every scored hidden test
    has its public counterpart).

    Inputs:
    - hidden_ids: the node ids of every hidden test (pytest --collect-only)
    - public_check_names: the names of the public checks (functions of assignment.checks.PARTS)
    - is_scored: function node id -> True when some rubric item selects it
    - table: the table to check (default: TABLE)
    """
    table = TABLE if table is None else table
    found = []
    functions = {function_of(t) for t in hidden_ids}
    for name in sorted(functions - set(table)):
        found.append(f"{name}: a hidden test with no entry; add the public check that covers "
                     "its property to assignment/checks/ and name it in "
                     "instructor/fairness.py (or say why it is Given or NotScored)")
    for name in sorted(set(table) - functions):
        found.append(f"{name}: in the fairness table but no hidden test has this name; "
                     "remove the entry")
    for name, entry in sorted(table.items()):
        if isinstance(entry, Public):
            if not entry.checks:
                found.append(f"{name}: Public() names no check")
            for check in entry.checks:
                if check not in public_check_names:
                    found.append(f"{name}: public check {check!r} does not exist in "
                                 "assignment/checks/")
        elif isinstance(entry, (Given, NotScored)):
            scored = [t for t in hidden_ids if function_of(t) == name and is_scored(t)]
            if scored:
                found.append(f"{name}: marked {type(entry).__name__} but the rubric scores "
                             f"{scored[0]}; drop it from the rubric item's tests")
        else:
            found.append(f"{name}: entry {entry!r} is not Public, Given or NotScored")
    return found
