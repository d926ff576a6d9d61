"""Benchmark: batch/layer normalization forward+backward, as ratios measured in one run.

Run: ``python -m bench.norm_layers`` (from the repository root). Not a test: it prints, for
float64 inputs of shape (N, D) = (64, 3072), (256, 1024), (4096, 1024), the time of

- batchnorm forward (train) + batchnorm_backward (staged, computational graph),
- batchnorm forward (train) + batchnorm_backward_alt (closed form),
- layernorm forward + layernorm_backward,

each as a ratio to (a) a memory-copy floor, ``np.copyto`` of an (N, D) array, measured in the
same run (a forward+backward must at least read x and dout and write out and dx, so ~4x the
floor is the practical best) and (b) PyTorch CPU's ``batch_norm`` / ``layer_norm`` forward +
backward (autograd, default thread count) when torch is importable. It also prints the speed-up
of batchnorm_backward_alt over batchnorm_backward at (100, 500), which the BatchNormalization
notebook claims is at least 1.5x.

Timings are the minimum over repeats of the mean over a loop (``timeit``), which is the
least noisy estimate on a shared machine. Options: ``--repeat`` and ``--quick``.
"""

import argparse
import timeit

import numpy as np

from assignment.layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)

SHAPES = [(64, 3072), (256, 1024), (4096, 1024)]
ALT_SHAPE = (100, 500)
ALT_TARGET = 1.5


def best_time(fn, repeat, budget=0.05):
    """Seconds per call: min over ``repeat`` runs of a loop that lasts about ``budget`` s."""
    fn()  # warm up (allocations, caches)
    single = min(timeit.repeat(fn, number=1, repeat=3))
    number = max(1, int(budget / max(single, 1e-7)))
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def numpy_cases(x, gamma, beta, dout):
    """Callables running one forward + backward pass each, keyed by name."""

    def bn(backward):
        def run():
            _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
            backward(dout, cache)
        return run

    def ln():
        _, cache = layernorm_forward(x, gamma, beta, {})
        layernorm_backward(dout, cache)

    return {
        "batchnorm fwd+bwd (staged)": bn(batchnorm_backward),
        "batchnorm fwd+bwd (alt)": bn(batchnorm_backward_alt),
        "layernorm fwd+bwd": ln,
    }


def torch_cases(x, gamma, beta, dout):
    """PyTorch counterparts (None if torch is not importable)."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    D = x.shape[1]
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    bt = torch.tensor(beta, requires_grad=True)
    dt = torch.tensor(dout)
    running_mean, running_var = torch.zeros(D, dtype=xt.dtype), torch.ones(D, dtype=xt.dtype)

    def bn():
        out = F.batch_norm(xt, running_mean, running_var, gt, bt, training=True, eps=1e-5)
        xt.grad = gt.grad = bt.grad = None
        out.backward(dt)

    def ln():
        out = F.layer_norm(xt, (D,), gt, bt, eps=1e-5)
        xt.grad = gt.grad = bt.grad = None
        out.backward(dt)

    return {"batchnorm": bn, "layernorm": ln, "threads": torch.get_num_threads(),
            "version": torch.__version__}


def inputs(N, D, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(N, D) * 2 + 1, rng.randn(D), rng.randn(D), rng.randn(N, D)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (default 7)")
    parser.add_argument("--quick", action="store_true", help="3 repeats, shorter loops")
    args = parser.parse_args(argv)
    repeat, budget = (3, 0.02) if args.quick else (args.repeat, 0.05)

    probe = torch_cases(*inputs(2, 2))
    if probe is None:
        print("PyTorch: not importable, column (b) skipped "
              "(to include it: run with a Python that has torch, PYTHONPATH=<repo>)")
    else:
        print(f"PyTorch {probe['version']}, {probe['threads']} thread(s); numpy {np.__version__}")
    print("float64; ratios: time / copy floor, time / PyTorch (< 1 means faster than PyTorch)")
    print()

    header = f"{'(N, D)':<13}{'case':<29}{'time (us)':>11}{'/ copy':>9}{'/ torch':>9}"
    print(header)
    print("-" * len(header))
    worst_vs_torch = 0.0
    for N, D in SHAPES:
        x, gamma, beta, dout = inputs(N, D)
        dst = np.empty_like(x)
        floor = best_time(lambda x=x, dst=dst: np.copyto(dst, x), repeat, budget)
        tcases = torch_cases(x, gamma, beta, dout)
        torch_times = {}
        if tcases is not None:
            torch_times = {k: best_time(tcases[k], repeat, budget)
                           for k in ("batchnorm", "layernorm")}
        print(f"{str((N, D)):<13}{'np.copyto (floor)':<29}{floor * 1e6:>11.1f}"
              f"{1.0:>9.2f}{'':>9}")
        for name, fn in numpy_cases(x, gamma, beta, dout).items():
            t = best_time(fn, repeat, budget)
            ref = torch_times.get(name.split()[0])
            vs_torch = f"{t / ref:>9.2f}" if ref else f"{'-':>9}"
            if ref and "staged" not in name:
                worst_vs_torch = max(worst_vs_torch, t / ref)
            print(f"{'':<13}{name:<29}{t * 1e6:>11.1f}{t / floor:>9.2f}{vs_torch}")
        for name, t in torch_times.items():
            print(f"{'':<13}{'torch ' + name + ' fwd+bwd':<29}{t * 1e6:>11.1f}"
                  f"{t / floor:>9.2f}{1.0:>9.2f}")
    print()

    x, gamma, beta, dout = inputs(*ALT_SHAPE)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    staged = best_time(lambda: batchnorm_backward(dout, cache), repeat, budget)
    alt = best_time(lambda: batchnorm_backward_alt(dout, cache), repeat, budget)
    verdict = "PASS" if staged / alt >= ALT_TARGET else "FAIL"
    print(f"batchnorm_backward / batchnorm_backward_alt at {ALT_SHAPE}: {staged / alt:.2f}x "
          f"(target >= {ALT_TARGET}x): {verdict}")
    if probe is not None:
        verdict = "PASS" if worst_vs_torch <= 1.0 else "FAIL"
        print(f"slowest fwd+bwd (alt, layernorm) relative to PyTorch: {worst_vs_torch:.2f} "
              f"(target <= 1.00): {verdict}")


if __name__ == "__main__":
    main()
