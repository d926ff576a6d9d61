"""Run every benchmark in turn: ``python -m bench`` (or ``make bench``).

Each one prints its own table of ratios measured in one run; see the module docstrings.
Pass names to run only some: ``python -m bench norm_layers data_loading``.
"""

import runpy
import sys

BENCHMARKS = ("norm_layers", "norm_alternatives", "data_loading", "notebooks", "grading")


def main(argv):
    names = argv or BENCHMARKS
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        saved_argv = sys.argv
        sys.argv = [f"bench.{name}"]
        try:
            runpy.run_module(f"bench.{name}", run_name="__main__")
        finally:
            sys.argv = saved_argv


if __name__ == "__main__":
    main(sys.argv[1:])
