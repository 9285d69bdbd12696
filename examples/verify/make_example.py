#!/usr/bin/python3
"""Write the data and model files of the example assignment (numpy only):

    /usr/bin/python3 make_example.py

  linreg.npz            X (20 x 3) and real targets y: linear regression
  linear.npz            the linear model f(x) = w.x + b ("0.weight" 1 x 3, "0.bias")
  deep_linear_zero.npz  a two-layer linear net 3-2-1 with every weight and
                        bias zero: the origin, a strict saddle of the loss
  relu_net.npz          a two-layer ReLU net 3-8-3 (standard parametrization)
  ntk_data.npz          X (6 x 3), labels y in {0, 1, 2}: the NTK's inputs
The files are PyTorch-style state dicts (Linear, act, Linear: keys 0.* and 2.*).
"""
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2021)

n, d = 20, 3
X = rng.standard_normal((n, d))
w_true = np.array([1.5, -2.0, 0.5])
y = X @ w_true + 0.3 + 0.1 * rng.standard_normal(n)
np.savez(os.path.join(HERE, "linreg.npz"), X=X, y=y)

w = 0.5 * rng.standard_normal((1, d))
b = np.array([0.1])
np.savez(os.path.join(HERE, "linear.npz"), **{"0.weight": w, "0.bias": b})

h = 2
np.savez(os.path.join(HERE, "deep_linear_zero.npz"),
         **{"0.weight": np.zeros((h, d)), "0.bias": np.zeros(h),
            "2.weight": np.zeros((1, h)), "2.bias": np.zeros(1)})

hr, C, nk = 8, 3, 6
np.savez(os.path.join(HERE, "relu_net.npz"),
         **{"0.weight": rng.standard_normal((hr, d)) / np.sqrt(d), "0.bias": 0.1 * rng.standard_normal(hr),
            "2.weight": rng.standard_normal((C, hr)) / np.sqrt(hr), "2.bias": 0.1 * rng.standard_normal(C)})
np.savez(os.path.join(HERE, "ntk_data.npz"), X=rng.standard_normal((nk, d)),
         y=np.array([0, 1, 2, 0, 1, 2], dtype=np.int64))
