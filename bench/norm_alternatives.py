"""Benchmark: could numpy reach PyTorch on batch/layer normalization? Ratios from one run.

Run: ``python -m bench.norm_alternatives`` (from the repository root, with a Python that has
torch; numexpr is used when importable). Not a test. ``bench.norm_layers`` shows that the
solution's forward+backward takes longer than PyTorch CPU's. This script measures whether
that is the solution's fault or numpy's, by timing, at the same shapes and in the same run,
three rewrites that trade readability for speed, each verified against the solution first:

- ``numpy, BLAS sums``: single-threaded numpy with every sum over rows or columns done as a
  BLAS matrix-vector product (``ones @ x``), fewer temporaries, and layernorm's two
  backward reductions merged into one elementwise product;
- ``numpy, row chunks on threads``: the solution's arithmetic on row blocks, one block per
  core, on a thread pool (numpy releases the GIL inside its loops); batchnorm's column sums
  are added up across blocks between phases;
- ``numexpr``: every elementwise chain fused into one multi-threaded, cache-blocked numexpr
  expression, with BLAS for the sums (skipped when numexpr is not importable).

Each is printed as its time divided by PyTorch's (default threads, then 1 thread), next to
the solution's. Options: ``--repeat``, ``--quick``.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from assignment.layers import (
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from bench.norm_layers import (
    SHAPES,
    best_times,
    inputs,
    timing_options,
    torch_cases,
    torch_info,
)

EPS = 1e-5


# --- numpy, BLAS sums (single thread) ------------------------------------------------------

def blas_bn(x, gamma, beta, dout):
    """Batchnorm forward (train) + backward; returns (out, dx, dgamma, dbeta)."""
    N = x.shape[0]
    ones = np.ones(N)
    xc = x - ones @ x / N
    inv_std = 1.0 / np.sqrt(np.einsum("ij,ij->j", xc, xc) / N + EPS)
    scale = gamma * inv_std
    out = xc * scale
    out += beta
    dbeta = ones @ dout
    dgamma = np.einsum("ij,ij->j", dout, xc) * inv_std
    dx = dout * scale
    dx -= xc * (scale * inv_std * dgamma / N)
    dx -= scale * dbeta / N
    return out, dx, dgamma, dbeta


def blas_ln(x, gamma, beta, dout):
    """Layernorm forward + backward; returns (out, dx, dgamma, dbeta)."""
    N, D = x.shape
    x_hat = x - (x @ np.ones(D) / D)[:, None]
    inv_std = 1.0 / np.sqrt(np.einsum("ij,ij->i", x_hat, x_hat)[:, None] / D + EPS)
    x_hat *= inv_std
    out = x_hat * gamma
    out += beta
    prod = dout * x_hat  # serves dgamma (column sums) and the row dot product
    dgamma = np.ones(N) @ prod
    dbeta = np.ones(N) @ dout
    row_dot = (prod @ gamma / D)[:, None]
    row_sum = (dout @ gamma / D)[:, None]
    dx = dout * gamma
    np.multiply(x_hat, row_dot, out=prod)
    dx -= prod
    dx -= row_sum
    dx *= inv_std
    return out, dx, dgamma, dbeta


# --- numpy, row chunks on threads ----------------------------------------------------------

class RowChunks:
    """Run ``fn(rows)`` on one block of rows per core: the first here, the rest on a pool."""

    def __init__(self, parts=None):
        self.parts = parts or os.cpu_count() or 1
        self.pool = ThreadPoolExecutor(max_workers=max(self.parts - 1, 1))

    def map(self, fn, N):
        bounds = np.linspace(0, N, self.parts + 1).astype(int)
        blocks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        futures = [self.pool.submit(fn, rows) for rows in blocks[1:]]
        return [fn(blocks[0])] + [f.result() for f in futures]


def threaded_bn(chunks, x, gamma, beta, dout):
    N = x.shape[0]
    mean = sum(chunks.map(lambda r: x[r].sum(axis=0), N)) / N
    xc = np.empty_like(x)

    def center(r):
        np.subtract(x[r], mean, out=xc[r])
        return np.einsum("ij,ij->j", xc[r], xc[r])

    inv_std = 1.0 / np.sqrt(sum(chunks.map(center, N)) / N + EPS)
    scale = gamma * inv_std
    out = np.empty_like(x)

    def forward(r):
        np.multiply(xc[r], scale, out=out[r])
        out[r] += beta

    chunks.map(forward, N)
    sums = chunks.map(lambda r: (dout[r].sum(axis=0), np.einsum("ij,ij->j", dout[r], xc[r])), N)
    dbeta = sum(s[0] for s in sums)
    dgamma = sum(s[1] for s in sums) * inv_std
    k, c = inv_std * dgamma / N, dbeta / N
    dx = np.empty_like(dout)

    def backward(r):
        np.multiply(xc[r], k, out=dx[r])
        dx[r] += c
        np.subtract(dout[r], dx[r], out=dx[r])
        dx[r] *= scale

    chunks.map(backward, N)
    return out, dx, dgamma, dbeta


def threaded_ln(chunks, x, gamma, beta, dout):
    N, D = x.shape
    out, dx = np.empty_like(x), np.empty_like(x)

    def rows(r):
        x_hat = x[r] - x[r].mean(axis=1, keepdims=True)
        inv_std = 1.0 / np.sqrt(np.einsum("ij,ij->i", x_hat, x_hat)[:, None] / D + EPS)
        x_hat *= inv_std
        np.multiply(x_hat, gamma, out=out[r])
        out[r] += beta
        g = dout[r]
        sums = g.sum(axis=0), np.einsum("ij,ij->j", g, x_hat)
        d = dx[r]
        np.multiply(g, gamma, out=d)
        correction = x_hat * (np.einsum("ij,ij->i", d, x_hat)[:, None] / D)
        correction += d.sum(axis=1, keepdims=True) / D
        d -= correction
        d *= inv_std
        return sums

    sums = chunks.map(rows, N)
    return out, dx, sum(s[1] for s in sums), sum(s[0] for s in sums)


# --- numexpr ---------------------------------------------------------------------------------

def numexpr_cases():
    """(bn, ln) using numexpr, or None if numexpr is not importable."""
    try:
        import numexpr as ne
    except ImportError:
        return None

    def ev(expression, **arrays):
        return ne.evaluate(expression, local_dict=arrays)

    def bn(x, gamma, beta, dout):
        N = x.shape[0]
        ones = np.ones(N)
        xc = ev("x - mean", x=x, mean=ones @ x / N)
        inv_std = 1.0 / np.sqrt(ones @ ev("xc * xc", xc=xc) / N + EPS)
        scale = gamma * inv_std
        out = ev("xc * scale + beta", xc=xc, scale=scale, beta=beta)
        dbeta = ones @ dout
        dgamma = ones @ ev("dout * xc", dout=dout, xc=xc) * inv_std
        dx = ev("(dout - xc * k - c) * scale", dout=dout, xc=xc, k=inv_std * dgamma / N,
                c=dbeta / N, scale=scale)
        return out, dx, dgamma, dbeta

    def ln(x, gamma, beta, dout):
        N, D = x.shape
        xc = ev("x - mean", x=x, mean=(x @ np.ones(D) / D)[:, None])
        inv_std = 1.0 / np.sqrt((ev("xc * xc", xc=xc) @ np.ones(D) / D)[:, None] + EPS)
        x_hat = ev("xc * inv_std", xc=xc, inv_std=inv_std)
        out = ev("x_hat * gamma + beta", x_hat=x_hat, gamma=gamma, beta=beta)
        prod = ev("dout * x_hat", dout=dout, x_hat=x_hat)
        dgamma, dbeta = np.ones(N) @ prod, np.ones(N) @ dout
        dx = ev("(dout * gamma - x_hat * row_dot - row_sum) * inv_std", dout=dout,
                gamma=gamma, x_hat=x_hat, row_dot=(prod @ gamma / D)[:, None],
                row_sum=(dout @ gamma / D)[:, None], inv_std=inv_std)
        return out, dx, dgamma, dbeta

    return bn, ln


# --- measurement ---------------------------------------------------------------------------

def solution_bn(x, gamma, beta, dout):
    out, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    return (out, *batchnorm_backward_alt(dout, cache))


def solution_ln(x, gamma, beta, dout):
    out, cache = layernorm_forward(x, gamma, beta, {})
    return (out, *layernorm_backward(dout, cache))


def candidates(chunks):
    """{name: (bn, ln)}, the solution first; each fn(x, gamma, beta, dout) -> 4 arrays."""
    found = {
        "solution": (solution_bn, solution_ln),
        "numpy, BLAS sums": (blas_bn, blas_ln),
        "numpy, row chunks on threads": (
            lambda *a: threaded_bn(chunks, *a), lambda *a: threaded_ln(chunks, *a)),
    }
    fused = numexpr_cases()
    if fused is not None:
        found["numexpr"] = fused
    return found


def check_against_solution(found, args):
    """Raise if a rewrite does not compute the solution's four arrays (to 1e-9 relative)."""
    for which in (0, 1):
        expected = found["solution"][which](*args)
        for name, pair in found.items():
            for want, got in zip(expected, pair[which](*args), strict=True):
                err = np.max(np.abs(want - got)) / np.max(np.abs(want))
                if err > 1e-9:
                    raise AssertionError(f"{name} disagrees with the solution: {err:.1e}")


