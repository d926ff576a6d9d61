"""Benchmark: batch/layer normalization forward+backward, as ratios measured in one run.

Run: ``python -m bench.norm_layers`` (from the repository root). Not a test: it prints, for
float64 inputs of shape (N, D) = (64, 3072), (256, 1024), (4096, 1024), the time of

- batchnorm forward (train) + batchnorm_backward (staged, computational graph),
- batchnorm forward (train) + batchnorm_backward_alt (closed form),
- layernorm forward + layernorm_backward,

each as a ratio to (a) a memory-copy floor, ``np.copyto`` of an (N, D) array, measured in the
same run (a forward+backward must at least read x and dout and write out and dx, so ~4x the
floor is the practical best) and (b) PyTorch CPU's ``batch_norm`` / ``layer_norm`` forward +
backward (autograd, default thread count) when torch is importable, for information only: the
solution is written for reading (plain formulas, no in-place buffer tricks), not to a speed
target against PyTorch. It also prints the speed-up of batchnorm_backward_alt over
batchnorm_backward at (100, 500), which the BatchNormalization notebook claims is at least 1.5x.

Timings are the minimum over repeats of the mean over a loop (``timeit``), which is the
least noisy estimate on a shared machine. Options: ``--repeat`` and ``--quick``.
"""

import argparse
import os
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


def best_times(fns, repeat, budget=0.05):
    """Seconds per call of each callable in ``fns`` (a dict), measured interleaved.

    Each of ``repeat`` rounds times every callable once, over a loop lasting about ``budget``
    seconds; the result is the minimum per callable over the rounds. Interleaving exposes all
    candidates to the same background load, which keeps their ratios meaningful on a busy
    machine.
    """
    numbers = {}
    for name, fn in fns.items():
        fn()  # warm up (allocations, caches)
        single = min(timeit.repeat(fn, number=1, repeat=3))
        numbers[name] = max(1, int(budget / max(single, 1e-7)))
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            best[name] = min(best[name], timeit.timeit(fn, number=numbers[name]) / numbers[name])
    return best


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

    threads = torch.get_num_threads()

    def one_thread(fn):
        def run():
            torch.set_num_threads(1)
            try:
                fn()
            finally:
                torch.set_num_threads(threads)
        return run

    return {"torch batchnorm": bn, "torch layernorm": ln,
            "torch batchnorm 1 thread": one_thread(bn),
            "torch layernorm 1 thread": one_thread(ln)}


def torch_info(without):
    """'PyTorch <version>, <n> thread(s)', or None if torch is not importable (after printing
    that, and ``without``: what the benchmark does without it)."""
    try:
        import torch
    except ImportError:
        print(f"PyTorch: not importable, {without}")
        return None
    return f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s) by default"


def inputs(N, D, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(N, D) * 2 + 1, rng.randn(D), rng.randn(D), rng.randn(N, D)


def timing_options(argv, description):
    """(repeat, budget) for best_times from the command line: ``--repeat N``, ``--quick``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=7, help="timing rounds (default 7)")
    parser.add_argument("--quick", action="store_true", help="3 rounds, shorter loops")
    args = parser.parse_args(argv)
    return (3, 0.02) if args.quick else (args.repeat, 0.05)


def main(argv=None):
    repeat, budget = timing_options(argv, __doc__.splitlines()[0])

    info = torch_info("the torch columns are skipped (to include them: run with a Python that "
                      "has torch, PYTHONPATH=<repo>)")
    if info is not None:
        print(f"{info}; numpy {np.__version__}")
    if hasattr(os, "getloadavg"):
        print(f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f} at start "
              "(other processes slow the timings; the ratios suffer less)")
    print("float64 forward (train) + backward; ratios measured in this run: time / copy floor, "
          "time / PyTorch\n(default threads, and 1 thread); < 1 means faster than PyTorch")
    print()

    header = (f"{'(N, D)':<13}{'case':<30}{'time (us)':>11}{'/ copy':>8}{'/ torch':>9}"
              f"{'/ torch 1t':>12}")
    print(header)
    print("-" * len(header))
    worst = {"default": 0.0, "1 thread": 0.0}
    for N, D in SHAPES:
        x, gamma, beta, dout = inputs(N, D)
        dst = np.empty_like(x)
        fns = {"np.copyto (floor)": lambda x=x, dst=dst: np.copyto(dst, x)}
        fns.update(numpy_cases(x, gamma, beta, dout))
        fns.update(torch_cases(x, gamma, beta, dout) or {})
        times = best_times(fns, repeat, budget)
        floor = times["np.copyto (floor)"]
        for name, t in times.items():
            layer = "batchnorm" if "batchnorm" in name else "layernorm"
            cols = ""
            if name.startswith("torch") or name.startswith("np.") or info is None:
                cols = f"{'':>9}{'':>12}"
            else:
                multi = t / times[f"torch {layer}"]
                single = t / times[f"torch {layer} 1 thread"]
                cols = f"{multi:>9.2f}{single:>12.2f}"
                if "staged" not in name:
                    worst["default"] = max(worst["default"], multi)
                    worst["1 thread"] = max(worst["1 thread"], single)
            label = (str((N, D)) if name.startswith("np.") else "")
            print(f"{label:<13}{name:<30}{t * 1e6:>11.1f}{t / floor:>8.2f}{cols}")
    print()

    x, gamma, beta, dout = inputs(*ALT_SHAPE)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    times = best_times({"staged": lambda: batchnorm_backward(dout, cache),
                        "alt": lambda: batchnorm_backward_alt(dout, cache)}, repeat, budget)
    speedup = times["staged"] / times["alt"]
    verdict = "PASS" if speedup >= ALT_TARGET else "FAIL"
    print(f"batchnorm_backward / batchnorm_backward_alt at {ALT_SHAPE}: {speedup:.2f}x "
          f"(target >= {ALT_TARGET}x): {verdict}")
    if info is not None:
        for threads, ratio in worst.items():
            print(f"slowest numpy fwd+bwd (alt, layernorm) / PyTorch ({threads}): {ratio:.2f} "
                  "(for information: the solution is written for reading, not to a speed target)")


if __name__ == "__main__":
    main()
