"""Tests of assignment/datasets/loader.py: CS231n layout, split and preprocessing, cache, bad
files, and the import paths the notebooks use (CS231n's assignment.data_utils).

Data comes from tests/cifar_fixtures (small random batches in the official format); the oracle
for the preprocessing is a float64 re-implementation of CS231n's code on the same arrays.
"""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from assignment.datasets import loader
from assignment.datasets.fetch import FOLDER_NAME, DatasetUnavailableError
from assignment.datasets.loader import (
    CACHE_DIR,
    get_CIFAR10_data,
    load_CIFAR10,
    load_CIFAR_batch,
)
from tests.cifar_fixtures import (
    TRAIN_NAMES,
    Route,
    batch_bytes,
    make_batches,
    make_cifar_tarball,
    serve,
    write_cifar_folder,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No CIFAR10_* from the caller (CI sets them), and never a proxy for 127.0.0.1."""
    for name in ("CIFAR10_DIR", "CIFAR10_URL", "CIFAR10_TARBALL", "CIFAR10_MD5"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def nhwc(data):
    """Oracle: CS231n's reshape of (N, 3072) rows into (N, 32, 32, 3) float64 images."""
    return data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64)


def cs231n_reference(batches, num_training, num_validation, num_test):
    """CS231n's get_CIFAR10_data in float64 on the fixture arrays (NCHW outputs)."""
    X = np.concatenate([nhwc(batches[n][0]) for n in TRAIN_NAMES])
    y = np.concatenate([batches[n][1] for n in TRAIN_NAMES])
    Xte, yte = nhwc(batches["test_batch"][0]), np.array(batches["test_batch"][1])
    X_val = X[num_training:num_training + num_validation]
    X_train, X_test = X[:num_training], Xte[:num_test]
    mean = X_train.mean(axis=0)
    out = {"X_train": X_train - mean, "X_val": X_val - mean, "X_test": X_test - mean,
           "y_train": y[:num_training], "y_val": y[num_training:num_training + num_validation],
           "y_test": yte[:num_test]}
    return {k: v.transpose(0, 3, 1, 2) if k.startswith("X") else v for k, v in out.items()}


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / FOLDER_NAME
    batches = write_cifar_folder(root, n_per_batch=7, n_test=9, seed=3)
    return root, batches


def test_load_CIFAR_batch_returns_cs231n_layout(folder):
    root, batches = folder
    X, Y = load_CIFAR_batch(root / "data_batch_2")
    assert X.shape == (7, 32, 32, 3) and X.dtype == np.float64
    assert Y.shape == (7,) and Y.dtype == np.int64
    np.testing.assert_array_equal(X, nhwc(batches["data_batch_2"][0]))
    np.testing.assert_array_equal(Y, batches["data_batch_2"][1])
    # Channel order: the first 1024 values of a row are the red plane.
    assert X[0, 0, 1, 0] == batches["data_batch_2"][0][0, 1]


def test_load_CIFAR10_concatenates_batches_in_order(folder):
    root, batches = folder
    Xtr, Ytr, Xte, Yte = load_CIFAR10(root)
    assert Xtr.shape == (35, 32, 32, 3) and Xte.shape == (9, 32, 32, 3)
    np.testing.assert_array_equal(Xtr, np.concatenate([nhwc(batches[n][0]) for n in TRAIN_NAMES]))
    np.testing.assert_array_equal(Ytr, np.concatenate([batches[n][1] for n in TRAIN_NAMES]))
    np.testing.assert_array_equal(Xte, nhwc(batches["test_batch"][0]))
    np.testing.assert_array_equal(Yte, batches["test_batch"][1])


