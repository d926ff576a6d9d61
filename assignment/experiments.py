"""The training experiments of notebooks/BatchNormalization.ipynb, run in parallel processes.

The notebook compares networks with and without normalization: a deep network, a sweep over 20
weight initialization scales, batch sizes 5 to 50 (each trained with the student's
``FullyConnectedNet`` and ``Solver``). The networks of one experiment are independent, so this
module trains them in worker processes, one per core, and the notebook runs in about half the
time of a sequential loop. ``Background`` starts the networks of several sections at once, so
that the cores keep training while the notebook plots and checks the sections before.

Reproducibility. Every network is trained from its own seed (``Run.seed``: ``np.random.seed``
right before the network is built, as CS231n does before each experiment), so a result does not
depend on how many processes there are or in which order the runs finish. Each worker uses one
BLAS thread (two processes with two BLAS threads each would fight over two cores).

Workers are started with the "spawn" method: they import ``assignment`` afresh from the
parent's ``sys.path`` (the student's copy, with their latest edits) and never inherit the
parent's threads. Workers write nothing to the notebook; an exception in a worker (a bug in the
student's code) is raised again in the notebook, with the worker's traceback.

Shape letters: N training examples, V validation examples, D input features, H hidden units.

Public API: :class:`Run`, :class:`History`, :func:`train`, :func:`train_all`,
:func:`run_parallel`, :class:`Background`.
"""

import dataclasses
import multiprocessing
import os
import time
import weakref
from unittest import mock

import numpy as np

from assignment.fc_net import FullyConnectedNet
from assignment.solver import Solver, TrainingDiverged

__all__ = ["Background", "History", "Run", "run_parallel", "train", "train_all"]

