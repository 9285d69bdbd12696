#!/usr/bin/python3
"""Empirical NTK Gram matrix by functorch's Jacobian contraction (the torch.func
NTK tutorial, empirical_ntk_jacobian_contraction), float64, of a shallow ReLU
net d-h-1 on the first n MNIST images of data/mnist.npz (tdl takes n after a
seeded shuffle: the timing does not depend on which rows).

usage: torch_ntk.py DATA_DIR N H THREADS
Prints one JSON line: seconds (Jacobians + contraction), or, when the n x P
Jacobian would not fit in the memory available, the bytes it asks for and
"not run" (running it would push this shared machine into swap)."""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from functorch import jacrev, make_functional, vmap

data_dir, n, h, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.set_default_dtype(torch.float64)
d = 784
P = d * h + h + h + 1
need = n * P * 8 * 2  # jac1 and jac2 (the tutorial computes both; x1 = x2 here)
avail = 0
with open("/proc/meminfo") as fp:
    for line in fp:
        if line.startswith("MemAvailable:"):
            avail = int(line.split()[1]) * 1024
if need > avail:
    print(json.dumps({"n": n, "width": h, "params": P, "needs_gb": need / 1e9, "available_gb": avail / 1e9,
                      "status": "not run: the Jacobians do not fit in memory"}))
    sys.exit(0)
with np.load(os.path.join(data_dir, "mnist.npz")) as z:
    X = z["X"]
X = torch.tensor(X[:n].reshape(n, -1).astype(np.float64))
net = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, 1)).double()
fnet, params = make_functional(net)


def fnet_single(params, x):
    return fnet(params, x.unsqueeze(0)).squeeze(0)


def empirical_ntk_jacobian_contraction(fnet_single, params, x1, x2):
    jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
    jac1 = [j.flatten(2) for j in jac1]
    jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
    jac2 = [j.flatten(2) for j in jac2]
    result = torch.stack([torch.einsum("Naf,Mbf->NMab", j1, j2) for j1, j2 in zip(jac1, jac2)])
    return result.sum(0)


t0 = time.time()
K = empirical_ntk_jacobian_contraction(fnet_single, params, X, X)
secs = time.time() - t0
print(json.dumps({"n": n, "width": h, "params": P, "seconds": secs, "shape": list(K.shape)}))
