"""Assignment package: dropout, batch normalization and layer normalization in numpy.

API-compatible with CS231n (2021 and later) assignment 2. One concept per module.

The files with the TODOs (the notebooks take you through them in order):

- ``layers``: forward/backward passes of single layers and the loss functions.
- ``layer_utils``: "sandwich" layers that chain several layers (affine - norm - relu - dropout).
- ``fc_net``: ``FullyConnectedNet``, a network of any depth built from those layers.
- ``optim`` / ``solver``: update rules and the training loop.

Given, for the notebooks and the checks (read them if you like; nothing to write there):

- ``gradient_check``: centred-difference numeric gradients and ``rel_error``;
  ``notebook_checks``: the PASS/FAIL lines the notebooks print.
- ``datasets``: CIFAR-10 (``get_CIFAR10_data``; ``data_utils`` is CS231n's import path for it).
- ``experiments``, ``dropout_experiments``, ``bn_experiments``, ``bn_measures``: the notebooks'
  training runs and measurements, all through your layers, network and Solver.
- ``checks``: the public checks, ``python -m assignment check [PART]``; ``_checks`` and
  ``_solver_checks``: the input checks each of your functions calls first.
- ``collect``: ``python -m assignment collect``, the zip you hand in.

Nothing is imported here, so that ``import assignment`` stays cheap; import the module you need,
e.g. ``from assignment.layers import batchnorm_forward``.
"""
