"""The training loop: ``Solver`` trains a classification model with minibatch SGD.

API-compatible with CS231n (2021 and later) assignment 2. The Solver performs
stochastic gradient descent using the update rules defined in ``optim.py``.

It accepts training and validation data and labels, so it can periodically
check classification accuracy on both training and validation data to watch
out for overfitting. To train a model, construct a Solver instance, passing
the model, dataset and options (learning rate, batch size, ...) to the
constructor, then call ``train()``. After ``train()`` returns,
``model.params`` contains the parameters that performed best on the
validation set over the course of training, and the histories
``solver.loss_history``, ``solver.train_acc_history`` and
``solver.val_acc_history`` hold the loss of every iteration and the
accuracies of every check (one check after the first iteration, then one at
the end of every epoch).

Example usage::

    data = {
        'X_train': # training data, shape (N_train, d_1, ..., d_k)
        'y_train': # training labels, shape (N_train,)
        'X_val':   # validation data, shape (N_val, d_1, ..., d_k)
        'y_val':   # validation labels, shape (N_val,)
    }
    model = MyAwesomeModel(hidden_size=100, reg=10)
    solver = Solver(model, data,
                    update_rule='sgd',
                    optim_config={'learning_rate': 1e-4},
                    lr_decay=0.95,
                    num_epochs=5, batch_size=200,
                    print_every=100)
    solver.train()

The model must provide:
- ``model.params``: a dict mapping parameter names to numpy arrays.
- ``model.loss(X, y)``: with y given, returns ``(loss, grads)`` where loss is a
  scalar and grads a dict with the same keys as ``model.params``; with
  ``y=None`` returns scores of shape (N, C) (test-time forward pass).

Randomness follows CS231n, so that a seeded run gives the course's numbers:
every minibatch is ``np.random.choice(num_train, batch_size)`` (with
replacement, from the global numpy state), and an accuracy check on more than
``num_samples`` examples first draws ``np.random.choice(N, num_samples)``.

Beyond CS231n:
- Options are strict: an unknown option, a bad value or bad data raises a
  ValueError/TypeError naming the culprit; ``update_rule`` may also be a
  callable with the signature of ``optim``'s rules. (The checks live in
  ``_solver_checks.py``.)
- When the loss becomes NaN or infinite, training raises ``TrainingDiverged``
  (a RuntimeError) naming the iteration, the epoch and the loss, instead of
  training on with garbage. The diverged loss is the last entry of
  ``loss_history``; the update of that iteration is not applied.
- ``step()`` runs one iteration of ``train()`` (update, printing, end of epoch,
  accuracy checks), for callers that look at the model between iterations.
- A second ``train()`` continues where the first stopped (see ``train``).
- Checkpoints (``checkpoint_name``) are written atomically, so a failing write
  never leaves a truncated checkpoint or destroys the previous one.
"""

import math
import os
import pickle
import tempfile
import warnings

import numpy as np

