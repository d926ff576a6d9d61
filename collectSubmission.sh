#!/usr/bin/env bash
# Bundle your submission into submission.zip: checks that every required file is there and
# that the notebooks were run top to bottom, renders them as HTML, writes the zip.
# Same as: python -m assignment collect  (see assignment/collect.py). Options are passed on
# (e.g. --out FILE). The Python used is $PYTHON, else .venv/bin/python, else python3.
set -euo pipefail
cd "$(dirname "$0")"
if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"
elif [ -x .venv/bin/python ]; then PY=.venv/bin/python
else PY=python3
fi
exec "$PY" -m assignment collect "$@"
