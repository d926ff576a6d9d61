"""Tests for assignment/solver.py: training, step(), options, checkpoints, divergence."""

import math
import os
import pickle

import numpy as np
import pytest

from assignment import optim, solver
from assignment.fc_net import FullyConnectedNet
from assignment.solver import Solver, TrainingDiverged


class TinyLinear:
    """A linear classifier with the model API the Solver expects: scores ``X W + b``, trained
    with half the squared distance between the scores and the one-hot labels, averaged over
    the batch. (Not the softmax loss: that may be one of your TODOs.)

    Its own RandomState initialises the weights, so the global numpy state is used only by
    the Solver. ``nan_at=k`` makes the k-th training loss (1-based) equal to ``bad_loss``.
    ``batches`` records the training minibatches it saw.
    """

    def __init__(self, D=6, C=3, seed=0, nan_at=None, bad_loss=math.nan):
        rng = np.random.RandomState(seed)
        self.params = {"W": 0.01 * rng.randn(D, C), "b": np.zeros(C)}
        self.nan_at, self.bad_loss = nan_at, bad_loss
        self.batches = []

    def loss(self, X, y=None):
        X = X.reshape(X.shape[0], -1)
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        self.batches.append(X)
        N, C = scores.shape
        residual = scores - np.eye(C)[y]
        loss = 0.5 * (residual**2).sum() / N
        if len(self.batches) == self.nan_at:
            loss = self.bad_loss
        dscores = residual / N
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def make_data(n_train=40, n_val=20, D=6, C=3, seed=0):
    rng = np.random.RandomState(seed)
    return {
        "X_train": rng.randn(n_train, D),
        "y_train": rng.randint(C, size=n_train),
        "X_val": rng.randn(n_val, D),
        "y_val": rng.randint(C, size=n_val),
    }


def quiet(**kwargs):
    return {"verbose": False, **kwargs}


# --- training ---------------------------------------------------------------------------


def test_overfit_50_cifar_shaped_examples_with_fc_net():
    rng = np.random.RandomState(231)
    X = rng.randn(50, 3, 32, 32).astype(np.float32)
    y = rng.randint(10, size=50)
    # validation = training set, so the restored best parameters are the best on training
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    np.random.seed(231)
    model = FullyConnectedNet([100, 100], weight_scale=5e-2)
    # (random inputs, unlike CIFAR's, need adam or a long sgd run to be memorised quickly)
    s = Solver(model, data, **quiet(update_rule="adam", optim_config={"learning_rate": 1e-3},
                                     num_epochs=15, batch_size=25))
    s.train()
    assert s.train_acc_history[0] < 0.5
    assert s.train_acc_history[-1] == 1.0
    assert s.check_accuracy(X, y) == 1.0
    assert len(s.loss_history) == 15 * 2
    assert s.loss_history[-1] < s.loss_history[0] / 10


def test_minibatches_are_cs231n_draws_from_global_state():
    data = make_data(n_train=40)
    model = TinyLinear()
    np.random.seed(7)
    # num_train_samples >= N_train and num_val_samples None: the checks draw nothing
    Solver(model, data, **quiet(batch_size=10, num_epochs=2, num_train_samples=40)).train()
    np.random.seed(7)
    for X_batch in model.batches:
        expected = data["X_train"][np.random.choice(40, 10)]
        np.testing.assert_array_equal(X_batch, expected)
    assert len(model.batches) == 8


def test_check_accuracy_with_subsampling_and_uneven_batches():
    data = make_data(n_train=37)
    model = TinyLinear(seed=3)
    s = Solver(model, data, **quiet())
    X, y = data["X_train"], data["y_train"]
    predicted = np.argmax(X @ model.params["W"] + model.params["b"], axis=1)
    assert s.check_accuracy(X, y, batch_size=5) == np.mean(predicted == y)

    np.random.seed(3)
    acc = s.check_accuracy(X, y, num_samples=11, batch_size=4)
    np.random.seed(3)
    rows = np.random.choice(37, 11)
    assert acc == np.mean(predicted[rows] == y[rows])
    # asking for more samples than there are uses all of them and draws nothing
    state = np.random.get_state()[1].copy()
    assert s.check_accuracy(X, y, num_samples=100) == np.mean(predicted == y)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_lr_decay_is_applied_once_per_epoch():
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(config.get("learning_rate", 0.1))
        return optim.sgd(w, dw, config)

    data = make_data(n_train=40)
    s = Solver(TinyLinear(), data, **quiet(update_rule=recording_sgd, lr_decay=0.5,
                                            optim_config={"learning_rate": 0.1},
                                            batch_size=10, num_epochs=3))
    s.train()
    per_iteration = seen[::2]  # two parameters per step
    assert per_iteration == [0.1] * 4 + [0.05] * 4 + [0.025] * 4
    assert all(c["learning_rate"] == 0.0125 for c in s.optim_configs.values())


