# One entry point for every kind of user. Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-requirements

.PHONY: setup data run test test-fast lint clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@# the package itself, editable: `import assignment` finds this folder's copy from anywhere
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	@# build matplotlib's font cache now, so no notebook prints the one-time notice to stderr
	MPLBACKEND=Agg $(PY) -c "import matplotlib.pyplot"
	touch $(STAMP)

setup: $(STAMP)                       ## create .venv, install requirements.txt and this package

data: setup                           ## fetch and verify CIFAR-10 into datasets/
	$(PY) -m assignment.datasets download

run: data                             ## the main job (see README)
	$(PY) -m tools.run_notebooks --out build

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg

# Two pytest workers (pytest-xdist): the single-threaded tests keep both cores busy; each test
# module, and each notebook's cells, stay together on one worker (--dist loadscope).
test: data                            ## every test: unit tests and nbval of both notebooks
	$(PY) -m pytest tests -n 2 --dist loadscope --durations=30 $(NBVAL) notebooks/Dropout.ipynb notebooks/BatchNormalization.ipynb

test-fast: setup                      ## every test but the end-to-end ones (marked slow); no notebooks
	$(PY) -m pytest tests -n 2 -m "not slow"

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf build dist .pytest_cache

# Targets for the course's maintainers, where present: the *.mk files next to this one.
-include *.mk
