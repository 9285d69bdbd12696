#!/usr/bin/python3
"""scipy eigsh (ARPACK, implicitly restarted Lanczos) on PyTorch float64
Hessian-vector products: the peer of `tdl hessian --method lanczos` for
bench/bench_lanczos.sh.

  torch_lanczos.py DIR THREADS K REPS [TOL]

DIR holds the net and the data exported by `lanczos_bench export` (X.f64,
y.i64, layerL.W.f64, layerL.b.f64, shape.txt): a ReLU MLP, the mean
cross-entropy.  The Hessian-vector product is PyTorch's double backward.
eigsh(k=K, which='LA', tol=TOL) with TOL = 0 (ARPACK: machine precision) by
default; the LinearOperator counts its products.  Best of REPS; one JSON line
with seconds, matvecs, seconds per product and the values.
"""
import json
import sys
import time

import numpy as np
import scipy.sparse.linalg as sla
import torch

d, threads, k, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
tol = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
torch.set_num_threads(threads)
lines = open(f"{d}/shape.txt").read().split("\n")
n, dim, C = map(int, lines[0].split())
shapes = [tuple(map(int, l.split())) for l in lines[1:] if l.strip()]
X = torch.from_numpy(np.fromfile(f"{d}/X.f64", dtype=np.float64).reshape(n, dim))
y = torch.from_numpy(np.fromfile(f"{d}/y.i64", dtype=np.int64))
parts = []
for l, (o, i) in enumerate(shapes):
    parts.append(np.fromfile(f"{d}/layer{l}.W.f64", dtype=np.float64).reshape(o, i).ravel())
    parts.append(np.fromfile(f"{d}/layer{l}.b.f64", dtype=np.float64))
theta = torch.from_numpy(np.concatenate(parts)).requires_grad_(True)
P = theta.numel()


def loss_of(t):
    a, off = X, 0
    for l, (o, i) in enumerate(shapes):
        W = t[off:off + o * i].view(o, i)
        off += o * i
        b = t[off:off + o]
        off += o
        a = a @ W.T + b
        if l + 1 < len(shapes):
            a = torch.relu(a)
    return torch.nn.functional.cross_entropy(a, y)


g = torch.autograd.grad(loss_of(theta), theta, create_graph=True)[0]
count = [0]


def hvp(v):
    count[0] += 1
    v = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).ravel())
    return torch.autograd.grad(g @ v, theta, retain_graph=True)[0].numpy()


op = sla.LinearOperator((P, P), matvec=hvp, dtype=np.float64)
best, vals, mv = float("inf"), None, 0
for _ in range(reps):
    count[0] = 0
    t0 = time.perf_counter()
    # the gradient graph is built once above, outside the timing, as a user would
    vals = sla.eigsh(op, k=k, which="LA", tol=tol, return_eigenvectors=False)
    s = time.perf_counter() - t0
    if s < best:
        best, mv = s, count[0]
v = np.random.default_rng(0).standard_normal(P)
per = min((lambda t0: (hvp(v), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
print(json.dumps({"P": P, "k": k, "tol": tol, "seconds": best, "matvecs": mv, "seconds_per_hvp": per,
                  "values": sorted(float(x) for x in vals), "threads": threads}))
