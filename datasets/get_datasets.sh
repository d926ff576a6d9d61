#!/usr/bin/env bash
# Fetch CIFAR-10 into datasets/cifar-10-batches-py (CS231n habit: `cd datasets && ./get_datasets.sh`).
# Verified download with resume and retries; see `python -m assignment.datasets download --help`.
# Offline: CIFAR10_TARBALL=/path/cifar-10-python.tar.gz [CIFAR10_MD5=hex] ./get_datasets.sh
# Extra arguments are passed on, e.g. ./get_datasets.sh --url URL --md5 HEX, or --force.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON="${PYTHON:-python3}"; fi
exec "$PYTHON" -m assignment.datasets download "$@"
