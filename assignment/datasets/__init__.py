"""CIFAR-10 for the notebooks: `get_CIFAR10_data()`, `python -m assignment.datasets download`.

The one entry point from code is :func:`get_CIFAR10_data` (CS231n's split and preprocessing; it
downloads the data first when it is missing). The command line fetches the data ahead of time.
The modules, bottom-up:

- ``download.py``: a verified (MD5), resumable HTTP download with retries (pooch underneath);
- ``extract.py``: safe extraction of the tarball (hostile members rejected, renamed into place);
- ``fetch.py``: where the data lives (``CIFAR10_DIR``), which source to use (a local tarball, a
  mirror, the official URL) and ``ensure_cifar10``, which puts the data there once;
- ``loader.py``: reading the batches (CS231n's ``load_CIFAR10``), the ``.npy`` cache and
  ``get_CIFAR10_data``;
- ``__main__.py``: the command line.

``assignment.data_utils`` keeps CS231n's import path (``from assignment.data_utils import
get_CIFAR10_data``).
"""

from assignment.datasets.loader import get_CIFAR10_data

__all__ = ["get_CIFAR10_data"]
