"""Shared pytest set-up.

The matrices in these tests are small; on a 2-core machine OpenBLAS's default of one thread per
core makes them several times slower under load, so tests (and the notebook kernels nbval starts
from this process, which inherit the environment) use one BLAS thread unless told otherwise.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
