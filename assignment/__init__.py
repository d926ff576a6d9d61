"""Assignment package: dropout, batch normalization and layer normalization in numpy.

API-compatible with CS231n (2021 and later) assignment 2. One concept per module:

- ``layers``: forward/backward passes of single layers and the loss functions.
- ``layer_utils``: "sandwich" layers that chain several layers (affine - norm - relu - dropout).
- ``fc_net``: ``FullyConnectedNet``, a network of any depth built from those layers.
- ``gradient_check``: centred-difference numeric gradients and ``rel_error``.
- ``optim`` / ``solver``: update rules and the training loop.
- ``datasets``: CIFAR-10 (``get_CIFAR10_data``; ``data_utils`` is CS231n's import path for it).
- ``checks``: the public checks, ``python -m assignment check [PART]``; ``_checks``: the input
  checks each student function calls first (given code).

Nothing is imported here, so that ``import assignment`` stays cheap; import the module you need,
e.g. ``from assignment.layers import batchnorm_forward``.
"""
