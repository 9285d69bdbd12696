#!/usr/bin/python3
"""PyTorch float64 peers of `tdl hessian` for bench/bench_hessian.sh.

  exact DATA_DIR THREADS   dense Hessian of the mean cross-entropy of a 64-64-10
                           ReLU net on all of digits (pixels / 16) by
                           torch.autograd.functional.hessian(vectorize=True) and
                           torch.linalg.eigvalsh; seconds for the whole run
  hvp DATA_DIR THREADS K   K Hessian-vector products (double backward) of a
                           784-1000-10 ReLU net on the MNIST subset; seconds each
Prints one JSON line.  Random weights (seed 0); the cost does not depend on them.
"""
import json
import sys
import time

import numpy as np
import torch

mode, data_dir, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)


def shapes_for(widths):
    out = []
    for a, b in zip(widths[:-1], widths[1:]):
        out += [(b, a), (b,)]
    return out


def unflatten(theta, shapes):
    parts, k = [], 0
    for s in shapes:
        n = int(np.prod(s))
        parts.append(theta[k:k + n].view(*s))
        k += n
    return parts


def loss_of(theta, shapes, X, y):
    W1, b1, W2, b2 = unflatten(theta, shapes)
    return torch.nn.functional.cross_entropy(torch.relu(X @ W1.T + b1) @ W2.T + b2, y)


if mode == "exact":
    d = np.load(f"{data_dir}/digits.npz")
    X = torch.from_numpy(d["X"].astype(np.float64) / 16.0)
    y = torch.from_numpy(d["y"].astype(np.int64))
    shapes = shapes_for([64, 64, 10])
    P = sum(int(np.prod(s)) for s in shapes)
    theta = torch.randn(P, dtype=torch.float64) * 0.1
    t0 = time.perf_counter()
    H = torch.autograd.functional.hessian(lambda t: loss_of(t, shapes, X, y), theta, vectorize=True)
    t1 = time.perf_counter()
    ev = torch.linalg.eigvalsh(H)
    t2 = time.perf_counter()
    print(json.dumps({"P": P, "assembly_seconds": t1 - t0, "eigen_seconds": t2 - t1, "seconds": t2 - t0,
                      "lambda_max": ev[-1].item(), "threads": threads}))
else:
    k = int(sys.argv[4])
    d = np.load(f"{data_dir}/mnist.npz")
    X = torch.from_numpy(d["X"].astype(np.float64) / 255.0)
    y = torch.from_numpy(d["y"].astype(np.int64))
    shapes = shapes_for([784, 1000, 10])
    P = sum(int(np.prod(s)) for s in shapes)
    theta = (torch.randn(P, dtype=torch.float64) * 0.03).requires_grad_(True)
    v = torch.randn(P, dtype=torch.float64)
    best = float("inf")
    for _ in range(k):
        t0 = time.perf_counter()
        g = torch.autograd.grad(loss_of(theta, shapes, X, y), theta, create_graph=True)[0]
        hv = torch.autograd.grad(g @ v, theta)[0]
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"P": P, "seconds_per_hvp": best, "threads": threads}))