@pytest.mark.parametrize("subtract_mean", [True, False])
def test_get_CIFAR10_data_matches_cs231n_split_and_preprocessing(folder, subtract_mean):
    root, batches = folder
    got = get_CIFAR10_data(30, 4, 6, subtract_mean=subtract_mean, cifar10_dir=root)
    want = cs231n_reference(batches, 30, 4, 6)
    if not subtract_mean:
        raw = {k: v for k, v in zip(("X_train", "X_val", "X_test"), (
            np.concatenate([batches[n][0] for n in TRAIN_NAMES])[:30],
            np.concatenate([batches[n][0] for n in TRAIN_NAMES])[30:34],
            batches["test_batch"][0][:6]), strict=True)}
        want.update({k: v.reshape(-1, 3, 32, 32).astype(np.float64) for k, v in raw.items()})
    assert list(got) == ["X_train", "y_train", "X_val", "y_val", "X_test", "y_test"]
    for key, value in want.items():
        assert got[key].shape == value.shape, key
        assert got[key].dtype == (np.float32 if key.startswith("X") else np.int64), key
        np.testing.assert_allclose(got[key], value, atol=1e-4, err_msg=key)
    if subtract_mean:
        assert abs(float(got["X_train"].mean())) < 1e-3


def test_fewer_rows_than_asked_shrink_training_and_test_silently(folder, capfd):
    root, batches = folder  # 35 training rows, 9 test rows
    # Default num_training=49000 and num_test=1000, more than there is: no complaint.
    got = get_CIFAR10_data(num_validation=5, cifar10_dir=root)
    assert capfd.readouterr() == ("", "")
    assert got["X_train"].shape == (30, 3, 32, 32)
    assert got["X_val"].shape == (5, 3, 32, 32)
    assert got["X_test"].shape == (9, 3, 32, 32)
    labels = np.concatenate([batches[n][1] for n in TRAIN_NAMES])
    np.testing.assert_array_equal(got["y_val"], labels[30:35])
    # A validation split that leaves no training row is an error, not silence.
    with pytest.raises(ValueError, match="num_validation is 35, but .* holds only 35"):
        get_CIFAR10_data(num_validation=35, cifar10_dir=root)


@pytest.mark.parametrize("kwargs,error,text", [
    ({"num_training": 0}, ValueError, "num_training is 0"),
    ({"num_training": 2.5}, TypeError, "num_training is 2.5"),
    ({"num_validation": -1}, ValueError, "num_validation is -1"),
    ({"num_test": "10"}, TypeError, "num_test is '10'"),
    ({"num_test": True}, TypeError, "num_test is True"),
])
def test_bad_arguments_name_the_argument(folder, kwargs, error, text):
    root, _ = folder
    with pytest.raises(error, match=text):
        get_CIFAR10_data(cifar10_dir=root, **kwargs)


def cache_files(root):
    return sorted(p.name for p in (root / CACHE_DIR).iterdir())


def test_cache_is_written_once_and_used(folder, monkeypatch):
    root, _ = folder
    first = load_CIFAR10(root)
    names = cache_files(root)
    assert len(names) == 5 and sum(n.endswith(".json") for n in names) == 1
    assert not [n for n in names if n.startswith(".tmp-")]

    def no_decoding(filename):
        raise AssertionError(f"decoded {filename} although the cache is current")

    monkeypatch.setattr(loader, "_read_batch", no_decoding)
    second = load_CIFAR10(root)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert isinstance(loader._load_uint8(root)[0], np.memmap)