def main(argv=None):
    repeat, budget = timing_options(argv, __doc__.splitlines()[0])

    info = torch_info("nothing to compare with; skipped (to run it: a Python that has torch, "
                      "PYTHONPATH=<repo>)")
    if info is None:
        return
    chunks = RowChunks()
    found = candidates(chunks)
    print(f"{info}; numpy {np.__version__}; {chunks.parts} row chunk(s); "
          f"numexpr {'used' if 'numexpr' in found else 'not importable, skipped'}")
    if hasattr(os, "getloadavg"):
        print(f"load average {os.getloadavg()[0]:.2f} at start")
    print("float64 forward (train) + backward; time / PyTorch's time, default threads and "
          "1 thread, measured in one run")
    print(f"{'(N, D)':<13}{'implementation':<30}{'BN / torch':>11}{'1 thread':>10}"
          f"{'LN / torch':>12}{'1 thread':>10}")
    worst = {}
    for N, D in SHAPES:
        data = inputs(N, D)
        check_against_solution(found, data)
        fns = {}
        for name, (bn, ln) in found.items():
            fns[(name, "bn")] = lambda bn=bn, data=data: bn(*data)
            fns[(name, "ln")] = lambda ln=ln, data=data: ln(*data)
        reference = torch_cases(*data)
        for key in ("torch batchnorm", "torch layernorm",
                    "torch batchnorm 1 thread", "torch layernorm 1 thread"):
            fns[key] = reference[key]
        t = best_times(fns, repeat, budget)
        for i, name in enumerate(found):
            ratios = (t[(name, "bn")] / t["torch batchnorm"],
                      t[(name, "bn")] / t["torch batchnorm 1 thread"],
                      t[(name, "ln")] / t["torch layernorm"],
                      t[(name, "ln")] / t["torch layernorm 1 thread"])
            worst[name] = max(worst.get(name, 0.0), ratios[0], ratios[2])
            label = f"({N}, {D})" if i == 0 else ""
            print(f"{label:<13}{name:<30}" + "".join(
                f"{r:>{w}.2f}" for r, w in zip(ratios, (11, 10, 12, 10), strict=True)), flush=True)
    print()
    for name, ratio in worst.items():
        print(f"{name}: worst time / PyTorch's (default threads) = {ratio:.2f}; no slower "
              f"than PyTorch at every shape: {'yes' if ratio <= 1.0 else 'no'}")


if __name__ == "__main__":
    main()