def test_best_validation_params_are_restored():
    scripted_val = iter([0.2, 0.6, 0.4, 0.3])
    snapshots = []

    class ScriptedSolver(Solver):
        def check_accuracy(self, X, y, num_samples=None, batch_size=100):
            if X is self.X_val:
                snapshots.append({k: v.copy() for k, v in self.model.params.items()})
                return next(scripted_val)
            return 0.0

    model = TinyLinear()
    s = ScriptedSolver(model, make_data(n_train=40), **quiet(
        optim_config={"learning_rate": 0.5}, batch_size=10, num_epochs=3))
    s.train()
    assert s.val_acc_history == [0.2, 0.6, 0.4, 0.3]
    assert s.best_val_acc == 0.6
    for k in model.params:
        np.testing.assert_array_equal(model.params[k], snapshots[1][k])
        assert not np.array_equal(snapshots[1][k], snapshots[3][k])
        # a copy: changing the model does not change best_params
        assert model.params[k] is not s.best_params[k]


def test_step_is_one_iteration_of_train():
    data = make_data(n_train=40, n_val=30)
    options = quiet(update_rule="adam", optim_config={"learning_rate": 1e-2}, lr_decay=0.9,
                    batch_size=8, num_epochs=2, num_train_samples=25, num_val_samples=20)
    np.random.seed(5)
    trained = Solver(TinyLinear(), data, **options)
    trained.train()
    np.random.seed(5)
    stepped = Solver(TinyLinear(), data, **options)
    for _ in range(10):  # 2 epochs of 40 // 8 iterations
        stepped.step()
    assert stepped.iteration == trained.iteration == 10 and stepped.epoch == 2
    assert stepped.loss_history == trained.loss_history
    assert stepped.train_acc_history == trained.train_acc_history
    assert len(stepped.val_acc_history) == 3 and stepped.val_acc_history == trained.val_acc_history
    assert stepped.best_val_acc == trained.best_val_acc
    assert all(c["learning_rate"] == 1e-2 * 0.9**2 for c in stepped.optim_configs.values())
    # train() then puts the best parameters into the model; step() leaves the last ones
    for k, v in trained.model.params.items():
        np.testing.assert_array_equal(v, stepped.best_params[k])


# --- options and data --------------------------------------------------------------------


def test_unknown_option_is_value_error_naming_it():
    with pytest.raises(ValueError, match=r"'bogus'.*valid options:.*batch_size"):
        Solver(TinyLinear(), make_data(), bogus=1)


def test_unknown_update_rule_lists_valid_ones():
    with pytest.raises(ValueError, match=r"'sgdd'.*sgd, sgd_momentum, rmsprop, adam"):
        Solver(TinyLinear(), make_data(), update_rule="sgdd")


@pytest.mark.parametrize(
    "option, value, error",
    [("batch_size", 0, ValueError), ("num_epochs", 2.5, TypeError),
     ("print_every", True, TypeError), ("lr_decay", -1.0, ValueError),
     ("optim_config", [0.1], TypeError)],
)
def test_bad_option_values(option, value, error):
    with pytest.raises(error, match=option):
        Solver(TinyLinear(), make_data(), **{option: value})


def test_missing_data_key_is_value_error():
    data = make_data()
    del data["y_val"]
    with pytest.raises(ValueError, match="missing key.*y_val"):
        Solver(TinyLinear(), data)


