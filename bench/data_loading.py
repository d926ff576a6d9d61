"""Benchmark: `get_CIFAR10_data()` with a cold cache (decode the pickles, write the `.npy` cache)
vs a warm cache (memory-map the `.npy` files), measured in one run.

Run: `python -m bench.data_loading [--repeat 3]`.

The data is extracted into a temporary folder first, so the repository's data and its cache are
never touched. Source, first found: CIFAR10_TARBALL (+ CIFAR10_MD5), the offline mirror built by
`.ci/run` (~/.cache/cs231n-cifar10-mirror), else a copy of the repository's data folder.
"Cold" means no `.npy` cache; the batch files themselves are in the OS page cache (just written),
so the figure is decoding cost, not disk speed. Warm figures are the median of `--repeat` runs.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assignment.datasets import get_CIFAR10_data
from assignment.datasets.fetch import FOLDER_NAME, default_dir, ensure_cifar10, is_complete

MIRROR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
    "cs231n-cifar10-mirror" / "cifar-10-python.tar.gz"


def _prepare(dest: Path) -> str:
    """Put CIFAR-10 into `dest` (a cifar-10-batches-py folder); returns where it came from."""
    tarball, md5 = os.environ.get("CIFAR10_TARBALL"), os.environ.get("CIFAR10_MD5")
    if not tarball and MIRROR.is_file() and Path(f"{MIRROR}.md5").is_file():
        tarball, md5 = str(MIRROR), Path(f"{MIRROR}.md5").read_text().split()[0]
    if tarball:
        ensure_cifar10(dest, tarball=tarball, md5=md5, progressbar=False)
        return f"tarball {tarball}"
    source = ensure_cifar10(default_dir())
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".*"))
    return f"copy of {source}"


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.data_loading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="warm runs (median reported)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-cifar-") as tmp:
        root = Path(tmp) / FOLDER_NAME
        t_prepare, origin = _timed(lambda: _prepare(root))
        assert is_complete(root)
        t_cold, cold = _timed(lambda: get_CIFAR10_data(cifar10_dir=root))
        del cold  # free 700 MB before the warm runs
        warm_times, warm = [], None
        for _ in range(max(1, args.repeat)):
            del warm  # each run allocates its arrays afresh, as in a new process
            t, warm = _timed(lambda: get_CIFAR10_data(cifar10_dir=root))
            warm_times.append(t)
        t_warm = statistics.median(warm_times)
        shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in warm.items() if k.startswith("X"))
        print(f"data: {origin} (extracted in {t_prepare:.2f} s)")
        print(f"arrays: {shapes}, {warm['X_train'].dtype}; "
              f"train mean {float(np.mean(warm['X_train'])):.2e}")
        print(f"get_CIFAR10_data() cold cache (decode pickles + write .npy): {t_cold:.3f} s")
        print(f"get_CIFAR10_data() warm cache (memory-mapped .npy), median of {len(warm_times)}: "
              f"{t_warm:.3f} s (runs: {', '.join(f'{t:.3f}' for t in warm_times)})")
        print(f"cold / warm: {t_cold / t_warm:.1f}x; warm target < 1 s: "
              f"{'PASS' if t_warm < 1.0 else 'FAIL'}")


if __name__ == "__main__":
    main()
