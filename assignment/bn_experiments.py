"""Why batch normalization helps: the experiments of issue 13 in notebooks/BatchNormalization.ipynb.

Beyond the sections that train networks with ``experiments.train_all``, the notebook changes how
a network trains or looks inside it while it trains:

- learning rates for SGD with momentum (Ioffe and Szegedy's larger learning rates);
- "noisy batchnorm": a random per-unit scale and shift after every batchnorm layer, redrawn at
  every step (Santurkar et al. 2018, figure 2: injected covariate shift);
- probes every few steps: the inputs of one hidden layer before and after normalization for
  fixed examples (Ioffe and Szegedy, figure 1) and the loss landscape along the gradient
  (Santurkar et al., figure 4);
- "ghost batches": batchnorm statistics from sub-batches of a larger minibatch.

What is measured on the recorded traces and trained networks (drift, beta-smoothness, test-time
statistics) is in ``bn_measures``.

Every network is the student's ``FullyConnectedNet`` trained by the student's ``Solver``; what
changes is the model object the Solver sees: a thin wrapper whose ``loss(X, y)`` calls the
network's own ``loss`` (:class:`NoisyBatchnorm`, :class:`GhostBatches`, :class:`Probe`). A
:class:`Variant` says which wrappers and which optimizer; :func:`train_variant` trains one, and
``experiments.run_parallel(train_variant, variants, data)`` trains many in parallel processes.

Shape letters: N training examples, P probe examples, H units of the probed layer, T probed
steps, S step sizes, I iterations.

Public API: :class:`Variant`, :class:`Trace`, :class:`Result`, :func:`train_variant`,
:class:`NoisyBatchnorm`, :class:`GhostBatches`, :class:`Probe`.
"""

import copy
import dataclasses
import time

import numpy as np

from assignment.bn_measures import layer_inputs
from assignment.experiments import Run
from assignment.solver import Solver, TrainingDiverged

__all__ = [
    "GhostBatches",
    "NoisyBatchnorm",
    "Probe",
    "Result",
    "Trace",
    "Variant",
    "train_variant",
]

