"""Load CIFAR-10 as the CS231n assignments do, fast the second time.

Letters: N images, H = W = 32 pixels, C = 3 colour channels (R, G, B).

- `load_CIFAR_batch(filename)` and `load_CIFAR10(ROOT)` read the python-pickle batches and return
  NHWC float arrays, as in CS231n.
- `get_CIFAR10_data(...)` is what the notebooks call: it makes sure the data is there (downloads it
  if needed, see `fetch.py`), then returns CS231n's split and preprocessing as NCHW
  float32 images and int64 labels.

Cache. Decoding the pickles takes seconds; so the first load writes the decoded uint8 arrays as
`.npy` files into `<ROOT>/.npy-cache/` and later loads memory-map them. The file names carry a key
computed from the size and modification time (ns) of every batch file, so a changed source is
never served from an old cache: the next load decodes it again and replaces the cache. Each file
is written under a temporary name and renamed; the manifest (`.json`) is renamed last, so a cache
without its manifest is ignored. A cache that cannot be written (read-only folder) or read
(damaged) is silently skipped or rebuilt.

The pickles are read with an unpickler that only accepts what a CIFAR batch holds (numpy arrays,
lists, strings, numbers), so a hostile file cannot run code.
"""

import hashlib
import json
import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from assignment.datasets.fetch import BATCH_FILES, ensure_cifar10

TRAIN_FILES = BATCH_FILES[:5]
TEST_FILE = BATCH_FILES[5]
CACHE_DIR = ".npy-cache"
_CACHE_VERSION = 1
_FIX = "re-download it with: python -m assignment.datasets download --force"

# The globals a CIFAR-10 pickle may reference (numpy array reconstruction, bytes decoding).
_NUMPY_CORE = "numpy._core.multiarray" if hasattr(np, "_core") else "numpy.core.multiarray"
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): (_NUMPY_CORE, "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): (_NUMPY_CORE, "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): (_NUMPY_CORE, "scalar"),
    ("numpy._core.multiarray", "scalar"): (_NUMPY_CORE, "scalar"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("_codecs", "encode"): ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")
        return super().find_class(*_ALLOWED[(module, name)])


def _read_batch(filename):
    """Decode one batch file.

    Inputs:
    - filename: path of a CIFAR-10 python batch (a pickled dict with 'data' and 'labels').

    Returns a tuple of:
    - X: uint8 array of shape (N, C, H, W), the file's own layout.
    - y: int64 array of shape (N,), labels in 0..9.

    Raises FileNotFoundError (missing file) or ValueError (unreadable or malformed file), both
    naming the file and how to fix it.
    """
    filename = Path(filename)
    try:
        with open(filename, "rb") as f:
            batch = _BatchUnpickler(f, encoding="latin1").load()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"CIFAR-10 batch {filename} is missing; {_FIX}") from exc
    except Exception as exc:  # pickle raises many types on damaged input
        raise ValueError(f"CIFAR-10 batch {filename} is damaged ({type(exc).__name__}: {exc}); "
                         f"{_FIX}") from exc
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise ValueError(f"CIFAR-10 batch {filename} has no 'data'/'labels' entries; {_FIX}")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 \
            or labels.shape != (data.shape[0],):
        raise ValueError(f"CIFAR-10 batch {filename}: data is {data.dtype} {data.shape} with "
                         f"{labels.shape} labels, expected uint8 (N, 3072) with (N,) labels; "
                         f"{_FIX}")
    N = data.shape[0]
    return data.reshape(N, 3, 32, 32), labels  # rows hold R, G, B planes of 32x32


def load_CIFAR_batch(filename):
    """Load one CIFAR-10 batch file (CS231n's function).

    Inputs:
    - filename: path of a batch file, e.g. `.../cifar-10-batches-py/data_batch_1`.

    Returns a tuple of:
    - X: float64 array of shape (N, H, W, C) = (N, 32, 32, 3), pixel values 0..255.
    - Y: int64 array of shape (N,).
    """
    X, Y = _read_batch(filename)
    return X.transpose(0, 2, 3, 1).astype("float"), Y


def _source_key(root):
    """Cache key from (name, size, mtime_ns) of every batch file; raises FileNotFoundError."""
    h = hashlib.sha1(f"cifar10-npy-cache-v{_CACHE_VERSION}".encode())
    for name in BATCH_FILES:
        path = root / name
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"CIFAR-10 batch {path} is missing; {_FIX}") from exc
        h.update(f"\n{name} {st.st_size} {st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


_PARTS = ("X_train", "y_train", "X_test", "y_test")


def _read_cache(cache, key):
    """The cached arrays for `key`, memory-mapped, or None if absent or inconsistent."""
    try:
        manifest = json.loads((cache / f"cifar10-{key}.json").read_text())
        arrays = tuple(np.load(cache / f"cifar10-{key}.{part}.npy", mmap_mode="r")
                       for part in _PARTS)
    except (OSError, ValueError):
        return None
    if [list(a.shape) for a in arrays] != manifest.get("shapes"):
        return None
    return arrays


def _atomic_save(path, array):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shared data folder's cache
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.ascontiguousarray(array))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_cache(cache, key, arrays):
    """Write the arrays for `key` (manifest last) and drop caches of other keys; never raises."""
    try:
        cache.mkdir(exist_ok=True)
        for part, array in zip(_PARTS, arrays, strict=True):
            _atomic_save(cache / f"cifar10-{key}.{part}.npy", array)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-", suffix=".json")
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w") as f:
            json.dump({"version": _CACHE_VERSION, "sources": list(BATCH_FILES),
                       "shapes": [list(a.shape) for a in arrays]}, f)
        os.replace(tmp, cache / f"cifar10-{key}.json")
        # Drop caches of older sources, and temporary files a killed writer left (an hour old:
        # younger ones may belong to a writer still at work).
        for entry in cache.iterdir():
            stale = entry.name.startswith("cifar10-") and not entry.name.startswith(
                f"cifar10-{key}.")
            if stale or (entry.name.startswith(".tmp-")
                         and time.time() - entry.stat().st_mtime > 3600):
                entry.unlink(missing_ok=True)
    except OSError:
        pass  # read-only or full disk: work without a cache


