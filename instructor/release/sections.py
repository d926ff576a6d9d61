"""Where each student function is checked: the one mapping behind every stub's message.

A stub in the student release reads, for example::

    raise NotImplementedError(
        "batchnorm_backward: not implemented yet; see notebooks/BatchNormalization.ipynb, "
        "section '2. Batch normalization: backward pass' (check: python -m assignment check "
        "batchnorm)"
    )

SECTIONS maps the qualified name of the function that encloses a solution region in a ``.py``
file (``"layers.batchnorm_backward"`` is spelled ``batchnorm_backward``; methods are
``Class.method``) to a :class:`Where`. Every student TODO is driven by a notebook section: the
release fails, naming file, line and function, for a stubbed region whose function is not
listed here (:func:`lookup`), or whose section is not a markdown heading of that notebook (so
that a renamed heading cannot leave stale messages behind); a :class:`Where` without a
notebook section cannot be built. Functions that ship implemented ([release] given,
instructor/given.py) need no entry while they are given, but listing one keeps the other
configuration working.
Regions inside notebook code cells need no entry: their section is the markdown heading above
the cell.
"""

from dataclasses import dataclass


class SectionError(ValueError):
    """A student function without a notebook section that checks it."""


@dataclass(frozen=True)
class Where:
    """Where a function is checked: every field is required (a Where without a notebook
    section raises SectionError).

    - notebook: file name in notebooks/ (e.g. "Dropout.ipynb")
    - section: the text of a markdown heading in that notebook (without the leading #s)
    - part: the part of `python -m assignment check PART` that checks it
    """

    notebook: str
    section: str
    part: str

    def __post_init__(self):
        for name in ("notebook", "section", "part"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise SectionError(
                    f"Where({self.notebook!r}, {self.section!r}, {self.part!r}): {name} must "
                    "be a non-empty string; every TODO is checked by a notebook section (a "
                    "function without one can only ship implemented: [release] given in "
                    "instructor/rubric.toml)"
                )


_DROPOUT = "Dropout.ipynb"
_BN = "BatchNormalization.ipynb"
_BLOCKS = "0. The building blocks"
_FC_DROPOUT = "4. Fully connected network with dropout"
_SOLVER = "4b. The Solver: one training step and the accuracy check"

# In the order a student works: Dropout.ipynb up to 6b (building blocks, dropout, the network,
# the Solver), BatchNormalization.ipynb up to 3, then the rest of each (Dropout's 6c and 6d train
# batchnorm networks). tests/tooling/test_release_order.py checks that each section names its
# functions and that no cell earlier in that order uses them.
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


def lookup(name):
    """The Where of student function `name`.

    Raises SectionError naming the function if SECTIONS has no entry for it.
    """
    found = SECTIONS.get(name)
    if found is None:
        raise SectionError(
            f"function {name!r} is a TODO but instructor/release/sections.py SECTIONS does not "
            "say which notebook section checks it: every TODO must be checked by a notebook "
            "section before it is needed; add its Where, or ship the function implemented "
            "([release] given in instructor/rubric.toml)"
        )
    return found


def stub_message(name, where):
    """The NotImplementedError message for function `name` checked at `where` (a Where)."""
    return (f"{name}: not implemented yet; see notebooks/{where.notebook}, section "
            f"'{where.section}' (check: python -m assignment check {where.part})")


def notebook_stub_message(name, notebook, section):
    """The message for a region in a notebook code cell (name None: the cell's own code)."""
    what = name if name else "this cell"
    return f"{what}: not implemented yet; see notebooks/{notebook}, section '{section}'"
