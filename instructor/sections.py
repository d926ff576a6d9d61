"""Where each student function is checked: the one mapping behind every stub's message.

A stub in the student release reads, for example::

    raise NotImplementedError(
        "batchnorm_backward: not implemented yet; see notebooks/BatchNormalization.ipynb, "
        "section '2. Batch normalization: backward pass' (check: python -m assignment check "
        "batchnorm)"
    )

SECTIONS maps the qualified name of the function that encloses a solution region in a ``.py``
file (``"layers.batchnorm_backward"`` is spelled ``batchnorm_backward``; methods are
``Class.method``) to a :class:`Where`. The release fails, naming file and line, for a region
whose function is not listed here, and for a listed notebook section that is not a markdown
heading of that notebook (so that a renamed heading cannot leave stale messages behind).
Regions inside notebook code cells need no entry: their section is the markdown heading above
the cell.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """Where a function is checked.

    - notebook: file name in notebooks/ (e.g. "Dropout.ipynb"), or None if no notebook checks it
    - section: the text of a markdown heading in that notebook (without the leading #s)
    - part: the part of `python -m assignment check PART` that checks it
    """

    notebook: str | None
    section: str | None
    part: str


_DROPOUT = "Dropout.ipynb"
_BN = "BatchNormalization.ipynb"
_BLOCKS = "0. The building blocks"
_FC_DROPOUT = "4. Fully connected network with dropout"
_SOLVER = "4b. The Solver: one training step and the accuracy check"
_FC_BN = "3. Fully connected network with batch normalization"

# In the order a student works: Dropout.ipynb first (building blocks, dropout, the network,
# the Solver), then BatchNormalization.ipynb.
SECTIONS = {
    "affine_forward": Where(_DROPOUT, _BLOCKS, "affine"),
    "affine_backward": Where(_DROPOUT, _BLOCKS, "affine"),
    "relu_forward": Where(_DROPOUT, _BLOCKS, "relu"),
    "relu_backward": Where(_DROPOUT, _BLOCKS, "relu"),
    "softmax_loss": Where(_DROPOUT, _BLOCKS, "losses"),
    "svm_loss": Where(_DROPOUT, _BLOCKS, "losses"),
    "sgd_momentum": Where(_DROPOUT, _BLOCKS, "optim"),
    "rmsprop": Where(_DROPOUT, _BLOCKS, "optim"),
    "adam": Where(_DROPOUT, _BLOCKS, "optim"),
    "dropout_forward": Where(_DROPOUT, "1. Dropout forward pass", "dropout"),
    "dropout_backward": Where(_DROPOUT, "2. Dropout backward pass", "dropout"),
    "hidden_layer_forward": Where(_DROPOUT, _FC_DROPOUT, "fc_net"),
    "hidden_layer_backward": Where(_DROPOUT, _FC_DROPOUT, "fc_net"),
    "FullyConnectedNet.__init__": Where(_DROPOUT, _FC_DROPOUT, "fc_net"),
    "FullyConnectedNet.loss": Where(_DROPOUT, _FC_DROPOUT, "fc_net"),
    "Solver._step": Where(_DROPOUT, _SOLVER, "solver"),
    "Solver.check_accuracy": Where(_DROPOUT, _SOLVER, "solver"),
    "batchnorm_forward": Where(_BN, "1. Batch normalization: forward pass", "batchnorm"),
    "batchnorm_backward": Where(_BN, "2. Batch normalization: backward pass", "batchnorm"),
    "batchnorm_backward_alt": Where(_BN, "A simpler backward pass", "batchnorm"),
    "affine_norm_relu_forward": Where(_BN, "The sandwich layer: affine - batchnorm - ReLU",
                                      "fc_net"),
    "affine_norm_relu_backward": Where(_BN, "The sandwich layer: affine - batchnorm - ReLU",
                                       "fc_net"),
    "layernorm_forward": Where(_BN, "7. Layer normalization", "layernorm"),
    "layernorm_backward": Where(_BN, "7. Layer normalization", "layernorm"),
}


def stub_message(name, where):
    """The NotImplementedError message for function `name` checked at `where` (a Where)."""
    msg = f"{name}: not implemented yet"
    if where.notebook:
        msg += f"; see notebooks/{where.notebook}, section '{where.section}'"
    return msg + f" (check: python -m assignment check {where.part})"


def notebook_stub_message(name, notebook, section):
    """The message for a region in a notebook code cell (name None: the cell's own code)."""
    what = name if name else "this cell"
    return f"{what}: not implemented yet; see notebooks/{notebook}, section '{section}'"
