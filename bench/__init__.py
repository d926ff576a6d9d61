"""Benchmarks (not tests): each module runs as ``python -m bench.<name>`` and prints ratios
measured in one run, so that numbers from different machines stay comparable.

- ``bench.norm_layers``: batch/layer normalization forward+backward vs a memory-copy floor and
  PyTorch CPU.
"""
