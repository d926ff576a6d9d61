"""Tests of the CI entry point .ci/run: where it looks for the offline CIFAR-10 and what it says
when it finds none (`make` is replaced by a stub that records its targets)."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ci(tmp_path):
    """Run .ci/run with a stub `make`; returns (run, targets made)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "make.log"
    (bin_dir / "make").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    (bin_dir / "make").chmod(0o755)

    def run(**env):
        base = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
        res = subprocess.run(["bash", str(REPO / ".ci" / "run")], env={**base, **env},
                             capture_output=True, text=True, timeout=60)
        made = log.read_text().split() if log.exists() else []
        return res, made
    return run


def test_no_offline_copy_says_where_it_looked_and_how_to_point_elsewhere(ci, tmp_path):
    nowhere = tmp_path / "no-shared"
    res, made = ci(SHARED_DATASETS=str(nowhere))
    assert res.returncode == 0, res.stderr
    assert f"looked for {nowhere}/build_cifar10_mirror.py" in res.stderr
    assert "CIFAR10_TARBALL is not set" in res.stderr
    for how in ("point SHARED_DATASETS at the folder", "CIFAR10_TARBALL=", "CIFAR10_MD5="):
        assert how in res.stderr
    assert "download CIFAR-10 from the internet" in res.stderr
    assert made == ["setup", "test"]


def test_a_tarball_that_is_not_there_stops_before_setup(ci, tmp_path):
    res, made = ci(CIFAR10_TARBALL=str(tmp_path / "missing.tar.gz"))
    assert res.returncode == 2
    assert f"CIFAR10_TARBALL is {tmp_path / 'missing.tar.gz'}, which is not a file" in res.stderr
    assert made == []


def test_a_given_tarball_is_used_and_named(ci, tmp_path):
    tarball = tmp_path / "cifar-10-python.tar.gz"
    tarball.write_bytes(b"x")
    res, made = ci(CIFAR10_TARBALL=str(tarball), CIFAR10_MD5="abc",
                   SHARED_DATASETS=str(tmp_path / "no-shared"))
    assert res.returncode == 0, res.stderr
    assert f"CI: CIFAR-10 from CIFAR10_TARBALL={tarball} (md5 abc)" in res.stdout
    assert "looked for" not in res.stderr
    assert made == ["setup", "test"]


def test_the_script_is_executable():
    assert os.access(REPO / ".ci" / "run", os.X_OK)
