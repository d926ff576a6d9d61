"""CS231n's import path for the CIFAR-10 loader; the code is in ``assignment/datasets/``."""

from assignment.datasets.loader import get_CIFAR10_data, load_CIFAR10, load_CIFAR_batch

__all__ = ["get_CIFAR10_data", "load_CIFAR10", "load_CIFAR_batch"]
