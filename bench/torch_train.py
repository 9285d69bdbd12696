#!/usr/bin/python3
"""PyTorch float64 peer of `tdl train` for bench/bench_train.sh.

SGD epochs of a 784-600-10 ReLU net on tdl's shipped MNIST subset (data/mnist.npz,
pixels / 255), batch 128, momentum 0.9, lr 0.1, cross-entropy (mean) — the
same work tdl does.  Prints one JSON line: seconds per epoch (epoch loop only).
usage: torch_train.py DATA_DIR EPOCHS THREADS
"""
import json
import sys
import time

import numpy as np
import torch

data_dir, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
d = np.load(f"{data_dir}/mnist.npz")
X = torch.from_numpy(d["X"].astype(np.float64) / 255.0)
y = torch.from_numpy(d["y"].astype(np.int64))
net = torch.nn.Sequential(torch.nn.Linear(784, 600), torch.nn.ReLU(), torch.nn.Linear(600, 10)).double()
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()
n, batch = X.shape[0], 128
t0 = time.perf_counter()
for epoch in range(epochs):
    perm = torch.randperm(n)
    for k in range(0, n, batch):
        idx = perm[k:k + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(X[idx]), y[idx])
        loss.backward()
        opt.step()
seconds = time.perf_counter() - t0
with torch.no_grad():
    acc = (net(X).argmax(1) == y).double().mean().item()
print(json.dumps({"seconds_per_epoch": seconds / epochs, "train_accuracy": acc,
                  "torch": torch.__version__, "threads": threads}))
