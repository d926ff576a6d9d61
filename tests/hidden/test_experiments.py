"""Tests of assignment/experiments.py (the parallel training helper of the BN notebook)."""

import operator

import numpy as np
import pytest

from assignment.experiments import Background, Run, run_parallel, train, train_all


def _data(num_train=40, num_val=20, shape=(3, 4, 4), seed=0):
    """A tiny learnable data set: 10 classes, each a noisy copy of its own prototype."""
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((10, *shape)).astype(np.float32)
    y_train = np.arange(num_train, dtype=np.int64) % 10
    y_val = np.arange(num_val, dtype=np.int64) % 10
    noise = 0.3 * rng.standard_normal((num_train + num_val, *shape)).astype(np.float32)
    return {
        "X_train": prototypes[y_train] + noise[:num_train],
        "y_train": y_train,
        "X_val": prototypes[y_val] + noise[num_train:],
        "y_val": y_val,
    }


def test_train_records_every_iteration_and_epoch():
    run = Run((8, 8), "batchnorm", weight_scale=0.1, batch_size=10, num_epochs=3)
    history = train(run, _data())
    assert history.loss_history.shape == (3 * 4,)  # 40 examples / batch 10 = 4 per epoch
    assert history.train_acc_history.shape == (4,)  # after the first iteration + each epoch
    assert history.val_acc_history.shape == (4,)
    assert not history.diverged
    assert history.seconds > 0


def test_train_is_seeded_by_the_run():
    data = _data()
    run = Run((8,), None, weight_scale=0.1, batch_size=10, num_epochs=2, seed=5)
    np.random.seed(1)
    first = train(run, data)
    np.random.seed(2)  # the global state before the call must not matter
    second = train(run, data)
    np.testing.assert_array_equal(first.loss_history, second.loss_history)
    other = train(Run((8,), None, weight_scale=0.1, batch_size=10, num_epochs=2, seed=6), data)
    assert not np.array_equal(first.loss_history, other.loss_history)


def test_training_learns_the_toy_problem():
    run = Run((16,), "batchnorm", weight_scale=0.1, batch_size=10, num_epochs=20,
              learning_rate=1e-2)
    history = train(run, _data())
    assert history.train_acc_history[-1] > 0.9
    assert history.loss_history[-4:].mean() < history.loss_history[:4].mean()


def test_a_diverging_run_is_reported_not_raised():
    run = Run((8,), None, weight_scale=1e3, batch_size=10, num_epochs=3, learning_rate=1e30)
    history = train(run, _data())
    assert history.diverged
    assert not np.isfinite(history.loss_history[-1])
    assert history.train_acc_history.shape == (4,)  # padded with chance level
    assert history.train_acc_history[-1] == pytest.approx(0.1)


def test_parallel_results_equal_sequential_results_in_order():
    data = _data()
    runs = [Run((8,), norm, weight_scale=0.1, batch_size=b, num_epochs=2)
            for norm in (None, "batchnorm", "layernorm") for b in (5, 20)]
    sequential = train_all(runs, data, processes=1)
    parallel = train_all(runs, data, processes=2)
    assert [h.run for h in parallel] == runs
    for s, p in zip(sequential, parallel, strict=True):
        np.testing.assert_allclose(p.loss_history, s.loss_history, rtol=1e-5)
        np.testing.assert_array_equal(p.val_acc_history, s.val_acc_history)


def test_run_parallel_passes_data_and_keeps_order():
    # np.add(item, data) for each item, handed out most expensive first, returned in order
    results = run_parallel(np.add, [3, 1, 2], 10, processes=2, cost=lambda item: item)
    assert results == [13, 11, 12]


@pytest.mark.parametrize("processes", [1, 2])
def test_background_groups_equal_sequential_results(processes):
    data = _data()
    first = [Run((8,), norm, weight_scale=0.1, batch_size=10, num_epochs=2)
             for norm in (None, "batchnorm")]
    second = [Run((8,), "layernorm", weight_scale=0.1, batch_size=b, num_epochs=2)
              for b in (5, 20)]
    background = Background(train, data, processes=processes)
    background.start("first", first)
    background.start("second", second, cost=lambda run: run.num_iterations(40))
    later = background.results("second")  # a group can be collected before the ones before it
    earlier = background.results("first")
    for runs, histories in [(first, earlier), (second, later)]:
        assert [h.run for h in histories] == runs
        for run, h in zip(runs, histories, strict=True):
            np.testing.assert_allclose(h.loss_history, train(run, data).loss_history, rtol=1e-5)
    assert background.results("first")[0] is earlier[0]  # asked again: the same results
    # every group collected: the pool stopped; a new group starts fresh workers
    background.start("third", first[:1])
    assert background.results("third")[0].run == first[0]


def test_background_raises_a_worker_error_where_the_group_is_collected():
    # operator.getitem(item, data): item [3] has no index 1
    with Background(operator.getitem, 1, processes=2) as background:
        background.start("fine", [[1, 2], [3, 4]])
        background.start("broken", [[5, 6], [7]])
        assert background.results("fine") == [2, 4]
        with pytest.raises(IndexError):
            background.results("broken")
        with pytest.raises(KeyError, match="'fine', 'broken'"):
            background.results("missing")
        with pytest.raises(ValueError, match="started already"):
            background.start("fine", [[1, 2]])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden_dims": (8,), "normalization": "groupnorm"}, "normalization"),
        ({"hidden_dims": (8,), "batch_size": 0}, "batch_size"),
        ({"hidden_dims": (8,), "learning_rate": -1.0}, "learning_rate"),
        ({"hidden_dims": None}, "hidden_dims"),
    ],
)
def test_bad_runs_are_rejected(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Run(**kwargs)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="data"):
        train(Run((8,)), {"X_train": np.zeros((2, 3), np.float32)})
    with pytest.raises(ValueError, match="processes"):
        run_parallel(np.add, [1], 1, processes=0)
    with pytest.raises(ValueError, match="processes"):
        Background(np.add, 1, processes=True)