def test_mismatched_data_lengths_is_value_error():
    data = make_data()
    data["y_train"] = data["y_train"][:-1]
    with pytest.raises(ValueError, match=r"X_train has shape \(40, 6\) and y_train shape \(39,\)"):
        Solver(TinyLinear(), data)


def test_float_labels_are_type_error():
    data = make_data()
    data["y_val"] = data["y_val"].astype(float)
    with pytest.raises(TypeError, match="y_val has dtype float64, expected integer"):
        Solver(TinyLinear(), data)


# --- divergence --------------------------------------------------------------------------


@pytest.mark.parametrize("bad_loss", [math.nan, math.inf])
def test_non_finite_loss_stops_naming_iteration(bad_loss):
    model = TinyLinear(nan_at=7, bad_loss=bad_loss)
    s = Solver(model, make_data(n_train=40), **quiet(batch_size=10, num_epochs=3))
    with pytest.raises(TrainingDiverged, match=r"loss is (nan|inf) at iteration 7 \(epoch 2 of 3\)"
                       ) as info:
        s.train()
    assert isinstance(info.value, RuntimeError)
    assert info.value.iteration == 7 and info.value.epoch == 2
    assert len(s.loss_history) == 7 and not math.isfinite(s.loss_history[-1])
    assert s.iteration == 6  # the diverged step's update was not applied
    assert all(np.isfinite(v).all() for v in model.params.values())
    # survives pickling (parallel hyperparameter searches send errors between processes)
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value) and copy.iteration == 7


# --- output ------------------------------------------------------------------------------


def test_verbose_prints_to_stdout_and_nothing_to_stderr(capsys):
    Solver(TinyLinear(), make_data(), batch_size=10, num_epochs=2, print_every=1).train()
    out, err = capsys.readouterr()
    assert err == ""
    assert "(Iteration 1 / 8) loss: " in out
    assert "(Epoch 0 / 2) train acc: " in out and "(Epoch 2 / 2) train acc: " in out

    Solver(TinyLinear(), make_data(), **quiet(batch_size=10, num_epochs=2)).train()
    assert capsys.readouterr() == ("", "")


# --- checkpoints and training on ------------------------------------------------------------


def test_checkpoints_written_atomically(tmp_path):
    name = tmp_path / "run"
    s = Solver(TinyLinear(), make_data(), **quiet(batch_size=10, num_epochs=2,
                                                   checkpoint_name=name))
    s.train()
    assert sorted(os.listdir(tmp_path)) == [f"run_epoch_{e}.pkl" for e in range(3)]
    with open(tmp_path / "run_epoch_1.pkl", "rb") as f:
        state = pickle.load(f)
    assert state["epoch"] == 1
    assert len(state["loss_history"]) == 4 and len(state["val_acc_history"]) == 2
    assert state["update_rule"] == "sgd"
    assert set(state["model"].params) == {"W", "b"}


def test_failed_checkpoint_write_keeps_previous_file(tmp_path, monkeypatch):
    s = Solver(TinyLinear(), make_data(), **quiet(checkpoint_name=tmp_path / "run"))
    s._save_checkpoint()
    target = tmp_path / "run_epoch_0.pkl"
    before = target.read_bytes()

    def failing_dump(obj, f, protocol=None):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(solver.pickle, "dump", failing_dump)
    s.loss_history.append(1.0)  # the new checkpoint would differ
    with pytest.raises(OSError, match="disk full"):
        s._save_checkpoint()
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["run_epoch_0.pkl"]


def test_train_again_warns_and_changes_nothing_until_num_epochs_is_raised():
    data = make_data(n_train=40, n_val=30)
    np.random.seed(3)
    s = Solver(TinyLinear(), data, **quiet(batch_size=10, num_epochs=1))
    s.train()
    params = {k: v.copy() for k, v in s.model.params.items()}
    losses = len(s.loss_history)
    with pytest.warns(RuntimeWarning, match=r"nothing to do.*num_epochs=1.*num_epochs higher"):
        s.train()
    assert len(s.loss_history) == losses and s.iteration == 4
    assert all(np.array_equal(params[k], v) for k, v in s.model.params.items())

    s.num_epochs = 2
    s.train()
    assert s.epoch == 2 and s.iteration == 8 and len(s.loss_history) == 2 * losses
