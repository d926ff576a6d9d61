# INSTRUCTOR ONLY: targets of the course repository, included by the Makefile when present.
# The releases leave this file out (its first line says so), like the benchmarks it runs.

.PHONY: bench

bench: setup                          ## benchmarks (not tests): prints ratios measured in one run
	$(PY) -m bench
