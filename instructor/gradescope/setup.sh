#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source (this bundle, unpacked) when it
# builds the autograder image. Parameters (environment; for testing the bundle elsewhere):
#   AUTOGRADER_ROOT    the folder that stands for /autograder (default /autograder)
#   AUTOGRADER_PYTHON  the Python to install into and grade with (default: a new virtual
#                      environment in $AUTOGRADER_ROOT/venv); run_autograder needs the same
#   CIFAR10_TARBALL, CIFAR10_MD5   a local copy of CIFAR-10 and its MD5 (default: download)
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PY="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
unset CIFAR10_DIR  # the data goes into the bundle's own datasets/, where the grader looks

if [ ! -x "$PY" ]; then
    apt-get update -qq
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip
    python3 -m venv "$ROOT/venv"
fi
# The pinned requirements only: the solution itself is never installed (see README).
"$PY" -m pip install --disable-pip-version-check --quiet -r "$SOURCE/requirements.txt"
cd "$SOURCE"
"$PY" -m assignment.datasets download --no-progress
"$PY" -m instructor.gradescope.autograder setup --root "$ROOT"