_NORMALIZATIONS = (None, "batchnorm", "layernorm")
_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
# Environment variables that set the thread count of the common BLAS libraries; read once,
# when a worker imports numpy.
_BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclasses.dataclass(frozen=True)
class Run:
    """One network to train: the architecture and the Solver options of one curve.

    Fields:
    - hidden_dims: tuple of ints, the hidden layer sizes (H_1, ..., H_{L-1}).
    - normalization: None, "batchnorm" or "layernorm".
    - weight_scale: float, standard deviation of the initial weights.
    - batch_size: int, minibatch size (default 50).
    - learning_rate: float, Adam's learning rate (default 1e-3).
    - num_epochs: int, epochs over the training set (default 10).
    - seed: int, ``np.random.seed`` before the network is built (default 231, CS231n's).
    """

    hidden_dims: tuple
    normalization: str | None = None
    weight_scale: float = 2e-2
    batch_size: int = 50
    learning_rate: float = 1e-3
    num_epochs: int = 10
    seed: int = 231

    def __post_init__(self):
        try:
            dims = tuple(int(h) for h in self.hidden_dims)
        except (TypeError, ValueError):
            raise TypeError(
                f"Run: hidden_dims is {self.hidden_dims!r}, expected a sequence of ints "
                "such as (100, 100)"
            ) from None
        object.__setattr__(self, "hidden_dims", dims)
        if self.normalization not in _NORMALIZATIONS:
            raise ValueError(
                f"Run: normalization is {self.normalization!r}, expected one of {_NORMALIZATIONS}"
            )
        for name in ("batch_size", "num_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Run: {name} is {value!r}, expected an int >= 1")
        for name in ("weight_scale", "learning_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Run: {name} is {getattr(self, name)!r}, expected a number > 0")

    def num_iterations(self, num_train):
        """Training iterations on num_train examples, counted as the Solver counts them."""
        return self.num_epochs * max(num_train // self.batch_size, 1)

    def build(self, input_dim, num_classes=10):
        """Seed numpy's global state and build the (float32) FullyConnectedNet of this run."""
        np.random.seed(self.seed)
        return FullyConnectedNet(
            list(self.hidden_dims),
            input_dim=input_dim,
            num_classes=num_classes,
            normalization=self.normalization,
            weight_scale=self.weight_scale,
            dtype=np.float32,
        )


@dataclasses.dataclass
class History:
    """What a Solver recorded while training one Run (attribute names as on the Solver).

    - run: the Run.
    - loss_history: float array (I,), the loss of every iteration (I iterations).
    - train_acc_history, val_acc_history: float arrays (num_epochs + 1,), the accuracies
      after the first iteration and at the end of every epoch.
    - diverged: bool, the loss became NaN or infinite (the Solver raised TrainingDiverged);
      the histories then stop there and the accuracies are padded with chance level 0.1.
      Overflow warnings of numpy are silenced during training for that reason.
    - seconds: float, wall-clock time of the training.
    """

    run: Run
    loss_history: np.ndarray
    train_acc_history: np.ndarray
    val_acc_history: np.ndarray
    diverged: bool
    seconds: float


def check_data(data):
    """Raise ValueError unless ``data`` is a dict with the keys of get_CIFAR10_data()'s."""
    if not hasattr(data, "keys") or any(key not in data for key in _DATA_KEYS):
        raise ValueError(
            f"data must be a dict with keys {', '.join(_DATA_KEYS)} (numpy arrays), got "
            f"{sorted(data) if hasattr(data, 'keys') else type(data).__name__}"
        )


def train(run, data):
    """Train the network of one Run with Adam and the Solver, quietly.

    Inputs:
    - run: a Run.
    - data: dict with X_train (N, ...), y_train (N,), X_val (V, ...), y_val (V,).

    Returns a History. The Solver checks the accuracy on (up to) 1000 training examples and
    on the whole validation set, after the first iteration and after every epoch, as in CS231n.
    """
    check_data(data)
    model = run.build(input_dim=int(np.prod(data["X_train"].shape[1:])))
    solver = Solver(
        model,
        data,
        num_epochs=run.num_epochs,
        batch_size=run.batch_size,
        update_rule="adam",
        optim_config={"learning_rate": run.learning_rate},
        verbose=False,
    )
    start = time.perf_counter()
    diverged = False
    try:
        # A diverging network overflows on its way to an infinite loss; that is reported as
        # History.diverged, not as a stream of numpy warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            solver.train()
    except TrainingDiverged:
        diverged = True
    seconds = time.perf_counter() - start
    checks = run.num_epochs + 1

    def padded(history):  # a diverged network predicts no better than chance
        return np.array(list(history) + [0.1] * (checks - len(history)), dtype=np.float64)

    return History(
        run=run,
        loss_history=np.array(solver.loss_history, dtype=np.float64),
        train_acc_history=padded(solver.train_acc_history),
        val_acc_history=padded(solver.val_acc_history),
        diverged=diverged,
        seconds=seconds,
    )


# ---------------------------------------------------------------------------------------------
# Parallel execution
# ---------------------------------------------------------------------------------------------

_WORKER = {}  # in a worker process: the function to call and the shared data


def _init_worker(function, data):
    _WORKER["function"], _WORKER["data"] = function, data


def _call_in_worker(item):
    return _WORKER["function"](item, _WORKER["data"])


def _single_blas_thread():
    """Set the BLAS thread variables to 1 for the processes started inside the block (the
    environment is restored as it was when the block ends)."""
    return mock.patch.dict(os.environ, {name: "1" for name in _BLAS_THREAD_VARIABLES})


def _available_cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _checked_processes(processes):
    if processes is None:
        return _available_cores()
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes is {processes!r}, expected an int >= 1 (or None)")
    return processes


class Background:
    """``function(item, data)`` for groups of items, computed by worker processes while the
    caller goes on.

    A notebook starts the networks of several sections at once and each section waits only for
    its own group: both cores keep training while the notebook plots and checks the results of
    the groups before. Groups run in the order they were started (within a group the most
    expensive items first, see ``cost``), on one pool of worker processes.

    Inputs:
    - function: a module-level function (workers import it by name), e.g. train, or a
      functools.partial of one.
    - data: one picklable object (the data dict), sent once to each worker.
    - processes: number of workers; default one per available core. With 1, every group is
      computed in this process when its results are asked for.

    The workers import ``assignment`` when the pool starts: at the first ``start`` and at the
    first ``start`` after the results of every started group were taken (the pool then stops).
    ``close`` (or garbage collection of the Background) stops the workers and drops the work
    not done yet.
    """

    def __init__(self, function, data, processes=None):
        self.function, self.data = function, data
        self.processes = _checked_processes(processes)
        self._groups = {}  # name -> [items, AsyncResults (parallel) or None, results or None]
        self._pool, self._stop = None, None

    def start(self, name, items, cost=None):
        """Queue a group of items under a name (cost: optional function item -> estimated cost;
        the most expensive items of the group are handed out first)."""
        if name in self._groups:
            raise ValueError(f"Background: a group named {name!r} was started already; "
                             "start a new Background to run it again")
        items = list(items)
        order = list(range(len(items)))
        if cost is not None:
            order.sort(key=lambda i: -cost(items[i]))
        pending = None
        if self.processes > 1 and items:
            pool = self._running_pool()
            pending = {i: pool.apply_async(_call_in_worker, (items[i],)) for i in order}
        self._groups[name] = [items, pending, None]

    def results(self, name):
        """Wait for the group ``name``; returns its results in the order of its items. An
        exception in a worker is raised again here, with the worker's traceback."""
        if name not in self._groups:
            raise KeyError(f"Background: no group named {name!r}; started: "
                           f"{', '.join(map(repr, self._groups)) or 'none'}")
        group = self._groups[name]
        items, pending, results = group
        if results is None:
            if pending is None:
                results = [self.function(item, self.data) for item in items]
            else:
                results = [pending[i].get() for i in range(len(items))]
            group[1:] = [None, results]
            if all(done is not None for _, _, done in self._groups.values()):
                self._close_pool()
        return list(results)

    def close(self):
        """Stop the workers now; the work not done yet is dropped."""
        if self._stop is not None:
            self._stop()
        self._pool, self._stop = None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _running_pool(self):
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            with _single_blas_thread():
                self._pool = context.Pool(self.processes, initializer=_init_worker,
                                          initargs=(self.function, self.data))
            self._stop = weakref.finalize(self, self._pool.terminate)
        return self._pool

    def _close_pool(self):  # every result is in: the idle workers exit
        if self._pool is not None:
            self._stop.detach()
            self._pool.close()
            self._pool.join()
        self._pool, self._stop = None, None


def run_parallel(function, items, data, processes=None, cost=None):
    """``[function(item, data) for item in items]``, computed by a pool of worker processes.

    Inputs:
    - function: a module-level function (workers import it by name), e.g. train.
    - items: a list of picklable arguments (e.g. Runs).
    - data: one picklable object (the data dict), sent once to each worker.
    - processes: number of workers; default one per available core, at most len(items).
      With 1, everything runs in this process (no pool).
    - cost: optional function item -> estimated cost; the most expensive items are handed
      out first, which keeps both cores busy until the end.

    Returns the list of results, in the order of items.
    """
    items = list(items)
    processes = min(_checked_processes(processes), len(items))
    if processes <= 1:
        return [function(item, data) for item in items]
    with Background(function, data, processes) as background:
        background.start("items", items, cost)
        return background.results("items")


def train_all(runs, data, processes=None):
    """Train every Run (see train) in parallel; returns the Histories in the order of runs.

    Inputs:
    - runs: list of Runs.
    - data: dict with X_train (N, ...), y_train (N,), X_val (V, ...), y_val (V,).
    - processes: see run_parallel.
    """
    check_data(data)
    num_train = data["X_train"].shape[0]

    def cost(run):  # Python overhead per layer and iteration dominates these small networks
        return run.num_iterations(num_train) * (len(run.hidden_dims) + 1)

    return run_parallel(train, runs, data, processes=processes, cost=cost)