def _load_uint8(root):
    """All of CIFAR-10 as uint8, from the cache when it is current.

    Inputs:
    - root: the `cifar-10-batches-py` folder.

    Returns a tuple of:
    - X_train: uint8 array (N_train, C, H, W), read-only (memory-mapped when cached).
    - y_train: int64 array (N_train,).
    - X_test: uint8 array (N_test, C, H, W).
    - y_test: int64 array (N_test,).
    """
    root = Path(root)
    key = _source_key(root)
    cache = root / CACHE_DIR
    arrays = _read_cache(cache, key)
    if arrays is not None:
        return arrays
    train = [_read_batch(root / name) for name in TRAIN_FILES]
    X_test, y_test = _read_batch(root / TEST_FILE)
    arrays = (np.concatenate([X for X, _ in train]), np.concatenate([y for _, y in train]),
              X_test, y_test)
    if _source_key(root) == key:  # do not cache data that changed while we read it
        _write_cache(cache, key, arrays)
    return arrays


def load_CIFAR10(ROOT, dtype=np.float64):
    """Load all of CIFAR-10 (CS231n's function; uses the .npy cache).

    Inputs:
    - ROOT: the `cifar-10-batches-py` folder.
    - dtype: dtype of the images; CS231n's is float64 ("float").

    Returns a tuple of:
    - Xtr: array (N_train, H, W, C) = (50000, 32, 32, 3) for the full set, values 0..255.
    - Ytr: int64 array (N_train,).
    - Xte: array (N_test, 32, 32, 3).
    - Yte: int64 array (N_test,).

    Raises FileNotFoundError / ValueError naming a missing or damaged batch and the fix.
    """
    X_train, y_train, X_test, y_test = _load_uint8(ROOT)
    # astype keeps the transposed layout (order "K"), as CS231n's code does: no extra copy.
    return (X_train.transpose(0, 2, 3, 1).astype(dtype), np.array(y_train),
            X_test.transpose(0, 2, 3, 1).astype(dtype), np.array(y_test))


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} is {value!r} ({type(value).__name__}), expected an int")
    if value < minimum:
        raise ValueError(f"{name} is {value}, expected an int >= {minimum}")
    return int(value)


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, cifar10_dir=None):
    """CIFAR-10 split and preprocessed as in CS231n, downloading it first if it is missing.

    Split (CS231n's): training = training rows [0, num_training), validation = training rows
    [num_training, num_training + num_validation), test = test rows [0, num_test). With
    `subtract_mean`, the mean image of the training split (computed in float64) is subtracted
    from all three. Sizes come from the data: if it holds fewer rows than asked (e.g. a subset
    mirror), the training split shrinks to the rows left after the validation split, and the test
    split to the test rows there are; silently (no warning), so read the shapes.

    Inputs:
    - num_training: int >= 1, wanted training images.
    - num_validation: int >= 0, validation images (must leave at least one training row).
    - num_test: int >= 0, wanted test images.
    - subtract_mean: bool, subtract the training mean image.
    - cifar10_dir: the `cifar-10-batches-py` folder; None: env CIFAR10_DIR or
      `<repo>/datasets/cifar-10-batches-py` (see `fetch.py`).

    Returns a dict of:
    - X_train: float32 array (N_train, C, H, W) = (49000, 3, 32, 32) by default.
    - y_train: int64 array (N_train,).
    - X_val: float32 array (N_val, 3, 32, 32); y_val: int64 array (N_val,).
    - X_test: float32 array (N_test, 3, 32, 32); y_test: int64 array (N_test,).
    """
    num_training = _check_count("num_training", num_training, 1)
    num_validation = _check_count("num_validation", num_validation, 0)
    num_test = _check_count("num_test", num_test, 0)
    root = ensure_cifar10(cifar10_dir, log=_notify)
    X_train, y_train, X_test, y_test = _load_uint8(root)
    available = X_train.shape[0]
    if num_validation >= available:
        raise ValueError(f"num_validation is {num_validation}, but {root} holds only "
                         f"{available} training images; ask for fewer than {available}")
    num_training = min(num_training, available - num_validation)
    num_test = min(num_test, X_test.shape[0])

    X_val = X_train[num_training:num_training + num_validation]
    y_val = y_train[num_training:num_training + num_validation]
    X_train, y_train = X_train[:num_training], y_train[:num_training]
    X_test, y_test = X_test[:num_test], y_test[:num_test]

    if subtract_mean:
        mean_image = X_train.mean(axis=0, dtype=np.float64).astype(np.float32)  # (C, H, W)
    else:
        mean_image = np.float32(0)

    def prepare(X):  # uint8 NCHW -> float32 NCHW minus mean, in one pass
        return np.subtract(X, mean_image, dtype=np.float32)

    return {
        "X_train": prepare(X_train), "y_train": np.array(y_train, dtype=np.int64),
        "X_val": prepare(X_val), "y_val": np.array(y_val, dtype=np.int64),
        "X_test": prepare(X_test), "y_test": np.array(y_test, dtype=np.int64),
    }


def _notify(message):
    """Progress messages of an automatic download go to stderr (only when downloading)."""
    import sys

    print(message, file=sys.stderr, flush=True)
