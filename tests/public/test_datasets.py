"""Tests of assignment/datasets (fetch, download, extract, __main__): verified download, faults,
offline sources, safe extraction.

A real HTTP server on 127.0.0.1 (tests/cifar_fixtures.serve) serves a small generated tarball
with scripted faults. Every fault test also checks that nothing half-written is left: no data
folder, no tarball under its final name, no temporary folder, nothing outside the target.
"""

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from assignment.datasets import fetch
from assignment.datasets.__main__ import main
from assignment.datasets.download import part_path
from assignment.datasets.fetch import (
    BATCH_FILES,
    FOLDER_NAME,
    TARBALL_NAME,
    DatasetUnavailableError,
    ensure_cifar10,
)
from tests.cifar_fixtures import (
    HOSTILE_KINDS,
    Route,
    batch_bytes,
    make_batches,
    make_cifar_tarball,
    make_hostile_tarball,
    md5_of,
    serve,
)

FAST = {"progressbar": False, "backoff": 0.01, "timeout": 5.0}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No CIFAR10_* from the caller (CI sets them), and never a proxy for 127.0.0.1."""
    for name in ("CIFAR10_DIR", "CIFAR10_URL", "CIFAR10_TARBALL", "CIFAR10_MD5"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """(bytes, md5) of a small good CIFAR tarball."""
    path = tmp_path_factory.mktemp("src") / TARBALL_NAME
    md5 = make_cifar_tarball(path, n_per_batch=6, n_test=5, seed=1)
    return path.read_bytes(), md5


def tree(root):
    """Every path below root, relative, as sorted strings."""
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*"))


def assert_batches_match(folder, n_per_batch=6, n_test=5, seed=1):
    expected = make_batches(n_per_batch, n_test, seed)
    for name in BATCH_FILES:
        assert (folder / name).read_bytes() == batch_bytes(name, *expected[name])


def test_good_download_extracts_verified_data_and_cleans_up(tmp_path, tarball):
    body, md5 = tarball
    target = tmp_path / "datasets" / FOLDER_NAME
    with serve({"/c.tar.gz": Route(body)}) as (base, log):
        got = ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, retries=0, **FAST)
        assert got == target
        assert_batches_match(target)
        # Downloaded tarball deleted after extraction; no temporary leftovers.
        assert tree(tmp_path / "datasets") == [FOLDER_NAME] + [
            f"{FOLDER_NAME}/{n}" for n in sorted(["batches.meta", "readme.html", *BATCH_FILES])]
        # Present data: no request, nothing printed (checked in test_quiet_when_present).
        ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, **FAST)
        assert log.count("/c.tar.gz") == 1


def test_keep_tarball_keeps_verified_tarball(tmp_path, tarball):
    body, md5 = tarball
    target = tmp_path / FOLDER_NAME
    with serve({"/c.tar.gz": Route(body)}) as (base, _):
        ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, keep_tarball=True, **FAST)
    assert md5_of(tmp_path / TARBALL_NAME) == md5


def test_quiet_when_present(tmp_path, tarball, capfd):
    body, md5 = tarball
    target = tmp_path / FOLDER_NAME
    with serve({"/c.tar.gz": Route(body)}) as (base, _):
        ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, **FAST)
    capfd.readouterr()
    # Unreachable sources: proves nothing is fetched or even checked when the data is there.
    assert ensure_cifar10(target, url="http://127.0.0.1:9/none", md5="0" * 32) == target
    assert main(["download", "--dest", str(target), "--url", "http://127.0.0.1:9/x"]) == 0
    out, err = capfd.readouterr()
    assert err == ""
    assert out == f"CIFAR-10 is ready in {target}\n"  # the CLI says so; the function is silent


def test_checksum_mismatch_removes_file_and_extracts_nothing(tmp_path, tarball):
    body, md5 = tarball
    wrong = "0123456789abcdef0123456789abcdef"
    target = tmp_path / FOLDER_NAME
    with serve({"/c.tar.gz": Route(body)}) as (base, log):
        with pytest.raises(DatasetUnavailableError) as info:
            ensure_cifar10(target, url=base + "/c.tar.gz", md5=wrong, **FAST)
        assert log.count("/c.tar.gz") == 1  # a mismatch is not retried
    message = str(info.value)
    assert wrong in message and md5 in message and "removed" in message
    assert tree(tmp_path) == []


def test_dropped_connection_is_retried_and_resumed(tmp_path, tarball):
    body, md5 = tarball
    target = tmp_path / FOLDER_NAME
    drop = len(body) - 1000  # more than one read chunk, so something is kept to resume from
    with serve({"/c.tar.gz": Route(body, drop_at=drop, drops=1)}) as (base, log):
        ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, retries=2, **FAST)
        first, second = log.ranges("/c.tar.gz")
    # The second request asks only for the rest of what the first one wrote.
    assert first is None
    assert second.startswith("bytes=") and 0 < int(second[6:-1]) <= drop
    assert_batches_match(target)
    assert tree(tmp_path) == sorted([FOLDER_NAME] + [
        f"{FOLDER_NAME}/{n}" for n in ["batches.meta", "readme.html", *BATCH_FILES]])


def test_connection_always_dropped_gives_clear_error_then_resumes(tmp_path, tarball):
    body, md5 = tarball
    target = tmp_path / FOLDER_NAME
    url_path = "/c.tar.gz"
    route = Route(body, drop_at=len(body) - 1000, drops=100)
    with serve({url_path: route}) as (base, log):
        with pytest.raises(DatasetUnavailableError) as info:
            ensure_cifar10(target, url=base + url_path, md5=md5, retries=2, **FAST)
        assert log.count(url_path) == 3
    message = str(info.value)
    assert "gave up after 3 attempts" in message and "Three ways out" in message
    # The only thing left is the resumable partial file, under a name nothing mistakes for data.
    part = part_path(tmp_path / TARBALL_NAME, base + url_path, md5)
    assert tree(tmp_path) == [part.name]
    kept = part.stat().st_size
    assert 0 < kept < len(body)
    assert part.read_bytes() == body[:kept]  # appended attempts form a true prefix
    # The next run resumes from it.
    route.drops = 0
    with serve({url_path: route}) as (base2, log2):
        # A new server has a new port, hence a new URL: give the partial file that URL's name.
        os.replace(part, part_path(tmp_path / TARBALL_NAME, base2 + url_path, md5))
        ensure_cifar10(target, url=base2 + url_path, md5=md5, retries=0, **FAST)
        assert log2.ranges(url_path) == [f"bytes={kept}-"]
    assert_batches_match(target)
    assert FOLDER_NAME in tree(tmp_path) and not list(tmp_path.glob("*.part"))


def test_server_ignoring_range_restarts_from_zero(tmp_path, tarball):
    body, md5 = tarball
    target = tmp_path / FOLDER_NAME
    with serve({"/c.tar.gz": Route(body, honour_range=False)}) as (base, log):
        part = part_path(tmp_path / TARBALL_NAME, base + "/c.tar.gz", md5)
        part.write_bytes(body[:5000])
        ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, retries=0, **FAST)
        assert log.ranges("/c.tar.gz") == ["bytes=5000-"]  # asked, got 200 + whole body
    assert_batches_match(target)
    assert not part.exists()


def test_partial_file_that_is_not_a_prefix_ends_in_checksum_error_then_recovers(tmp_path,
                                                                               tarball):
    body, md5 = tarball
    target = tmp_path / FOLDER_NAME
    with serve({"/c.tar.gz": Route(body)}) as (base, log):
        part = part_path(tmp_path / TARBALL_NAME, base + "/c.tar.gz", md5)
        part.write_bytes(b"x" * 5000)  # e.g. left by another file at the same URL
        with pytest.raises(DatasetUnavailableError, match="does not have the expected MD5"):
            ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, retries=0, **FAST)
        assert tree(tmp_path) == []  # the bad file is gone, partial file included
        ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, retries=0, **FAST)
        assert log.ranges("/c.tar.gz") == ["bytes=5000-", None]
    assert_batches_match(target)


@pytest.mark.parametrize("status,attempts", [(404, 1), (403, 1), (500, 3), (503, 3)])
def test_http_errors_fail_cleanly_and_retry_only_transient(tmp_path, tarball, status, attempts):
    body, md5 = tarball
    target = tmp_path / FOLDER_NAME
    with serve({"/c.tar.gz": Route(body, status=status)}) as (base, log):
        with pytest.raises(DatasetUnavailableError) as info:
            ensure_cifar10(target, url=base + "/c.tar.gz", md5=md5, retries=2, **FAST)
        assert log.count("/c.tar.gz") == attempts
    message = str(info.value)
    assert f"HTTP {status}" in message and base + "/c.tar.gz" in message
    for way in ("1. network", "2. a mirror URL", "3. a local", "--tarball", "CIFAR10_MD5"):
        assert way in message
    assert tree(tmp_path) == []


def test_local_tarball_is_used_in_place_and_kept(tmp_path, tarball):
    body, md5 = tarball
    src = tmp_path / "given" / TARBALL_NAME
    src.parent.mkdir()
    src.write_bytes(body)
    target = tmp_path / "data" / FOLDER_NAME
    ensure_cifar10(target, tarball=src, md5=md5, **FAST)
    assert_batches_match(target)
    assert src.read_bytes() == body
    assert tree(tmp_path / "data") == sorted([FOLDER_NAME] + [
        f"{FOLDER_NAME}/{n}" for n in ["batches.meta", "readme.html", *BATCH_FILES]])


def test_truncated_local_tarball_is_refused_untouched(tmp_path, tarball):
    body, md5 = tarball
    src = tmp_path / "given.tar.gz"
    src.write_bytes(body[: len(body) // 2])
    target = tmp_path / "data" / FOLDER_NAME
    with pytest.raises(DatasetUnavailableError) as info:
        ensure_cifar10(target, tarball=src, md5=md5, **FAST)
    assert f"its MD5 is {md5_of(src)}" in str(info.value)
    assert src.stat().st_size == len(body) // 2
    assert not (tmp_path / "data").exists()


def test_truncated_tarball_with_matching_md5_is_rejected_at_extraction(tmp_path, tarball):
    body, _ = tarball
    src = tmp_path / "given.tar.gz"
    src.write_bytes(body[: len(body) // 2])
    target = tmp_path / "data" / FOLDER_NAME
    with pytest.raises(DatasetUnavailableError, match="cannot be read"):
        ensure_cifar10(target, tarball=src, md5=md5_of(src), **FAST)
    assert not (tmp_path / "data").exists()


def test_missing_local_tarball_says_so(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="no such file"):
        ensure_cifar10(tmp_path / FOLDER_NAME, tarball=tmp_path / "nope.tar.gz", **FAST)


def test_archive_missing_a_batch_is_rejected(tmp_path):
    src = tmp_path / "given.tar.gz"
    md5 = make_cifar_tarball(src, omit=("data_batch_3",))
    target = tmp_path / "data" / FOLDER_NAME
    with pytest.raises(DatasetUnavailableError, match="lacks cifar-10-batches-py/data_batch_3"):
        ensure_cifar10(target, tarball=src, md5=md5, **FAST)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_archive_is_rejected_and_writes_nothing(tmp_path, kind):
    sandbox = tmp_path / "a" / "b"  # the dotdot member climbs two levels from the data folder
    escape = tmp_path / "escaped.txt"
    src = tmp_path / "evil.tar.gz"
    md5 = make_hostile_tarball(src, kind, escape)
    before = tree(tmp_path)
    target = sandbox / FOLDER_NAME
    with pytest.raises(DatasetUnavailableError, match="rejected"):
        ensure_cifar10(target, tarball=src, md5=md5, **FAST)
    assert not escape.exists()
    assert tree(tmp_path) == before  # not even the parent folders it created


def test_hostile_archive_served_over_http_is_rejected_and_deleted(tmp_path):
    src = tmp_path / "src" / "evil.tar.gz"
    src.parent.mkdir()
    escape = tmp_path / "escaped.txt"
    md5 = make_hostile_tarball(src, "dotdot", escape)
    target = tmp_path / "d" / "e" / FOLDER_NAME
    with serve({"/evil.tar.gz": Route(src.read_bytes())}) as (base, _):
        with pytest.raises(DatasetUnavailableError, match="contains '..'"):
            ensure_cifar10(target, url=base + "/evil.tar.gz", md5=md5, **FAST)
    assert not escape.exists()
    assert not (tmp_path / "d").exists()


def test_force_replaces_existing_folder(tmp_path):
    target = tmp_path / FOLDER_NAME
    first = tmp_path / "1.tar.gz"
    second = tmp_path / "2.tar.gz"
    md5_1 = make_cifar_tarball(first, n_per_batch=3, seed=1)
    md5_2 = make_cifar_tarball(second, n_per_batch=4, seed=2)
    ensure_cifar10(target, tarball=first, md5=md5_1, **FAST)
    (target / "data_batch_2").write_bytes(b"edited by hand")
    ensure_cifar10(target, tarball=second, md5=md5_2, **FAST)  # present: no-op
    assert (target / "data_batch_2").read_bytes() == b"edited by hand"
    ensure_cifar10(target, tarball=second, md5=md5_2, force=True, **FAST)
    assert_batches_match(target, n_per_batch=4, n_test=None, seed=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.tar.gz", "2.tar.gz", FOLDER_NAME]


def test_folder_with_foreign_files_is_never_replaced(tmp_path, tarball):
    body, md5 = tarball
    src = tmp_path / "src.tar.gz"
    src.write_bytes(body)
    home = tmp_path / "home"  # a CIFAR10_DIR set to a parent or a home folder by mistake
    (home / FOLDER_NAME).mkdir(parents=True)
    (home / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match=f"Did you mean {home / FOLDER_NAME}"):
        ensure_cifar10(home, tarball=src, md5=md5, force=True, **FAST)
    assert tree(home) == [FOLDER_NAME, "thesis.tex"]
    assert (home / "thesis.tex").read_text() == "precious"


def test_leftovers_of_an_interrupted_extraction_are_removed(tmp_path, tarball):
    body, md5 = tarball
    src = tmp_path / "src.tar.gz"
    src.write_bytes(body)
    data = tmp_path / "data"
    (data / ".extract-tmp-abc123" / FOLDER_NAME).mkdir(parents=True)
    (data / ".extract-tmp-abc123" / FOLDER_NAME / "data_batch_1").write_bytes(b"half")
    ensure_cifar10(data / FOLDER_NAME, tarball=src, md5=md5, **FAST)
    assert sorted(p.name for p in data.iterdir()) == [FOLDER_NAME]


def test_environment_variables_are_honoured_and_flags_win(tmp_path, tarball, monkeypatch):
    body, md5 = tarball
    src = tmp_path / TARBALL_NAME
    src.write_bytes(body)
    target = tmp_path / "env-data" / FOLDER_NAME
    monkeypatch.setenv("CIFAR10_DIR", str(target))
    monkeypatch.setenv("CIFAR10_TARBALL", str(src))
    monkeypatch.setenv("CIFAR10_MD5", "f" * 32)  # wrong: the flag below must win
    assert main(["download", "--md5", md5, "--no-progress"]) == 0
    assert_batches_match(target)
    # With the right MD5 from the environment alone, the default folder is CIFAR10_DIR.
    monkeypatch.setenv("CIFAR10_MD5", md5)
    assert fetch.default_dir() == target
    assert ensure_cifar10(force=True, **FAST) == target


def test_url_flag_wins_over_tarball_env(tmp_path, tarball, monkeypatch):
    body, md5 = tarball
    monkeypatch.setenv("CIFAR10_TARBALL", str(tmp_path / "does-not-exist.tar.gz"))
    target = tmp_path / FOLDER_NAME
    with serve({"/c.tar.gz": Route(body)}) as (base, log):
        code = main(["download", "--dest", str(target), "--url", base + "/c.tar.gz",
                              "--md5", md5, "--no-progress", "--retries", "0"])
        assert code == 0 and log.count("/c.tar.gz") == 1
    assert_batches_match(target)


def test_cli_failure_prints_ways_out_and_exit_code(tmp_path, capsys):
    with serve({}) as (base, _):
        code = main(["download", "--dest", str(tmp_path / FOLDER_NAME),
                              "--url", base + "/missing.tar.gz", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "HTTP 404" in err and "Three ways out" in err and "--tarball PATH" in err
    assert tree(tmp_path) == []


@pytest.mark.parametrize("bad", ["xyz", "c58f30108f718f92721af3b95e74349", "g" * 32])
def test_malformed_md5_is_a_value_error(tmp_path, bad):
    with pytest.raises(ValueError, match="expected 32 hexadecimal digits"):
        ensure_cifar10(tmp_path / FOLDER_NAME, tarball=tmp_path / "x", md5=bad)


def test_extracted_files_ignore_archive_permissions(tmp_path, tarball):
    body, md5 = tarball
    src = tmp_path / "src.tar.gz"
    src.write_bytes(body)
    target = tmp_path / "data" / FOLDER_NAME
    ensure_cifar10(target, tarball=src, md5=md5, **FAST)
    modes = {stat.S_IMODE((target / n).stat().st_mode) & 0o200 for n in BATCH_FILES}
    assert modes == {0o200}  # owner-writable regular files, whatever the archive said
    assert np.all([(target / n).is_file() and not (target / n).is_symlink() for n in BATCH_FILES])