_UPDATE_RULES = ("adam", "sgd_momentum")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One network to train, and how.

    Fields:
    - run: an ``experiments.Run`` (architecture, normalization, weight scale, batch size,
      learning rate, epochs, seed).
    - update_rule: "adam" (default) or "sgd_momentum" (momentum 0.9).
    - checks: True (default): the Solver's accuracy checks after the first iteration and
      every epoch (``Solver.train``); False: only the training steps, then one check of the
      final network on (up to) 1000 training and all validation examples.
    - noise: (scale, shift) for noisy batchnorm (see NoisyBatchnorm), or None.
    - ghost_size: batchnorm statistics from sub-batches of this size (see GhostBatches), or
      None.
    - probe_every: record a Trace every this many steps (see Probe), or None.
    - keep_model: return the trained network in Result.model.
    """

    run: Run
    update_rule: str = "adam"
    checks: bool = True
    noise: tuple | None = None
    ghost_size: int | None = None
    probe_every: int | None = None
    keep_model: bool = False

    def __post_init__(self):
        if not isinstance(self.run, Run):
            raise TypeError(f"Variant: run is {self.run!r}, expected an experiments.Run")
        if self.update_rule not in _UPDATE_RULES:
            raise ValueError(
                f"Variant: update_rule is {self.update_rule!r}, expected one of {_UPDATE_RULES}"
            )
        if (self.noise is not None or self.ghost_size is not None) and (
            self.run.normalization != "batchnorm"
        ):
            raise ValueError("Variant: noise and ghost_size need run.normalization='batchnorm'")
        if self.ghost_size is not None and (
            self.ghost_size < 1 or self.run.batch_size % self.ghost_size
        ):
            raise ValueError(
                f"Variant: ghost_size is {self.ghost_size!r}, expected a divisor of the batch "
                f"size {self.run.batch_size}"
            )


@dataclasses.dataclass
class Trace:
    """What a Probe recorded (before the update of every probed step).

    - steps: int array (T,), the training steps probed.
    - before: float array (T, 3, H), the 15th, 50th and 85th percentiles over the probe
      examples of every unit's input to the normalization (the affine output) of the probed
      layer; without normalization, the input to the ReLU.
    - after: float array (T, 3, H), the same for the input to the ReLU (after normalization,
      and after the noise of noisy batchnorm).
    - step_sizes: float array (S,), the step sizes eta along the gradient.
    - losses: float array (T, S), the minibatch loss at w - eta * g.
    - grad_changes: float array (T, S), ||grad L(w - eta * g) - grad L(w)||_2, all parameters
      flattened into one vector.
    - grad_norms: float array (T,), ||g||_2.
    """

    steps: np.ndarray
    before: np.ndarray
    after: np.ndarray
    step_sizes: np.ndarray
    losses: np.ndarray
    grad_changes: np.ndarray
    grad_norms: np.ndarray


@dataclasses.dataclass
class Result:
    """One trained Variant.

    - variant: the Variant.
    - loss_history: float array (I,), the minibatch loss of every iteration.
    - train_acc_history, val_acc_history: float arrays, the accuracies of the Solver's checks
      (with checks=False: one entry each, the final network's).
    - diverged: the loss became NaN or infinite (training stopped there).
    - seconds: wall-clock time of the training.
    - trace: a Trace, or None.
    - model: the trained FullyConnectedNet (as of its last training step), or None.
    """

    variant: Variant
    loss_history: np.ndarray
    train_acc_history: np.ndarray
    val_acc_history: np.ndarray
    diverged: bool
    seconds: float
    trace: Trace | None = None
    model: object = None


# ---------------------------------------------------------------------------------------------
# Models as the Solver sees them
# ---------------------------------------------------------------------------------------------


class NoisyBatchnorm:
    """A batchnorm FullyConnectedNet with covariate shift injected after every batchnorm layer.

    At every training step, every unit j of every batchnorm layer gets its own random scale
    s_j = exp(u), u ~ U(-ln(scale), ln(scale)), and shift m_j ~ U(-shift, shift), the same for
    all examples of the minibatch and redrawn at the next step: the layer outputs
    s * (gamma * xhat + beta) + m instead of gamma * xhat + beta. That is the batchnorm layer
    with gamma' = s * gamma and beta' = s * beta + m, so the network's own loss computes it; the
    gradients of gamma and beta follow by the chain rule (times s). Test-time calls (y None)
    are noise-free. The noise has its own random generator (seeded), so the minibatches are
    those of the noise-free network.
    """

    def __init__(self, model, scale, shift, seed=0):
        self.model, self.params = model, model.params
        self.scale, self.shift = float(scale), float(shift)
        self.rng = np.random.default_rng(seed)
        self.layers = [i for i in range(1, model.num_layers) if f"gamma{i}" in model.params]

    def loss(self, X, y=None):
        if y is None:
            return self.model.loss(X)
        saved, scales = {}, {}
        for i in self.layers:
            gamma, beta = self.params[f"gamma{i}"], self.params[f"beta{i}"]
            s = np.exp(self.rng.uniform(-np.log(self.scale), np.log(self.scale), gamma.shape))
            m = self.rng.uniform(-self.shift, self.shift, beta.shape)
            saved[i], scales[i] = (gamma, beta), s.astype(gamma.dtype)
            self.params[f"gamma{i}"] = scales[i] * gamma
            self.params[f"beta{i}"] = scales[i] * beta + m.astype(beta.dtype)
        try:
            loss, grads = self.model.loss(X, y)
        finally:
            for i, (gamma, beta) in saved.items():
                self.params[f"gamma{i}"], self.params[f"beta{i}"] = gamma, beta
        for i, s in scales.items():
            grads[f"gamma{i}"] = grads[f"gamma{i}"] * s
            grads[f"beta{i}"] = grads[f"beta{i}"] * s
        return loss, grads


class GhostBatches:
    """A FullyConnectedNet whose batchnorm statistics come from sub-batches ("ghost batches").

    A training call on a minibatch of N examples runs the network on N / size sub-batches of
    ``size`` consecutive examples, each normalized with its own statistics, and returns the
    mean of their losses and gradients: the loss and gradient of the whole minibatch (every
    other layer treats the examples one by one), with the batch statistics of ``size``
    examples. Test-time calls are passed on.
    """

    def __init__(self, model, size):
        self.model, self.params, self.size = model, model.params, int(size)

    def loss(self, X, y=None):
        if y is None:
            return self.model.loss(X)
        if X.shape[0] % self.size:
            raise ValueError(f"GhostBatches: {X.shape[0]} examples do not split into "
                             f"sub-batches of {self.size}")
        parts = [self.model.loss(X[k:k + self.size], y[k:k + self.size])
                 for k in range(0, X.shape[0], self.size)]
        loss = float(np.mean([part[0] for part in parts]))
        grads = {name: sum(part[1][name] for part in parts) / len(parts) for name in parts[0][1]}
        return loss, grads


class Probe:
    """A model as the Solver sees it, looked into before every ``every``-th update.

    Every training call returns the loss and gradients of ``model``; on calls 0, every,
    2 * every, ... it first records into ``self.trace`` (see Trace) the inputs of hidden layer
    ``layer`` for the probe examples (layer_inputs), and the loss landscape along the
    minibatch gradient g: loss and gradient at w - eta * g for every step size. The probing
    restores the parameters and the batchnorm running averages, and draws no random numbers,
    so training is not changed. Inside a NoisyBatchnorm, it sees the noisy gamma and beta of
    the current step.
    """

    def __init__(self, network, probe, layer, every, step_sizes):
        self.network, self.params = network, network.params
        self.probe, self.layer, self.every = probe, layer, every
        self.step_sizes = np.asarray(step_sizes, dtype=np.float64)
        self.calls = 0
        self.records = {key: [] for key in ("steps", "before", "after", "losses",
                                            "grad_changes", "grad_norms")}

    def loss(self, X, y=None):
        if y is None:
            return self.network.loss(X)
        loss, grads = self.network.loss(X, y)
        if self.calls % self.every == 0:
            self._record(X, y, grads)
        self.calls += 1
        return loss, grads

    def _record(self, X, y, grads):
        network, records = self.network, self.records
        before, after = layer_inputs(network, self.probe, self.layer)
        records["steps"].append(self.calls)
        records["before"].append(np.percentile(before, [15, 50, 85], axis=0))
        records["after"].append(np.percentile(after, [15, 50, 85], axis=0))
        names = list(network.params)
        params, bn_params = dict(network.params), copy.deepcopy(network.bn_params)
        flat = np.concatenate([grads[name].ravel() for name in names]).astype(np.float64)
        losses, changes = [], []
        for eta in self.step_sizes:
            network.params.update({name: params[name] - eta * grads[name] for name in names})
            moved_loss, moved_grads = network.loss(X, y)
            moved = np.concatenate([moved_grads[name].ravel() for name in names])
            losses.append(float(moved_loss))
            changes.append(float(np.linalg.norm(moved - flat)))
        network.params.update(params)
        network.bn_params = bn_params
        records["losses"].append(losses)
        records["grad_changes"].append(changes)
        records["grad_norms"].append(float(np.linalg.norm(flat)))

    @property
    def trace(self):
        r = self.records
        return Trace(steps=np.array(r["steps"]), before=np.array(r["before"], np.float64),
                     after=np.array(r["after"], np.float64), step_sizes=self.step_sizes,
                     losses=np.array(r["losses"], np.float64),
                     grad_changes=np.array(r["grad_changes"], np.float64),
                     grad_norms=np.array(r["grad_norms"], np.float64))


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


class _LastStep:
    """Remembers the parameters of the last training call (Solver.train swaps in the best
    parameters at the end; the running averages belong to the last step's)."""

    def __init__(self, model):
        self.model, self.params, self.last = model, model.params, None

    def loss(self, X, y=None):
        if y is not None:
            self.last = dict(self.params)
        return self.model.loss(X, y)


def train_variant(variant, data, probe=None, layer=None, step_sizes=(0.05, 0.1, 0.2, 0.4)):
    """Train one Variant with the Solver, quietly.

    Inputs:
    - variant: a Variant.
    - data: dict with X_train (N, ...), y_train (N,), X_val (V, ...), y_val (V,).
    - probe: float array (P, ...), the examples a Probe looks at (needed with probe_every).
    - layer: the hidden layer a Probe looks into (default: the last).
    - step_sizes: the step sizes eta of the Probe's landscape (S of them).

    Returns a Result.
    """
    run = variant.run
    network = run.build(input_dim=int(np.prod(data["X_train"].shape[1:])))
    model = network
    if variant.noise is not None:
        model = NoisyBatchnorm(model, *variant.noise, seed=run.seed)
    if variant.ghost_size is not None:
        model = GhostBatches(model, variant.ghost_size)
    prober = None
    if variant.probe_every is not None:
        if probe is None:
            raise ValueError("train_variant: a Variant with probe_every needs probe examples")
        layer = len(run.hidden_dims) if layer is None else layer
        prober = Probe(network, probe, layer, variant.probe_every, step_sizes)
        if isinstance(model, NoisyBatchnorm):  # inside the noise: it sees the noisy gamma, beta
            model.model = prober
        else:
            model = prober
    last = _LastStep(model)
    optim_config = {"learning_rate": run.learning_rate}
    solver = Solver(last, data, num_epochs=run.num_epochs, batch_size=run.batch_size,
                    update_rule=variant.update_rule, optim_config=optim_config, verbose=False)
    start = time.perf_counter()
    diverged = False
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            if variant.checks:
                solver.train()
            else:
                for _ in range(run.num_iterations(data["X_train"].shape[0])):
                    solver._step()
    except TrainingDiverged:
        diverged = True
    seconds = time.perf_counter() - start
    if last.last is not None:  # the network as of its last training step
        network.params.update(last.last)
    if variant.checks:
        train_acc, val_acc = solver.train_acc_history, solver.val_acc_history
    elif diverged:
        train_acc, val_acc = [0.1], [0.1]  # a diverged network predicts no better than chance
    else:
        train_acc = [solver.check_accuracy(data["X_train"], data["y_train"], num_samples=1000)]
        val_acc = [solver.check_accuracy(data["X_val"], data["y_val"])]
    return Result(
        variant=variant,
        loss_history=np.array(solver.loss_history, dtype=np.float64),
        train_acc_history=np.array(train_acc, dtype=np.float64),
        val_acc_history=np.array(val_acc, dtype=np.float64),
        diverged=diverged,
        seconds=seconds,
        trace=None if prober is None else prober.trace,
        model=network if variant.keep_model else None,
    )
