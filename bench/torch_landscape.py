#!/usr/bin/python3
"""PyTorch float64 peer of `tdl landscape` for bench/bench_landscape.sh.

usage: torch_landscape.py MODEL.safetensors GRID.npz DATA_DIR THREADS

Evaluates the 2D grid that `tdl landscape ... -o GRID.npz` evaluated (same
directions direction_x / direction_y, same x and y) the way the loss-landscape
project (Li et al. 2018, plot_surface.py) does: for every grid point set the
weights of an nn.Sequential(Linear, ReLU, Linear) to w + x d1 + y d2
(net_plotter.set_weights) and run a forward pass over the data (evaluation.
eval_loss) under torch.no_grad().  One batch holds the whole data set (the
project uses batches of 128, which is slower).  Prints one JSON line: seconds,
cells, and the largest difference from tdl's loss grid.
"""
import json
import struct
import sys
import time

import numpy as np
import torch

model_path, grid_path, data_dir, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F64", info["dtype"]
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(buf[a:b], dtype="<f8").reshape(info["shape"])
    return out


tensors = read_safetensors(model_path)
g = np.load(grid_path)
d = np.load(f"{data_dir}/digits.npz")
X = torch.from_numpy(d["X"].astype(np.float64) / 16.0)
y = torch.from_numpy(d["y"].astype(np.int64))

W1, b1, W2, b2 = (torch.from_numpy(tensors[k].copy()) for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
net = torch.nn.Sequential(torch.nn.Linear(W1.shape[1], W1.shape[0]), torch.nn.ReLU(),
                          torch.nn.Linear(W2.shape[1], W2.shape[0])).double()
weights = [W1, b1, W2, b2]


def split(v):
    parts, k = [], 0
    for w in weights:
        parts.append(torch.from_numpy(v[k:k + w.numel()].copy()).view_as(w))
        k += w.numel()
    return parts


dx, dy = split(g["direction_x"]), split(g["direction_y"])
xs, ys = g["x"], g["y"]
loss = np.zeros((len(ys), len(xs)))
acc = np.zeros_like(loss)
criterion = torch.nn.CrossEntropyLoss()
net.eval()
t0 = time.perf_counter()
with torch.no_grad():
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            for p, w, a, b in zip(net.parameters(), weights, dx, dy):
                p.data = w + a * float(xv) + b * float(yv)
            out = net(X)
            loss[i, j] = criterion(out, y).item()
            acc[i, j] = (out.argmax(1) == y).double().mean().item()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "cells": int(loss.size),
                  "max_loss_diff": float(np.max(np.abs(loss - g["loss"]))),
                  "max_accuracy_diff": float(np.max(np.abs(acc - g["accuracy"])))}))