def test_stale_cache_is_invalidated_when_a_source_changes(folder):
    root, batches = folder
    load_CIFAR10(root)
    old = cache_files(root)
    new_data = make_batches(7, 9, seed=99)["data_batch_4"]
    path = root / "data_batch_4"
    stat = path.stat()
    path.write_bytes(batch_bytes("data_batch_4", *new_data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # even on coarse clocks
    Xtr, Ytr, _, _ = load_CIFAR10(root)
    np.testing.assert_array_equal(Xtr[21:28], nhwc(new_data[0]))
    np.testing.assert_array_equal(Ytr[21:28], new_data[1])
    new = cache_files(root)
    assert len(new) == 5 and not set(old) & set(new)  # the stale cache is gone


def test_damaged_cache_is_rebuilt(folder):
    root, _ = folder
    want = load_CIFAR10(root)
    x_file = next((root / CACHE_DIR).glob("*.X_train.npy"))
    x_file.write_bytes(x_file.read_bytes()[:200])  # truncated .npy
    got = load_CIFAR10(root)
    np.testing.assert_array_equal(got[0], want[0])
    assert x_file.stat().st_size > 200


def test_corrupt_pickle_names_the_file_and_the_fix(folder):
    root, _ = folder
    path = root / "data_batch_3"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError) as info:
        load_CIFAR10(root)
    assert str(path) in str(info.value)
    assert "python -m assignment.datasets download --force" in str(info.value)
    assert not (root / CACHE_DIR).exists()  # nothing cached from a failed load


def test_malformed_batch_contents_are_rejected(folder):
    root, _ = folder
    (root / "test_batch").write_bytes(pickle.dumps({"data": np.zeros((3, 10), np.uint8),
                                                    "labels": [0, 1, 2]}, protocol=2))
    with pytest.raises(ValueError, match="expected uint8 \\(N, 3072\\)"):
        load_CIFAR10(root)


def test_pickle_that_would_run_code_is_refused(folder, tmp_path):
    root, _ = folder
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (root / "data_batch_1").write_bytes(pickle.dumps(Evil(), protocol=2))
    with pytest.raises(ValueError, match="is not allowed in a CIFAR batch"):
        load_CIFAR10(root)
    assert not marker.exists()


def test_folder_missing_one_batch(folder):
    root, _ = folder
    (root / "data_batch_5").unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_CIFAR10(root)
    assert str(root / "data_batch_5") in str(info.value) and "--force" in str(info.value)
    assert not (root / CACHE_DIR).exists()


def test_folder_missing_one_batch_is_refetched_by_get_CIFAR10_data(tmp_path, monkeypatch):
    src = tmp_path / "cifar-10-python.tar.gz"
    md5 = make_cifar_tarball(src, n_per_batch=5, n_test=4, seed=5)
    root = tmp_path / "data" / FOLDER_NAME
    write_cifar_folder(root, n_per_batch=5, seed=5, omit=("data_batch_2",))
    monkeypatch.setenv("CIFAR10_TARBALL", str(src))
    monkeypatch.setenv("CIFAR10_MD5", md5)
    got = get_CIFAR10_data(num_validation=2, cifar10_dir=root)
    assert got["X_train"].shape == (23, 3, 32, 32) and got["X_test"].shape == (4, 3, 32, 32)
    assert (root / "data_batch_2").is_file()


def test_get_CIFAR10_data_downloads_when_missing_and_reports_failure(tmp_path, monkeypatch):
    src = tmp_path / "src.tar.gz"
    md5 = make_cifar_tarball(src, n_per_batch=4, seed=6)
    root = tmp_path / "data" / FOLDER_NAME
    monkeypatch.setenv("CIFAR10_DIR", str(root))
    monkeypatch.setenv("CIFAR10_MD5", md5)
    with serve({"/c.tar.gz": Route(src.read_bytes())}) as (base, log):
        monkeypatch.setenv("CIFAR10_URL", base + "/nothing-here.tar.gz")
        with pytest.raises(DatasetUnavailableError, match="HTTP 404"):
            get_CIFAR10_data(num_validation=2)
        assert not Path(root).exists()
        monkeypatch.setenv("CIFAR10_URL", base + "/c.tar.gz")
        got = get_CIFAR10_data(num_validation=2)
    assert got["X_train"].shape == (18, 3, 32, 32)
    assert log.count("/c.tar.gz") == 1


def test_quiet_when_data_and_cache_are_present(folder, capfd):
    root, _ = folder
    get_CIFAR10_data(num_validation=2, cifar10_dir=root)
    capfd.readouterr()
    get_CIFAR10_data(num_validation=2, cifar10_dir=root)
    assert capfd.readouterr() == ("", "")


def test_the_notebooks_import_paths_give_the_loader():
    import assignment.datasets
    from assignment import data_utils

    assert assignment.datasets.get_CIFAR10_data is get_CIFAR10_data
    assert assignment.datasets.__all__ == ["get_CIFAR10_data"]
    assert (data_utils.get_CIFAR10_data, data_utils.load_CIFAR10,
            data_utils.load_CIFAR_batch) == (get_CIFAR10_data, load_CIFAR10, load_CIFAR_batch)