from assignment import _solver_checks as _checks
from assignment import optim


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite.

    Attributes:
    - iteration: 1-based iteration whose loss was not finite (as in the verbose
      output "(Iteration t / T)").
    - epoch: 1-based epoch during which it happened.
    - num_epochs: The number of epochs the run was asked for.
    - loss: The loss value (nan, inf or -inf).
    """

    def __init__(self, iteration, epoch, num_epochs, loss):
        self.iteration = iteration
        self.epoch = epoch
        self.num_epochs = num_epochs
        self.loss = loss
        super().__init__(
            f"training diverged: loss is {loss} at iteration {iteration} "
            f"(epoch {epoch} of {num_epochs}); try a smaller learning_rate "
            "(or weight_scale), or check the model's loss and gradients"
        )

    def __reduce__(self):
        # Rebuild from the fields (not from the message) when unpickled, e.g. when the
        # error crosses a process boundary in a parallel hyperparameter search.
        return (type(self), (self.iteration, self.epoch, self.num_epochs, self.loss))


class Solver:
    """Trains a model on a dataset with one of the update rules of ``optim``.

    Required arguments:
    - model: A model object conforming to the API described in the module
      docstring (``params`` dict and ``loss(X, y=None)``).
    - data: A dict of training and validation data with keys:
      'X_train': Array of shape (N_train, d_1, ..., d_k) of training images
      'X_val': Array of shape (N_val, d_1, ..., d_k) of validation images
      'y_train': Array of shape (N_train,) of labels for training images
      'y_val': Array of shape (N_val,) of labels for validation images
      Other keys (e.g. X_test) are ignored. The arrays are not copied.

    Optional keyword arguments (an unknown one is a ValueError):
    - update_rule: A string giving the name of an update rule in optim.py
      ('sgd', 'sgd_momentum', 'rmsprop', 'adam'), or a callable with the same
      signature. Default 'sgd'.
    - optim_config: A dictionary containing hyperparameters that will be
      passed to the chosen update rule. Each update rule requires different
      hyperparameters (see optim.py) but all update rules require a
      'learning_rate' parameter. Each parameter gets its own shallow copy.
    - lr_decay: A scalar for learning rate decay; after each epoch the
      learning rate is multiplied by this value. Default 1.0.
    - batch_size: Size of minibatches used to compute loss and gradient
      during training. Default 100.
    - num_epochs: The number of epochs to run for during training. Default 10.
    - num_train_samples: Number of training samples used to check training
      accuracy; default is 1000; set to None to use entire training set.
    - num_val_samples: Number of validation samples to use to check val
      accuracy; default is None, which uses the entire validation set.
    - checkpoint_name: If not None, then save model checkpoints here every
      epoch (and after the first iteration) to the files
      ``f"{checkpoint_name}_epoch_{epoch}.pkl"``.
    - print_every: Integer; training losses will be printed every
      print_every iterations. Default 10.
    - verbose: Boolean; if set to false then no output will be printed
      during training. Default True.

    Attributes after ``train()``: ``loss_history`` (list of float, one per
    iteration), ``train_acc_history`` and ``val_acc_history`` (lists of float,
    one per check), ``epoch`` (completed epochs), ``iteration`` (completed
    iterations), ``best_val_acc``, ``best_params``, ``optim_configs`` (one
    config dict per parameter, holding the optimizer state).
    """

    def __init__(self, model, data, **kwargs):
        """Construct a new Solver instance (arguments: see the class docstring)."""
        options = _checks.checked_options(kwargs)
        _checks.check_model(model)
        self.model = model
        self.X_train, self.y_train, self.X_val, self.y_val = _checks.checked_data(data)

        self.update_rule = options["update_rule"]
        self.optim_config = options["optim_config"]
        self.lr_decay = options["lr_decay"]
        self.batch_size = options["batch_size"]
        self.num_epochs = options["num_epochs"]
        self.num_train_samples = options["num_train_samples"]
        self.num_val_samples = options["num_val_samples"]
        self.checkpoint_name = options["checkpoint_name"]
        self.print_every = options["print_every"]
        self.verbose = options["verbose"]

        self._reset()

    def _reset(self):
        """Set up some book-keeping variables for optimization. Don't call this manually."""
        # Set up some variables for book-keeping
        self.epoch = 0
        self.iteration = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []

        # Make a deep copy of the optim_config for each parameter
        self.optim_configs = {}
        for p in self.model.params:
            d = {k: v for k, v in self.optim_config.items()}
            self.optim_configs[p] = d

    def _step(self):
        """Make a single gradient update. This is called by train() and should not
        be called manually.

        One step is: a minibatch of the training data, the model's loss and gradients on it,
        and one update of every parameter of ``self.model.params``.

        Conventions (a seeded run then gives the reference numbers of the notebook):
        - the minibatch is ``self.batch_size`` training examples (rows of ``self.X_train``
          and ``self.y_train``) chosen by ONE call ``np.random.choice(num_train,
          self.batch_size)`` on numpy's global random state (with replacement, as CS231n),
          and no other random draws;
        - every parameter ``p`` is updated by ``self.update_rule`` (signature
          ``update(w, dw, config) -> (next_w, config)``, see optim.py) with its own config
          ``self.optim_configs[p]``; the returned weights and config replace the old ones.

        Given code records the loss in ``loss_history`` and raises TrainingDiverged (before
        any parameter is updated) if it is NaN or infinite.
        """
        loss, grads = None, None
        # TODO: Sample a minibatch of the training data and compute the model's loss and
        # gradients on it. Store them in loss and grads.
        ### BEGIN SOLUTION
        num_train = self.X_train.shape[0]
        batch_mask = np.random.choice(num_train, self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]
        loss, grads = self.model.loss(X_batch, y_batch)
        ### END SOLUTION

        self._record_loss(loss, grads)

        # TODO: Update every parameter of the model with the update rule and the parameter's
        # own config, and store the results back into the model and into self.optim_configs.
        ### BEGIN SOLUTION
        for p, w in self.model.params.items():
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config
        ### END SOLUTION
        self.iteration += 1

    def _record_loss(self, loss, grads):
        """Append ``loss`` (as a float) to loss_history; raise TrainingDiverged if not finite."""
        _checks.check_loss(loss, grads, self.model.params)
        loss = float(loss)
        self.loss_history.append(loss)
        if not math.isfinite(loss):
            raise TrainingDiverged(self.iteration + 1, self.epoch + 1, self.num_epochs, loss)

    def _save_checkpoint(self):
        """Write ``{checkpoint_name}_epoch_{epoch}.pkl`` with CS231n's keys (no-op without a name).

        The pickle goes to a temporary file in the same folder that then replaces the target
        (os.replace), so the target is either the previous file or the complete new one.
        """
        if self.checkpoint_name is None:
            return
        rule = self.update_rule  # by name for the rules of optim.py, as CS231n stores it
        if getattr(optim, getattr(rule, "__name__", ""), None) is rule:
            rule = rule.__name__
        checkpoint = {
            "model": self.model,
            "update_rule": rule,
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        if self.verbose:
            print(f'Saving checkpoint to "{filename}"')
        fd, tmp_name = tempfile.mkstemp(suffix=".tmp", dir=os.path.dirname(filename) or ".")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(checkpoint, f)
            os.replace(tmp_name, filename)
        except BaseException:
            os.unlink(tmp_name)
            raise

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Check accuracy of the model on the provided data.

        The model classifies in test mode (``self.model.loss(X_batch)``, without labels,
        returns class scores of shape (batch, C)); the predicted class of an example is the
        one with the highest score.

        Inputs:
        - X: Array of data, of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,)
        - num_samples: If not None, subsample the data and only test the model
          on num_samples datapoints, drawn with np.random.choice(N, num_samples) (as
          CS231n, with replacement) when N > num_samples.
        - batch_size: Split X and y into batches of this size to avoid using
          too much memory: the model never sees more than batch_size examples at once.

        Returns:
        - acc: Scalar (float) giving the fraction of instances that were
          correctly classified by the model.
        """
        N = X.shape[0]
        if len(y) != N or N == 0:
            raise ValueError(
                f"check_accuracy: X has shape {X.shape} and y shape {np.shape(y)}; "
                "expected (N, ...) and (N,) with the same N > 0"
            )
        _checks.check_int("batch_size", batch_size, 1)

        num_correct, num_classified = 0, 0
        # TODO: Classify the examples (all N, or the num_samples drawn as the docstring says)
        # with the model in test mode, in batches of at most batch_size examples. Count the
        # examples classified in num_classified and the correct predictions in num_correct.
        # Index X batch by batch so that only one batch is copied at a time.
        ### BEGIN SOLUTION
        rows_to_classify = np.arange(N)
        if num_samples is not None and N > num_samples:
            rows_to_classify = np.random.choice(N, num_samples)
        for start in range(0, len(rows_to_classify), batch_size):
            rows = rows_to_classify[start : start + batch_size]
            scores = self.model.loss(X[rows])
            num_correct += int(np.count_nonzero(np.argmax(scores, axis=1) == y[rows]))
            num_classified += len(rows)
        ### END SOLUTION
        return num_correct / num_classified

    def train(self):
        """Run optimization to train the model.

        Continues from ``self.iteration`` (0 for a new Solver) up to num_epochs epochs,
        then sets the model's parameters to the best ones seen on the validation set.
        Raises TrainingDiverged if the loss becomes NaN or infinite.

        A Solver that has already trained num_epochs epochs has nothing left to do: the
        call warns (RuntimeWarning) and leaves the model as it is. To train longer, raise
        ``solver.num_epochs`` and call train() again; it continues where it stopped. (The
        CS231n Solver instead runs another num_epochs epochs on a second call.)
        """
        if self.iteration >= self._num_iterations():
            warnings.warn(
                f"Solver.train(): nothing to do, already trained {self.epoch} epoch(s) "
                f"({self.iteration} iterations) of num_epochs={self.num_epochs}; to train "
                "longer, set solver.num_epochs higher and call train() again",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        while self.iteration < self._num_iterations():
            self.step()

        # At the end of training swap the best params into the model (copies, so
        # that further training cannot alter best_params).
        for k, v in self.best_params.items():
            self.model.params[k] = v.copy()

    def step(self):
        """Run one iteration of ``train()``: one update (``_step``), the loss printed every
        print_every iterations, at the end of an epoch the learning rate decay, and after the
        first iteration, the last one and every epoch the accuracy checks (which keep the
        best parameters and write the checkpoint)."""
        num_iterations = self._num_iterations()
        iterations_per_epoch = max(self.X_train.shape[0] // self.batch_size, 1)
        t = self.iteration
        self._step()

        # Maybe print training loss
        if self.verbose and t % self.print_every == 0:
            print(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")

        # At the end of every epoch, increment the epoch counter and decay the learning rate.
        epoch_end = (t + 1) % iterations_per_epoch == 0
        if epoch_end:
            self.epoch += 1
            for k, config in self.optim_configs.items():
                _checks.check_decay(self.lr_decay, config, k)
                if "learning_rate" in config:
                    config["learning_rate"] *= self.lr_decay

        # Check train and val accuracy on the first iteration, the last iteration, and at
        # the end of each epoch.
        if t == 0 or t == num_iterations - 1 or epoch_end:
            self._check_and_save()

    def _num_iterations(self):
        """The number of iterations of num_epochs epochs (CS231n's count)."""
        return self.num_epochs * max(self.X_train.shape[0] // self.batch_size, 1)

    def _check_and_save(self):
        """Check train/val accuracy, keep the best parameters, save a checkpoint."""
        train_acc = self.check_accuracy(
            self.X_train, self.y_train, num_samples=self.num_train_samples
        )
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self._save_checkpoint()

        if self.verbose:
            print(
                f"(Epoch {self.epoch} / {self.num_epochs}) "
                f"train acc: {train_acc:f}; val_acc: {val_acc:f}"
            )

        # Keep track of the best model (the first check always sets one, so that
        # a model that never beats 0% accuracy still has parameters to restore).
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}
